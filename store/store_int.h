/*
 * store_int.h: what the store's command files share: the module state
 * (store_t, the server struct of the store), the client (one RESP
 * connection), the command entry, and the helpers every handler uses.
 * Nothing outside store/ includes this; the core sees store.h only.
 *
 * A command is one entry in a type file's table (store_cmd_<group>.c):
 *
 *   static void
 *   store_cmd_strlen(store_client_t *c)
 *   {
 *       store_obj_t *o = store_lookup_read(c, &c->argv[1]);
 *
 *       if (o == NULL) {
 *           store_reply_int(&c->r, 0);
 *           return;
 *       }
 *       if (store_check_type_or_reply(c, o, STORE_OBJ_STRING) != OB_OK) {
 *           return;
 *       }
 *       store_reply_int(&c->r, (long long) store_obj_string_len(o));
 *   }
 *
 *   const store_cmd_t store_cmds_string[] = {
 *       { .base = { .name = "strlen", .arity_min = 2, .arity_max = 2,
 *                   .flags = OB_CMD_READONLY | OB_CMD_FAST },
 *         .handler = store_cmd_strlen, .keys = { 1, 1, 1 },
 *         .acl = "@read @string @fast" },
 *       ...
 *       { .base = { .name = NULL } }
 *   };
 *
 * The dispatcher (store_client.c) has already checked the arity (with
 * Redis's "wrong number of arguments" error), authentication, MULTI
 * queueing, the pub/sub context and maxmemory (STORE_CMD_DENYOOM) before a
 * handler runs, so a handler only parses its options and does its work.
 * Redis's arity N is { N, N }; its -N is { N, -1 }.
 *
 * Rules for handlers (Redis's, kept so that replies match):
 *   - reply through c->r (store_reply_*), errors through store_add_err*
 *     (they are counted for INFO errorstats); exactly one reply per call,
 *     except where Redis itself sends several (SUBSCRIBE);
 *   - a helper named ..._or_reply has already replied when it returns
 *     OB_ERR/NULL-with-error: just return;
 *   - every change to a key calls store_key_changed (WATCH, keyspace
 *     events, the dirty counter); a list, zset or stream that gained
 *     elements also calls store_key_ready (blocked clients);
 *   - an aggregate left empty is deleted (store_db_delete);
 *   - an allocation the arena refuses answers STORE_ERR_OOM and leaves
 *     the key as it was (or deleted if it would be empty);
 *   - counts from the client never size an allocation before being
 *     clamped to what exists (LRANGE k 0 9999999999 allocates nothing).
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ob_core.h"
#include "ob_cmd.h"
#include "ob_conn.h"
#include "ob_arena.h"
#include "store_db.h"
#include "store_object.h"
#include "store_reply.h"
#include "store_resp.h"

typedef struct store_s         store_t;
typedef struct store_client_s  store_client_t;

typedef void (*store_cmd_pt)(store_client_t *c);


/* ---- commands ------------------------------------------------------------- */

/* Flags beyond ob_cmd's READONLY, WRITE, ADMIN, FAST (COMMAND INFO names
 * them as Redis does). */
#define STORE_CMD_DENYOOM     (OB_CMD_USER << 0)   /* refused over maxmemory */
#define STORE_CMD_PUBSUB      (OB_CMD_USER << 1)
#define STORE_CMD_NOSCRIPT    (OB_CMD_USER << 2)
#define STORE_CMD_BLOCKING    (OB_CMD_USER << 3)
#define STORE_CMD_LOADING     (OB_CMD_USER << 4)   /* ok while loading */
#define STORE_CMD_STALE       (OB_CMD_USER << 5)   /* ok on a stale replica */
#define STORE_CMD_NOAUTH      (OB_CMD_USER << 6)   /* ok before AUTH */
#define STORE_CMD_NOMULTI     (OB_CMD_USER << 7)   /* not queued: runs at once */
#define STORE_CMD_MOVABLEKEYS (OB_CMD_USER << 8)   /* keys found by parsing */
#define STORE_CMD_SUBCMDS     (OB_CMD_USER << 9)   /* a container (CONFIG ...):
                                                      argv[1] picks the handler */
#define STORE_CMD_MAY_REPLICATE (OB_CMD_USER << 10)
#define STORE_CMD_SKIP_MONITOR  (OB_CMD_USER << 11)
#define STORE_CMD_ALLOW_BUSY    (OB_CMD_USER << 12)
#define STORE_CMD_NO_MULTI    (OB_CMD_USER << 14)  /* refused inside MULTI
                                                      (SAVE, PSYNC ...) */
#define STORE_CMD_NO_ASYNC_LOADING (OB_CMD_USER << 15) /* COMMAND INFO only:
                                                      the store never loads
                                                      while serving */
#define STORE_CMD_PUBSUB_OK   (OB_CMD_USER << 13)  /* allowed in RESP2 subscribed
                                                      mode (PING, QUIT, RESET,
                                                      the (un)subscribes) */

typedef struct store_cmd_s {
    ob_cmd_t      base;          /* name in lower case; arity; flags */
    store_cmd_pt  handler;
    struct {
        int       first;         /* COMMAND INFO's first key, last key */
        int       last;          /*   (-1: the last argument), step; */
        int       step;          /*   0,0,0: none */
    } keys;
    const char   *acl;           /* "@write @list @slow": COMMAND INFO */
} store_cmd_t;

/* Each command file's table, ended by a NULL name (store_module.c joins
 * them into one ob_cmd table). */
extern const store_cmd_t store_cmds_server[];   /* store_cmd_server.c */
extern const store_cmd_t store_cmds_string[];   /* store_cmd_string.c */
extern const store_cmd_t store_cmds_keys[];     /* store_cmd_keys.c */
extern const store_cmd_t store_cmds_list[];     /* store_cmd_list.c */
extern const store_cmd_t store_cmds_hash[];     /* store_cmd_hash.c */
extern const store_cmd_t store_cmds_set[];      /* store_cmd_set.c */
extern const store_cmd_t store_cmds_zset[];     /* store_cmd_zset.c */
extern const store_cmd_t store_cmds_stream[];   /* store_cmd_stream.c */
extern const store_cmd_t store_cmds_multi[];    /* store_multi.c */
extern const store_cmd_t store_cmds_pubsub[];   /* store_pubsub.c */


/* ---- error replies (Redis 7.0's exact text, without "-" and CRLF) ------- */

#define STORE_ERR_SYNTAX     "ERR syntax error"
#define STORE_ERR_WRONGTYPE  "WRONGTYPE Operation against a key holding the " \
                             "wrong kind of value"
#define STORE_ERR_NOT_INT    "ERR value is not an integer or out of range"
#define STORE_ERR_NOT_FLOAT  "ERR value is not a valid float"
#define STORE_ERR_NO_KEY     "ERR no such key"
#define STORE_ERR_OOM        "OOM command not allowed when used memory > " \
                             "'maxmemory'."
#define STORE_ERR_OVERFLOW   "ERR increment or decrement would overflow"
#define STORE_ERR_NAN        "ERR increment would produce NaN or Infinity"
#define STORE_ERR_INDEX      "ERR index out of range"
#define STORE_ERR_DB_INDEX   "ERR DB index is out of range"
#define STORE_ERR_SAME_OBJ   "ERR source and destination objects are the same"
#define STORE_ERR_CURSOR     "ERR invalid cursor"
#define STORE_ERR_POSITIVE   "ERR value is out of range, must be positive"
#define STORE_ERR_TIMEOUT_NEG "ERR timeout is negative"
#define STORE_ERR_TIMEOUT    "ERR timeout is not a float or out of range"


/* ---- the client ------------------------------------------------------------ */

/* c->flags */
#define STORE_CLIENT_MULTI        0x0001  /* between MULTI and EXEC */
#define STORE_CLIENT_DIRTY_CAS    0x0002  /* a watched key changed */
#define STORE_CLIENT_DIRTY_EXEC   0x0004  /* a queueing error: EXECABORT */
#define STORE_CLIENT_IN_EXEC      0x0008  /* running EXEC's commands: never
                                             block */
#define STORE_CLIENT_BLOCKED      0x0010  /* waiting (BLPOP ...) */
#define STORE_CLIENT_RETRY        0x0020  /* a blocked command re-run after
                                             its key became ready */
#define STORE_CLIENT_AUTHED       0x0040
#define STORE_CLIENT_CLOSE_AFTER  0x0080  /* QUIT: close once answered */
#define STORE_CLIENT_MONITOR      0x0100
#define STORE_CLIENT_REPLY_OFF    0x0200  /* CLIENT REPLY OFF / SKIP */
#define STORE_CLIENT_REPLY_SKIP   0x0400
#define STORE_CLIENT_PUBSUB       0x0800  /* has channels or patterns */
#define STORE_CLIENT_REPLY_SKIP_NEXT 0x1000 /* CLIENT REPLY SKIP */
#define STORE_CLIENT_MASTER       0x2000  /* runs the master's stream (a
                                             replica's): no replies, never
                                             refused as read-only */
#define STORE_CLIENT_REPLICA      0x4000  /* a replica of ours (after
                                             PSYNC/SYNC): gets the stream */
#define STORE_CLIENT_LOADING      0x8000  /* the AOF loader's client */

struct store_client_s {
    store_t         *st;
    ob_conn_t       *conn;
    uint64_t         id;          /* CLIENT ID */
    unsigned         flags;       /* STORE_CLIENT_* */

    store_db_t      *db;          /* SELECTed */
    int              dbid;

    /* The request being executed: argv[0] is the command name as sent.
     * The bytes are borrowed (the input buffer, a MULTI queue, a blocked
     * client's saved copy) for the duration of the handler call. */
    ob_str_t        *argv;
    size_t           argc;
    const store_cmd_t *cmd;

    store_reply_t    r;           /* replies: r.proto is 2 or 3 (HELLO) */

    /* Owned by store_client.c and the feature files; handlers do not
     * touch what follows. */
    struct store_client_ext_s *ext;
};


/* ---- the helpers every handler uses (store_cmd_util.c) ------------------- */

/* The current time in Unix milliseconds, the same for a whole command
 * (and for every command of an EXEC), as Redis's cached mstime. */
int64_t store_now_ms(const store_client_t *c);

/* The module's arena and owner, for the type files' allocations. */
ob_arena_t *store_arena(const store_client_t *c);
int         store_owner(const store_client_t *c);

/* The store's one random stream (splitmix64 over store_t's state, seeded
 * at start): a uniform 64-bit number, and the state itself for the type
 * files' pickers that take one. */
uint64_t  store_random(store_client_t *c);
uint64_t *store_random_state(store_client_t *c);

/* Errors: counted for INFO errorstats, then written. */
void store_add_err(store_client_t *c, const char *msg);
void store_add_errf(store_client_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void store_add_ok(store_client_t *c);              /* "+OK" */
/* "ERR wrong number of arguments for '<name>' command" */
void store_add_err_arity(store_client_t *c, const char *name);

/* Key lookups in the client's db: the live value or NULL (expired keys
 * are missing).  _read counts keyspace hits and misses. */
store_obj_t *store_lookup_read(store_client_t *c, const ob_str_t *key);
store_obj_t *store_lookup_write(store_client_t *c, const ob_str_t *key);

/* OB_OK when o has `type`, else replies WRONGTYPE and returns OB_ERR. */
int store_check_type_or_reply(store_client_t *c, const store_obj_t *o,
                              store_obj_type_t type);

/* A lookup of a key that must hold `type`: the value; NULL when the key
 * is missing (*wrong = 0: nothing was replied, the caller answers for a
 * missing key) or holds another type (*wrong = 1: WRONGTYPE was
 * replied). */
store_obj_t *store_lookup_typed(store_client_t *c, const ob_str_t *key,
                                store_obj_type_t type, int for_write,
                                int *wrong /* OUT */);

/* Numbers from arguments, Redis's rules (store_resp_ll for integers,
 * strtod with no spaces and no NaN for floats).  OB_ERR: replied with
 * STORE_ERR_NOT_INT / STORE_ERR_NOT_FLOAT (or `msg` when not NULL). */
int store_get_ll_or_reply(store_client_t *c, const ob_str_t *a,
                          long long *v /* OUT */, const char *msg);
/* The same with a range check (Redis's getRangeLongFromObjectOrReply). */
int store_get_range_ll_or_reply(store_client_t *c, const ob_str_t *a,
                                long long min, long long max,
                                long long *v /* OUT */, const char *msg);
/* A count that must be >= 0: "ERR value is out of range, must be
 * positive" otherwise (LPOP k -1 ...). */
int store_get_positive_ll_or_reply(store_client_t *c, const ob_str_t *a,
                                   long long *v /* OUT */);
int store_get_double_or_reply(store_client_t *c, const ob_str_t *a,
                              double *v /* OUT */, const char *msg);
int store_get_long_double_or_reply(store_client_t *c, const ob_str_t *a,
                                   long double *v /* OUT */, const char *msg);

/* Pure parsers behind them (no reply): OB_OK or OB_ERR. */
int store_parse_ll(const ob_str_t *a, long long *v /* OUT */);
int store_parse_double(const ob_str_t *a, double *v /* OUT */);
int store_parse_long_double(const ob_str_t *a, long double *v /* OUT */);

/* Long double to text as INCRBYFLOAT/HINCRBYFLOAT reply it (%.17Lf,
 * trailing zeros stripped, never an exponent); returns the length. */
#define STORE_LDBL_MAX  5200
size_t store_format_long_double(long double v, char *buf /* [STORE_LDBL_MAX] */);

/* 1 when a (an argument) equals the option `opt`, in any letter case. */
int store_arg_is(const ob_str_t *a, const char *opt);

/*
 * A rank range [start, end] over `len` elements with Redis's rules
 * (LRANGE, LTRIM, ZRANGE by rank, ZREMRANGEBYRANK): negative indexes
 * count from the end, start is clamped to 0 and end to len - 1.  0: the
 * range is empty (start > end or start >= len; start and end are then
 * meaningless); 1: both are valid indexes, start <= end.
 */
int store_rank_range(long long *start, long long *end, long long len);

/* Reply helpers for the shapes several types share. */
void store_reply_str(store_client_t *c, const char *s);  /* bulk of a C string */
void store_reply_obj(store_client_t *c, const store_obj_t *o); /* a string value */

/*
 * Signals that `key` in the client's db changed (Redis's signalModifiedKey
 * plus notifyKeyspaceEvent plus server.dirty++): clients WATCHing it get
 * their EXEC aborted; a keyspace notification of class `event_class`
 * (STORE_NOTIFY_*) named `event` ("set", "lpush", "del" ...) goes to
 * subscribers when notify-keyspace-events asks for it; the dirty counter
 * counts the change.  Call it once per key per command, after the change.
 */
void store_key_changed(store_client_t *c, const ob_str_t *key,
                       int event_class, const char *event);
/* The same for a key in another db (MOVE, COPY ... DB n). */
void store_key_changed_db(store_client_t *c, int dbid, const ob_str_t *key,
                          int event_class, const char *event);
/*
 * Redis counts changes, not commands (rdb_changes_since_last_save, the
 * save rules): RPUSH of 4 elements adds 4 to server.dirty, SADD the
 * members it added, HSET the fields it set.  store_key_changed counts
 * one; a handler whose command changed n things adds the other n - 1
 * here (n may be 0 or negative to correct it: a change that Redis does
 * not count).
 */
void store_dirty_add(store_client_t *c, long long n);
/* Only the notification, no WATCH/dirty (e.g. "expired", "evicted"). */
void store_notify(store_t *st, int dbid, const ob_str_t *key,
                  int event_class, const char *event);

/*
 * Propagation (the AOF and the replicas, store_persist.h).  A command that
 * changed the dataset (it called store_key_changed) is propagated as it
 * was received.  A handler whose effect does not follow from its
 * arguments alone (a relative TTL, a random pick, a generated id, a
 * blocking pop) says instead what to propagate: each call adds one
 * command, and the first replaces the one received.  The arguments are
 * copied.  Redis's rewriteClientCommandVector / alsoPropagate; e.g.
 * EXPIRE k 10 -> PEXPIREAT k <abs ms>, SPOP k -> SREM k <member>.
 */
void store_propagate_cmd(store_client_t *c, const ob_str_t *argv,
                         size_t argc);
/* The command changed the dataset but must not be propagated at all. */
void store_propagate_nothing(store_client_t *c);

/* Keyspace event classes (notify-keyspace-events letters). */
#define STORE_NOTIFY_GENERIC  0x0001   /* g */
#define STORE_NOTIFY_STRING   0x0002   /* $ */
#define STORE_NOTIFY_LIST     0x0004   /* l */
#define STORE_NOTIFY_SET      0x0008   /* s */
#define STORE_NOTIFY_HASH     0x0010   /* h */
#define STORE_NOTIFY_ZSET     0x0020   /* z */
#define STORE_NOTIFY_EXPIRED  0x0040   /* x */
#define STORE_NOTIFY_EVICTED  0x0080   /* e */
#define STORE_NOTIFY_STREAM   0x0100   /* t */
#define STORE_NOTIFY_KEY_MISS 0x0200   /* m */
#define STORE_NOTIFY_NEW      0x0400   /* n */
#define STORE_NOTIFY_MODULE   0x0800   /* d: Redis's module key types;
                                          accepted, never raised here */

/*
 * A list, sorted set or stream at `key` gained elements: clients blocked
 * on it are served (after the current command, in the order they
 * blocked), each by re-running its blocked command (see store_block).
 */
void store_key_ready(store_client_t *c, const ob_str_t *key);
/* The same for a key in db `dbid` (RENAME, MOVE, COPY ... into another). */
void store_key_ready_db(store_client_t *c, int dbid, const ob_str_t *key);

/*
 * The blocking half of BLPOP, BZPOPMIN, XREAD BLOCK ...: the handler found
 * nothing to serve.  Three cases, handled here:
 *   - inside EXEC (or MULTI-queued): reply the null array and return,
 *     Redis's "blocking commands do not block in a transaction";
 *   - a re-run after a key became ready that still found nothing: the
 *     client simply stays blocked (no reply);
 *   - otherwise the client blocks on keys[0..nkeys) until one is ready or
 *     timeout_ms (0: forever, else an absolute Unix ms deadline) passes,
 *     when `timeout_reply` is sent (NULL: the null array).
 * While blocked, the client's input is not read (as Redis), and on wake
 * its command is run again with STORE_CLIENT_RETRY set.
 */
void store_block(store_client_t *c, const ob_str_t *keys, size_t nkeys,
                 int64_t deadline_ms, void (*timeout_reply)(store_client_t *c));

/* On a blocked command's re-run (STORE_CLIENT_RETRY): the key whose
 * change woke the client.  Redis serves a woken client from that key
 * only (a key that became something else, or another ready key, does not
 * answer it), so a handler's re-run looks at this one key.  NULL when
 * the command is not a re-run. */
const ob_str_t *store_ready_key(const store_client_t *c);

/* BLPOP-style timeout argument (seconds, a float, 0 = forever) as an
 * absolute deadline in ms (0: none).  OB_ERR: replied ("timeout is
 * negative", "timeout is not a float or out of range"). */
int store_get_timeout_or_reply(store_client_t *c, const ob_str_t *a,
                               int64_t *deadline_ms /* OUT */);
/* The same for a timeout in milliseconds (XREAD BLOCK ms). */
int store_get_timeout_ms_or_reply(store_client_t *c, const ob_str_t *a,
                                  int64_t *deadline_ms /* OUT */);


/* ---- value types: what store_object.c dispatches to (store_types.c) ------ */

/*
 * Each aggregate type provides these for its payloads (store_obj_t.v.ptr):
 *   free: free the payload (not the header);
 *   dup:  a deep copy as a new object (COPY), NULL on OOM;
 *   mem:  bytes the arena charges for header and payload (MEMORY USAGE).
 */
void         store_list_free(ob_arena_t *a, int owner, store_obj_t *o);
store_obj_t *store_list_dup(ob_arena_t *a, int owner, const store_obj_t *o);
size_t       store_list_mem(const ob_arena_t *a, const store_obj_t *o);
void         store_hash_free(ob_arena_t *a, int owner, store_obj_t *o);
store_obj_t *store_hash_dup(ob_arena_t *a, int owner, const store_obj_t *o);
size_t       store_hash_mem(const ob_arena_t *a, const store_obj_t *o);
void         store_set_free(ob_arena_t *a, int owner, store_obj_t *o);
store_obj_t *store_set_dup(ob_arena_t *a, int owner, const store_obj_t *o);
size_t       store_set_mem(const ob_arena_t *a, const store_obj_t *o);
void         store_zset_free(ob_arena_t *a, int owner, store_obj_t *o);
store_obj_t *store_zset_dup(ob_arena_t *a, int owner, const store_obj_t *o);
size_t       store_zset_mem(const ob_arena_t *a, const store_obj_t *o);
void         store_stream_free(ob_arena_t *a, int owner, store_obj_t *o);
store_obj_t *store_stream_dup(ob_arena_t *a, int owner, const store_obj_t *o);
size_t       store_stream_mem(const ob_arena_t *a, const store_obj_t *o);

#endif /* STORE_INT_H */
