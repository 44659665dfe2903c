/*
 * mq_conn_int.h: what the connection-side files of the broker
 * (mq_conn.c, mq_channel.c, mq_basic.c, mq_confirm.c) share among
 * themselves and with no one else.
 *
 * A connection's and a channel's public part (mq_conn_t, mq_channel_t in
 * mq_int.h) is the first member of a private wrapper here, so the other
 * files of mq/ see the contract's fields and these files see the rest.
 *
 * Connection states (mq_conn_t.state):
 *
 *   HEADER --header--> START --start-ok--> TUNE --tune-ok--> OPEN
 *      --connection.open--> RUNNING --error/close--> CLOSING --close-ok-->
 *   CLOSED (the socket is closed once the output is written)
 *
 * Channel life: channel.open creates it (MQ_CH_OPEN); a channel error
 * sends channel.close and makes it MQ_CH_CLOSING, where everything but
 * channel.close/close-ok is dropped; close-ok (or the client's close,
 * answered with close-ok) frees it.
 */
#ifndef MQ_CONN_INT_H
#define MQ_CONN_INT_H

#include "mq_int.h"

/* A queue entry held by an uncommitted tx ack (see mq_confirm.c). */
#define MQ_QE_TX_HELD   0x10000

/* How long a connection that sent connection.close waits for close-ok. */
#define MQ_CLOSE_TIMEOUT_MS  3000

/* How long the handshake may take (RabbitMQ's handshake_timeout). */
#define MQ_HANDSHAKE_TIMEOUT_MS  10000

typedef struct mq_session_s {
    mq_conn_t    conn;                 /* first: mq_conn_t * <-> session */
    int64_t      closing_since;        /* mono ms: when close was sent */
    int64_t      started_mono;         /* mono ms: accepted */
    unsigned     header_done:1, alarm_waiting:1, dead:1,
                 in_read:1,            /* inside on_read: the core writes */
                 flush_pending:1;      /* flush_ev is active */
    struct event *flush_ev;            /* writes output added elsewhere */
    mq_link_t    confirm_chans;        /* mq_chan_t.confirm_link */
    mq_queue_t **route;                /* mq_exchange_route's output */
    size_t       route_n, route_cap;
} mq_session_t;

/* A message in an uncommitted transaction. */
typedef struct mq_tx_pub_s {
    mq_msg_t  *msg;
    uint8_t    mandatory;
} mq_tx_pub_t;

/* One confirm waiting to go out: a publish's sequence number and the log
 * position that must be on disk first (0: none). */
typedef struct mq_pending_confirm_s {
    uint64_t  seq;
    uint64_t  pos;
    int       nack;
} mq_pending_confirm_t;

typedef struct mq_chan_s {
    mq_channel_t  ch;                  /* first */
    mq_link_t     confirm_link;        /* session->confirm_chans */

    /* the basic.publish whose content is being assembled */
    uint8_t       pub_exchange_len, pub_key_len;
    char          pub_exchange[MQ_NAME_MAX + 1];
    char          pub_key[MQ_NAME_MAX + 1];

    /* confirms waiting for the log or for the end of the read */
    mq_pending_confirm_t *confirms;
    size_t        confirm_head, confirm_n, confirm_cap;

    /* tx: publishes and settlements buffered until commit */
    mq_tx_pub_t  *tx_pubs;
    size_t        tx_npubs, tx_cap;
    uint64_t     *tx_acks;             /* tags held (MQ_QE_TX_HELD) */
    uint8_t      *tx_ops;              /* what to do with each at commit */
    size_t        tx_nacks, tx_acks_cap;
    uint64_t      tx_commit_pos;       /* commit-ok waits for this pos */
    int           tx_commit_waiting;

    /* queues that got requeued entries back: dispatched after the batch */
    mq_queue_t   *requeued[16];
    unsigned      nrequeued;
} mq_chan_t;

#define MQ_SESSION(conn)  ((mq_session_t *) (void *) (conn))
#define MQ_CHAN(chp)      ((mq_chan_t *) (void *) (chp))

/* tx settlement kinds (mq_chan_t.tx_ops) */
enum { MQ_SETTLE_ACK, MQ_SETTLE_REQUEUE, MQ_SETTLE_REJECT };

/* mq_conn.c */
int  mq_conn_send(mq_conn_t *conn, const void *data, size_t len);
int  mq_conn_decode_error(mq_conn_t *conn, const mq_frame_t *f,
                          const mq_wire_err_t *err);
/* Formats "NAME - <fmt's text>" into text (cut to size); returns the
 * length of the "NAME - " prefix.  For mq_conn_error and mq_channel_error. */
size_t mq_reply_text(char *text, size_t size, unsigned code, const char *fmt,
                     va_list ap);

/* mq_handshake.c */
int  mq_send_start(mq_conn_t *conn);
int  mq_conn_method(mq_conn_t *conn, const mq_frame_t *f);

/* mq_channel.c */
mq_channel_t *mq_channel_new(mq_conn_t *conn, uint16_t id);
void          mq_channel_free(mq_channel_t *ch, int requeue);
int           mq_channel_frame(mq_channel_t *ch, const mq_frame_t *f);

/* mq_basic.c, mq_deliver.c: handlers (one per method) and the channel's
 * deliveries */
typedef int (*mq_method_handler_pt)(mq_channel_t *ch, const mq_method_t *m);

int  mq_basic_qos(mq_channel_t *ch, const mq_method_t *m);
int  mq_basic_consume(mq_channel_t *ch, const mq_method_t *m);
int  mq_basic_cancel(mq_channel_t *ch, const mq_method_t *m);
int  mq_basic_publish(mq_channel_t *ch, const mq_method_t *m);
int  mq_basic_get(mq_channel_t *ch, const mq_method_t *m);
int  mq_basic_ack(mq_channel_t *ch, const mq_method_t *m);
int  mq_basic_reject(mq_channel_t *ch, const mq_method_t *m);
int  mq_basic_nack(mq_channel_t *ch, const mq_method_t *m);
int  mq_basic_recover(mq_channel_t *ch, const mq_method_t *m);
/* A complete message of basic.publish (the channel's ref passes on). */
int  mq_basic_publish_done(mq_channel_t *ch, mq_msg_t *msg, int mandatory);
/* Routes msg to the queues of its exchange; 1 routed, 0 not, OB_ERR on
 * error (channel closed); *nacked set when a queue refused it. */
int  mq_basic_route(mq_channel_t *ch, mq_msg_t *msg, int mandatory,
                    int *nacked);
mq_qentry_t *mq_basic_held(mq_channel_t *ch, uint64_t tag);
void mq_basic_ring_advance(mq_channel_t *ch);
/* Settles one unacked entry (ring slot freed). */
void mq_basic_settle(mq_channel_t *ch, mq_qentry_t *e, int how);
/* Dispatches the queues that settlements requeued to (other consumers
 * may take them). */
void mq_basic_requeue_flush(mq_channel_t *ch);
/* Requeues every unacked delivery of the channel; frees its consumers. */
void mq_basic_channel_gone(mq_channel_t *ch);
void mq_basic_redispatch(mq_channel_t *ch);
/* The queue a consume or get names, or NULL after the channel error. */
mq_queue_t *mq_basic_queue(mq_channel_t *ch, const mq_method_t *m,
                           ob_str_t name);
/* The consumer leaves its channel (its unacked deliveries stay); freed. */
void mq_basic_forget_consumer(mq_consumer_t *cons);
/* basic.return 312 NO_ROUTE with the message. */
int  mq_basic_return(mq_channel_t *ch, mq_msg_t *msg);
int  mq_basic_send_content(mq_conn_t *conn, uint16_t channel,
                           const uint8_t *method, size_t mlen, mq_msg_t *msg);

/* mq_confirm.c */
int  mq_confirm_select(mq_channel_t *ch, const mq_method_t *m);
int  mq_tx_select(mq_channel_t *ch, const mq_method_t *m);
int  mq_tx_commit(mq_channel_t *ch, const mq_method_t *m);
int  mq_tx_rollback(mq_channel_t *ch, const mq_method_t *m);
void mq_confirm_published(mq_channel_t *ch, int nack, int logged);
void mq_confirm_flush(mq_channel_t *ch);
void mq_confirm_flush_conn(mq_conn_t *conn);
void mq_confirm_channel_gone(mq_channel_t *ch);
int  mq_tx_hold_ack(mq_channel_t *ch, uint64_t tag, int how);

#endif /* MQ_CONN_INT_H */
