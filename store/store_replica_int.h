/*
 * store_replica_int.h: the replica side's own state, shared by its two
 * files only: store_replica.c (REPLICAOF, INFO, the cron, the master's
 * command stream) and store_replica_sync.c (the link: connect, handshake,
 * the RDB transfer and load).  Nothing else includes it; the rest of the
 * store sees store_persist.h.
 *
 * The link's states, Redis's repl_state (replication.c) scaled down:
 *
 *   NONE        -> CONNECT     [REPLICAOF host port, start-up replicaof]
 *   CONNECT     -> CONNECTING  [store_replica_connect: cron, once a second]
 *   CONNECTING  -> RECV_PONG   [on_connect: PING sent]
 *   RECV_PONG   -> RECV_AUTH   [+PONG (or -NOAUTH ...): AUTH, REPLCONF
 *                               listening-port, REPLCONF capa pipelined]
 *               -> RECV_PORT      (no masterauth: straight to the port)
 *   RECV_AUTH   -> RECV_PORT   [+OK]
 *   RECV_PORT   -> RECV_CAPA   [any reply: an error is only logged]
 *   RECV_CAPA   -> RECV_PSYNC  [any reply: PSYNC sent]
 *   RECV_PSYNC  -> TRANSFER    [+FULLRESYNC id offset]
 *               -> CONNECTED   [+CONTINUE [id]]
 *   TRANSFER    -> CONNECTED   [the RDB is on disk and loaded]
 *   any link state -> CONNECT  [error, timeout, the master closed]
 *   any         -> NONE        [REPLICAOF NO ONE]
 */
#ifndef STORE_REPLICA_INT_H
#define STORE_REPLICA_INT_H

#include <stdint.h>

#include <event2/buffer.h>

#include "store_srv.h"
#include "store_persist.h"

typedef enum {
    STORE_REPL_NONE = 0,         /* not a replica */
    STORE_REPL_CONNECT,          /* a replica without a link: (re)connect */
    STORE_REPL_CONNECTING,       /* the TCP connect is in progress */
    STORE_REPL_RECV_PONG,
    STORE_REPL_RECV_AUTH,
    STORE_REPL_RECV_PORT,
    STORE_REPL_RECV_CAPA,
    STORE_REPL_RECV_PSYNC,
    STORE_REPL_TRANSFER,         /* receiving the RDB */
    STORE_REPL_CONNECTED         /* applying the master's stream */
} store_repl_state_t;

/*
 * One connection to the master.  It is the connection's session, and
 * outlives the replica's interest in it: a link we drop (REPLICAOF, a
 * timeout) is detached at once (rs = NULL) and freed by its on_close,
 * which the core runs later, so a late callback of an old link never
 * touches the state of a newer one.
 */
typedef struct store_replica_link_s {
    struct store_replica_s  *rs;        /* NULL once detached */
    ob_conn_t               *conn;
    int                      in_conn;   /* session_new ran: on_close frees */
} store_replica_link_t;

typedef struct store_replica_s {
    store_t                 *st;
    store_repl_state_t       state;
    char                    *host;      /* malloc'd; NULL: a master */
    int                      port;
    store_replica_link_t    *link;      /* the current one, or NULL */

    /* The master's history as far as we hold it (Redis's cached master):
     * what PSYNC asks to continue.  replid "" (and offset -1): none, the
     * first sync asks "PSYNC ? -1". */
    char                     replid[41];
    long long                offset;        /* applied (slave_repl_offset) */
    long long                read_offset;   /* read (slave_read_repl_offset) */

    /* The client that runs the master's commands.  It lives as long as
     * the replica role, across links: after +CONTINUE the stream goes on
     * in the db the previous link had SELECTed. */
    store_client_t          *master;

    /* The stream's parser (the arguments of one command). */
    store_resp_parser_t      parser;
    store_args_t             args;
    size_t                   need;          /* bytes the parser waits for */
    size_t                   txn_bytes;     /* an open MULTI's bytes, kept
                                               at the head of the input */
    int                      stream_paused; /* CLIENT PAUSE postponed a
                                               command: the link's input
                                               is paused until the cron */

    /* A full resync in progress. */
    char                     new_replid[41];
    long long                new_offset;
    int                      use_eof;       /* $EOF:<mark> (diskless) */
    char                     eofmark[40];
    long long                transfer_size; /* $<len>; -1 with EOF */
    long long                transfer_read;
    int                      tmpfd;         /* -1: none */
    char                    *tmppath;       /* malloc'd */

    /* Times in Unix ms (0: never). */
    int64_t                  connect_ms;    /* the last connect attempt */
    int64_t                  handshake_ms;  /* the link's start */
    int64_t                  last_io_ms;    /* the master's last byte */
    int64_t                  down_since_ms; /* the link was lost */
    int64_t                  last_ack_ms;
} store_replica_t;

/* store_replica_sync.c: the link */
void store_replica_connect(store_replica_t *rs);
/* Ends the current link (if any) and discards a transfer in progress;
 * the state becomes CONNECT (reconnect) unless it is NONE. */
void store_replica_drop_link(store_replica_t *rs, const char *why);
void store_replica_transfer_abort(store_replica_t *rs);
/* Sends REPLCONF ACK <offset> on the link. */
void store_replica_send_ack(store_replica_t *rs, long long offset);

/* Pure parsers of the link (unit-tested, check_store_replica.c).
 * "+FULLRESYNC <40-char id> <offset>": OB_OK with replid (41 bytes, NUL
 * ended) and offset set. */
int  store_replica_parse_fullresync(const char *line, char *replid,
                                    long long *offset /* OUT */);
/* "$<len>" (use_eof 0, size) or "$EOF:<40-byte mark>" (use_eof 1, mark,
 * size 0): OB_OK, else OB_ERR. */
int  store_replica_parse_bulk_head(const char *line, int *use_eof,
                                   char *mark /* [40] */, long long *size);
/* A diskless payload in `in`: 1 when the 40-byte mark is there, with
 * *payload the bytes before it; else 0, with *payload the bytes that
 * surely precede any mark (all but the last 39). */
int  store_replica_eof_scan(struct evbuffer *in, const char *mark,
                            size_t *payload /* OUT */);

/* store_replica.c: the stream, once CONNECTED.  OB_OK, OB_BUSY (yield)
 * or OB_ERR (drop the link). */
int  store_replica_stream(store_replica_t *rs, ob_conn_t *conn,
                          struct evbuffer *in);
/* The link came up (a full sync loaded, or +CONTINUE). */
void store_replica_link_up(store_replica_t *rs);

#endif /* STORE_REPLICA_INT_H */
