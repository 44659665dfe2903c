/*
 * mq_int.h: the broker's insides, shared by the files of mq/ and by no
 * one else (other modules see mq.h only).
 *
 * The model is RabbitMQ's:
 *
 *   connection (mq_conn_t, one per socket)
 *     └ channels (mq_channel_t): content assembly, unacked deliveries,
 *       consumers, confirms, tx
 *   vhost (mq_vhost_t)
 *     ├ exchanges (mq_exchange_t) ──bindings (mq_binding_t)──▶ queues,
 *     │                                                       exchanges
 *     └ queues (mq_queue_t): ready entries by priority, unacked entries,
 *       consumers (mq_consumer_t) served round-robin
 *   message (mq_msg_t): exchange, routing key, properties and body in one
 *     arena allocation, shared (refcounted) by every queue entry
 *     (mq_qentry_t) that routing made of it.
 *
 * Who owns what (one file set each; the others read the fields, and call
 * the functions below, nothing else):
 *   mq_module.c                 configuration, life, the tick, flow alarm
 *   mq_conn.c mq_channel.c      connections, channels, errors, heartbeats,
 *   mq_basic.c mq_confirm.c     publish/consume/get/ack, confirms, tx,
 *                               connection.blocked
 *   mq_exchange.c mq_queue.c    vhosts, exchanges, bindings, routing,
 *   mq_msg.c mq_deadletter.c    queues and their features (TTL, expiry,
 *                               max-length, priorities, dead-lettering),
 *                               messages
 *   mq_log.c mq_defs.c          durability: the message log (group commit,
 *                               replay, compaction), the definitions file
 *   mq_http.c                   /api/..., /stats
 *
 * Everything runs on the reactor thread but the log's fsync thread.
 * Memory: messages and queue entries live in the arena under the "mq"
 * owner (firm); the structures of connections, channels, exchanges,
 * queues and bindings are malloc'd (bounded by counts and limits).
 */
#ifndef MQ_INT_H
#define MQ_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ob_core.h"
#include "ob_conn.h"
#include "ob_hash.h"
#include "mq_wire.h"

struct ob_cycle_s;
struct event;

typedef struct mq_s           mq_t;
typedef struct mq_vhost_s     mq_vhost_t;
typedef struct mq_exchange_s  mq_exchange_t;
typedef struct mq_binding_s   mq_binding_t;
typedef struct mq_queue_s     mq_queue_t;
typedef struct mq_msg_s       mq_msg_t;
typedef struct mq_qentry_s    mq_qentry_t;
typedef struct mq_conn_s      mq_conn_t;
typedef struct mq_channel_s   mq_channel_t;
typedef struct mq_consumer_s  mq_consumer_t;
typedef struct mq_log_s       mq_log_t;

#define MQ_NAME_MAX        255     /* shortstr */
#define MQ_RATE_WINDOW     5       /* seconds behind the rates in /stats */
#define MQ_DEFAULT_VHOST   "/"

/* A doubly-linked list link; lists are circular with a sentinel head. */
typedef struct mq_link_s {
    struct mq_link_s *next, *prev;
} mq_link_t;

#define MQ_ENTRY(link, type, member) \
    ((type *) (void *) ((char *) (link) - offsetof(type, member)))

static inline void mq_list_init(mq_link_t *h) { h->next = h->prev = h; }
static inline int  mq_list_empty(const mq_link_t *h) { return h->next == h; }
static inline void mq_list_insert_after(mq_link_t *pos, mq_link_t *l)
{ l->prev = pos; l->next = pos->next; pos->next->prev = l; pos->next = l; }
static inline void mq_list_push_back(mq_link_t *h, mq_link_t *l)
{ mq_list_insert_after(h->prev, l); }
static inline void mq_list_remove(mq_link_t *l)
{ l->prev->next = l->next; l->next->prev = l->prev; l->next = l->prev = l; }

/* Milliseconds: wall clock (TTLs, x-death times, the log) and monotonic
 * (heartbeats, x-expires idleness). */
int64_t mq_now_ms(void);
int64_t mq_mono_ms(void);

/* ------------------------------------------------------------- broker */

typedef struct mq_user_s {
    char *name, *password;
} mq_user_t;

struct mq_s {
    struct ob_cycle_s *cy;
    int                arena_owner;

    /* configuration (mq section) */
    int                port;
    uint16_t           channel_max;        /* proposed in tune (2047) */
    uint32_t           frame_max;          /* proposed in tune (131072) */
    uint16_t           heartbeat;          /* proposed in tune (60 s) */
    int64_t            handshake_timeout;  /* ms to reach connection.open-ok */
    uint64_t           max_message_size;   /* body bytes (128 MiB) */
    double             high_watermark;     /* fraction of the budget */
    char              *data_dir;           /* where the log lives */
    mq_user_t         *users;
    size_t             nusers;
    char              *loopback_users;     /* comma-separated: loopback only */

    mq_vhost_t        *vhosts;             /* list; "/" first */
    mq_link_t          conns;              /* mq_conn_t.link */
    uint64_t           conn_seq;           /* names: amq.gen-, ctag */

    mq_log_t          *log;                /* NULL: durability off */
    struct event      *tick_ev;            /* 100 ms: TTLs, expiry, heartbeats */

    /* flow control (RabbitMQ's memory alarm) */
    int                alarm;              /* publishers are blocked */
    size_t             mem_bytes;          /* arena bytes of messages+entries */

    /* figures for /stats and /api/overview */
    struct {
        uint64_t published, delivered, delivered_get, acked, redelivered,
                 confirmed, returned, dropped_unroutable, dead_lettered,
                 expired, conns_total, channels_total;
    } stats;

    /* Messages per second over the last MQ_RATE_WINDOW seconds, from
     * snapshots of the counters the tick takes once a second. */
    struct {
        double   publish, deliver_get, ack, confirm;
        uint64_t snap[MQ_RATE_WINDOW + 1][4];   /* ring of snapshots */
        int64_t  snap_mono[MQ_RATE_WINDOW + 1];
        unsigned next, count;
    } rates;
};

struct mq_vhost_s {
    mq_vhost_t   *next;
    mq_t         *mq;
    char          name[MQ_NAME_MAX + 1];
    ob_hash_t     exchanges;           /* mq_exchange_t.hlink, by name */
    ob_hash_t     queues;              /* mq_queue_t.hlink, by name */
    mq_link_t     exchange_list;       /* every exchange, declaration order */
    mq_link_t     queue_list;          /* every queue, declaration order */
};

/* ------------------------------------------------------------- entities */

typedef enum {
    MQ_EX_DIRECT, MQ_EX_FANOUT, MQ_EX_TOPIC, MQ_EX_HEADERS
} mq_exchange_type_t;

struct mq_exchange_s {
    ob_hash_link_t      hlink;
    mq_link_t           link;          /* vhost->exchange_list */
    mq_vhost_t         *vhost;
    char                name[MQ_NAME_MAX + 1];
    uint8_t             name_len;
    mq_exchange_type_t  type;
    unsigned            durable:1, auto_delete:1, internal:1,
                        builtin:1;     /* "" and amq.*: cannot be deleted */
    uint8_t            *args;          /* arguments table (malloc), or NULL */
    size_t              args_len;
    mq_link_t           bindings;      /* mq_binding_t.src_link */
    mq_link_t           dst_bindings;  /* e2e bindings to it: .dst_link */
    uint64_t            publish_in, publish_out;
};

struct mq_binding_s {
    mq_link_t       src_link;          /* source->bindings */
    mq_link_t       dst_link;          /* queue->bindings or exchange->dst_bindings */
    mq_exchange_t  *source;
    mq_queue_t     *queue;             /* the destination: a queue ... */
    mq_exchange_t  *exchange;          /* ... or an exchange */
    uint8_t         key_len;
    char            key[MQ_NAME_MAX + 1];
    uint8_t        *args;              /* arguments table (malloc), or NULL */
    size_t          args_len;
};

typedef enum {
    MQ_OVERFLOW_DROP_HEAD, MQ_OVERFLOW_REJECT_PUBLISH,
    MQ_OVERFLOW_REJECT_PUBLISH_DLX
} mq_overflow_t;

/* A queue's list of entries: a sentinel and a count. */
typedef struct mq_qlist_s {
    mq_link_t  head;
    uint64_t   count;
} mq_qlist_t;

struct mq_queue_s {
    ob_hash_link_t  hlink;
    mq_link_t       link;              /* vhost->queue_list */
    mq_vhost_t     *vhost;
    char            name[MQ_NAME_MAX + 1];
    uint8_t         name_len;
    unsigned        durable:1, exclusive:1, auto_delete:1,
                    had_consumer:1,    /* auto-delete: once one came */
                    deleted:1;
    mq_conn_t      *owner;             /* exclusive: the declaring connection */
    uint8_t        *args;              /* arguments table (malloc), or NULL */
    size_t          args_len;

    /* the arguments, parsed (-1: not set) */
    int64_t         message_ttl, expires, max_length, max_length_bytes;
    mq_overflow_t   overflow;
    char           *dlx;               /* x-dead-letter-exchange, or NULL */
    char           *dlrk;              /* x-dead-letter-routing-key, or NULL */
    uint8_t         max_priority;      /* 0: not a priority queue */

    /* messages: ready ones in ready[priority] (one list unless
     * max_priority), each in publish order; unacked ones in unacked */
    mq_qlist_t     *ready;             /* max_priority + 1 lists */
    mq_qlist_t      unacked;
    uint64_t        ready_bytes;       /* body bytes of ready entries */
    uint64_t        unacked_bytes;
    uint64_t        next_seq;

    /* consumers, served round-robin from `cursor` */
    mq_link_t       consumers;         /* mq_consumer_t.qlink */
    unsigned        nconsumers;
    mq_consumer_t  *exclusive_consumer;
    int64_t         last_used_mono;    /* x-expires: last declare/get/consume */
    int             dispatching;       /* re-entry guard of mq_queue_dispatch */

    mq_link_t       bindings;          /* mq_binding_t.dst_link */
    uint32_t        log_id;            /* the message log's id (durable) */

    uint64_t        stat_publish, stat_deliver, stat_get, stat_ack,
                    stat_redeliver;
};

/*
 * A message.  One arena allocation holds the header and, after it, the
 * exchange name, the routing key, the property list (verbatim from the
 * content header) and the body.  Immutable once complete; freed when the
 * last reference goes (queue entries, deliveries being written, a tx).
 */
#define MQ_MSG_PERSISTENT   0x1        /* delivery-mode 2 */
#define MQ_MSG_LOGGED       0x2        /* written to the message log */

struct mq_msg_s {
    mq_t      *mq;                     /* whose arena holds it */
    uint32_t   refs;
    uint32_t   flags;
    uint64_t   id;                     /* broker-wide, the log's key */
    uint64_t   body_len;
    uint64_t   body_have;              /* while body frames arrive */
    uint32_t   props_len;
    uint8_t    exchange_len, key_len;
    uint8_t    priority;               /* property (0 if absent) */
    int64_t    expiration;             /* `expiration` in ms, -1: none */
    uint64_t   log_pos;                /* mq_log's position once logged */
    size_t     alloc_size;             /* bytes asked of the arena */
    uint8_t    data[];
};

static inline const uint8_t *mq_msg_exchange(const mq_msg_t *m)
{ return m->data; }
static inline const uint8_t *mq_msg_key(const mq_msg_t *m)
{ return m->data + m->exchange_len; }
static inline uint8_t *mq_msg_props(mq_msg_t *m)
{ return m->data + m->exchange_len + m->key_len; }
static inline uint8_t *mq_msg_body(mq_msg_t *m)
{ return mq_msg_props(m) + m->props_len; }

/*
 * A message in one queue.  In exactly one of the queue's lists: a ready
 * list, or `unacked` while a consumer or basic.get holds it (then also
 * in its channel's unacked table under delivery_tag).
 */
#define MQ_QE_REDELIVERED   0x1        /* requeued, or delivered before a restart */
#define MQ_QE_DELIVERED     0x2        /* the log has its delivery mark */
#define MQ_QE_LOGGED        0x4        /* in the log: settling it is logged */

struct mq_qentry_s {
    mq_link_t       link;
    mq_msg_t       *msg;
    mq_queue_t     *queue;             /* NULL: the queue was deleted meanwhile */
    uint64_t        seq;               /* order within the queue */
    int64_t         expires_at;        /* wall-clock ms, INT64_MAX: never */
    uint32_t        flags;
    /* while unacked */
    uint64_t        delivery_tag;
    mq_channel_t   *channel;
    mq_consumer_t  *consumer;          /* NULL: basic.get */
};

/* --------------------------------------------------- connections, channels */

typedef enum {
    MQ_CONN_HEADER,        /* waiting for the protocol header */
    MQ_CONN_START,         /* sent start, waiting for start-ok */
    MQ_CONN_SECURE,        /* sent secure (unused: PLAIN needs none) */
    MQ_CONN_TUNE,          /* sent tune, waiting for tune-ok */
    MQ_CONN_OPEN,          /* waiting for connection.open */
    MQ_CONN_RUNNING,       /* open */
    MQ_CONN_CLOSING,       /* sent connection.close, waiting for close-ok */
    MQ_CONN_CLOSED         /* close-ok exchanged: closing the socket */
} mq_conn_state_t;

struct mq_conn_s {
    mq_link_t        link;             /* mq->conns */
    mq_t            *mq;
    ob_conn_t       *c;
    mq_conn_state_t  state;
    mq_vhost_t      *vhost;
    char             user[MQ_NAME_MAX + 1];
    uint8_t         *client_props;     /* start-ok's table (malloc), for /api */
    size_t           client_props_len;
    unsigned         cap_blocked:1,    /* client capabilities */
                     cap_cancel_notify:1,
                     cap_auth_failure_close:1,
                     blocked_sent:1,   /* connection.blocked is in effect */
                     publish_paused:1; /* reading stopped by the alarm */

    uint16_t         channel_max;      /* negotiated */
    uint32_t         frame_max;
    uint16_t         heartbeat;        /* seconds, 0: off */
    int64_t          last_recv_mono, last_send_mono;

    mq_channel_t   **channels;         /* by number, channel_max + 1 */
    unsigned         nchannels;
    int64_t          connected_at;     /* wall clock ms */
};

typedef enum {
    MQ_CH_OPEN,            /* usable */
    MQ_CH_CLOSING          /* sent channel.close: drops all but close/close-ok */
} mq_channel_state_t;

struct mq_channel_s {
    mq_conn_t         *conn;
    uint16_t           id;
    mq_channel_state_t state;

    /* basic.publish being assembled: method, then header, then body */
    int                content_state;  /* 0 none, 1 want header, 2 want body */
    mq_msg_t          *pending;        /* the message being filled */
    uint8_t            pending_mandatory;
    mq_exchange_t     *pending_exchange;

    /* deliveries awaiting ack: tag -> entry, tags from next_tag - n .. */
    uint64_t           next_tag;
    mq_qentry_t      **unacked;        /* ring indexed by tag - base_tag */
    uint64_t           base_tag;
    size_t             unacked_cap, unacked_count;
    uint32_t           prefetch_count; /* per channel (qos global) */
    uint32_t           consumer_prefetch; /* for new consumers (qos !global) */
    int                flow_active;    /* channel.flow from the client */
    mq_link_t          consumers;      /* mq_consumer_t.chlink */

    /* publisher confirms */
    int                confirm;
    uint64_t           publish_seq;    /* last publish's sequence number */
    /* (the confirm state is mq_confirm.c's) */
    void              *confirm_state;
    /* tx.select */
    int                tx;
    void              *tx_state;
};

struct mq_consumer_s {
    mq_link_t       qlink;             /* queue->consumers */
    mq_link_t       chlink;            /* channel->consumers */
    mq_channel_t   *channel;
    mq_queue_t     *queue;
    uint8_t         tag_len;
    char            tag[MQ_NAME_MAX + 1];
    unsigned        no_ack:1, exclusive:1;
    uint32_t        prefetch;          /* 0: none */
    uint32_t        unacked;
    uint64_t        delivered;
};

/* ======================================================================
 * mq_conn.c, mq_channel.c, mq_basic.c, mq_confirm.c
 * ====================================================================== */

/* The AMQP protocol (listener). */
extern const ob_proto_t mq_proto;

/* Sends a method on a channel (0: the connection).  Varargs as
 * mq_frame_method.  OB_ERR: the connection is closing. */
int mq_send_method(mq_conn_t *conn, uint16_t channel, mq_method_id_t id, ...);

/*
 * A channel-level error (404, 405, 406, 403): sends channel.close with
 * `code`, the reply name and the formatted text, and the class/method of
 * the offending method; the channel then drops everything until
 * close-ok.  Returns OB_ERR so that a handler ends with `return
 * mq_channel_error(...)`.
 */
int mq_channel_error(mq_channel_t *ch, unsigned code, mq_method_id_t cause,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A connection-level error (5xx, 530, 403 at login): connection.close,
 * then only close-ok is awaited.  Returns OB_ERR.  `cause` may be -1 for
 * no method (class and method ids 0). */
int mq_conn_error(mq_conn_t *conn, unsigned code, int cause,
                  const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* 1 when `cons` may get another message now: its channel is open and
 * flowing, under both prefetch limits, and its connection's output is not
 * full. */
int mq_consumer_can_take(const mq_consumer_t *cons);

/* Delivers entry `e` (which the queue already moved from a ready list to
 * its unacked list, e->consumer set) to `cons`: basic.deliver, header,
 * body.  Records the delivery tag on the channel, or, for a no-ack
 * consumer, settles the entry at once (mq_queue_ack).  OB_ERR: the
 * connection is closing and nothing was sent: the caller requeues e. */
int mq_consumer_deliver(mq_consumer_t *cons, mq_qentry_t *e);

/* The queue of `cons` is going away (deleted, or expired): sends
 * basic.cancel to a client with consumer_cancel_notify, and forgets the
 * consumer on its channel.  The queue unlinks it itself. */
void mq_consumer_cancelled(mq_consumer_t *cons);

/* Everything appended to the log up to `pos` is on disk: confirms and tx
 * commits that waited for it go out (mq_log calls it). */
void mq_confirm_synced(mq_t *mq, uint64_t pos);

/* Sends connection.blocked/unblocked to every connection that can take it
 * and pauses/resumes publishers (mq_module's alarm calls it on a change). */
void mq_conn_set_alarm(mq_t *mq, int on);

/* Heartbeats and dead peers (the tick calls it for each connection). */
void mq_conn_tick(mq_conn_t *conn, int64_t now_mono);

/* Shutdown: connection.close 320 CONNECTION_FORCED to every connection. */
void mq_conn_close_all(mq_t *mq, const char *reason);

/* A login against mq.users and mq.loopback_users, for AMQP (mq_handshake.c)
 * and the HTTP API (mq_http.c) alike: OB_OK with *found set, OB_ERR for an
 * unknown user or a wrong password, OB_DECLINED for a loopback-only user
 * whose peer (as the caller judged it) is not a loopback one. */
int mq_user_check(const mq_t *mq, ob_str_t user, ob_str_t pass,
                  int peer_is_loopback, const mq_user_t **found);

/* ======================================================================
 * mq_exchange.c, mq_queue.c, mq_msg.c, mq_deadletter.c
 * ====================================================================== */

/* Creates vhost `name` with its predeclared exchanges ("", amq.direct,
 * amq.fanout, amq.topic, amq.headers, amq.match, amq.rabbitmq.trace). */
mq_vhost_t *mq_vhost_new(mq_t *mq, const char *name);
void        mq_vhost_free(mq_vhost_t *vh);
mq_vhost_t *mq_vhost_find(mq_t *mq, const char *name, size_t len);

mq_exchange_t *mq_exchange_find(mq_vhost_t *vh, const uint8_t *name,
                                size_t len);
mq_queue_t    *mq_queue_find(mq_vhost_t *vh, const uint8_t *name,
                             size_t len);

/* The handlers of the exchange and queue classes (one method each). */
int mq_exchange_method(mq_channel_t *ch, const mq_method_t *m);
int mq_queue_method(mq_channel_t *ch, const mq_method_t *m);

/* The queues `msg` reaches from exchange `x` (exchange-to-exchange
 * bindings followed, no queue twice), into out[0..*n); grows *out
 * (malloc) as needed.  OB_ERR on malloc failure. */
int mq_exchange_route(mq_exchange_t *x, const mq_msg_t *msg,
                      mq_queue_t ***out, size_t *n, size_t *cap);

/* Adds msg to q (a new entry, msg->refs + 1): TTL, max-length/overflow,
 * priority, then dispatch to consumers.  OB_OK; OB_DECLINED when
 * x-overflow reject-publish refused it (the publisher gets a nack).
 * OB_ERR: out of memory. */
int mq_queue_publish(mq_queue_t *q, mq_msg_t *msg);

/* Hands ready entries to consumers that can take them, round-robin, until
 * none can or nothing is ready. */
void mq_queue_dispatch(mq_queue_t *q);

/* The next ready entry for basic.get (expired ones dropped first), moved
 * to the unacked list; NULL when empty. */
mq_qentry_t *mq_queue_take(mq_queue_t *q);

/* Settling an unacked entry (e->queue may be NULL: the queue is gone,
 * then the entry is just freed).  ack: done.  requeue: back to its place
 * in the ready list, redelivered.  reject: dead-lettered (reason
 * "rejected") if the queue has a DLX, else dropped. */
void mq_queue_ack(mq_qentry_t *e);
void mq_queue_requeue(mq_qentry_t *e);
void mq_queue_reject(mq_qentry_t *e);

/* Consumers come and go (auto-delete when the last one goes, after one
 * came; exclusive consumers). */
int  mq_queue_add_consumer(mq_queue_t *q, mq_consumer_t *cons);
void mq_queue_remove_consumer(mq_queue_t *q, mq_consumer_t *cons);

/* Messages ready and consumers, for declare-ok/get-ok/purge-ok. */
uint64_t mq_queue_ready_count(const mq_queue_t *q);

/* A connection closes: its exclusive queues are deleted. */
void mq_queue_owner_gone(mq_conn_t *conn);

/* The tick: message TTLs (head of each queue), x-expires. */
void mq_vhost_tick(mq_vhost_t *vh, int64_t now, int64_t now_mono);

/* Messages.  mq_msg_new allocates from the arena (NULL: no room or too
 * big); the caller fills the body. */
mq_msg_t *mq_msg_new(mq_t *mq, ob_str_t exchange, ob_str_t key,
                     ob_str_t props, uint64_t body_len);
void      mq_msg_ref(mq_msg_t *m);
void      mq_msg_unref(mq_msg_t *m);          /* frees at 0 refs */
/* An ob_conn_release_pt for a body referenced in a connection's output. */
void      mq_msg_release(void *msg);
/* Queue entries, from the arena too (NULL: no room). */
mq_qentry_t *mq_qentry_new(mq_t *mq, mq_msg_t *msg);
void         mq_qentry_free(mq_t *mq, mq_qentry_t *e); /* unrefs its msg */

/* Durable state loaded at start (mq_defs / mq_log call these). */
mq_exchange_t *mq_exchange_restore(mq_vhost_t *vh, const char *name,
                                   mq_exchange_type_t type, int auto_delete,
                                   int internal, ob_str_t args);
mq_queue_t    *mq_queue_restore(mq_vhost_t *vh, const char *name,
                                int auto_delete, ob_str_t args);
int            mq_binding_restore(mq_vhost_t *vh, const char *source,
                                  const char *dest, int dest_is_queue,
                                  ob_str_t key, ob_str_t args);
/* Appends a logged message to a restored queue (replay order). */
int            mq_queue_restore_msg(mq_queue_t *q, mq_msg_t *msg,
                                    int redelivered);

/* ======================================================================
 * mq_log.c, mq_defs.c
 * ====================================================================== */

/* Opens the data directory: loads the definitions, replays the message
 * log into the durable queues.  OB_ERR with err on a damaged file. */
int  mq_log_open(mq_t *mq, ob_err_t *err);
void mq_log_close(mq_t *mq);            /* flushes and fsyncs */

/* A durable exchange, queue or binding was declared or deleted: rewrites
 * the definitions file (atomically, fsync'd) before the -ok is sent. */
int  mq_defs_save(mq_t *mq);

/*
 * A persistent message entered durable queue q as entry e (publish,
 * dead-lettering; mq_queue_publish calls it, never the replay): appended
 * to the log, the body once per message however many queues it reaches
 * (MQ_MSG_LOGGED), then one enqueue record per queue; e gets
 * MQ_QE_LOGGED.  Written at the end of the loop pass and fsync'd by the
 * log's thread; a publisher's confirm waits until mq_log_synced() reaches
 * mq_log_appended() as it was after routing.  OB_ERR: the log failed (the
 * message stays in memory; the confirm is a nack).
 */
int mq_log_enqueue(mq_t *mq, mq_queue_t *q, mq_qentry_t *e);

/* A logged entry (MQ_QE_LOGGED) left its durable queue (ack, reject,
 * expiry, purge, overflow), or was delivered the first time (the queue
 * calls these; the replay sets MQ_QE_REDELIVERED on what was delivered). */
void mq_log_remove(mq_t *mq, mq_queue_t *q, mq_qentry_t *e);
void mq_log_delivered(mq_t *mq, mq_queue_t *q, mq_qentry_t *e);

/* A durable queue was deleted: its entries are gone from the log. */
void mq_log_queue_deleted(mq_t *mq, mq_queue_t *q);

/* Appended position, and the position known to be on disk. */
uint64_t mq_log_appended(const mq_t *mq);
uint64_t mq_log_synced(const mq_t *mq);

/* Figures for /stats. */
void mq_log_stats(const mq_t *mq, json_t *out);

/* ======================================================================
 * mq_http.c, mq_module.c
 * ====================================================================== */

/* Registers /api/overview, /api/queues, ... on the core HTTP listener. */
int  mq_http_start(mq_t *mq, ob_err_t *err);
void mq_stats(void *state, json_t *out);

/* Checks the memory alarm after messages were added or removed. */
void mq_flow_check(mq_t *mq);

#endif /* MQ_INT_H */
