/*
 * mq_basic.c: the basic class on a channel: qos, consume and cancel,
 * publish (routing, mandatory returns), deliveries to consumers, get,
 * ack/nack/reject, recover, and the channel's unacked deliveries.
 *
 * Unacked deliveries live in a ring indexed by delivery tag (tags are
 * dense per channel: base_tag .. next_tag - 1; a settled slot is NULL,
 * base_tag moves past leading NULLs), so settling a tag is O(1) and
 * acking "multiple" walks only the range it covers.
 *
 * Deliveries are written as one copied chunk (the deliver/get-ok/return
 * method frame, the content header, and a small body with its frame),
 * while a large body goes out by reference into the message (one ref per
 * body frame, dropped by mq_msg_release once the bytes are written).
 */
#include "mq_conn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MQ_DELIVER_BUF      8192
#define MQ_BODY_COPY_MAX    2048     /* bodies copied instead of referenced */
#define MQ_RING_MIN         64


static inline mq_qentry_t **
mq_ring_slot(mq_channel_t *ch, uint64_t tag)
{
    return &ch->unacked[tag & (ch->unacked_cap - 1)];
}


/* Makes room for one more tag in the ring.  OB_ERR: no memory. */
static int
mq_ring_reserve(mq_channel_t *ch)
{
    mq_qentry_t **ring;
    size_t        cap;
    uint64_t      t;

    if (ch->unacked_cap != 0 && ch->next_tag - ch->base_tag < ch->unacked_cap) {
        return OB_OK;
    }
    cap = ch->unacked_cap != 0 ? ch->unacked_cap * 2 : MQ_RING_MIN;
    ring = calloc(cap, sizeof(*ring));
    if (ring == NULL) {
        return OB_ERR;
    }
    for (t = ch->base_tag; t < ch->next_tag; t++) {
        ring[t & (cap - 1)] = *mq_ring_slot(ch, t);
    }
    free(ch->unacked);
    ch->unacked = ring;
    ch->unacked_cap = cap;
    return OB_OK;
}


/* Gives entry e (NULL: a no-ack delivery) the channel's next tag. */
static uint64_t
mq_ring_push(mq_channel_t *ch, mq_qentry_t *e)
{
    uint64_t tag = ch->next_tag++;

    *mq_ring_slot(ch, tag) = e;
    if (e == NULL) {
        if (ch->base_tag == tag) {
            ch->base_tag++;
        }
        return tag;
    }
    e->delivery_tag = tag;
    e->channel = ch;
    ch->unacked_count++;
    return tag;
}


void
mq_basic_ring_advance(mq_channel_t *ch)
{
    while (ch->base_tag < ch->next_tag
           && *mq_ring_slot(ch, ch->base_tag) == NULL)
    {
        ch->base_tag++;
    }
}


/* The unacked entry of `tag`, or NULL. */
static mq_qentry_t *
mq_ring_get(mq_channel_t *ch, uint64_t tag)
{
    mq_qentry_t *e;

    if (tag < ch->base_tag || tag >= ch->next_tag) {
        return NULL;
    }
    e = *mq_ring_slot(ch, tag);
    if (e == NULL || (e->flags & MQ_QE_TX_HELD)) {
        return NULL;
    }
    return e;
}


/* The entry a transaction holds under `tag`, or NULL (settled since). */
mq_qentry_t *
mq_basic_held(mq_channel_t *ch, uint64_t tag)
{
    mq_qentry_t *e;

    if (tag < ch->base_tag || tag >= ch->next_tag) {
        return NULL;
    }
    e = *mq_ring_slot(ch, tag);
    return e != NULL && (e->flags & MQ_QE_TX_HELD) ? e : NULL;
}


void
mq_basic_requeue_flush(mq_channel_t *ch)
{
    mq_chan_t *cp = MQ_CHAN(ch);
    unsigned   i, n = cp->nrequeued;

    cp->nrequeued = 0;
    for (i = 0; i < n; i++) {
        mq_queue_dispatch(cp->requeued[i]);
    }
}


/* Remembers a queue that a requeue refilled. */
static void
mq_basic_requeue_note(mq_channel_t *ch, mq_queue_t *q)
{
    mq_chan_t *cp = MQ_CHAN(ch);
    unsigned   i;

    for (i = 0; i < cp->nrequeued; i++) {
        if (cp->requeued[i] == q) {
            return;
        }
    }
    if (cp->nrequeued == sizeof(cp->requeued) / sizeof(cp->requeued[0])) {
        mq_basic_requeue_flush(ch);
    }
    cp->requeued[cp->nrequeued++] = q;
}


void
mq_basic_settle(mq_channel_t *ch, mq_qentry_t *e, int how)
{
    mq_t *mq = ch->conn->mq;

    *mq_ring_slot(ch, e->delivery_tag) = NULL;
    ch->unacked_count--;
    if (e->consumer != NULL && e->consumer->unacked > 0) {
        e->consumer->unacked--;
    }
    e->flags &= ~(uint32_t) MQ_QE_TX_HELD;
    e->channel = NULL;
    e->consumer = NULL;
    switch (how) {
    case MQ_SETTLE_ACK:
        mq->stats.acked++;
        mq_queue_ack(e);
        break;
    case MQ_SETTLE_REQUEUE:
        if (e->queue != NULL) {
            mq_basic_requeue_note(ch, e->queue);
        }
        mq_queue_requeue(e);
        break;
    default:
        mq_queue_reject(e);
        break;
    }
}


/* Consumers of the channel that may take more now get them. */
void
mq_basic_redispatch(mq_channel_t *ch)
{
    mq_link_t     *l, *next;
    mq_consumer_t *cons;

    for (l = ch->consumers.next; l != &ch->consumers; l = next) {
        next = l->next;
        cons = MQ_ENTRY(l, mq_consumer_t, chlink);
        if (!mq_consumer_can_take(cons)) {
            if (ch->state != MQ_CH_OPEN || !ch->flow_active) {
                return;
            }
            continue;
        }
        mq_queue_dispatch(cons->queue);
    }
}


int
mq_consumer_can_take(const mq_consumer_t *cons)
{
    const mq_channel_t *ch = cons->channel;
    ob_conn_t          *c = ch->conn->c;

    if (ch->state != MQ_CH_OPEN || !ch->flow_active
        || ch->conn->state != MQ_CONN_RUNNING
        || (cons->prefetch != 0 && cons->unacked >= cons->prefetch)
        || (ch->prefetch_count != 0
            && ch->unacked_count >= ch->prefetch_count))
    {
        return 0;
    }
    if (ob_conn_is_output_full(c)) {
        ob_conn_set_drain_mark(c, ob_conn_output_pending(c) / 2);
        return 0;
    }
    return 1;
}


/*
 * Writes a content-bearing method (its frame already encoded at
 * method[0..mlen)) with msg's header and body on `channel`: one copied
 * chunk for method, header and a small body, then the body by reference
 * in frame_max - 8 pieces.
 */
int
mq_basic_send_content(mq_conn_t *conn, uint16_t channel,
                      const uint8_t *method, size_t mlen, mq_msg_t *msg)
{
    uint8_t   stack[MQ_DELIVER_BUF], *buf = stack, frame[8];
    size_t    cap = sizeof(stack), n, hl, chunk, off;
    size_t    fpay = conn->frame_max - MQ_FRAME_OVERHEAD;
    uint64_t  blen = msg->body_len;
    int       small = blen <= MQ_BODY_COPY_MAX;
    int       rc = OB_OK;

    n = mlen + MQ_FRAME_OVERHEAD + MQ_CONTENT_HEADER_FIXED + msg->props_len
        + (small ? blen + MQ_FRAME_OVERHEAD : 0);
    if (n > cap) {
        buf = malloc(n);
        if (buf == NULL) {
            return OB_ERR;
        }
        cap = n;
    }
    memcpy(buf, method, mlen);
    hl = mq_frame_content_header(buf + mlen, cap - mlen, channel, blen,
                                 mq_msg_props(msg), msg->props_len);
    n = mlen + hl;
    if (hl == 0) {
        rc = OB_ERR;
    } else if (small && blen > 0) {
        mq_frame_put_header(buf + n, MQ_FRAME_BODY, channel, (uint32_t) blen);
        memcpy(buf + n + 7, mq_msg_body(msg), blen);
        n += 7 + blen;
        buf[n++] = MQ_FRAME_END;
    }
    if (rc == OB_OK) {
        rc = mq_conn_send(conn, buf, n);
    }
    if (buf != stack) {
        free(buf);
    }
    for (off = 0; rc == OB_OK && !small && off < blen; off += chunk) {
        chunk = blen - off < fpay ? blen - off : fpay;
        mq_frame_put_header(frame, MQ_FRAME_BODY, channel, (uint32_t) chunk);
        rc = mq_conn_send(conn, frame, 7);
        if (rc != OB_OK) {
            break;
        }
        mq_msg_ref(msg);
        if (ob_conn_add_ref(conn->c, mq_msg_body(msg) + off, chunk,
                            mq_msg_release, msg) != OB_OK)
        {
            mq_msg_unref(msg);
            rc = OB_ERR;
            break;
        }
        frame[0] = MQ_FRAME_END;
        rc = mq_conn_send(conn, frame, 1);
    }
    return rc;
}


/* Writes a shortstr at p; returns the bytes written. */
static size_t
mq_put_shortstr(uint8_t *p, const void *s, size_t len)
{
    p[0] = (uint8_t) len;
    memcpy(p + 1, s, len);
    return 1 + len;
}


/* Encodes basic.deliver or basic.get-ok by hand: they are the hot path. */
static size_t
mq_encode_delivery(uint8_t *buf, uint16_t channel, const mq_consumer_t *cons,
                   uint64_t tag, int redelivered, const mq_msg_t *msg,
                   uint32_t message_count)
{
    size_t n = 7;

    mq_put16(buf + n, MQ_CLASS_BASIC);
    mq_put16(buf + n + 2, cons != NULL ? 60 : 71);
    n += 4;
    if (cons != NULL) {
        n += mq_put_shortstr(buf + n, cons->tag, cons->tag_len);
    }
    mq_put64(buf + n, tag);
    n += 8;
    buf[n++] = redelivered ? 1 : 0;
    n += mq_put_shortstr(buf + n, mq_msg_exchange(msg), msg->exchange_len);
    n += mq_put_shortstr(buf + n, mq_msg_key(msg), msg->key_len);
    if (cons == NULL) {
        mq_put32(buf + n, message_count);
        n += 4;
    }
    mq_frame_put_header(buf, MQ_FRAME_METHOD, channel, (uint32_t) (n - 7));
    buf[n++] = MQ_FRAME_END;
    return n;
}


int
mq_consumer_deliver(mq_consumer_t *cons, mq_qentry_t *e)
{
    mq_channel_t *ch = cons->channel;
    mq_conn_t    *conn = ch->conn;
    mq_msg_t     *msg = e->msg;
    uint8_t       method[800];
    size_t        mlen;
    uint64_t      tag;
    int           redelivered = (e->flags & MQ_QE_REDELIVERED) != 0;

    if (MQ_SESSION(conn)->dead || conn->state != MQ_CONN_RUNNING
        || mq_ring_reserve(ch) != OB_OK)
    {
        return OB_ERR;
    }
    mlen = mq_encode_delivery(method, ch->id, cons, ch->next_tag,
                              redelivered, msg, 0);
    if (mq_basic_send_content(conn, ch->id, method, mlen, msg) != OB_OK) {
        return OB_ERR;
    }
    conn->mq->stats.delivered++;
    conn->mq->stats.redelivered += redelivered;
    cons->delivered++;
    if (cons->no_ack) {
        tag = mq_ring_push(ch, NULL);
        e->delivery_tag = tag;
        e->consumer = NULL;
        mq_queue_ack(e);
        return OB_OK;
    }
    mq_ring_push(ch, e);
    cons->unacked++;
    return OB_OK;
}


int
mq_basic_qos(mq_channel_t *ch, const mq_method_t *m)
{
    uint64_t size = m->a[MQ_QOS_PREFETCH_SIZE].n;
    uint32_t count = (uint32_t) m->a[MQ_QOS_PREFETCH_COUNT].n;

    if (size != 0) {
        return mq_conn_error(ch->conn, MQ_NOT_IMPLEMENTED, (int) m->id,
                             "prefetch_size!=0 (%llu)",
                             (unsigned long long) size);
    }
    if (m->a[MQ_QOS_GLOBAL].n) {
        ch->prefetch_count = count;
    } else {
        ch->consumer_prefetch = count;
    }
    if (mq_send_method(ch->conn, ch->id, MQ_M_BASIC_QOS_OK) != OB_OK) {
        return OB_ERR;
    }
    mq_basic_redispatch(ch);
    return OB_OK;
}


/* The queue a consume or get names, or NULL after the channel error
 * (404 missing, 405 another connection's exclusive queue). */
static mq_queue_t *
mq_basic_queue(mq_channel_t *ch, const mq_method_t *m, ob_str_t name)
{
    mq_vhost_t *vh = ch->conn->vhost;
    mq_queue_t *q = mq_queue_find(vh, name.data, name.len);

    if (q == NULL) {
        mq_channel_error(ch, MQ_NOT_FOUND, m->id, "no queue '%.*s' in vhost "
                         "'%s'", (int) name.len, name.data, vh->name);
        return NULL;
    }
    if (q->exclusive && q->owner != ch->conn) {
        mq_channel_error(ch, MQ_RESOURCE_LOCKED, m->id, "cannot obtain "
                         "exclusive access to locked queue '%s' in vhost "
                         "'%s'. It could be originally declared on another "
                         "connection or the exclusive property value does "
                         "not match that of the original declaration.",
                         q->name, vh->name);
        return NULL;
    }
    return q;
}


/* RabbitMQ's consumer tags: "amq.ctag-" and 22 base64url characters. */
static void
mq_basic_gen_tag(mq_channel_t *ch, mq_consumer_t *cons)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                              "qrstuvwxyz0123456789-_";
    mq_t     *mq = ch->conn->mq;
    uint64_t  x = ++mq->conn_seq ^ ((uint64_t) mq_now_ms() << 20)
                  ^ (uint64_t) (uintptr_t) cons;
    int       i;

    memcpy(cons->tag, "amq.ctag-", 9);
    for (i = 0; i < 22; i++) {
        x += 0x9E3779B97F4A7C15ull;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        cons->tag[9 + i] = b64[(z ^ (z >> 31)) & 63];
    }
    cons->tag_len = 31;
    cons->tag[31] = '\0';
}


static mq_consumer_t *
mq_basic_find_consumer(mq_channel_t *ch, ob_str_t tag)
{
    mq_link_t     *l;
    mq_consumer_t *cons;

    for (l = ch->consumers.next; l != &ch->consumers; l = l->next) {
        cons = MQ_ENTRY(l, mq_consumer_t, chlink);
        if (cons->tag_len == tag.len
            && memcmp(cons->tag, tag.data, tag.len) == 0)
        {
            return cons;
        }
    }
    return NULL;
}


int
mq_basic_consume(mq_channel_t *ch, const mq_method_t *m)
{
    ob_str_t       tag = m->a[MQ_CONSUME_TAG].s, t;
    mq_queue_t    *q;
    mq_consumer_t *cons;
    int            exclusive = m->a[MQ_CONSUME_EXCLUSIVE].n != 0;

    q = mq_basic_queue(ch, m, m->a[MQ_CONSUME_QUEUE].s);
    if (q == NULL) {
        return OB_ERR;
    }
    if (tag.len > 0 && mq_basic_find_consumer(ch, tag) != NULL) {
        return mq_conn_error(ch->conn, MQ_NOT_ALLOWED, (int) m->id,
                             "attempt to reuse consumer tag '%.*s'",
                             (int) tag.len, tag.data);
    }
    if (q->exclusive_consumer != NULL || (exclusive && q->nconsumers > 0)) {
        return mq_channel_error(ch, MQ_ACCESS_REFUSED, m->id, "queue '%s' in "
                                "vhost '%s' in exclusive use", q->name,
                                ch->conn->vhost->name);
    }
    cons = calloc(1, sizeof(*cons));
    if (cons == NULL) {
        return mq_conn_error(ch->conn, MQ_RESOURCE_ERROR, (int) m->id,
                             "out of memory");
    }
    cons->channel = ch;
    cons->queue = q;
    cons->no_ack = m->a[MQ_CONSUME_NO_ACK].n != 0;
    cons->exclusive = exclusive;
    cons->prefetch = ch->consumer_prefetch;
    if (tag.len > 0) {
        memcpy(cons->tag, tag.data, tag.len);
        cons->tag_len = (uint8_t) tag.len;
    } else {
        mq_basic_gen_tag(ch, cons);
    }
    mq_list_init(&cons->qlink);
    mq_list_push_back(&ch->consumers, &cons->chlink);
    if (!m->a[MQ_CONSUME_NO_WAIT].n) {
        t.data = (const uint8_t *) cons->tag;
        t.len = cons->tag_len;
        mq_send_method(ch->conn, ch->id, MQ_M_BASIC_CONSUME_OK, &t);
    }
    if (mq_queue_add_consumer(q, cons) != OB_OK) {
        mq_list_remove(&cons->chlink);
        free(cons);
        return mq_conn_error(ch->conn, MQ_RESOURCE_ERROR, (int) m->id,
                             "out of memory");
    }
    mq_queue_dispatch(q);
    return OB_OK;
}


/* The consumer leaves its channel: its unacked deliveries stay on the
 * channel (they may still be acked) without it. */
static void
mq_basic_forget_consumer(mq_consumer_t *cons)
{
    mq_channel_t *ch = cons->channel;
    mq_qentry_t  *e;
    uint64_t      t;

    for (t = ch->base_tag; t < ch->next_tag && cons->unacked > 0; t++) {
        e = *mq_ring_slot(ch, t);
        if (e != NULL && e->consumer == cons) {
            e->consumer = NULL;
            cons->unacked--;
        }
    }
    mq_list_remove(&cons->chlink);
    free(cons);
}


int
mq_basic_cancel(mq_channel_t *ch, const mq_method_t *m)
{
    ob_str_t       tag = m->a[MQ_CANCEL_TAG].s;
    mq_consumer_t *cons = mq_basic_find_consumer(ch, tag);

    if (!m->a[MQ_CANCEL_NO_WAIT].n) {
        mq_send_method(ch->conn, ch->id, MQ_M_BASIC_CANCEL_OK, &tag);
    }
    if (cons != NULL) {
        mq_queue_remove_consumer(cons->queue, cons);
        mq_basic_forget_consumer(cons);
    }
    return OB_OK;
}


void
mq_consumer_cancelled(mq_consumer_t *cons)
{
    mq_channel_t *ch = cons->channel;
    mq_conn_t    *conn = ch->conn;
    ob_str_t      t = { cons->tag_len, (const uint8_t *) cons->tag };

    if (conn->cap_cancel_notify && ch->state == MQ_CH_OPEN
        && conn->state == MQ_CONN_RUNNING)
    {
        mq_send_method(conn, ch->id, MQ_M_BASIC_CANCEL, &t, 1);
        ob_conn_flush(conn->c);
    }
    mq_basic_forget_consumer(cons);
}


int
mq_basic_publish(mq_channel_t *ch, const mq_method_t *m)
{
    mq_chan_t *cp = MQ_CHAN(ch);
    ob_str_t   x = m->a[MQ_PUBLISH_EXCHANGE].s,
               k = m->a[MQ_PUBLISH_ROUTING_KEY].s;

    if (m->a[MQ_PUBLISH_IMMEDIATE].n) {
        return mq_conn_error(ch->conn, MQ_NOT_IMPLEMENTED, (int) m->id,
                             "immediate=true");
    }
    memcpy(cp->pub_exchange, x.data, x.len);
    cp->pub_exchange_len = (uint8_t) x.len;
    memcpy(cp->pub_key, k.data, k.len);
    cp->pub_key_len = (uint8_t) k.len;
    ch->pending_mandatory = m->a[MQ_PUBLISH_MANDATORY].n != 0;
    ch->content_state = 1;
    return OB_OK;
}


static int
mq_basic_return(mq_channel_t *ch, mq_msg_t *msg)
{
    uint8_t   method[800];
    size_t    mlen;
    ob_str_t  text = { 8, (const uint8_t *) "NO_ROUTE" },
              x = { msg->exchange_len, mq_msg_exchange(msg) },
              k = { msg->key_len, mq_msg_key(msg) };

    mlen = 7;
    mq_put16(method + mlen, MQ_CLASS_BASIC);
    mq_put16(method + mlen + 2, 50);
    mlen += 4;
    mq_put16(method + mlen, MQ_NO_ROUTE);
    mlen += 2;
    mlen += mq_put_shortstr(method + mlen, text.data, text.len);
    mlen += mq_put_shortstr(method + mlen, x.data, x.len);
    mlen += mq_put_shortstr(method + mlen, k.data, k.len);
    mq_frame_put_header(method, MQ_FRAME_METHOD, ch->id,
                        (uint32_t) (mlen - 7));
    method[mlen++] = MQ_FRAME_END;
    ch->conn->mq->stats.returned++;
    return mq_basic_send_content(ch->conn, ch->id, method, mlen, msg);
}


int
mq_basic_route(mq_channel_t *ch, mq_msg_t *msg, int mandatory, int *nacked)
{
    mq_session_t  *s = MQ_SESSION(ch->conn);
    mq_vhost_t    *vh = ch->conn->vhost;
    mq_exchange_t *x;
    size_t         i;
    int            rc;

    x = mq_exchange_find(vh, mq_msg_exchange(msg), msg->exchange_len);
    if (x == NULL) {
        return mq_channel_error(ch, MQ_NOT_FOUND, MQ_M_BASIC_PUBLISH,
                                "no exchange '%.*s' in vhost '%s'",
                                (int) msg->exchange_len,
                                mq_msg_exchange(msg), vh->name);
    }
    if (x->internal) {
        return mq_channel_error(ch, MQ_ACCESS_REFUSED, MQ_M_BASIC_PUBLISH,
                                "cannot publish to internal exchange '%s' "
                                "in vhost '%s'", x->name, vh->name);
    }
    ch->conn->mq->stats.published++;
    x->publish_in++;
    s->route_n = 0;
    if (mq_exchange_route(x, msg, &s->route, &s->route_n, &s->route_cap)
        != OB_OK)
    {
        return mq_conn_error(ch->conn, MQ_RESOURCE_ERROR, MQ_M_BASIC_PUBLISH,
                             "out of memory");
    }
    for (i = 0; i < s->route_n; i++) {
        rc = mq_queue_publish(s->route[i], msg);
        if (rc != OB_OK) {
            *nacked = 1;
        }
    }
    if (s->route_n == 0) {
        if (mandatory) {
            mq_basic_return(ch, msg);
        } else {
            ch->conn->mq->stats.dropped_unroutable++;
        }
        return 0;
    }
    x->publish_out++;
    return 1;
}


int
mq_basic_publish_done(mq_channel_t *ch, mq_msg_t *msg, int mandatory)
{
    mq_chan_t *cp = MQ_CHAN(ch);
    mq_tx_pub_t *p;
    int        nacked = 0, rc;

    if (ch->tx) {
        mq_exchange_t *x = mq_exchange_find(ch->conn->vhost,
                                            mq_msg_exchange(msg),
                                            msg->exchange_len);

        if (x == NULL || x->internal) {
            rc = mq_basic_route(ch, msg, mandatory, &nacked);
            mq_msg_unref(msg);
            return rc;
        }
        if (cp->tx_npubs == cp->tx_cap) {
            size_t cap = cp->tx_cap != 0 ? cp->tx_cap * 2 : 16;

            p = realloc(cp->tx_pubs, cap * sizeof(*p));
            if (p == NULL) {
                mq_msg_unref(msg);
                return mq_conn_error(ch->conn, MQ_RESOURCE_ERROR,
                                     MQ_M_BASIC_PUBLISH, "out of memory");
            }
            cp->tx_pubs = p;
            cp->tx_cap = cap;
        }
        cp->tx_pubs[cp->tx_npubs].msg = msg;
        cp->tx_pubs[cp->tx_npubs++].mandatory = (uint8_t) mandatory;
        return OB_OK;
    }
    rc = mq_basic_route(ch, msg, mandatory, &nacked);
    if (rc != OB_ERR && ch->confirm) {
        mq_confirm_published(ch, nacked, (msg->flags & MQ_MSG_LOGGED) != 0);
    }
    mq_msg_unref(msg);
    return rc == OB_ERR ? OB_ERR : OB_OK;
}


int
mq_basic_get(mq_channel_t *ch, const mq_method_t *m)
{
    mq_queue_t  *q;
    mq_qentry_t *e;
    uint8_t      method[800];
    size_t       mlen;
    int          no_ack = m->a[MQ_GET_NO_ACK].n != 0, redelivered;

    q = mq_basic_queue(ch, m, m->a[MQ_GET_QUEUE].s);
    if (q == NULL) {
        return OB_ERR;
    }
    if (mq_ring_reserve(ch) != OB_OK) {
        return mq_conn_error(ch->conn, MQ_RESOURCE_ERROR, (int) m->id,
                             "out of memory");
    }
    e = mq_queue_take(q);
    if (e == NULL) {
        return mq_send_method(ch->conn, ch->id, MQ_M_BASIC_GET_EMPTY, NULL);
    }
    e->consumer = NULL;
    redelivered = (e->flags & MQ_QE_REDELIVERED) != 0;
    mlen = mq_encode_delivery(method, ch->id, NULL, ch->next_tag,
                              redelivered, e->msg,
                              (uint32_t) mq_queue_ready_count(q));
    if (mq_basic_send_content(ch->conn, ch->id, method, mlen, e->msg)
        != OB_OK)
    {
        mq_queue_requeue(e);
        return OB_ERR;
    }
    ch->conn->mq->stats.delivered_get++;
    ch->conn->mq->stats.redelivered += redelivered;
    if (no_ack) {
        e->delivery_tag = mq_ring_push(ch, NULL);
        mq_queue_ack(e);
    } else {
        mq_ring_push(ch, e);
    }
    return OB_OK;
}


/*
 * The settlement of ack, nack and reject: `tag` alone, or with multiple
 * every unacked tag up to it (0 with multiple: all).  An unknown tag is
 * 406, as RabbitMQ.  In a transaction the entries are held until commit.
 */
static int
mq_basic_settle_tags(mq_channel_t *ch, const mq_method_t *m, uint64_t tag,
                     int multiple, int how)
{
    mq_qentry_t *e;
    uint64_t     t, from, to;

    if (multiple && tag == 0) {
        from = ch->base_tag;
        to = ch->next_tag;
    } else {
        if (mq_ring_get(ch, tag) == NULL) {
            return mq_channel_error(ch, MQ_PRECONDITION_FAILED, m->id,
                                    "unknown delivery tag %llu",
                                    (unsigned long long) tag);
        }
        from = multiple ? ch->base_tag : tag;
        to = tag + 1;
    }
    /* Newest first: a requeued entry then goes back at the head of its
     * queue at once (the queue inserts by age, walking from the head). */
    for (t = to; t-- > from; ) {
        e = mq_ring_get(ch, t);
        if (e == NULL) {
            continue;
        }
        if (ch->tx) {
            if (mq_tx_hold_ack(ch, t, how) != OB_OK) {
                return mq_conn_error(ch->conn, MQ_RESOURCE_ERROR, m->id,
                                     "out of memory");
            }
            e->flags |= MQ_QE_TX_HELD;
            continue;
        }
        mq_basic_settle(ch, e, how);
    }
    mq_basic_ring_advance(ch);
    if (!ch->tx) {
        mq_basic_requeue_flush(ch);
        mq_basic_redispatch(ch);
    }
    return OB_OK;
}


int
mq_basic_ack(mq_channel_t *ch, const mq_method_t *m)
{
    return mq_basic_settle_tags(ch, m, m->a[MQ_ACK_DELIVERY_TAG].n,
                                m->a[MQ_ACK_MULTIPLE].n != 0, MQ_SETTLE_ACK);
}


int
mq_basic_reject(mq_channel_t *ch, const mq_method_t *m)
{
    return mq_basic_settle_tags(ch, m, m->a[MQ_REJECT_DELIVERY_TAG].n, 0,
                                m->a[MQ_REJECT_REQUEUE].n
                                ? MQ_SETTLE_REQUEUE : MQ_SETTLE_REJECT);
}


int
mq_basic_nack(mq_channel_t *ch, const mq_method_t *m)
{
    return mq_basic_settle_tags(ch, m, m->a[MQ_NACK_DELIVERY_TAG].n,
                                m->a[MQ_NACK_MULTIPLE].n != 0,
                                m->a[MQ_NACK_REQUEUE].n
                                ? MQ_SETTLE_REQUEUE : MQ_SETTLE_REJECT);
}


/* Requeues every unacked delivery of the channel (redelivered). */
static void
mq_basic_requeue_all(mq_channel_t *ch)
{
    mq_qentry_t *e;
    uint64_t     t;

    for (t = ch->next_tag; t-- > ch->base_tag && ch->unacked_count > 0; ) {
        e = *mq_ring_slot(ch, t);
        if (e != NULL) {
            mq_basic_settle(ch, e, MQ_SETTLE_REQUEUE);
        }
    }
    ch->base_tag = ch->next_tag;
    mq_basic_requeue_flush(ch);
}


int
mq_basic_recover(mq_channel_t *ch, const mq_method_t *m)
{
    if (!m->a[MQ_RECOVER_REQUEUE].n) {
        return mq_conn_error(ch->conn, MQ_NOT_IMPLEMENTED, (int) m->id,
                             "requeue=false");
    }
    mq_basic_requeue_all(ch);
    if (m->id == MQ_M_BASIC_RECOVER) {
        mq_send_method(ch->conn, ch->id, MQ_M_BASIC_RECOVER_OK);
    }
    mq_basic_redispatch(ch);
    return OB_OK;
}


void
mq_basic_channel_gone(mq_channel_t *ch)
{
    mq_link_t     *l;
    mq_consumer_t *cons;

    ch->state = MQ_CH_CLOSING;
    while (!mq_list_empty(&ch->consumers)) {
        l = ch->consumers.next;
        cons = MQ_ENTRY(l, mq_consumer_t, chlink);
        mq_queue_remove_consumer(cons->queue, cons);
        mq_basic_forget_consumer(cons);
    }
    mq_basic_requeue_all(ch);
}
