/*
 * mq_queue_last.c: the queue each channel declared last.  An empty queue
 * name in queue.bind, queue.unbind, queue.purge and queue.delete means
 * that queue in RabbitMQ (and "NOT_FOUND - no previously declared queue"
 * when the channel declared none).  The channel struct is the connection
 * layer's, so the names live here, per vhost, keyed by (connection,
 * channel number), and go when the connection does (a channel reopened
 * with the same number inherits the name: a harmless difference).
 */
#include "mq_entity.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#define MQ_LQ_KEY  (sizeof(void *) + sizeof(uint16_t))


static size_t
mq_lq_key(uint8_t *buf, const mq_conn_t *conn, uint16_t channel)
{
    memcpy(buf, &conn, sizeof(conn));
    memcpy(buf + sizeof(conn), &channel, sizeof(channel));
    return MQ_LQ_KEY;
}


static uint64_t
mq_lq_hash_key(const void *key, size_t nkey, void *ctx)
{
    (void) ctx;
    return XXH3_64bits(key, nkey);
}


static uint64_t
mq_lq_hash_entry(const ob_hash_link_t *e, void *ctx)
{
    const mq_last_queue_t *lq = OB_HASH_ENTRY(e, mq_last_queue_t, hlink);
    uint8_t                buf[MQ_LQ_KEY];

    (void) ctx;
    return XXH3_64bits(buf, mq_lq_key(buf, lq->conn, lq->channel));
}


static int
mq_lq_is_key(const ob_hash_link_t *e, const void *key, size_t nkey, void *ctx)
{
    const mq_last_queue_t *lq = OB_HASH_ENTRY(e, mq_last_queue_t, hlink);
    uint8_t                buf[MQ_LQ_KEY];

    (void) ctx;
    return nkey == MQ_LQ_KEY
           && memcmp(key, buf, mq_lq_key(buf, lq->conn, lq->channel)) == 0;
}


static const ob_hash_type_t mq_lq_hash_type = {
    mq_lq_hash_key, mq_lq_hash_entry, mq_lq_is_key
};


int
mq_last_queue_init(mq_vhost_t *vh)
{
    ob_hash_conf_t hc = { .power_init = 4, .load_factor = 1.0,
                          .shrink_fill = 0.1 };

    mq_list_init(&MQ_VHX(vh)->last_queue_list);
    return ob_hash_init(&MQ_VHX(vh)->last_queue, &mq_lq_hash_type, vh, &hc);
}


void
mq_last_queue_fini(mq_vhost_t *vh)
{
    mq_vhost_x_t    *vx = MQ_VHX(vh);
    mq_last_queue_t *lq;

    while (!mq_list_empty(&vx->last_queue_list)) {
        lq = MQ_ENTRY(vx->last_queue_list.next, mq_last_queue_t, link);
        mq_list_remove(&lq->link);
        free(lq);
    }
    ob_hash_fini(&vx->last_queue);
}


static mq_last_queue_t *
mq_last_queue_find(mq_channel_t *ch)
{
    mq_vhost_x_t   *vx = MQ_VHX(ch->conn->vhost);
    uint8_t         buf[MQ_LQ_KEY];
    ob_hash_link_t *l;

    l = ob_hash_find(&vx->last_queue, buf, mq_lq_key(buf, ch->conn, ch->id));
    return l != NULL ? OB_HASH_ENTRY(l, mq_last_queue_t, hlink) : NULL;
}


void
mq_last_queue_set(mq_channel_t *ch, const mq_queue_t *q)
{
    mq_vhost_x_t    *vx = MQ_VHX(ch->conn->vhost);
    mq_last_queue_t *lq = mq_last_queue_find(ch);

    if (lq == NULL) {
        lq = calloc(1, sizeof(*lq));
        if (lq == NULL) {
            return;
        }
        lq->conn = ch->conn;
        lq->channel = ch->id;
        ob_hash_insert(&vx->last_queue, &lq->hlink);
        mq_list_push_back(&vx->last_queue_list, &lq->link);
    }
    lq->len = q->name_len;
    memcpy(lq->name, q->name, q->name_len);
}


int
mq_last_queue_get(mq_channel_t *ch, ob_str_t *name)
{
    mq_last_queue_t *lq = mq_last_queue_find(ch);

    if (lq == NULL) {
        return OB_DECLINED;
    }
    name->data = (const uint8_t *) lq->name;
    name->len = lq->len;
    return OB_OK;
}


void
mq_last_queue_forget(mq_conn_t *conn)
{
    mq_vhost_x_t    *vx;
    mq_vhost_t      *vh;
    mq_link_t       *l, *next;
    mq_last_queue_t *lq;

    for (vh = conn->mq->vhosts; vh != NULL; vh = vh->next) {
        vx = MQ_VHX(vh);
        for (l = vx->last_queue_list.next; l != &vx->last_queue_list;
             l = next)
        {
            next = l->next;
            lq = MQ_ENTRY(l, mq_last_queue_t, link);
            if (lq->conn == conn) {
                ob_hash_delete(&vx->last_queue, &lq->hlink);
                mq_list_remove(&lq->link);
                free(lq);
            }
        }
    }
}
