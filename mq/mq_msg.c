/*
 * mq_msg.c: messages and queue entries, both allocated from the shared
 * arena under the broker's owner, so that what queues hold is what the
 * budget and the memory alarm count.
 *
 * A message is one allocation: the header, then the exchange name, the
 * routing key, the property list and the body.  Queue entries hold a
 * reference each; the message goes back to the arena with the last one.
 */
#include "mq_int.h"

#include <stdlib.h>
#include <string.h>

#include "ob_arena.h"
#include "ob_cycle.h"


/*
 * The `expiration` property as RabbitMQ reads it: a decimal string of a
 * non-negative integer of milliseconds.  -1 when absent or not a number
 * (the publisher's channel rejects such a message before it gets here).
 */
static int64_t
mq_msg_parse_expiration(ob_str_t s)
{
    int64_t  v = 0;
    size_t   i;

    if (s.len == 0 || s.len > 18) {
        return -1;
    }
    for (i = 0; i < s.len; i++) {
        if (s.data[i] < '0' || s.data[i] > '9') {
            return -1;
        }
        v = v * 10 + (s.data[i] - '0');
    }
    return v;
}


/*
 * Counts bytes the broker took from (or gave back to) the arena, and
 * checks the memory alarm each time the count crosses a MiB boundary on
 * the way up: the tick's check alone would let a fast publisher fill the
 * whole budget in its 100 ms.  mq_flow_check resets mem_bytes to the
 * arena's own figure.
 */
static void
mq_mem_add(mq_t *mq, size_t size)
{
    size_t before = mq->mem_bytes;

    mq->mem_bytes += size;
    if ((before >> 20) != (mq->mem_bytes >> 20)) {
        mq_flow_check(mq);
    }
}


static void
mq_mem_sub(mq_t *mq, size_t size)
{
    mq->mem_bytes = mq->mem_bytes > size ? mq->mem_bytes - size : 0;
}


mq_msg_t *
mq_msg_new(mq_t *mq, ob_str_t exchange, ob_str_t key, ob_str_t props,
           uint64_t body_len)
{
    mq_msg_t      *m;
    mq_props_t     pr;
    mq_wire_err_t  err;
    size_t         size;

    if (exchange.len > MQ_NAME_MAX || key.len > MQ_NAME_MAX
        || props.len > UINT32_MAX
        || (mq->max_message_size != 0 && body_len > mq->max_message_size))
    {
        return NULL;
    }
    size = sizeof(mq_msg_t) + exchange.len + key.len + props.len + body_len;
    m = ob_arena_alloc(mq->cy->arena, mq->arena_owner, size);
    if (m == NULL) {
        return NULL;
    }
    memset(m, 0, sizeof(*m));
    m->mq = mq;
    m->refs = 1;
    m->alloc_size = size;
    m->body_len = body_len;
    m->exchange_len = (uint8_t) exchange.len;
    m->key_len = (uint8_t) key.len;
    m->props_len = (uint32_t) props.len;
    m->expiration = -1;
    if (exchange.len > 0) {
        memcpy(m->data, exchange.data, exchange.len);
    }
    if (key.len > 0) {
        memcpy(m->data + exchange.len, key.data, key.len);
    }
    if (props.len > 0) {
        memcpy(m->data + exchange.len + key.len, props.data, props.len);
        if (mq_props_parse(props.data, props.len, &pr, &err) == OB_OK) {
            if ((pr.flags & MQ_PROP_DELIVERY_MODE) && pr.delivery_mode == 2) {
                m->flags |= MQ_MSG_PERSISTENT;
            }
            if (pr.flags & MQ_PROP_PRIORITY) {
                m->priority = pr.priority;
            }
            if (pr.flags & MQ_PROP_EXPIRATION) {
                m->expiration = mq_msg_parse_expiration(pr.expiration);
            }
        }
    }
    mq_mem_add(mq, size);
    return m;
}


void
mq_msg_ref(mq_msg_t *m)
{
    m->refs++;
}


void
mq_msg_unref(mq_msg_t *m)
{
    mq_t *mq;

    if (m == NULL || --m->refs > 0) {
        return;
    }
    mq = m->mq;
    mq_mem_sub(mq, m->alloc_size);
    ob_arena_free(mq->cy->arena, mq->arena_owner, m, m->alloc_size);
}


void
mq_msg_release(void *msg)
{
    mq_msg_unref(msg);
}


mq_qentry_t *
mq_qentry_new(mq_t *mq, mq_msg_t *msg)
{
    mq_qentry_t *e;

    e = ob_arena_alloc(mq->cy->arena, mq->arena_owner, sizeof(*e));
    if (e == NULL) {
        return NULL;
    }
    memset(e, 0, sizeof(*e));
    mq_list_init(&e->link);
    e->msg = msg;
    e->expires_at = INT64_MAX;
    mq_msg_ref(msg);
    mq_mem_add(mq, sizeof(*e));
    return e;
}


void
mq_qentry_free(mq_t *mq, mq_qentry_t *e)
{
    mq_msg_unref(e->msg);
    mq_mem_sub(mq, sizeof(*e));
    ob_arena_free(mq->cy->arena, mq->arena_owner, e, sizeof(*e));
}
