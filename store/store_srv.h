/*
 * store_srv.h: the store's server struct and the client's private state,
 * shared by the files that run the server (store_module.c, store_client.c,
 * store_args.c, store_cmd_util.c, store_block.c, store_multi.c,
 * store_pubsub.c, store_cmd_server.c).  Command files of the data types do not include
 * it: they see store_int.h only.
 */
#ifndef STORE_SRV_H
#define STORE_SRV_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "store_int.h"
#include "ob_cycle.h"
#include "ob_hash.h"

/* Redis 7.0 answers with this identity (HELLO, INFO server). */
#define STORE_REDIS_VERSION   "7.0.15"

/* maxmemory-policy */
typedef enum {
    STORE_MAXMEM_NOEVICTION = 0,
    STORE_MAXMEM_ALLKEYS_LRU,
    STORE_MAXMEM_ALLKEYS_LFU,
    STORE_MAXMEM_ALLKEYS_RANDOM,
    STORE_MAXMEM_VOLATILE_LRU,
    STORE_MAXMEM_VOLATILE_LFU,
    STORE_MAXMEM_VOLATILE_RANDOM,
    STORE_MAXMEM_VOLATILE_TTL
} store_maxmem_policy_t;

/* Per command figures (INFO commandstats), parallel to cmd_entries. */
typedef struct store_cmd_stats_s {
    uint64_t  calls;
    uint64_t  usec;
    uint64_t  rejected;
    uint64_t  failed;
} store_cmd_stats_t;

/* Errors by their first word (INFO errorstats); a few codes only. */
#define STORE_ERRSTAT_MAX  32
typedef struct store_errstat_s {
    char      code[24];
    uint64_t  count;
} store_errstat_t;

/* A key some clients wait on or watch: (db, key) -> clients, in order. */
typedef struct store_keyref_s {
    ob_hash_link_t          hlink;
    struct store_keyref_s  *ready_next;   /* blocking: on st->ready list */
    int                     ready;        /* on the ready list */
    struct store_waiter_s  *head, *tail;  /* blocked clients, FIFO */
    size_t                  nwaiters;
    store_client_t        **watchers;     /* WATCH: clients watching it */
    size_t                  nwatchers, watchers_cap;
    int                     dbid;
    uint32_t                nkey;
    char                    key[];
} store_keyref_t;

typedef struct store_slowlog_s {
    uint64_t   id;
    int64_t    time;            /* unix seconds */
    int64_t    usec;
    ob_str_t  *argv;            /* malloc'd copies (at most 32 args) */
    size_t     argc;
    char      *peer;
    char      *name;
} store_slowlog_t;

struct store_s {
    ob_cycle_t          *cy;
    ob_arena_t          *arena;
    int                  owner;
    store_dbs_t         *dbs;

    /* configuration (store section; some are CONFIG SET-able) */
    int                  port;
    int                  databases;
    char                *requirepass;       /* NULL: none */
    long long            maxmemory;         /* bytes; 0: the whole budget */
    size_t               budget;            /* the arena's limit (-m) */
    store_maxmem_policy_t maxmemory_policy;
    int                  maxmemory_samples;
    long long            proto_max_bulk_len;
    long long            query_buffer_limit;
    long long            pubsub_output_limit; /* client-output-buffer-limit
                                                 pubsub, hard */
    unsigned             notify_flags;      /* STORE_NOTIFY_*, 0: off */
    int                  notify_keyspace;   /* K */
    int                  notify_keyevent;   /* E */
    int                  hz;
    long long            slowlog_slower_than;  /* usec; <0: off */
    long long            slowlog_max_len;
    int                  lfu_log_factor;
    int                  lfu_decay_time;
    long long            timeout;           /* idle clients (seconds) */

    ob_proto_t           proto;             /* RESP, for the listeners */

    /* the command table, joined from the files' tables */
    store_cmd_t         *cmd_entries;
    size_t               ncmds;
    store_cmd_stats_t   *cmd_stats;         /* ncmds of them */
    ob_cmd_table_t       cmds;

    /* clients */
    store_client_t     **clients;           /* every open one */
    size_t               nclients, clients_cap;
    uint64_t             next_client_id;
    size_t               blocked_clients;
    int64_t              pause_until_ms;    /* CLIENT PAUSE */
    int                  pause_write_only;
    struct event        *pause_ev;

    /* time: cached per event, as Redis's server.mstime */
    int64_t              now_ms;
    uint64_t             call_clock_us;     /* monotonic: when the last
                                               command ended (or the batch
                                               began) */
    int64_t              start_ms;
    char                 run_id[41];
    uint64_t             rng;               /* store_random's state */

    /* blocking: (db, key) -> waiters; keys made ready by the command that
     * just ran, served after it */
    ob_hash_t            blocking;
    store_keyref_t      *ready_head, *ready_tail;
    int                  serving_ready;

    /* WATCH: (db, key) -> watching clients */
    ob_hash_t            watched;

    /* pub/sub */
    ob_hash_t            channels;          /* channel -> subscribers */
    struct store_pattern_s *patterns;       /* every PSUBSCRIBE, a list */
    size_t               npatterns;

    /* monitors */
    store_client_t     **monitors;
    size_t               nmonitors, monitors_cap;

    /* slowlog ring */
    store_slowlog_t     *slowlog;
    size_t               slowlog_len, slowlog_cap, slowlog_head;
    uint64_t             slowlog_next_id;

    /* figures */
    uint64_t             dirty;             /* changes since the last save */
    uint64_t             total_connections;
    uint64_t             total_commands;
    uint64_t             rejected_connections;
    uint64_t             keyspace_hits, keyspace_misses;
    uint64_t             evicted_keys;
    uint64_t             expired_stale_perc;
    uint64_t             total_net_input, total_net_output;
    uint64_t             pubsub_messages;
    size_t               used_memory_peak;
    store_errstat_t      errstats[STORE_ERRSTAT_MAX];
    size_t               nerrstats;
    uint64_t             total_error_replies;
    int64_t              last_save_time;

    struct event        *cron_ev;

    /* persistence and replication (store_persist.h): the configuration,
     * by Redis's names; the strings are malloc'd */
    char                *dir;               /* store.dir, else core.data_dir */
    char                *dbfilename;        /* "dump.rdb" */
    char                *save_params;       /* "3600 1 300 100", "" none */
    int                  rdbcompression;
    int                  rdbchecksum;
    int                  stop_writes_on_bgsave_error;
    int                  appendonly;
    int                  appendfsync;       /* STORE_FSYNC_* */
    char                *appendfilename;    /* "appendonly.aof" */
    char                *appenddirname;     /* "appendonlydir" */
    int                  aof_load_truncated;
    int                  aof_use_rdb_preamble;
    long long            auto_aof_rewrite_percentage;
    long long            auto_aof_rewrite_min_size;
    char                *replicaof;         /* "host port", NULL: master */
    char                *masterauth;        /* NULL: none */
    char                *masteruser;
    int                  replica_read_only;
    long long            repl_backlog_size;
    long long            repl_timeout;      /* seconds */
    long long            repl_ping_replica_period;
    int                  loading;           /* INFO loading:1 */

    /* the parts' own states, each defined in its .c file */
    struct store_child_s    *child;         /* store_child.c */
    struct store_save_s     *save;          /* store_save.c */
    struct store_aof_s      *aof;           /* store_aof.c */
    struct store_repl_s     *repl;          /* store_repl.c */
    struct store_replica_s  *replica;       /* store_replica.c */
    struct store_prop_s     *prop;          /* store_propagate.c */
};

/* appendfsync */
#define STORE_FSYNC_NO        0
#define STORE_FSYNC_ALWAYS    1
#define STORE_FSYNC_EVERYSEC  2

/* One blocked client on one key (a client blocked on k keys has k). */
typedef struct store_waiter_s {
    struct store_waiter_s  *next, *prev;
    store_keyref_t         *ref;
    store_client_t         *c;
} store_waiter_t;

/* One client's subscription to a channel. */
typedef struct store_sub_s {
    struct store_sub_s  *next, *prev;       /* in the channel's list */
    store_client_t      *c;
} store_sub_t;

typedef struct store_channel_s {
    ob_hash_link_t   hlink;
    store_sub_t     *head;
    size_t           nsubs;
    uint32_t         len;
    char             name[];
} store_channel_t;

typedef struct store_pattern_s {
    struct store_pattern_s *next;
    store_client_t         *c;
    uint32_t                len;
    char                    pat[];
} store_pattern_t;

/* A queued MULTI command: its arguments copied into one block. */
typedef struct store_queued_s {
    const store_cmd_t  *cmd;
    ob_str_t           *argv;               /* points into the same block */
    size_t              argc;
} store_queued_t;

/* A key this client WATCHes. */
typedef struct store_watch_s {
    store_keyref_t     *ref;
    int                 expired_at_watch;   /* already gone then: no abort
                                               for its expiry */
} store_watch_t;

/* One client channel subscription, from the client's side. */
typedef struct store_client_chan_s {
    store_channel_t    *ch;
    store_sub_t        *sub;
} store_client_chan_t;

/*
 * The arguments of one parsed request, for a reader of RESP that runs
 * commands: a client connection and the replica's link to its master
 * (store_args.c).  The parser writes offsets into `args`; store_args_decode
 * turns them into the byte slices a command sees.  Both arrays grow
 * together, so that any request the parser accepts can be decoded.  A
 * zeroed struct is empty; the first store_args_grow allocates.
 */
typedef struct store_args_s {
    store_arg_t         *args;              /* the parser's argv */
    ob_str_t            *argv;              /* the decoded arguments */
    size_t               argv_cap;
    uint8_t             *scratch;           /* unquoted inline arguments */
    size_t               scratch_cap;
} store_args_t;

int store_args_grow(store_args_t *a, store_resp_parser_t *p, size_t want);
int store_args_decode(store_args_t *a, store_resp_parser_t *p,
                      const uint8_t *buf, const store_req_t *req);
void store_args_free(store_args_t *a);

struct store_client_ext_s {
    store_resp_parser_t  parser;
    store_args_t         args;              /* the parsed request's */
    size_t               need;              /* bytes the parser waits for */

    char                *name;              /* CLIENT SETNAME; NULL */
    char                *lib_name, *lib_ver;
    int64_t              created_ms;
    int64_t              last_ms;           /* last command */
    const char          *last_cmd;          /* its name, for CLIENT LIST */
    int                  postponed;         /* held by CLIENT PAUSE */
    long long            woff;              /* the replication offset right
                                               after this client's last
                                               write that was propagated
                                               (WAIT waits for it) */

    /* MULTI */
    store_queued_t      *queue;
    size_t               nqueue, queue_cap;
    store_watch_t       *watches;
    size_t               nwatches, watches_cap;

    /* blocked */
    store_waiter_t      *waiters;           /* one per key */
    size_t               nwaiters;
    ob_str_t            *blk_argv;          /* the command, copied */
    size_t               blk_argc;
    const store_cmd_t   *blk_cmd;
    int                  blk_dbid;
    struct event        *blk_timer;
    void               (*blk_timeout_reply)(store_client_t *c);
    int                  reblocked;         /* set by store_block on RETRY */
    ob_str_t             ready_key;         /* the key being served (RETRY) */

    /* pub/sub */
    store_client_chan_t *chans;
    size_t               nchans, chans_cap;
    size_t               npatterns;
};

/* The server files' tables beyond store_int.h's. */
extern const store_cmd_t store_cmds_config[];   /* store_cmd_config.c */
extern const store_cmd_t store_cmds_info[];     /* store_cmd_info.c */
extern const store_cmd_t store_cmds_command[];  /* store_cmd_command.c */

/* Shared by the server command files (store_cmd_server.c): a HELP reply
 * (the lines as simple strings), and Redis's error for a subcommand's
 * bad arguments. */
void  store_reply_help(store_client_t *c, const char *const *lines);
void  store_reply_subcommand_syntax(store_client_t *c);

/* INFO's text builder (store_cmd_info.c): appends printf-style; a
 * failed allocation sets `failed` and later appends do nothing. */
struct store_text_s {
    char    *data;
    size_t   len, cap;
    int      failed;
};
typedef struct store_text_s store_text_t;
void  store_text_add(store_text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* store_cmd_info.c: counts a command for instantaneous_ops_per_sec. */
void  store_info_track(store_t *st);

/* store_client.c */
void *store_session_new(ob_conn_t *conn, void *ctx);
int   store_session_read(void *session, ob_conn_t *conn, struct evbuffer *in);
void  store_session_close(void *session, ob_conn_t *conn);
/* Runs argv (already in c->argv/argc) as one command, with every check. */
void  store_client_exec(store_client_t *c);
/* Calls the handler of an already-checked command and counts it. */
void  store_client_call(store_client_t *c, const store_cmd_t *cmd);
/* Runs the subcommand argv[1] of a command that has both forms. */
void  store_dispatch_subcommand(store_client_t *c, const store_cmd_t *parent);
/* The client's argv as a copy in one malloc'd block (MULTI, blocking). */
ob_str_t *store_argv_copy(const ob_str_t *argv, size_t argc);
int   store_client_select(store_client_t *c, int dbid);
/* "127.0.0.1:51234", or "master" / "aof" for a client without a
 * connection (store_persist.h). */
const char *store_client_peer(const store_client_t *c);
void  store_client_refresh_time(store_t *st);

/* store_block.c */
int   store_blocking_init(store_t *st);
void  store_blocking_fini(store_t *st);
void  store_serve_ready(store_t *st);
/* Queues (dbid, key) as ready when clients wait on it (store_key_ready
 * without a client: expiry, deletions seen by the keyspace). */
void  store_ready_mark(store_t *st, int dbid, const void *key, size_t nkey);
void  store_unblock(store_client_t *c);
/* Ends a client's wait as a timeout (error 0) or with CLIENT UNBLOCK's
 * UNBLOCKED error (1); returns 1 when it was blocked. */
int   store_block_abort(store_client_t *c, int error);

/* store_multi.c */
int   store_watch_init(store_t *st);
void  store_watch_fini(store_t *st);
void  store_multi_discard(store_client_t *c);
void  store_unwatch_all(store_client_t *c);
int   store_multi_queue(store_client_t *c);   /* OB_OK queued */
void  store_watch_touch(store_t *st, int dbid, const void *key, size_t nkey);
void  store_watch_touch_db(store_client_t *c, int dbid);

/* store_pubsub.c */
int   store_pubsub_init(store_t *st);
void  store_pubsub_fini(store_t *st);
void  store_pubsub_client_free(store_client_t *c);
size_t store_pubsub_publish(store_t *st, const void *ch, size_t nch,
                            const void *msg, size_t nmsg);
size_t store_client_subscriptions(const store_client_t *c);

/* store_keyref: the (db, key) tables of blocking and WATCH */
extern const ob_hash_type_t store_keyref_type;
store_keyref_t *store_keyref_get(ob_hash_t *h, int dbid, const void *key,
                                 size_t nkey, int create);
void            store_keyref_put(ob_hash_t *h, store_keyref_t *ref);

/* store_module.c: applies settings that live outside store_t (the
 * keyspace's LFU tracking) after init and after CONFIG SET. */
void  store_conf_apply(store_t *st);
/* "3600 1 300 100" (pairs of <seconds> <changes>, "" none): OB_OK. */
int   store_save_params_valid(const char *s);

/* store_evict.c: makes room under maxmemory before a command that may
 * grow memory; OB_ERR when the policy cannot (noeviction, nothing left). */
int   store_evict_for(store_client_t *c);
size_t store_used_memory(const store_t *st);
size_t store_maxmemory(const store_t *st);

/* store_cmd_util.c */
void  store_errstat_count(store_t *st, const char *msg, size_t len);
store_dbs_t *store_dbs(store_client_t *c);

/* store_cmd_server.c: INFO's text */
char *store_info_text(store_t *st, store_client_t *c, const ob_str_t *sections,
                      size_t nsections, size_t *len /* OUT */);

#endif /* STORE_SRV_H */
