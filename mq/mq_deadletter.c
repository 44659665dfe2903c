/*
 * mq_deadletter.c: dead-lettering as RabbitMQ 3.10 does it.
 *
 * A message rejected (reject/nack without requeue), expired (TTL at the
 * head) or dropped by max-length leaves its queue as a copy published to
 * the queue's x-dead-letter-exchange, with x-dead-letter-routing-key or
 * its own key, the per-message `expiration` removed, and an `x-death`
 * header: an array of tables {count, exchange, original-expiration,
 * queue, reason, routing-keys, time} (keys sorted, as RabbitMQ sorts
 * them), the newest first; a death for a queue and reason seen before
 * increments that table's count and moves it to the front.  The first
 * death also sets x-first-death-exchange, -queue and -reason.
 *
 * Cycles: a message that would come back to a queue it died in, with no
 * "rejected" in between, is not delivered there (RabbitMQ's
 * is_cycle/2), so that an expiry loop cannot spin forever.
 */
#include "mq_entity.h"

#include <stdlib.h>
#include <string.h>


/* One death of the x-death list, for the cycle check. */
typedef struct mq_death_s {
    ob_str_t  queue;
    int       rejected;
} mq_death_t;


static int
mq_bytes_is(ob_str_t s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.data, lit, s.len) == 0;
}


/* Writes the table of a new death (count 1), its keys in the order
 * RabbitMQ 3.10 builds them (it sorts a table only when it bumps it). */
static void
mq_death_new(mq_tbuf_t *b, mq_queue_t *q, const mq_msg_t *msg,
             const mq_props_t *pr, const char *reason)
{
    mq_value_t  v;
    size_t      tpos, apos;

    tpos = mq_tbuf_open(b, 'F');
    mq_tbuf_key(b, "count", 5);
    mq_tbuf_i64(b, 1);
    mq_tbuf_key(b, "reason", 6);
    mq_tbuf_longstr(b, reason, strlen(reason));
    mq_tbuf_key(b, "queue", 5);
    mq_tbuf_longstr(b, q->name, q->name_len);
    mq_tbuf_key(b, "time", 4);
    mq_tbuf_timestamp(b, (uint64_t) (mq_now_ms() / 1000));
    mq_tbuf_key(b, "exchange", 8);
    mq_tbuf_longstr(b, mq_msg_exchange(msg), msg->exchange_len);
    mq_tbuf_key(b, "routing-keys", 12);
    apos = mq_tbuf_open(b, 'A');
    mq_tbuf_longstr(b, mq_msg_key(msg), msg->key_len);
    /* The CC header's keys were routing keys too. */
    if ((pr->flags & MQ_PROP_HEADERS) && mq_table_find(pr->headers, "CC", &v)
        && v.type == 'A')
    {
        mq_table_iter_t it;
        mq_value_t      cc;

        mq_table_iter_init(&it, v.s);
        while (mq_array_next(&it, &cc)) {
            if (cc.type == 'S') {
                mq_tbuf_longstr(b, cc.s.data, cc.s.len);
            }
        }
    }
    mq_tbuf_close(b, apos);
    if (pr->flags & MQ_PROP_EXPIRATION) {
        mq_tbuf_key(b, "original-expiration", 19);
        mq_tbuf_longstr(b, pr->expiration.data, pr->expiration.len);
    }
    mq_tbuf_close(b, tpos);
}


/* A table entry, for writing a table sorted by key as RabbitMQ's
 * rabbit_misc:sort_field_table does (bytewise, a prefix first). */
typedef struct mq_field_s {
    ob_str_t    key;
    mq_value_t  v;
} mq_field_t;


static int
mq_field_cmp(const void *a, const void *b)
{
    const mq_field_t *x = a, *y = b;
    size_t            n = OB_MIN(x->key.len, y->key.len);
    int               c = n > 0 ? memcmp(x->key.data, y->key.data, n) : 0;

    if (c != 0) {
        return c;
    }
    return x->key.len < y->key.len ? -1 : x->key.len > y->key.len;
}


/* Writes fields[0..n) sorted by key. */
static void
mq_fields_write(mq_tbuf_t *b, mq_field_t *fields, size_t n)
{
    size_t i;

    qsort(fields, n, sizeof(*fields), mq_field_cmp);
    for (i = 0; i < n; i++) {
        mq_tbuf_key(b, (const char *) fields[i].key.data, fields[i].key.len);
        mq_tbuf_value(b, &fields[i].v);
    }
}


static size_t
mq_table_count(ob_str_t t)
{
    mq_table_iter_t it;
    ob_str_t        k;
    mq_value_t      v;
    size_t          n = 0;

    mq_table_iter_init(&it, t);
    while (mq_table_next(&it, &k, &v)) {
        n++;
    }
    return n;
}


/* Copies a death table with its count incremented, sorted by key as
 * RabbitMQ writes a bumped one. */
static void
mq_death_bump(mq_tbuf_t *b, ob_str_t table)
{
    mq_table_iter_t it;
    mq_field_t     *fields;
    size_t          tpos, n = 0, cap = mq_table_count(table);

    fields = calloc(cap + 1, sizeof(*fields));
    if (fields == NULL) {
        b->failed = 1;
        return;
    }
    mq_table_iter_init(&it, table);
    while (n < cap && mq_table_next(&it, &fields[n].key, &fields[n].v)) {
        if (mq_bytes_is(fields[n].key, "count")
            && mq_value_is_int(&fields[n].v))
        {
            fields[n].v.type = 'l';
            fields[n].v.i++;
            fields[n].v.u = (uint64_t) fields[n].v.i;
        }
        n++;
    }
    tpos = mq_tbuf_open(b, 'F');
    mq_fields_write(b, fields, n);
    mq_tbuf_close(b, tpos);
    free(fields);
}


static int
mq_death_is(ob_str_t table, ob_str_t queue, const char *reason)
{
    mq_value_t q, r;

    return mq_table_find(table, "queue", &q) && q.type == 'S'
           && q.s.len == queue.len && memcmp(q.s.data, queue.data,
                                             queue.len) == 0
           && mq_table_find(table, "reason", &r) && r.type == 'S'
           && mq_bytes_is(r.s, reason);
}


/*
 * Builds the dead-lettered copy's headers into b: the old headers but
 * x-death, the new x-death (and the x-first-death-* on the first death),
 * sorted by key as RabbitMQ sorts them.  deaths[] gets the new list's
 * (queue, rejected) in order, for the cycle check; *ndeaths its length
 * (at most cap).  The x-death array is built in xd, which must outlive b's
 * use.
 */
static void
mq_deadletter_headers(mq_tbuf_t *b, mq_tbuf_t *xd, mq_queue_t *q,
                      const mq_msg_t *msg, const mq_props_t *pr,
                      const char *reason, mq_death_t *deaths, size_t cap,
                      size_t *ndeaths)
{
    ob_str_t         qname = { q->name_len, (const uint8_t *) q->name };
    ob_str_t         headers = { 0, NULL }, k;
    mq_table_iter_t  it;
    mq_value_t       v, old, r, dq;
    mq_field_t      *fields;
    int              have_old = 0, bumped = 0, skipped = 0;
    size_t           n = 0, nf = 0;

    if (pr->flags & MQ_PROP_HEADERS) {
        headers = pr->headers;
    }
    fields = calloc((headers.len > 0 ? mq_table_count(headers) : 0) + 4,
                    sizeof(*fields));
    if (fields == NULL) {
        b->failed = 1;
        return;
    }
    if (headers.len > 0) {
        mq_table_iter_init(&it, headers);
        while (mq_table_next(&it, &k, &v)) {
            if (mq_bytes_is(k, "x-death")) {
                if (v.type == 'A') {
                    old = v;
                    have_old = 1;
                }
                continue;
            }
            fields[nf].key = k;
            fields[nf++].v = v;
        }
    }

    /* The x-death array: the new or bumped death first, then the rest. */
    if (have_old) {
        mq_table_iter_init(&it, old.s);
        while (mq_array_next(&it, &v)) {
            if (v.type == 'F' && mq_death_is(v.s, qname, reason)) {
                mq_death_bump(xd, v.s);
                bumped = 1;
                break;
            }
        }
    }
    if (!bumped) {
        mq_death_new(xd, q, msg, pr, reason);
    }
    deaths[n].queue = qname;
    deaths[n++].rejected = strcmp(reason, "rejected") == 0;
    if (have_old) {
        mq_table_iter_init(&it, old.s);
        while (mq_array_next(&it, &v)) {
            if (bumped && !skipped && v.type == 'F'
                && mq_death_is(v.s, qname, reason))
            {
                skipped = 1;
                continue;
            }
            mq_tbuf_value(xd, &v);
            if (n < cap && v.type == 'F') {
                deaths[n].queue.len = 0;
                deaths[n].rejected = 0;
                if (mq_table_find(v.s, "queue", &dq) && dq.type == 'S') {
                    deaths[n].queue = dq.s;
                }
                if (mq_table_find(v.s, "reason", &r) && r.type == 'S') {
                    deaths[n].rejected = mq_bytes_is(r.s, "rejected");
                }
                n++;
            }
        }
    }
    *ndeaths = n;
    if (xd->failed) {
        free(fields);
        b->failed = 1;
        return;
    }

    if (!have_old) {
        static const char *keys[] = { "x-first-death-exchange",
                                      "x-first-death-queue",
                                      "x-first-death-reason" };
        ob_str_t vals[3];
        size_t   i, j;

        vals[0].data = mq_msg_exchange(msg);
        vals[0].len = msg->exchange_len;
        vals[1] = qname;
        vals[2].data = (const uint8_t *) reason;
        vals[2].len = strlen(reason);
        for (i = 0; i < 3; i++) {
            /* Set only when absent, as RabbitMQ's set_table_value. */
            for (j = 0; j < nf && !mq_bytes_is(fields[j].key, keys[i]); j++) {
            }
            memset(&fields[j].v, 0, sizeof(fields[j].v));
            fields[j].key.data = (const uint8_t *) keys[i];
            fields[j].key.len = strlen(keys[i]);
            fields[j].v.type = 'S';
            fields[j].v.s = vals[i];
            if (j == nf) {
                nf++;
            }
        }
    }
    memset(&fields[nf].v, 0, sizeof(fields[nf].v));
    fields[nf].key.data = (const uint8_t *) "x-death";
    fields[nf].key.len = 7;
    fields[nf].v.type = 'A';
    fields[nf].v.s.data = xd->data;
    fields[nf++].v.s.len = xd->len;
    mq_fields_write(b, fields, nf);
    free(fields);
}


/* RabbitMQ's is_cycle/2: the list up to the target queue's own death
 * holds no rejection. */
static int
mq_is_cycle(const mq_queue_t *target, const mq_death_t *deaths, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (deaths[i].queue.len == target->name_len
            && (target->name_len == 0
                || memcmp(deaths[i].queue.data, target->name,
                          target->name_len) == 0))
        {
            size_t j;

            for (j = 0; j <= i; j++) {
                if (deaths[j].rejected) {
                    return 0;
                }
            }
            return 1;
        }
    }
    return 0;
}


#define MQ_DEATHS_MAX  64

void
mq_deadletter(mq_queue_t *q, mq_qentry_t *e, const char *reason)
{
    mq_t           *mq = q->vhost->mq;
    mq_msg_t       *msg = e->msg, *nm;
    mq_exchange_t  *x;
    mq_props_t      pr;
    mq_wire_err_t   err;
    mq_tbuf_t       hb, xd;
    mq_death_t      deaths[MQ_DEATHS_MAX];
    size_t          ndeaths = 0, plen, n = 0, cap = 0, i;
    mq_queue_t    **out = NULL;
    uint8_t        *pbuf;
    ob_str_t        xname, key, props;

    if (q->dlx == NULL) {
        return;
    }
    x = mq_exchange_find(q->vhost, (const uint8_t *) q->dlx, strlen(q->dlx));
    if (x == NULL) {
        return;
    }
    memset(&pr, 0, sizeof(pr));
    if (msg->props_len > 0
        && mq_props_parse(mq_msg_props(msg), msg->props_len, &pr, &err)
           != OB_OK)
    {
        return;
    }
    mq_tbuf_init(&hb);
    mq_tbuf_init(&xd);
    mq_deadletter_headers(&hb, &xd, q, msg, &pr, reason, deaths,
                          MQ_DEATHS_MAX, &ndeaths);
    mq_tbuf_free(&xd);
    if (hb.failed) {
        mq_tbuf_free(&hb);
        return;
    }
    pr.flags |= MQ_PROP_HEADERS;
    pr.headers.data = hb.data;
    pr.headers.len = hb.len;
    pr.flags &= (uint16_t) ~MQ_PROP_EXPIRATION;
    plen = mq_props_size(&pr);
    pbuf = malloc(plen);
    if (pbuf == NULL || mq_props_encode(pbuf, plen, &pr) != plen) {
        free(pbuf);
        mq_tbuf_free(&hb);
        return;
    }
    xname.data = (const uint8_t *) x->name;
    xname.len = x->name_len;
    if (q->dlrk != NULL) {
        key.data = (const uint8_t *) q->dlrk;
        key.len = strlen(q->dlrk);
    } else {
        key.data = mq_msg_key(msg);
        key.len = msg->key_len;
    }
    props.data = pbuf;
    props.len = plen;
    nm = mq_msg_new(mq, xname, key, props, msg->body_len);
    free(pbuf);
    mq_tbuf_free(&hb);
    if (nm == NULL) {
        return;
    }
    memcpy(mq_msg_body(nm), mq_msg_body(msg), msg->body_len);
    nm->body_have = msg->body_len;
    if (mq_exchange_route(x, nm, &out, &n, &cap) == OB_OK) {
        for (i = 0; i < n; i++) {
            if (strcmp(reason, "rejected") != 0
                && mq_is_cycle(out[i], deaths, ndeaths))
            {
                continue;
            }
            mq_queue_publish(out[i], nm);
        }
        if (n > 0) {
            mq->stats.dead_lettered++;
        }
    }
    free(out);
    mq_msg_unref(nm);
}
