/*
 * mq_exchange.c: exchanges and the exchange class's methods (declare,
 * delete, bind, unbind) as RabbitMQ 3.10 answers them, its reply texts
 * included.  Bindings are in mq_binding.c, routing in mq_route.c, vhosts
 * in mq_vhost.c.
 */
#include "mq_entity.h"

#include <stdlib.h>
#include <string.h>


/* ------------------------------------------------------------ exchanges */

mq_exchange_t *
mq_exchange_new(mq_vhost_t *vh, ob_str_t name, mq_exchange_type_t type,
                int durable, int auto_delete, int internal, ob_str_t args)
{
    mq_exchange_x_t *xx;
    mq_exchange_t   *x;
    mq_value_t       v;

    if (name.len > MQ_NAME_MAX) {
        return NULL;
    }
    xx = calloc(1, sizeof(*xx));
    if (xx == NULL) {
        return NULL;
    }
    x = &xx->x;
    x->vhost = vh;
    if (name.len > 0) {
        memcpy(x->name, name.data, name.len);
    }
    x->name_len = (uint8_t) name.len;
    x->type = type;
    x->durable = durable != 0;
    x->auto_delete = auto_delete != 0;
    x->internal = internal != 0;
    mq_list_init(&x->bindings);
    mq_list_init(&x->dst_bindings);
    if (args.len > 0) {
        x->args = malloc(args.len);
        if (x->args == NULL) {
            free(xx);
            return NULL;
        }
        memcpy(x->args, args.data, args.len);
        x->args_len = args.len;
        if (mq_table_find(args, "alternate-exchange", &v) && v.type == 'S'
            && v.s.len <= MQ_NAME_MAX)
        {
            xx->alternate = strndup((const char *) v.s.data, v.s.len);
        }
    }
    ob_hash_insert(&vh->exchanges, &x->hlink);
    mq_list_push_back(&vh->exchange_list, &x->link);
    return x;
}


int
mq_exchange_free(mq_exchange_t *x)
{
    int durable = x->durable;

    /* Not auto-deleted again by the removal of its last binding. */
    x->auto_delete = 0;
    while (!mq_list_empty(&x->bindings)) {
        durable |= mq_binding_remove(MQ_ENTRY(x->bindings.next, mq_binding_t,
                                              src_link));
    }
    /* Removing these may auto-delete their sources, durable ones too. */
    while (!mq_list_empty(&x->dst_bindings)) {
        durable |= mq_binding_remove(MQ_ENTRY(x->dst_bindings.next,
                                              mq_binding_t, dst_link));
    }
    ob_hash_delete(&x->vhost->exchanges, &x->hlink);
    mq_list_remove(&x->link);
    free(MQ_XX(x)->alternate);
    free(x->args);
    free(MQ_XX(x));
    return durable;
}


mq_exchange_t *
mq_exchange_restore(mq_vhost_t *vh, const char *name, mq_exchange_type_t type,
                    int auto_delete, int internal, ob_str_t args)
{
    mq_exchange_t *x = mq_exchange_find(vh, (const uint8_t *) name,
                                        strlen(name));
    ob_str_t       n;

    if (x != NULL) {
        return x;
    }
    n.data = (const uint8_t *) name;
    n.len = strlen(name);
    return mq_exchange_new(vh, n, type, 1, auto_delete, internal, args);
}

/* -------------------------------------------------------------- methods */

static int
mq_is_reserved(ob_str_t name)
{
    return name.len >= 4 && memcmp(name.data, "amq.", 4) == 0;
}


static int
mq_exchange_type_of(ob_str_t t, mq_exchange_type_t *type)
{
    static const char *names[] = { "direct", "fanout", "topic", "headers" };
    size_t i;

    for (i = 0; i < 4; i++) {
        if (t.len == strlen(names[i]) && memcmp(t.data, names[i], t.len) == 0) {
            *type = (mq_exchange_type_t) i;
            return OB_OK;
        }
    }
    return OB_ERR;
}


static const char *
mq_exchange_type_name(mq_exchange_type_t t)
{
    static const char *names[] = { "direct", "fanout", "topic", "headers" };

    return names[t];
}


static int
mq_reply_ok(mq_channel_t *ch, int no_wait, mq_method_id_t ok)
{
    if (no_wait) {
        return OB_OK;
    }
    return mq_send_method(ch->conn, ch->id, ok);
}


static int
mq_default_refused(mq_channel_t *ch, mq_method_id_t cause)
{
    return mq_channel_error(ch, MQ_ACCESS_REFUSED, cause,
                            "operation not permitted on the default exchange");
}


static int
mq_no_exchange(mq_channel_t *ch, mq_method_id_t cause, ob_str_t name)
{
    return mq_channel_error(ch, MQ_NOT_FOUND, cause,
                            "no exchange '%.*s' in vhost '%s'",
                            (int) name.len, name.data,
                            ch->conn->vhost->name);
}


static int
mq_x_inequivalent(mq_channel_t *ch, mq_exchange_t *x, const char *arg,
                  const char *got, const char *cur)
{
    return mq_channel_error(ch, MQ_PRECONDITION_FAILED, MQ_M_EXCHANGE_DECLARE,
                            "inequivalent arg '%s' for exchange '%.*s' in "
                            "vhost '%s': received '%s' but current is '%s'",
                            arg, (int) x->name_len, x->name, x->vhost->name,
                            got, cur);
}


static int
mq_exchange_declare(mq_channel_t *ch, const mq_method_t *m)
{
    mq_vhost_t         *vh = ch->conn->vhost;
    ob_str_t            name = m->a[MQ_EXCHANGE_DECLARE_EXCHANGE].s;
    ob_str_t            tname = m->a[MQ_EXCHANGE_DECLARE_TYPE].s;
    ob_str_t            args = m->a[MQ_EXCHANGE_DECLARE_ARGUMENTS].s;
    int                 passive = m->a[MQ_EXCHANGE_DECLARE_PASSIVE].n != 0;
    int                 durable = m->a[MQ_EXCHANGE_DECLARE_DURABLE].n != 0;
    int                 autodel = m->a[MQ_EXCHANGE_DECLARE_AUTO_DELETE].n != 0;
    int                 internal = m->a[MQ_EXCHANGE_DECLARE_INTERNAL].n != 0;
    int                 no_wait = m->a[MQ_EXCHANGE_DECLARE_NO_WAIT].n != 0;
    mq_exchange_type_t  type = MQ_EX_DIRECT;
    mq_exchange_t      *x;
    mq_value_t          v1, v2;
    int                 h1, h2;
    ob_str_t            cur;

    /* RabbitMQ says "invalid exchange type" when the name happens to be
     * an atom its VM already knows ("foo", ""), "unknown" otherwise: the
     * latter is what any real mistake gets. */
    if (!passive && mq_exchange_type_of(tname, &type) != OB_OK) {
        return mq_conn_error(ch->conn, MQ_COMMAND_INVALID,
                             MQ_M_EXCHANGE_DECLARE,
                             "%s exchange type '%.*s'",
                             tname.len == 0 ? "invalid" : "unknown",
                             (int) tname.len, tname.data);
    }
    if (name.len == 0) {
        return mq_default_refused(ch, MQ_M_EXCHANGE_DECLARE);
    }
    x = mq_exchange_find(vh, name.data, name.len);
    if (passive) {
        if (x == NULL) {
            return mq_no_exchange(ch, MQ_M_EXCHANGE_DECLARE, name);
        }
        return mq_reply_ok(ch, no_wait, MQ_M_EXCHANGE_DECLARE_OK);
    }
    if (x == NULL) {
        if (mq_is_reserved(name)) {
            return mq_channel_error(ch, MQ_ACCESS_REFUSED,
                                    MQ_M_EXCHANGE_DECLARE,
                                    "exchange name '%.*s' contains reserved "
                                    "prefix 'amq.*'",
                                    (int) name.len, name.data);
        }
        x = mq_exchange_new(vh, name, type, durable, autodel, internal, args);
        if (x == NULL) {
            return mq_conn_error(ch->conn, MQ_INTERNAL_ERROR,
                                 MQ_M_EXCHANGE_DECLARE, "out of memory");
        }
        if (durable) {
            mq_defs_save(vh->mq);
        }
        return mq_reply_ok(ch, no_wait, MQ_M_EXCHANGE_DECLARE_OK);
    }
    if (x->type != type) {
        return mq_x_inequivalent(ch, x, "type", mq_exchange_type_name(type),
                                 mq_exchange_type_name(x->type));
    }
    if (x->durable != (unsigned) durable) {
        return mq_x_inequivalent(ch, x, "durable", durable ? "true" : "false",
                                 x->durable ? "true" : "false");
    }
    if (x->auto_delete != (unsigned) autodel) {
        return mq_x_inequivalent(ch, x, "auto_delete",
                                 autodel ? "true" : "false",
                                 x->auto_delete ? "true" : "false");
    }
    if (x->internal != (unsigned) internal) {
        return mq_x_inequivalent(ch, x, "internal",
                                 internal ? "true" : "false",
                                 x->internal ? "true" : "false");
    }
    /* Of the arguments RabbitMQ compares alternate-exchange only. */
    cur.data = x->args;
    cur.len = x->args_len;
    h1 = args.len > 0 && mq_table_find(args, "alternate-exchange", &v1);
    h2 = cur.len > 0 && mq_table_find(cur, "alternate-exchange", &v2);
    if (h1 != h2 || (h1 && !mq_value_equal(&v1, &v2))) {
        return mq_args_inequivalent(ch, MQ_M_EXCHANGE_DECLARE, "exchange",
                                    x->name, x->name_len,
                                    "alternate-exchange", h1 ? &v1 : NULL,
                                    h2 ? &v2 : NULL);
    }
    return mq_reply_ok(ch, no_wait, MQ_M_EXCHANGE_DECLARE_OK);
}


static int
mq_exchange_delete(mq_channel_t *ch, const mq_method_t *m)
{
    mq_vhost_t     *vh = ch->conn->vhost;
    ob_str_t        name = m->a[MQ_EXCHANGE_DELETE_EXCHANGE].s;
    int             if_unused = m->a[MQ_EXCHANGE_DELETE_IF_UNUSED].n != 0;
    int             no_wait = m->a[MQ_EXCHANGE_DELETE_NO_WAIT].n != 0;
    mq_exchange_t  *x;
    int             durable;

    if (name.len == 0) {
        return mq_default_refused(ch, MQ_M_EXCHANGE_DELETE);
    }
    x = mq_exchange_find(vh, name.data, name.len);
    if (x == NULL) {
        /* RabbitMQ 3.10 answers delete-ok for a missing exchange. */
        return mq_reply_ok(ch, no_wait, MQ_M_EXCHANGE_DELETE_OK);
    }
    if (x->builtin) {
        return mq_channel_error(ch, MQ_ACCESS_REFUSED, MQ_M_EXCHANGE_DELETE,
                                "deletion of system exchange '%.*s' in vhost "
                                "'%s' not allowed", (int) name.len, name.data,
                                vh->name);
    }
    if (if_unused && !mq_list_empty(&x->bindings)) {
        return mq_channel_error(ch, MQ_PRECONDITION_FAILED,
                                MQ_M_EXCHANGE_DELETE,
                                "exchange '%.*s' in vhost '%s' in use",
                                (int) name.len, name.data, vh->name);
    }
    durable = mq_exchange_free(x);
    if (durable) {
        mq_defs_save(vh->mq);
    }
    return mq_reply_ok(ch, no_wait, MQ_M_EXCHANGE_DELETE_OK);
}


/* 406 for an x-match a headers binding cannot use, as RabbitMQ checks at
 * bind time.  OB_OK or the channel error's OB_ERR. */static int
mq_exchange_bind(mq_channel_t *ch, const mq_method_t *m, int bind)
{
    mq_vhost_t     *vh = ch->conn->vhost;
    mq_method_id_t  cause = bind ? MQ_M_EXCHANGE_BIND : MQ_M_EXCHANGE_UNBIND;
    ob_str_t        dname = m->a[MQ_EXCHANGE_BIND_DESTINATION].s;
    ob_str_t        sname = m->a[MQ_EXCHANGE_BIND_SOURCE].s;
    ob_str_t        key = m->a[MQ_EXCHANGE_BIND_ROUTING_KEY].s;
    ob_str_t        args = m->a[MQ_EXCHANGE_BIND_ARGUMENTS].s;
    int             no_wait = m->a[MQ_EXCHANGE_BIND_NO_WAIT].n != 0;
    mq_exchange_t  *src, *dst;
    mq_binding_t   *b;
    int             durable;

    if (dname.len == 0 || sname.len == 0) {
        return mq_default_refused(ch, cause);
    }
    src = mq_exchange_find(vh, sname.data, sname.len);
    dst = mq_exchange_find(vh, dname.data, dname.len);
    if (!bind) {
        if (src != NULL && dst != NULL) {
            b = mq_binding_find(src, NULL, dst, key, args);
            if (b != NULL && mq_binding_remove(b)) {
                mq_defs_save(vh->mq);
            }
        }
        return mq_reply_ok(ch, no_wait, MQ_M_EXCHANGE_UNBIND_OK);
    }
    if (src == NULL) {
        return mq_no_exchange(ch, cause, sname);
    }
    if (dst == NULL) {
        return mq_no_exchange(ch, cause, dname);
    }
    if (mq_binding_check_args(ch, cause, src, args) != OB_OK) {
        return OB_ERR;
    }
    if (mq_binding_find(src, NULL, dst, key, args) == NULL) {
        if (mq_binding_add(src, NULL, dst, key, args) == NULL) {
            return mq_conn_error(ch->conn, MQ_INTERNAL_ERROR, cause,
                                 "out of memory");
        }
        durable = src->durable && dst->durable;
        if (durable) {
            mq_defs_save(vh->mq);
        }
    }
    return mq_reply_ok(ch, no_wait, MQ_M_EXCHANGE_BIND_OK);
}


int
mq_exchange_method(mq_channel_t *ch, const mq_method_t *m)
{
    switch (m->id) {
    case MQ_M_EXCHANGE_DECLARE:
        return mq_exchange_declare(ch, m);
    case MQ_M_EXCHANGE_DELETE:
        return mq_exchange_delete(ch, m);
    case MQ_M_EXCHANGE_BIND:
        return mq_exchange_bind(ch, m, 1);
    case MQ_M_EXCHANGE_UNBIND:
        return mq_exchange_bind(ch, m, 0);
    default:
        return mq_conn_error(ch->conn, MQ_COMMAND_INVALID, (int) m->id,
                             "unexpected method in the exchange class");
    }
}
