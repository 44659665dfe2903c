/*
 * store_repl_int.h: the master side of replication's own state, shared by
 * store_repl.c (ids, offset, backlog, the stream, WAIT, ROLE, cron, INFO)
 * and store_repl_sync.c (REPLCONF, PSYNC/SYNC, full resyncs: the RDB
 * child and the transfer).  Nothing else includes it: the other parts
 * see store_persist.h.
 */
#ifndef STORE_REPL_INT_H
#define STORE_REPL_INT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "store_srv.h"
#include "store_persist.h"
#include "store_repl_backlog.h"

/* client-output-buffer-limit replica 256mb 64mb 60 */
#define STORE_REPL_OUT_HARD      (256LL * 1024 * 1024)
#define STORE_REPL_OUT_SOFT      (64LL * 1024 * 1024)
#define STORE_REPL_OUT_SOFT_SECS 60

/* repl-backlog-ttl; CONFIG_REPL_BACKLOG_MIN_SIZE */
#define STORE_REPL_BACKLOG_TTL   3600
#define STORE_REPL_BACKLOG_MIN   (16 * 1024)

/* Sending the RDB: the file goes out in chunks of STORE_REPL_CHUNK while
 * the connection holds less than STORE_REPL_BULK_HIGH; on_drain (the
 * output fell to STORE_REPL_BULK_LOW) or the cron sends more. */
#define STORE_REPL_CHUNK         (64 * 1024)
#define STORE_REPL_BULK_HIGH     (1024 * 1024)
#define STORE_REPL_BULK_LOW      (256 * 1024)
/* At most this much of the file per call, so a fast local replica does
 * not keep the loop busy with one transfer. */
#define STORE_REPL_BULK_TURN     (16 * 1024 * 1024)

/* REPLCONF capa */
#define STORE_REPL_CAPA_EOF      0x01
#define STORE_REPL_CAPA_PSYNC2   0x02

/* Redis's NET_HOST_STR_LEN: an ip-address must be shorter */
#define STORE_REPL_IP_MAX        256

typedef enum {
    STORE_REPL_NONE = 0,            /* REPLCONF seen; not a replica */
    STORE_REPL_WAIT_BGSAVE_START,   /* waits for a child to fork */
    STORE_REPL_WAIT_BGSAVE_END,     /* our child writes its RDB */
    STORE_REPL_SEND_BULK,           /* the RDB file goes out */
    STORE_REPL_ONLINE               /* gets the stream */
} store_repl_state_t;

/* One client that sent REPLCONF, PSYNC or SYNC. */
typedef struct store_repl_link_s {
    store_client_t      *c;
    store_repl_state_t   state;
    int                  closing;       /* dropped: its close is pending */
    int                  pre_psync;     /* came with SYNC: no +FULLRESYNC,
                                           no ACKs */
    unsigned             capa;          /* STORE_REPL_CAPA_* */
    int                  rdb_only;
    long long            port;          /* REPLCONF listening-port */
    char                 ip[STORE_REPL_IP_MAX + 1]; /* ip-address, or the
                                                       peer's address */
    long long            ack_off;       /* REPLCONF ACK */
    int64_t              ack_time;      /* unix seconds of the last ACK */
    long long            psync_offset;  /* the +FULLRESYNC offset */
    struct evbuffer     *pending;       /* the stream until ONLINE */
    int                  rdb_fd;        /* SEND_BULK: the file, else -1 */
    off_t                rdb_off, rdb_size;
    int64_t              soft_since_ms; /* over the soft limit since */
} store_repl_link_t;

/* A client blocked in WAIT. */
typedef struct store_repl_wait_s {
    store_client_t      *c;
    long long            offset;
    long long            numreplicas;
} store_repl_wait_t;

struct store_repl_s {
    char                 replid[41];
    char                 replid2[41];
    long long            master_repl_offset;
    long long            second_repl_offset;
    store_backlog_t     *backlog;
    int                  stream_db;     /* -1: SELECT before the next one */
    int                  raw_db;        /* a replica: the db its master's
                                           stream is in (its last SELECT) */
    int64_t              no_replicas_since;   /* unix seconds */

    store_repl_link_t  **links;         /* replicas and REPLCONF clients */
    size_t               nlinks, links_cap;
    size_t               nreplicas;     /* links past NONE */

    store_repl_wait_t   *waits;
    size_t               nwaits, waits_cap;

    char                *enc;           /* a command in RESP, reused */
    size_t               enc_cap;
    char                *chunk;         /* STORE_REPL_CHUNK, reading the RDB */

    /* Output to replicas is written once per loop pass (Redis's
     * beforeSleep), and WAIT's GETACK is sent there too. */
    struct event        *flush_ev;
    int                  flush_pending;
    int                  get_ack;

    /* our RDB child, for full resyncs */
    int                  child_active;
    char                 rdb_path[PATH_MAX];
    unsigned long long   rdb_seq;
    long long            snap_offset;
    int                  snap_db;

    int64_t              last_second;   /* the once-a-second part of cron */
    long long            backlog_size_seen;  /* repl-backlog-size as last
                                                seen (CONFIG SET changes it) */
    long long            cron_loops;    /* seconds of cron (Redis's
                                           replication_cron_loops) */

    uint64_t             sync_full, sync_partial_ok, sync_partial_err;
};

typedef struct store_repl_s store_repl_t;

/* ---- store_repl.c ---------------------------------------------------------- */

/* Now, in unix seconds (ACK times, lag, the backlog's TTL). */
static inline int64_t
store_repl_now_s(void)
{
    return (int64_t) time(NULL);
}

void  store_repl_random_id(store_t *st, char *out /* [41] */);
void  store_repl_clear_id2(store_repl_t *r);
/* "ip:listening-port" into buf (returned). */
const char *store_repl_name(const store_repl_link_t *l, char *buf,
                            size_t size);
store_repl_link_t *store_repl_link_find(store_repl_t *r,
                                        const store_client_t *c);
/* The client's record, made if needed (NULL on malloc failure). */
store_repl_link_t *store_repl_link_get(store_t *st, store_client_t *c);
void  store_repl_link_drop(store_t *st, store_repl_link_t *l,
                           const char *why);
/* Straight to the replica's connection (its replies are off). */
int   store_repl_link_write(store_repl_link_t *l, const void *p, size_t len);
int   store_repl_link_write_cb(void *arg, const void *p, size_t len);
void  store_repl_check_limits(store_t *st, store_repl_link_t *l);
void  store_repl_schedule_flush(store_repl_t *r);
int   store_repl_backlog_create(store_t *st);
/* One field of the replica side's INFO lines; 0 when absent. */
int   store_repl_replica_field(store_t *st, const char *name, char *out,
                               size_t size);
void  store_repl_serve_waits(store_t *st);

/* ---- store_repl_sync.c ----------------------------------------------------- */

/* Forks the RDB child for the replicas waiting for one, if it can. */
void  store_repl_start_bgsave(store_t *st);
/* SEND_BULK: more of the RDB file while the output is low. */
void  store_repl_pump(store_t *st, store_repl_link_t *l);
void  store_repl_on_drain(void *session, ob_conn_t *conn);
void  store_repl_cmd_replconf(store_client_t *c);
void  store_repl_cmd_sync(store_client_t *c);      /* PSYNC and SYNC */

#endif /* STORE_REPL_INT_H */
