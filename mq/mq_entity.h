/*
 * mq_entity.h: what mq_exchange.c, mq_queue.c, mq_queue_args.c and
 * mq_deadletter.c share and no other file of mq/ needs.
 *
 * Vhosts, exchanges, queues and bindings are allocated here only, so each
 * is the public struct of mq_int.h followed by the fields routing needs
 * (the public struct comes first: a pointer to one is a pointer to the
 * other).
 */
#ifndef MQ_ENTITY_H
#define MQ_ENTITY_H

#include <string.h>

#include "mq_int.h"

/* A vhost and the index of its direct exchanges' bindings by
 * (exchange, routing key), so that routing never scans them. */
typedef struct mq_vhost_x_s {
    mq_vhost_t   vh;
    ob_hash_t    direct_index;       /* mq_route_key_t.hlink */
    uint64_t     route_gen;          /* marks what a route call visited */
    ob_hash_t    last_queue;         /* mq_last_queue_t.hlink */
    mq_link_t    last_queue_list;    /* mq_last_queue_t.link */
} mq_vhost_x_t;

/* The queue a channel declared last: RabbitMQ's meaning of an empty queue
 * name in queue.bind, unbind, purge and delete.  Kept per (connection,
 * channel number), dropped with the connection. */
typedef struct mq_last_queue_s {
    ob_hash_link_t  hlink;
    mq_link_t       link;
    mq_conn_t      *conn;
    uint16_t        channel;
    uint8_t         len;
    char            name[MQ_NAME_MAX + 1];
} mq_last_queue_t;

typedef struct mq_exchange_x_s {
    mq_exchange_t  x;
    uint64_t       route_mark;       /* == route_gen: visited this call */
    char          *alternate;        /* alternate-exchange, or NULL */
} mq_exchange_x_t;

typedef struct mq_queue_x_s {
    mq_queue_t     q;
    uint64_t       route_mark;       /* == route_gen: already in the result */
    mq_qentry_t   *fresh;            /* a TTL 0 entry being published */
} mq_queue_x_t;

/* The bindings of one direct exchange with one routing key. */
typedef struct mq_route_key_s {
    ob_hash_link_t  hlink;
    mq_exchange_t  *source;
    mq_link_t       bindings;        /* mq_binding_x_t.key_link */
    uint8_t         key_len;
    char            key[MQ_NAME_MAX + 1];
} mq_route_key_t;

typedef struct mq_binding_x_s {
    mq_binding_t     b;
    mq_link_t        key_link;       /* mq_route_key_t.bindings */
    mq_route_key_t  *rk;             /* direct sources only */
} mq_binding_x_t;

/* The direct index's key: the source exchange's address, then the
 * routing key. */
#define MQ_RK_KEY_MAX  (sizeof(void *) + MQ_NAME_MAX)

static inline size_t
mq_rk_key(uint8_t *buf, const mq_exchange_t *x, const void *key, size_t len)
{
    memcpy(buf, &x, sizeof(x));
    if (len > 0) {
        memcpy(buf + sizeof(x), key, len);
    }
    return sizeof(x) + len;
}


#define MQ_VHX(vh)  ((mq_vhost_x_t *) (void *) (vh))
#define MQ_XX(x)    ((mq_exchange_x_t *) (void *) (x))
#define MQ_QX(q)    ((mq_queue_x_t *) (void *) (q))
#define MQ_BX(b)    ((mq_binding_x_t *) (void *) (b))

/* mq_exchange.c */
mq_exchange_t *mq_exchange_new(mq_vhost_t *vh, ob_str_t name,
                               mq_exchange_type_t type, int durable,
                               int auto_delete, int internal, ob_str_t args);
/* Removes x with every binding from or to it.  Returns 1 when something
 * durable went (the definitions must be saved). */
int            mq_exchange_free(mq_exchange_t *x);

/* mq_binding.c */
mq_binding_t *mq_binding_add(mq_exchange_t *src, mq_queue_t *q,
                             mq_exchange_t *dst, ob_str_t key, ob_str_t args);
/* Unlinks and frees b; an auto-delete source left with no binding goes
 * too.  Returns 1 when something durable changed. */
int           mq_binding_remove(mq_binding_t *b);
mq_binding_t *mq_binding_find(mq_exchange_t *src, mq_queue_t *q,
                              mq_exchange_t *dst, ob_str_t key,
                              ob_str_t args);
/* mq_route.c: 406 for a headers binding's bad x-match (OB_ERR, channel
 * closed). */
int           mq_binding_check_args(mq_channel_t *ch, mq_method_id_t cause,
                                    mq_exchange_t *src, ob_str_t args);

/* mq_queue.c */
mq_queue_t *mq_queue_new(mq_vhost_t *vh, ob_str_t name, int durable,
                         int exclusive, int auto_delete, ob_str_t args);
/* Deletes q: consumers cancelled, bindings removed, entries freed (unacked
 * ones forgotten by the queue).  Returns the ready count it had. */
uint64_t    mq_queue_delete(mq_queue_t *q);
/* The last-declared-queue table: init/fini with the vhost; forget a
 * connection's entries when it goes. */
int         mq_last_queue_init(mq_vhost_t *vh);
void        mq_last_queue_fini(mq_vhost_t *vh);
void        mq_last_queue_forget(mq_conn_t *conn);
void        mq_last_queue_set(mq_channel_t *ch, const mq_queue_t *q);
/* OB_OK with *name the channel's last declared queue, or OB_DECLINED. */
int         mq_last_queue_get(mq_channel_t *ch, ob_str_t *name);
/* Frees every queue of vh at shutdown, keeping their durable state. */
void        mq_queue_free_all(mq_vhost_t *vh);
/* Drops a ready entry that leaves the queue (not delivered). */
void        mq_queue_drop_entry(mq_queue_t *q, mq_qentry_t *e);

/* mq_queue_args.c: validates a new queue's arguments and fills q's parsed
 * fields.  OB_OK, or OB_ERR with the channel closed (406). */
int mq_queue_args_check(mq_channel_t *ch, mq_method_id_t cause,
                        ob_str_t name, ob_str_t args, int durable,
                        int exclusive, int auto_delete);
void mq_queue_args_apply(mq_queue_t *q);
/* 406 "inequivalent arg" unless args match q's on the keys RabbitMQ
 * compares.  OB_OK or OB_ERR (channel closed). */
int mq_queue_args_equivalent(mq_channel_t *ch, mq_method_id_t cause,
                             mq_queue_t *q, ob_str_t args);
/* RabbitMQ's 406 "inequivalent arg" for `key` of exchange or queue
 * (kind) `name`: new value nv, current cv (NULL: absent).  OB_ERR. */
int mq_args_inequivalent(mq_channel_t *ch, mq_method_id_t cause,
                         const char *kind, const char *name, size_t name_len,
                         const char *key, const mq_value_t *nv,
                         const mq_value_t *cv);

/* mq_deadletter.c: sends a copy of e's message to q's dead-letter
 * exchange with the x-death header for `reason` ("rejected", "expired",
 * "maxlen").  Does nothing when q has none. */
void mq_deadletter(mq_queue_t *q, mq_qentry_t *e, const char *reason);

#endif /* MQ_ENTITY_H */
