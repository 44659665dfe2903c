/*
 * mq_queue.c: what happens to messages in a queue: enqueue (TTL,
 * max-length and its overflow modes, priorities), round-robin dispatch to
 * consumers, basic.get, settling (ack, requeue to the original place,
 * reject), consumers coming and going, deletion, and the tick (message
 * TTL at the head, x-expires).
 *
 * RabbitMQ's semantics throughout: expired messages leave only when they
 * reach the head (on dispatch, get, and the 100 ms tick); max-length
 * counts ready messages only; a message with TTL 0 is delivered only if a
 * consumer takes it at once.
 *
 * The queue class's methods are in mq_queue_method.c, the argument
 * checks in mq_queue_args.c.
 */
#include "mq_entity.h"

#include <stdlib.h>
#include <string.h>


/* --------------------------------------------------------- ready lists */

static mq_qlist_t *
mq_ready_list(mq_queue_t *q, const mq_qentry_t *e)
{
    unsigned p = e->msg->priority;

    return &q->ready[p > q->max_priority ? q->max_priority : p];
}


static void
mq_ready_count_in(mq_queue_t *q, mq_qlist_t *l, mq_qentry_t *e)
{
    l->count++;
    q->ready_bytes += e->msg->body_len;
}


static void
mq_ready_push(mq_queue_t *q, mq_qentry_t *e)
{
    mq_qlist_t *l = mq_ready_list(q, e);

    mq_list_push_back(&l->head, &e->link);
    mq_ready_count_in(q, l, e);
}


/* Puts a requeued entry back where its sequence number says: requeued
 * messages are usually older than every ready one, so the walk is from
 * the head. */
static void
mq_ready_insert_ordered(mq_queue_t *q, mq_qentry_t *e)
{
    mq_qlist_t *l = mq_ready_list(q, e);
    mq_link_t  *pos;

    for (pos = l->head.next; pos != &l->head; pos = pos->next) {
        if (MQ_ENTRY(pos, mq_qentry_t, link)->seq > e->seq) {
            break;
        }
    }
    mq_list_insert_after(pos->prev, &e->link);
    mq_ready_count_in(q, l, e);
}


static void
mq_ready_unlink(mq_queue_t *q, mq_qentry_t *e)
{
    mq_qlist_t *l = mq_ready_list(q, e);

    mq_list_remove(&e->link);
    l->count--;
    q->ready_bytes -= e->msg->body_len;
    if (MQ_QX(q)->fresh == e) {
        MQ_QX(q)->fresh = NULL;
    }
}


/* The entry a consumer gets next: the head of the highest priority. */
static mq_qentry_t *
mq_ready_head(mq_queue_t *q)
{
    int p;

    for (p = q->max_priority; p >= 0; p--) {
        if (!mq_list_empty(&q->ready[p].head)) {
            return MQ_ENTRY(q->ready[p].head.next, mq_qentry_t, link);
        }
    }
    return NULL;
}


uint64_t
mq_queue_ready_count(const mq_queue_t *q)
{
    uint64_t n = 0;
    int      p;

    for (p = 0; p <= q->max_priority; p++) {
        n += q->ready[p].count;
    }
    return n;
}


/* An entry leaves the queue for good: its log record goes too. */
static void
mq_entry_leave(mq_queue_t *q, mq_qentry_t *e)
{
    mq_t *mq = q->vhost->mq;

    if ((e->flags & MQ_QE_LOGGED) && q->durable) {
        mq_log_remove(mq, q, e);
    }
    mq_qentry_free(mq, e);
}


void
mq_queue_drop_entry(mq_queue_t *q, mq_qentry_t *e)
{
    mq_ready_unlink(q, e);
    mq_entry_leave(q, e);
}


/* Drops (dead-letters) expired entries at the heads of the ready lists;
 * the entry being published with TTL 0 (fresh) waits for its one
 * chance at a consumer. */
static void
mq_expire_heads(mq_queue_t *q, int64_t now)
{
    mq_qentry_t *e;
    int          p;

    for (p = q->max_priority; p >= 0 && !q->deleted; p--) {
        while (!mq_list_empty(&q->ready[p].head)) {
            e = MQ_ENTRY(q->ready[p].head.next, mq_qentry_t, link);
            if (e->expires_at > now || e == MQ_QX(q)->fresh) {
                break;
            }
            mq_ready_unlink(q, e);
            q->vhost->mq->stats.expired++;
            mq_deadletter(q, e, "expired");
            mq_entry_leave(q, e);
        }
    }
}


/* 1 when the ready messages are over x-max-length or
 * x-max-length-bytes. */
static int
mq_over_limit(const mq_queue_t *q)
{
    return (q->max_length >= 0
            && mq_queue_ready_count(q) > (uint64_t) q->max_length)
           || (q->max_length_bytes >= 0
               && q->ready_bytes > (uint64_t) q->max_length_bytes);
}


/* ------------------------------------------------------------- publish */

int
mq_queue_publish(mq_queue_t *q, mq_msg_t *msg)
{
    mq_t        *mq = q->vhost->mq;
    mq_qentry_t *e;
    int64_t      ttl = q->message_ttl, now;
    int          rc = OB_OK;

    if (q->deleted) {
        return OB_OK;
    }
    if (msg->expiration >= 0 && (ttl < 0 || msg->expiration < ttl)) {
        ttl = msg->expiration;
    }
    if (q->overflow != MQ_OVERFLOW_DROP_HEAD
        && ((q->max_length >= 0
             && mq_queue_ready_count(q) >= (uint64_t) q->max_length)
            || (q->max_length_bytes >= 0
                && q->ready_bytes + msg->body_len
                   > (uint64_t) q->max_length_bytes)))
    {
        if (q->overflow == MQ_OVERFLOW_REJECT_PUBLISH_DLX && q->dlx != NULL) {
            e = mq_qentry_new(mq, msg);
            if (e != NULL) {
                e->queue = q;
                mq_deadletter(q, e, "maxlen");
                mq_qentry_free(mq, e);
            }
        }
        return OB_DECLINED;
    }
    e = mq_qentry_new(mq, msg);
    if (e == NULL) {
        return OB_ERR;
    }
    e->queue = q;
    e->seq = q->next_seq++;
    now = ttl >= 0 ? mq_now_ms() : 0;
    e->expires_at = ttl >= 0 ? now + ttl : INT64_MAX;
    mq_ready_push(q, e);
    q->stat_publish++;
    if (q->durable && (msg->flags & MQ_MSG_PERSISTENT)) {
        if (mq_log_enqueue(mq, q, e) != OB_OK) {
            rc = OB_ERR;
        }
    }
    if (ttl == 0) {
        MQ_QX(q)->fresh = e;
    }
    mq_queue_dispatch(q);
    if (q->deleted) {
        return rc;
    }
    while (q->overflow == MQ_OVERFLOW_DROP_HEAD && mq_over_limit(q)) {
        mq_qentry_t *head = mq_ready_head(q);

        if (head == NULL) {
            break;
        }
        mq_ready_unlink(q, head);
        mq_deadletter(q, head, "maxlen");
        mq_entry_leave(q, head);
    }
    if (ttl == 0 && MQ_QX(q)->fresh != NULL) {
        /* No consumer took it at once: it expires now. */
        e = MQ_QX(q)->fresh;
        mq_ready_unlink(q, e);
        mq->stats.expired++;
        mq_deadletter(q, e, "expired");
        mq_entry_leave(q, e);
    }
    return rc;
}


/* ------------------------------------------------------------ dispatch */

static void
mq_take_entry(mq_queue_t *q, mq_qentry_t *e, mq_consumer_t *cons)
{
    mq_ready_unlink(q, e);
    e->consumer = cons;
    mq_list_push_back(&q->unacked.head, &e->link);
    q->unacked.count++;
    q->unacked_bytes += e->msg->body_len;
    if ((e->flags & (MQ_QE_LOGGED | MQ_QE_DELIVERED)) == MQ_QE_LOGGED
        && q->durable)
    {
        mq_log_delivered(q->vhost->mq, q, e);
    }
    e->flags |= MQ_QE_DELIVERED;
    if (e->flags & MQ_QE_REDELIVERED) {
        q->stat_redeliver++;
    }
}


static void
mq_unacked_unlink(mq_queue_t *q, mq_qentry_t *e)
{
    mq_list_remove(&e->link);
    q->unacked.count--;
    q->unacked_bytes -= e->msg->body_len;
}


void
mq_queue_dispatch(mq_queue_t *q)
{
    mq_qentry_t   *e;
    mq_consumer_t *cons;
    mq_link_t     *l;
    int64_t        now = mq_now_ms();

    if (q->dispatching || q->deleted) {
        return;
    }
    q->dispatching = 1;
    while (q->nconsumers > 0 && !q->deleted) {
        mq_expire_heads(q, now);
        e = mq_ready_head(q);
        if (e == NULL) {
            break;
        }
        cons = NULL;
        for (l = q->consumers.next; l != &q->consumers; l = l->next) {
            if (mq_consumer_can_take(MQ_ENTRY(l, mq_consumer_t, qlink))) {
                cons = MQ_ENTRY(l, mq_consumer_t, qlink);
                break;
            }
        }
        if (cons == NULL) {
            break;
        }
        /* Round-robin: the consumer served goes to the back. */
        mq_list_remove(&cons->qlink);
        mq_list_push_back(&q->consumers, &cons->qlink);
        mq_take_entry(q, e, cons);
        q->stat_deliver++;
        if (mq_consumer_deliver(cons, e) != OB_OK) {
            mq_unacked_unlink(q, e);
            e->consumer = NULL;
            mq_ready_insert_ordered(q, e);
            break;
        }
    }
    q->dispatching = 0;
}


mq_qentry_t *
mq_queue_take(mq_queue_t *q)
{
    mq_qentry_t *e;

    q->last_used_mono = mq_mono_ms();
    mq_expire_heads(q, mq_now_ms());
    e = mq_ready_head(q);
    if (e == NULL) {
        return NULL;
    }
    mq_take_entry(q, e, NULL);
    q->stat_get++;
    return e;
}


/* ------------------------------------------------------------- settling */

void
mq_queue_ack(mq_qentry_t *e)
{
    mq_queue_t *q = e->queue;

    if (q == NULL) {
        mq_qentry_free(e->msg->mq, e);
        return;
    }
    mq_unacked_unlink(q, e);
    q->stat_ack++;
    mq_entry_leave(q, e);
}


void
mq_queue_requeue(mq_qentry_t *e)
{
    mq_queue_t *q = e->queue;

    if (q == NULL) {
        mq_qentry_free(e->msg->mq, e);
        return;
    }
    mq_unacked_unlink(q, e);
    e->flags |= MQ_QE_REDELIVERED;
    e->consumer = NULL;
    e->channel = NULL;
    e->delivery_tag = 0;
    mq_ready_insert_ordered(q, e);
}


void
mq_queue_reject(mq_qentry_t *e)
{
    mq_queue_t *q = e->queue;

    if (q == NULL) {
        mq_qentry_free(e->msg->mq, e);
        return;
    }
    mq_unacked_unlink(q, e);
    mq_deadletter(q, e, "rejected");
    mq_entry_leave(q, e);
}


/* ------------------------------------------------------------ consumers */

int
mq_queue_add_consumer(mq_queue_t *q, mq_consumer_t *cons)
{
    if (q->exclusive_consumer != NULL
        || (cons->exclusive && q->nconsumers > 0))
    {
        return OB_DECLINED;
    }
    cons->queue = q;
    mq_list_push_back(&q->consumers, &cons->qlink);
    q->nconsumers++;
    q->had_consumer = 1;
    q->last_used_mono = mq_mono_ms();
    if (cons->exclusive) {
        q->exclusive_consumer = cons;
    }
    return OB_OK;
}


void
mq_queue_remove_consumer(mq_queue_t *q, mq_consumer_t *cons)
{
    mq_list_remove(&cons->qlink);
    q->nconsumers--;
    if (q->exclusive_consumer == cons) {
        q->exclusive_consumer = NULL;
    }
    q->last_used_mono = mq_mono_ms();
    if (q->auto_delete && q->had_consumer && q->nconsumers == 0) {
        mq_queue_delete(q);
    }
}


/* ------------------------------------------------------------- deletion */

/* Frees q and everything in it.  discard: the queue is deleted (its log
 * records and definition go); otherwise the broker is shutting down and
 * the durable state stays for the next start. */
static uint64_t
mq_queue_free(mq_queue_t *q, int discard)
{
    mq_t          *mq = q->vhost->mq;
    mq_consumer_t *cons;
    mq_qentry_t   *e;
    uint64_t       count = mq_queue_ready_count(q);
    int            p, durable = q->durable, defs = 0;

    q->deleted = 1;
    while (!mq_list_empty(&q->consumers)) {
        cons = MQ_ENTRY(q->consumers.next, mq_consumer_t, qlink);
        mq_list_remove(&cons->qlink);
        q->nconsumers--;
        cons->queue = NULL;
        if (discard) {
            mq_consumer_cancelled(cons);
        }
    }
    q->exclusive_consumer = NULL;
    while (!mq_list_empty(&q->bindings)) {
        defs |= mq_binding_remove(MQ_ENTRY(q->bindings.next, mq_binding_t,
                                           dst_link));
    }
    for (p = 0; p <= q->max_priority; p++) {
        while (!mq_list_empty(&q->ready[p].head)) {
            e = MQ_ENTRY(q->ready[p].head.next, mq_qentry_t, link);
            mq_list_remove(&e->link);
            mq_qentry_free(mq, e);
        }
    }
    /* Unacked entries stay with their channels, which settle them later
     * as entries of no queue. */
    while (!mq_list_empty(&q->unacked.head)) {
        e = MQ_ENTRY(q->unacked.head.next, mq_qentry_t, link);
        mq_list_remove(&e->link);
        e->queue = NULL;
    }
    if (discard && durable) {
        mq_log_queue_deleted(mq, q);
    }
    ob_hash_delete(&q->vhost->queues, &q->hlink);
    mq_list_remove(&q->link);
    free(q->args);
    free(q->dlx);
    free(q->dlrk);
    free(q->ready);
    free(MQ_QX(q));
    if (discard && (durable || defs)) {
        mq_defs_save(mq);
    }
    return count;
}


uint64_t
mq_queue_delete(mq_queue_t *q)
{
    return mq_queue_free(q, 1);
}


void
mq_queue_free_all(mq_vhost_t *vh)
{
    while (!mq_list_empty(&vh->queue_list)) {
        mq_queue_free(MQ_ENTRY(vh->queue_list.next, mq_queue_t, link), 0);
    }
}


void
mq_queue_owner_gone(mq_conn_t *conn)
{
    mq_vhost_t *vh;
    mq_link_t  *l, *next;
    mq_queue_t *q;

    mq_last_queue_forget(conn);
    for (vh = conn->mq->vhosts; vh != NULL; vh = vh->next) {
        for (l = vh->queue_list.next; l != &vh->queue_list; l = next) {
            next = l->next;
            q = MQ_ENTRY(l, mq_queue_t, link);
            if (q->exclusive && q->owner == conn) {
                mq_queue_delete(q);
            }
        }
    }
}


/* ----------------------------------------------------------------- tick */

void
mq_vhost_tick(mq_vhost_t *vh, int64_t now, int64_t now_mono)
{
    mq_link_t  *l, *next;
    mq_queue_t *q;

    for (l = vh->queue_list.next; l != &vh->queue_list; l = next) {
        next = l->next;
        q = MQ_ENTRY(l, mq_queue_t, link);
        if (q->expires > 0 && q->nconsumers == 0
            && now_mono - q->last_used_mono >= q->expires)
        {
            /* The next queue may go with this one only if it is the
             * same; deletion removes nothing else from the list. */
            mq_queue_delete(q);
            continue;
        }
        mq_expire_heads(q, now);
        /* Consumers whose prefetch window reopened without a settle
         * reaching the queue (a channel.flow, a drained socket) are
         * served here at the latest. */
        if (!q->deleted && q->nconsumers > 0 && mq_ready_head(q) != NULL) {
            mq_queue_dispatch(q);
        }
    }
}
