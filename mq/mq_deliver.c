/*
 * mq_deliver.c: a channel's deliveries: writing the content-bearing
 * methods (basic.deliver, get-ok, return), prefetch, the unacked
 * deliveries and their settlement (ack, nack, reject, recover, tx), and
 * what happens to them when a consumer or the channel goes.
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


/* The consumer leaves its channel: its unacked deliveries stay on the
 * channel (they may still be acked) without it. */
void
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
