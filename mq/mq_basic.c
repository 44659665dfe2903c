/*
 * mq_basic.c: the basic class's handlers for consumers and publishers:
 * qos, consume and cancel (server tags "amq.ctag-..."), the queue going
 * away under a consumer, publish (routing to queues, mandatory returns,
 * confirms, tx).  Deliveries and their settlement are mq_deliver.c's.
 */
#include "mq_conn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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
mq_queue_t *
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


/* RabbitMQ's check of the user-id property: it must be the login. */
static int
mq_basic_check_user_id(mq_channel_t *ch, mq_msg_t *msg)
{
    mq_props_t     pr;
    mq_wire_err_t  err;
    const char    *user = ch->conn->user;

    if (msg->props_len < 2
        || !(mq_get16(mq_msg_props(msg)) & MQ_PROP_USER_ID)
        || mq_props_parse(mq_msg_props(msg), msg->props_len, &pr, &err)
           != OB_OK
        || (pr.user_id.len == strlen(user)
            && memcmp(pr.user_id.data, user, pr.user_id.len) == 0))
    {
        return OB_OK;
    }
    return mq_channel_error(ch, MQ_PRECONDITION_FAILED, MQ_M_BASIC_PUBLISH,
                            "user_id property set to '%.*s' but "
                            "authenticated user was '%s'",
                            (int) pr.user_id.len, pr.user_id.data, user);
}


int
mq_basic_publish_done(mq_channel_t *ch, mq_msg_t *msg, int mandatory)
{
    mq_chan_t *cp = MQ_CHAN(ch);
    mq_tx_pub_t *p;
    int        nacked = 0, rc;

    if (mq_basic_check_user_id(ch, msg) != OB_OK) {
        mq_msg_unref(msg);
        return OB_ERR;
    }
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