/*
 * mq_queue_method.c: the queue class (declare, bind, unbind, purge,
 * delete) with RabbitMQ 3.10's replies and error texts, queue creation,
 * and the restore of durable queues and their messages at start-up.
 */
#include "mq_entity.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>


mq_queue_t *
mq_queue_new(mq_vhost_t *vh, ob_str_t name, int durable, int exclusive,
             int auto_delete, ob_str_t args)
{
    mq_queue_x_t *qx;
    mq_queue_t   *q;
    int           p;

    if (name.len > MQ_NAME_MAX) {
        return NULL;
    }
    qx = calloc(1, sizeof(*qx));
    if (qx == NULL) {
        return NULL;
    }
    q = &qx->q;
    q->vhost = vh;
    if (name.len > 0) {
        memcpy(q->name, name.data, name.len);
    }
    q->name_len = (uint8_t) name.len;
    q->durable = durable != 0;
    q->exclusive = exclusive != 0;
    q->auto_delete = auto_delete != 0;
    if (args.len > 0) {
        q->args = malloc(args.len);
        if (q->args == NULL) {
            free(qx);
            return NULL;
        }
        memcpy(q->args, args.data, args.len);
        q->args_len = args.len;
    }
    mq_queue_args_apply(q);
    q->ready = calloc((size_t) q->max_priority + 1, sizeof(mq_qlist_t));
    if (q->ready == NULL) {
        free(q->ready);
        free(q->dlx);
        free(q->dlrk);
        free(q->args);
        free(qx);
        return NULL;
    }
    for (p = 0; p <= q->max_priority; p++) {
        mq_list_init(&q->ready[p].head);
    }
    mq_list_init(&q->unacked.head);
    mq_list_init(&q->consumers);
    mq_list_init(&q->bindings);
    q->last_used_mono = mq_mono_ms();
    ob_hash_insert(&vh->queues, &q->hlink);
    mq_list_push_back(&vh->queue_list, &q->link);
    return q;
}


mq_queue_t *
mq_queue_restore(mq_vhost_t *vh, const char *name, int auto_delete,
                 ob_str_t args)
{
    ob_str_t    n = { strlen(name), (const uint8_t *) name };
    mq_queue_t *q = mq_queue_find(vh, n.data, n.len);

    if (q != NULL) {
        return q;
    }
    return mq_queue_new(vh, n, 1, 0, auto_delete, args);
}


int
mq_queue_restore_msg(mq_queue_t *q, mq_msg_t *msg, int redelivered)
{
    mq_qentry_t *e = mq_qentry_new(q->vhost->mq, msg);
    int64_t      ttl = q->message_ttl;
    mq_qlist_t  *l;
    unsigned     p;

    if (e == NULL) {
        return OB_ERR;
    }
    if (msg->expiration >= 0 && (ttl < 0 || msg->expiration < ttl)) {
        ttl = msg->expiration;
    }
    e->queue = q;
    e->seq = q->next_seq++;
    e->expires_at = ttl >= 0 ? mq_now_ms() + ttl : INT64_MAX;
    e->flags = MQ_QE_LOGGED
               | (redelivered ? MQ_QE_REDELIVERED | MQ_QE_DELIVERED : 0);
    p = msg->priority > q->max_priority ? q->max_priority : msg->priority;
    l = &q->ready[p];
    mq_list_push_back(&l->head, &e->link);
    l->count++;
    q->ready_bytes += msg->body_len;
    return OB_OK;
}


/* ---------------------------------------------------------------- names */

/* "amq.gen-" and 22 characters of base64url (16 random bytes), as
 * RabbitMQ names a server-named queue.  The encoder writes 24 characters
 * (18 bytes, two of them zero) and the name ends after the 22nd. */
static void
mq_queue_gen_name(mq_t *mq, char out[33])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                              "0123456789-_";
    uint8_t  r[18];
    size_t   i, o = 8;
    uint32_t v;

    if (getrandom(r, 16, 0) != 16) {
        uint64_t s = ++mq->conn_seq * 0x9E3779B97F4A7C15ULL
                     ^ (uint64_t) mq_now_ms();

        for (i = 0; i < 16; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            r[i] = (uint8_t) s;
        }
    }
    r[16] = r[17] = 0;
    memcpy(out, "amq.gen-", 8);
    for (i = 0; i < 18; i += 3) {
        v = ((uint32_t) r[i] << 16) | ((uint32_t) r[i + 1] << 8) | r[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    out[30] = '\0';
}


/* --------------------------------------------------------------- errors */

static int
mq_no_queue(mq_channel_t *ch, mq_method_id_t cause, ob_str_t name)
{
    return mq_channel_error(ch, MQ_NOT_FOUND, cause,
                            "no queue '%.*s' in vhost '%s'",
                            (int) name.len, name.data, ch->conn->vhost->name);
}


static int
mq_queue_locked(mq_channel_t *ch, mq_method_id_t cause, mq_queue_t *q)
{
    return mq_channel_error(ch, MQ_RESOURCE_LOCKED, cause,
                            "cannot obtain exclusive access to locked queue "
                            "'%.*s' in vhost '%s'. It could be originally "
                            "declared on another connection or the exclusive "
                            "property value does not match that of the "
                            "original declaration.",
                            (int) q->name_len, q->name, q->vhost->name);
}


/* 1 when ch's connection may not use q (another's exclusive queue). */
static int
mq_queue_is_locked(mq_channel_t *ch, const mq_queue_t *q)
{
    return q->exclusive && q->owner != ch->conn;
}


static int
mq_reply(mq_channel_t *ch, int no_wait, mq_method_id_t ok)
{
    return no_wait ? OB_OK : mq_send_method(ch->conn, ch->id, ok);
}


static int
mq_q_inequivalent(mq_channel_t *ch, mq_queue_t *q, const char *arg, int got)
{
    return mq_channel_error(ch, MQ_PRECONDITION_FAILED, MQ_M_QUEUE_DECLARE,
                            "inequivalent arg '%s' for queue '%.*s' in vhost "
                            "'%s': received '%s' but current is '%s'", arg,
                            (int) q->name_len, q->name, q->vhost->name,
                            got ? "true" : "false", got ? "false" : "true");
}


/* An empty queue name is the channel's last declared queue (404 when it
 * declared none).  OB_OK or the channel error's OB_ERR. */
static int
mq_queue_name_resolve(mq_channel_t *ch, mq_method_id_t cause, ob_str_t *name)
{
    if (name->len > 0 || mq_last_queue_get(ch, name) == OB_OK) {
        return OB_OK;
    }
    return mq_channel_error(ch, MQ_NOT_FOUND, cause,
                            "no previously declared queue");
}


/* -------------------------------------------------------------- methods */

static int
mq_queue_declare(mq_channel_t *ch, const mq_method_t *m)
{
    mq_vhost_t *vh = ch->conn->vhost;
    ob_str_t    name = m->a[MQ_QUEUE_DECLARE_QUEUE].s;
    ob_str_t    args = m->a[MQ_QUEUE_DECLARE_ARGUMENTS].s;
    int         passive = m->a[MQ_QUEUE_DECLARE_PASSIVE].n != 0;
    int         durable = m->a[MQ_QUEUE_DECLARE_DURABLE].n != 0;
    int         exclusive = m->a[MQ_QUEUE_DECLARE_EXCLUSIVE].n != 0;
    int         autodel = m->a[MQ_QUEUE_DECLARE_AUTO_DELETE].n != 0;
    int         no_wait = m->a[MQ_QUEUE_DECLARE_NO_WAIT].n != 0;
    char        gen[33];
    mq_queue_t *q;
    ob_str_t    qname;

    if (name.len == 0 && !passive) {
        mq_queue_gen_name(vh->mq, gen);
        name.data = (const uint8_t *) gen;
        name.len = 30;
    } else if (name.len >= 4 && memcmp(name.data, "amq.", 4) == 0
               && !passive && mq_queue_find(vh, name.data, name.len) == NULL)
    {
        return mq_channel_error(ch, MQ_ACCESS_REFUSED, MQ_M_QUEUE_DECLARE,
                                "queue name '%.*s' contains reserved prefix "
                                "'amq.*'", (int) name.len, name.data);
    }
    q = mq_queue_find(vh, name.data, name.len);
    if (q != NULL && mq_queue_is_locked(ch, q)) {
        return mq_queue_locked(ch, MQ_M_QUEUE_DECLARE, q);
    }
    if (q == NULL) {
        if (passive) {
            return mq_no_queue(ch, MQ_M_QUEUE_DECLARE, name);
        }
        if (mq_queue_args_check(ch, MQ_M_QUEUE_DECLARE, name, args, durable,
                                exclusive, autodel) != OB_OK)
        {
            return OB_ERR;
        }
        q = mq_queue_new(vh, name, durable, exclusive, autodel, args);
        if (q == NULL) {
            return mq_conn_error(ch->conn, MQ_INTERNAL_ERROR,
                                 MQ_M_QUEUE_DECLARE, "out of memory");
        }
        if (exclusive) {
            q->owner = ch->conn;
        }
        if (durable) {
            mq_defs_save(vh->mq);
        }
    } else if (!passive) {
        if (q->durable != (unsigned) durable) {
            return mq_q_inequivalent(ch, q, "durable", durable);
        }
        if (q->auto_delete != (unsigned) autodel) {
            return mq_q_inequivalent(ch, q, "auto_delete", autodel);
        }
        if (q->exclusive != (unsigned) exclusive) {
            return mq_queue_locked(ch, MQ_M_QUEUE_DECLARE, q);
        }
        if (mq_queue_args_equivalent(ch, MQ_M_QUEUE_DECLARE, q, args)
            != OB_OK)
        {
            return OB_ERR;
        }
    }
    q->last_used_mono = mq_mono_ms();
    mq_last_queue_set(ch, q);
    if (no_wait) {
        return OB_OK;
    }
    qname.data = (const uint8_t *) q->name;
    qname.len = q->name_len;
    return mq_send_method(ch->conn, ch->id, MQ_M_QUEUE_DECLARE_OK, &qname,
                          (unsigned) mq_queue_ready_count(q),
                          (unsigned) q->nconsumers);
}


static int
mq_queue_bind(mq_channel_t *ch, const mq_method_t *m, int bind)
{
    mq_vhost_t     *vh = ch->conn->vhost;
    mq_method_id_t  cause = bind ? MQ_M_QUEUE_BIND : MQ_M_QUEUE_UNBIND;
    ob_str_t        qn = m->a[bind ? MQ_QUEUE_BIND_QUEUE
                                   : MQ_QUEUE_UNBIND_QUEUE].s;
    ob_str_t        xn = m->a[bind ? MQ_QUEUE_BIND_EXCHANGE
                                   : MQ_QUEUE_UNBIND_EXCHANGE].s;
    ob_str_t        key = m->a[bind ? MQ_QUEUE_BIND_ROUTING_KEY
                                    : MQ_QUEUE_UNBIND_ROUTING_KEY].s;
    ob_str_t        args = m->a[bind ? MQ_QUEUE_BIND_ARGUMENTS
                                     : MQ_QUEUE_UNBIND_ARGUMENTS].s;
    int             no_wait = bind && m->a[MQ_QUEUE_BIND_NO_WAIT].n != 0;
    mq_exchange_t  *x;
    mq_queue_t     *q;
    mq_binding_t   *b;

    if (mq_queue_name_resolve(ch, cause, &qn) != OB_OK) {
        return OB_ERR;
    }
    if (xn.len == 0) {
        return mq_channel_error(ch, MQ_ACCESS_REFUSED, cause,
                                "operation not permitted on the default "
                                "exchange");
    }
    x = mq_exchange_find(vh, xn.data, xn.len);
    q = mq_queue_find(vh, qn.data, qn.len);
    if (!bind) {
        /* RabbitMQ checks another connection's exclusive queue only when
         * there is a binding to remove. */
        if (x != NULL && q != NULL) {
            b = mq_binding_find(x, q, NULL, key, args);
            if (b != NULL && mq_queue_is_locked(ch, q)) {
                return mq_queue_locked(ch, cause, q);
            }
            if (b != NULL && mq_binding_remove(b)) {
                mq_defs_save(vh->mq);
            }
        }
        return mq_send_method(ch->conn, ch->id, MQ_M_QUEUE_UNBIND_OK);
    }
    if (x == NULL) {
        return mq_channel_error(ch, MQ_NOT_FOUND, cause,
                                "no exchange '%.*s' in vhost '%s'",
                                (int) xn.len, xn.data, vh->name);
    }
    if (q == NULL) {
        return mq_no_queue(ch, cause, qn);
    }
    if (mq_queue_is_locked(ch, q)) {
        return mq_queue_locked(ch, cause, q);
    }
    if (mq_binding_check_args(ch, cause, x, args) != OB_OK) {
        return OB_ERR;
    }
    if (mq_binding_find(x, q, NULL, key, args) == NULL) {
        if (mq_binding_add(x, q, NULL, key, args) == NULL) {
            return mq_conn_error(ch->conn, MQ_INTERNAL_ERROR, cause,
                                 "out of memory");
        }
        if (x->durable && q->durable) {
            mq_defs_save(vh->mq);
        }
    }
    return mq_reply(ch, no_wait, MQ_M_QUEUE_BIND_OK);
}


static int
mq_queue_purge(mq_channel_t *ch, const mq_method_t *m)
{
    ob_str_t     name = m->a[MQ_QUEUE_PURGE_QUEUE].s;
    int          no_wait = m->a[MQ_QUEUE_PURGE_NO_WAIT].n != 0;
    mq_queue_t  *q;
    mq_qentry_t *e;
    uint64_t     count;
    int          p;

    if (mq_queue_name_resolve(ch, MQ_M_QUEUE_PURGE, &name) != OB_OK) {
        return OB_ERR;
    }
    q = mq_queue_find(ch->conn->vhost, name.data, name.len);

    if (q == NULL) {
        return mq_no_queue(ch, MQ_M_QUEUE_PURGE, name);
    }
    if (mq_queue_is_locked(ch, q)) {
        return mq_queue_locked(ch, MQ_M_QUEUE_PURGE, q);
    }
    count = mq_queue_ready_count(q);
    for (p = 0; p <= q->max_priority; p++) {
        while (!mq_list_empty(&q->ready[p].head)) {
            e = MQ_ENTRY(q->ready[p].head.next, mq_qentry_t, link);
            mq_queue_drop_entry(q, e);
        }
    }
    if (no_wait) {
        return OB_OK;
    }
    return mq_send_method(ch->conn, ch->id, MQ_M_QUEUE_PURGE_OK,
                          (unsigned) count);
}


static int
mq_queue_delete_method(mq_channel_t *ch, const mq_method_t *m)
{
    mq_vhost_t *vh = ch->conn->vhost;
    ob_str_t    name = m->a[MQ_QUEUE_DELETE_QUEUE].s;
    int         if_unused = m->a[MQ_QUEUE_DELETE_IF_UNUSED].n != 0;
    int         if_empty = m->a[MQ_QUEUE_DELETE_IF_EMPTY].n != 0;
    int         no_wait = m->a[MQ_QUEUE_DELETE_NO_WAIT].n != 0;
    mq_queue_t *q;
    uint64_t    count = 0;

    if (mq_queue_name_resolve(ch, MQ_M_QUEUE_DELETE, &name) != OB_OK) {
        return OB_ERR;
    }
    q = mq_queue_find(vh, name.data, name.len);

    if (q != NULL) {
        if (mq_queue_is_locked(ch, q)) {
            return mq_queue_locked(ch, MQ_M_QUEUE_DELETE, q);
        }
        if (if_unused && q->nconsumers > 0) {
            return mq_channel_error(ch, MQ_PRECONDITION_FAILED,
                                    MQ_M_QUEUE_DELETE,
                                    "queue '%.*s' in vhost '%s' in use",
                                    (int) name.len, name.data, vh->name);
        }
        if (if_empty && mq_queue_ready_count(q) > 0) {
            return mq_channel_error(ch, MQ_PRECONDITION_FAILED,
                                    MQ_M_QUEUE_DELETE,
                                    "queue '%.*s' in vhost '%s' not empty",
                                    (int) name.len, name.data, vh->name);
        }
        count = mq_queue_delete(q);
    }
    if (no_wait) {
        return OB_OK;
    }
    return mq_send_method(ch->conn, ch->id, MQ_M_QUEUE_DELETE_OK,
                          (unsigned) count);
}


int
mq_queue_method(mq_channel_t *ch, const mq_method_t *m)
{
    switch (m->id) {
    case MQ_M_QUEUE_DECLARE:
        return mq_queue_declare(ch, m);
    case MQ_M_QUEUE_BIND:
        return mq_queue_bind(ch, m, 1);
    case MQ_M_QUEUE_UNBIND:
        return mq_queue_bind(ch, m, 0);
    case MQ_M_QUEUE_PURGE:
        return mq_queue_purge(ch, m);
    case MQ_M_QUEUE_DELETE:
        return mq_queue_delete_method(ch, m);
    default:
        return mq_conn_error(ch->conn, MQ_COMMAND_INVALID, (int) m->id,
                             "unexpected method in the queue class");
    }
}
