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


/* Writes the table of a new death (count 1). */
static void
mq_death_new(mq_tbuf_t *b, mq_queue_t *q, const mq_msg_t *msg,
             const mq_props_t *pr, const char *reason)
{
    mq_value_t  v;
    size_t      tpos, apos;

    tpos = mq_tbuf_open(b, 'F');
    mq_tbuf_key(b, "count", 5);
    mq_tbuf_i64(b, 1);
    mq_tbuf_key(b, "exchange", 8);
    mq_tbuf_longstr(b, mq_msg_exchange(msg), msg->exchange_len);
    if (pr->flags & MQ_PROP_EXPIRATION) {
        mq_tbuf_key(b, "original-expiration", 19);
        mq_tbuf_longstr(b, pr->expiration.data, pr->expiration.len);
    }
    mq_tbuf_key(b, "queue", 5);
    mq_tbuf_longstr(b, q->name, q->name_len);
    mq_tbuf_key(b, "reason", 6);
    mq_tbuf_longstr(b, reason, strlen(reason));
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
    mq_tbuf_key(b, "time", 4);
    mq_tbuf_timestamp(b, (uint64_t) (mq_now_ms() / 1000));
    mq_tbuf_close(b, tpos);
}


/* Copies a death table with its count incremented. */
static void
mq_death_bump(mq_tbuf_t *b, ob_str_t table)
{
    mq_table_iter_t it;
    ob_str_t        k;
    mq_value_t      v;
    size_t          tpos;

    tpos = mq_tbuf_open(b, 'F');
    mq_table_iter_init(&it, table);
    while (mq_table_next(&it, &k, &v)) {
        mq_tbuf_key(b, (const char *) k.data, k.len);
        if (mq_bytes_is(k, "count") && mq_value_is_int(&v)) {
            mq_tbuf_i64(b, v.i + 1);
        } else {
            mq_tbuf_value(b, &v);
        }
    }
    mq_tbuf_close(b, tpos);
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
 * x-death, then the new x-death (and the x-first-death-* on the first
 * death).  deaths[] gets the new list's (queue, rejected) in order, for
 * the cycle check; *ndeaths its length (at most cap).
 */
static void
mq_deadletter_headers(mq_tbuf_t *b, mq_queue_t *q, const mq_msg_t *msg,
                      const mq_props_t *pr, const char *reason,
                      mq_death_t *deaths, size_t cap, size_t *ndeaths)
{
    ob_str_t         qname = { q->name_len, (const uint8_t *) q->name };
    ob_str_t         headers = { 0, NULL }, k;
    mq_table_iter_t  it;
    mq_value_t       v, old, r, dq;
    int              have_old = 0, bumped = 0;
    size_t           apos, n = 0;

    if (pr->flags & MQ_PROP_HEADERS) {
        headers = pr->headers;
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
            mq_tbuf_key(b, (const char *) k.data, k.len);
            mq_tbuf_value(b, &v);
        }
    }
    if (!have_old) {
        mq_tbuf_key(b, "x-first-death-exchange", 22);
        mq_tbuf_longstr(b, mq_msg_exchange(msg), msg->exchange_len);
        mq_tbuf_key(b, "x-first-death-queue", 19);
        mq_tbuf_longstr(b, q->name, q->name_len);
        mq_tbuf_key(b, "x-first-death-reason", 20);
        mq_tbuf_longstr(b, reason, strlen(reason));
    }
    mq_tbuf_key(b, "x-death", 7);
    apos = mq_tbuf_open(b, 'A');
    if (have_old) {
        mq_table_iter_init(&it, old.s);
        while (mq_array_next(&it, &v)) {
            if (v.type == 'F' && mq_death_is(v.s, qname, reason)) {
                mq_death_bump(b, v.s);
                bumped = 1;
                break;
            }
        }
    }
    if (!bumped) {
        mq_death_new(b, q, msg, pr, reason);
    }
    deaths[n].queue = qname;
    deaths[n++].rejected = strcmp(reason, "rejected") == 0;
    if (have_old) {
        int skipped = 0;

        mq_table_iter_init(&it, old.s);
        while (mq_array_next(&it, &v)) {
            if (bumped && !skipped && v.type == 'F'
                && mq_death_is(v.s, qname, reason))
            {
                skipped = 1;
                continue;
            }
            mq_tbuf_value(b, &v);
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
    mq_tbuf_close(b, apos);
    *ndeaths = n;
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
    mq_tbuf_t       hb;
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
    mq_deadletter_headers(&hb, q, msg, &pr, reason, deaths, MQ_DEATHS_MAX,
                          &ndeaths);
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
