/*
 * store_module.c: the store as a onebox module: its configuration section
 * (Redis's option names, with "_" for "-"), its life (init, start, stop,
 * fini), the command table joined from the command files, its cron (the
 * active expiry cycle, blocked-client timeouts' clock), and its figures
 * for /stats.
 *
 * The store is a firm owner of the shared budget: its keys are never
 * taken by another module.  Before a command that may grow memory runs,
 * store_client.c makes room by the maxmemory policy (store_evict.c), as
 * Redis's performEvictions does, so that no key is evicted under a
 * command that holds it.
 */
#include "store_srv.h"
#include "store.h"
#include "store_sort.h"
#include "store_persist.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "ob_log.h"

/* The cron's period: Redis's hz 10. */
#define STORE_CRON_MS        100
/* The active expiry cycle's budget per tick: 25% of a 100 ms tick, as
 * Redis's ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC. */
#define STORE_EXPIRE_BUDGET_US  25000

static const char *const store_policy_names[] = {
    "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", NULL
};

static const char *const store_fsync_names[] = {
    "no", "always", "everysec", NULL
};

static const ob_conf_key_t store_conf_keys[] = {
    { .name = "port", .type = OB_CONF_INT, .imin = 0, .imax = 65535,
      .def = "6379", .help = "TCP port of the Redis protocol; 0: none" },
    { .name = "databases", .type = OB_CONF_INT, .imin = 1, .imax = 1024,
      .def = "16", .help = "number of databases (SELECT 0..N-1)" },
    { .name = "requirepass", .type = OB_CONF_STRING,
      .flags = OB_CONF_NULLABLE, .def = "null",
      .help = "password of the default user (AUTH); null: none" },
    { .name = "maxmemory", .type = OB_CONF_STRING, .def = "\"0\"",
      .help = "the store's memory limit (bytes, or 100mb, 1gb ...); "
      "0: the whole budget (core.memory_mb)" },
    { .name = "maxmemory_policy", .type = OB_CONF_ENUM,
      .def = "\"noeviction\"", .choices = store_policy_names,
      .help = "what to do at maxmemory: refuse writes, or evict keys" },
    { .name = "maxmemory_samples", .type = OB_CONF_INT, .imin = 1,
      .imax = 64, .def = "5", .help = "keys sampled per eviction" },
    { .name = "proto_max_bulk_len", .type = OB_CONF_INT, .imin = 1048576,
      .imax = 536870912LL * 4, .def = "536870912",
      .help = "largest bulk string a client may send" },
    { .name = "client_query_buffer_limit", .type = OB_CONF_INT,
      .imin = 1048576, .imax = 1073741824LL * 4, .def = "1073741824",
      .help = "largest unparsed input of one client" },
    { .name = "pubsub_output_limit", .type = OB_CONF_INT, .imin = 0,
      .imax = 1LL << 40, .def = "33554432",
      .help = "a subscriber whose pending output passes this is "
      "disconnected (client-output-buffer-limit pubsub, hard); 0: none" },
    { .name = "notify_keyspace_events", .type = OB_CONF_STRING, .def = "\"\"",
      .help = "keyspace notifications, Redis's letters (KEA, Kx ...)" },
    { .name = "slowlog_log_slower_than", .type = OB_CONF_INT,
      .imin = -1, .imax = 1LL << 40, .def = "10000",
      .help = "commands slower than this (usec) go to the slowlog; -1: off" },
    { .name = "slowlog_max_len", .type = OB_CONF_INT, .imin = 0,
      .imax = 1LL << 20, .def = "128", .help = "slowlog entries kept" },
    { .name = "lfu_log_factor", .type = OB_CONF_INT, .imin = 0, .imax = 255,
      .def = "10", .help = "LFU counter's logarithm factor" },
    { .name = "lfu_decay_time", .type = OB_CONF_INT, .imin = 0,
      .imax = 1 << 20, .def = "1", .help = "LFU counter decay (minutes)" },
    { .name = "timeout", .type = OB_CONF_INT, .imin = 0, .imax = 1 << 30,
      .def = "0", .help = "close clients idle this many seconds; 0: never" },
    { .name = "dir", .type = OB_CONF_STRING, .flags = OB_CONF_NULLABLE,
      .def = "null", .help = "directory of the RDB file and the AOF "
      "directory; null: core.data_dir" },
    { .name = "dbfilename", .type = OB_CONF_STRING, .def = "\"dump.rdb\"",
      .help = "name of the RDB file" },
    { .name = "save", .type = OB_CONF_STRING,
      .def = "\"3600 1 300 100 60 10000\"",
      .help = "snapshot rules: pairs of <seconds> <changes>; \"\": none" },
    { .name = "rdbcompression", .type = OB_CONF_BOOL, .def = "true",
      .help = "LZF-compress long strings in RDB files" },
    { .name = "rdbchecksum", .type = OB_CONF_BOOL, .def = "true",
      .help = "write and check the RDB's CRC-64" },
    { .name = "stop_writes_on_bgsave_error", .type = OB_CONF_BOOL,
      .def = "true", .help = "refuse writes (MISCONF) while the last "
      "background save failed" },
    { .name = "appendonly", .type = OB_CONF_BOOL, .def = "false",
      .help = "log every write to the append-only file" },
    { .name = "appendfsync", .type = OB_CONF_ENUM, .def = "\"everysec\"",
      .choices = store_fsync_names,
      .help = "when the AOF is fsync'd: always, everysec, no" },
    { .name = "appendfilename", .type = OB_CONF_STRING,
      .def = "\"appendonly.aof\"", .help = "base name of the AOF files" },
    { .name = "appenddirname", .type = OB_CONF_STRING,
      .def = "\"appendonlydir\"", .help = "directory of the AOF files, "
      "in dir" },
    { .name = "aof_load_truncated", .type = OB_CONF_BOOL, .def = "true",
      .help = "start with a truncated last command cut off" },
    { .name = "aof_use_rdb_preamble", .type = OB_CONF_BOOL, .def = "true",
      .help = "a rewrite writes the AOF's base as an RDB" },
    { .name = "auto_aof_rewrite_percentage", .type = OB_CONF_INT,
      .imin = 0, .imax = 1 << 30, .def = "100",
      .help = "rewrite when the AOF grew by this percent; 0: never" },
    { .name = "auto_aof_rewrite_min_size", .type = OB_CONF_STRING,
      .def = "\"64mb\"", .help = "no automatic rewrite below this size" },
    { .name = "replicaof", .type = OB_CONF_STRING, .flags = OB_CONF_NULLABLE,
      .def = "null", .help = "\"<host> <port>\": start as a replica" },
    { .name = "masterauth", .type = OB_CONF_STRING,
      .flags = OB_CONF_NULLABLE, .def = "null",
      .help = "password the replica sends to its master" },
    { .name = "masteruser", .type = OB_CONF_STRING,
      .flags = OB_CONF_NULLABLE, .def = "null",
      .help = "user the replica sends to its master (AUTH user pass)" },
    { .name = "replica_read_only", .type = OB_CONF_BOOL, .def = "true",
      .help = "a replica refuses writes from clients" },
    { .name = "repl_backlog_size", .type = OB_CONF_STRING, .def = "\"1mb\"",
      .help = "bytes of the stream kept for partial resyncs" },
    { .name = "repl_timeout", .type = OB_CONF_INT, .imin = 1,
      .imax = 1 << 30, .def = "60", .help = "seconds without data before "
      "a replication link is dropped" },
    { .name = "repl_ping_replica_period", .type = OB_CONF_INT, .imin = 1,
      .imax = 1 << 30, .def = "10", .help = "seconds between the master's "
      "PINGs to its replicas" },
    { .name = NULL }
};

static const ob_conf_section_t store_conf_section = {
    .name = "store",
    .keys = store_conf_keys,
    .switchable = 1,
    .aliases = NULL
};


/* The command files' tables, joined into one (store_int.h lists them). */
static int
store_cmds_init(store_t *st, ob_err_t *err)
{
    const store_cmd_t *tables[] = {
        store_cmds_server, store_cmds_command, store_cmds_config,
        store_cmds_info,
        store_cmds_multi, store_cmds_pubsub,
        store_cmds_string, store_cmds_keys, store_cmds_list,
        store_cmds_hash, store_cmds_set, store_cmds_zset, store_cmds_stream,
        store_cmds_sort,
        store_cmds_save, store_cmds_aof, store_cmds_repl, store_cmds_replica
    };
    size_t  ntables = sizeof(tables) / sizeof(tables[0]);
    size_t  n = 0, i, k;

    for (i = 0; i < ntables; i++) {
        for (k = 0; tables[i][k].base.name != NULL; k++) {
            n++;
        }
    }
    st->cmd_entries = calloc(n + 1, sizeof(store_cmd_t));
    st->cmd_stats = calloc(n + 1, sizeof(store_cmd_stats_t));
    if (st->cmd_entries == NULL || st->cmd_stats == NULL) {
        return ob_err_set(err, "store: out of memory");
    }
    n = 0;
    for (i = 0; i < ntables; i++) {
        for (k = 0; tables[i][k].base.name != NULL; k++) {
            st->cmd_entries[n++] = tables[i][k];
        }
    }
    st->ncmds = n;
    return ob_cmd_table_init(&st->cmds, st->cmd_entries, sizeof(store_cmd_t),
                             OB_CMD_NOCASE, err);
}


/* "100mb", "1gb", "4096", "2k": Redis's memtoull units (k=1000, kb=1024). */
static int
store_parse_memory(const char *s, long long *out)
{
    char        *end;
    long long    v, mul = 1;

    v = strtoll(s, &end, 10);
    if (end == s || v < 0) {
        return OB_ERR;
    }
    if (*end == '\0' || strcasecmp(end, "b") == 0) {
        mul = 1;
    } else if (strcasecmp(end, "k") == 0) {
        mul = 1000;
    } else if (strcasecmp(end, "kb") == 0) {
        mul = 1024;
    } else if (strcasecmp(end, "m") == 0) {
        mul = 1000 * 1000;
    } else if (strcasecmp(end, "mb") == 0) {
        mul = 1024 * 1024;
    } else if (strcasecmp(end, "g") == 0) {
        mul = 1000LL * 1000 * 1000;
    } else if (strcasecmp(end, "gb") == 0) {
        mul = 1024LL * 1024 * 1024;
    } else {
        return OB_ERR;
    }
    *out = v * mul;
    return OB_OK;
}


int
store_memory_parse(const char *s, long long *out)
{
    return store_parse_memory(s, out);
}


/*
 * notify-keyspace-events letters to flags (Redis's
 * keyspaceEventsStringToFlags): OB_ERR on an unknown letter.
 */
int
store_notify_parse(const char *s, unsigned *flags, int *ks, int *ke)
{
    unsigned f = 0;
    int      k = 0, e = 0;

    for (; *s != '\0'; s++) {
        switch (*s) {
        case 'A': f |= STORE_NOTIFY_GENERIC | STORE_NOTIFY_STRING
                       | STORE_NOTIFY_LIST | STORE_NOTIFY_SET
                       | STORE_NOTIFY_HASH | STORE_NOTIFY_ZSET
                       | STORE_NOTIFY_EXPIRED | STORE_NOTIFY_EVICTED
                       | STORE_NOTIFY_STREAM | STORE_NOTIFY_MODULE;
                  break;
        case 'd': f |= STORE_NOTIFY_MODULE; break;
        case 'g': f |= STORE_NOTIFY_GENERIC; break;
        case '$': f |= STORE_NOTIFY_STRING; break;
        case 'l': f |= STORE_NOTIFY_LIST; break;
        case 's': f |= STORE_NOTIFY_SET; break;
        case 'h': f |= STORE_NOTIFY_HASH; break;
        case 'z': f |= STORE_NOTIFY_ZSET; break;
        case 'x': f |= STORE_NOTIFY_EXPIRED; break;
        case 'e': f |= STORE_NOTIFY_EVICTED; break;
        case 't': f |= STORE_NOTIFY_STREAM; break;
        case 'm': f |= STORE_NOTIFY_KEY_MISS; break;
        case 'n': f |= STORE_NOTIFY_NEW; break;
        case 'K': k = 1; break;
        case 'E': e = 1; break;
        default:
            return OB_ERR;
        }
    }
    /* Without K or E nothing is sent (store_notify), but the classes are
     * kept, as Redis keeps them for CONFIG GET. */
    *flags = f;
    *ks = k;
    *ke = e;
    return OB_OK;
}


/*
 * Keys deleted by expiry or eviction are announced as Redis announces them
 * ("expired", "evicted"), and abort the transactions that watch them.
 */
static void
store_on_del(void *ctx, int dbid, const store_entry_t *e, store_del_why_t why)
{
    store_t   *st = ctx;
    ob_str_t   key = { .len = e->nkey, .data = (const uint8_t *) e->key };

    /* A stream that goes wakes its XREADGROUP readers, which answer
     * UNBLOCKED (Redis's signalDeletedKeyAsReady); the others re-block. */
    if (e->val != NULL && e->val->type == STORE_OBJ_STREAM) {
        store_ready_mark(st, dbid, e->key, e->nkey);
    }
    if (why == STORE_DEL_EXPLICIT) {
        return;
    }
    /* The replicas and the AOF learn of it as a DEL (Redis's
     * propagateDeletion): a replica never expires keys itself. */
    store_propagate_del(st, dbid, e->key, e->nkey);
    store_watch_touch(st, dbid, e->key, e->nkey);
    store_notify(st, dbid, &key,
                 why == STORE_DEL_EXPIRED ? STORE_NOTIFY_EXPIRED
                                          : STORE_NOTIFY_EVICTED,
                 why == STORE_DEL_EXPIRED ? "expired" : "evicted");
}


void
store_conf_apply(store_t *st)
{
    store_lfu_conf_t lfu = { .log_factor = st->lfu_log_factor,
                             .decay_time = st->lfu_decay_time };

    store_dbs_set_lfu(st->dbs,
                      st->maxmemory_policy == STORE_MAXMEM_ALLKEYS_LFU
                      || st->maxmemory_policy == STORE_MAXMEM_VOLATILE_LFU,
                      &lfu);
}


/* A key that did not exist was added: the "new" event (class n). */
static void
store_on_add(void *ctx, int dbid, const store_entry_t *e)
{
    store_t   *st = ctx;
    ob_str_t   key = { .len = e->nkey, .data = (const uint8_t *) e->key };

    store_notify(st, dbid, &key, STORE_NOTIFY_NEW, "new");
}


static void
store_cron_cb(evutil_socket_t fd, short what, void *arg)
{
    store_t *st = arg;

    (void) fd;
    (void) what;
    store_client_refresh_time(st);
    /* A replica expires nothing itself: its master's DELs do. */
    if (!store_replica_is_replica(st)) {
        store_dbs_active_expire(st->dbs, st->now_ms, STORE_EXPIRE_BUDGET_US,
                                NULL);
    }
    store_child_cron(st);
    store_save_cron(st);
    store_aof_cron(st);
    store_repl_cron(st);
    store_replica_cron(st);
    if (st->ready_head != NULL && !st->serving_ready) {
        store_serve_ready(st);          /* readers of expired streams */
    }
}


static void store_fini(void *state);


static char *
store_conf_dup(const json_t *conf, const char *key)
{
    const char *s = ob_conf_str(conf, key);

    return s != NULL ? strdup(s) : NULL;
}


/* The persistence and replication keys (store_persist.h). */
static int
store_persist_conf(store_t *st, ob_cycle_t *cy, const json_t *conf,
                   ob_err_t *err)
{
    const json_t *core = ob_conf_section(cy->conf, "core");
    const char   *s;
    long long     v;
    int           i;

    s = ob_conf_str(conf, "dir");
    st->dir = strdup(s != NULL ? s : ob_conf_str(core, "data_dir"));
    st->dbfilename = store_conf_dup(conf, "dbfilename");
    st->save_params = store_conf_dup(conf, "save");
    st->appendfilename = store_conf_dup(conf, "appendfilename");
    st->appenddirname = store_conf_dup(conf, "appenddirname");
    st->replicaof = store_conf_dup(conf, "replicaof");
    st->masterauth = store_conf_dup(conf, "masterauth");
    st->masteruser = store_conf_dup(conf, "masteruser");
    if (st->dir == NULL || st->dbfilename == NULL || st->save_params == NULL
        || st->appendfilename == NULL || st->appenddirname == NULL)
    {
        return ob_err_set(err, "store: out of memory");
    }
    if (store_save_params_valid(st->save_params) != OB_OK) {
        return ob_err_set(err, "store.save: not pairs of <seconds> "
                          "<changes>: \"%.200s\"", st->save_params);
    }
    st->rdbcompression = ob_conf_bool(conf, "rdbcompression");
    st->rdbchecksum = ob_conf_bool(conf, "rdbchecksum");
    st->stop_writes_on_bgsave_error =
        ob_conf_bool(conf, "stop_writes_on_bgsave_error");
    st->appendonly = ob_conf_bool(conf, "appendonly");
    s = ob_conf_str(conf, "appendfsync");
    for (i = 0; store_fsync_names[i] != NULL; i++) {
        if (strcmp(s, store_fsync_names[i]) == 0) {
            st->appendfsync = i;
        }
    }
    st->aof_load_truncated = ob_conf_bool(conf, "aof_load_truncated");
    st->aof_use_rdb_preamble = ob_conf_bool(conf, "aof_use_rdb_preamble");
    st->auto_aof_rewrite_percentage =
        ob_conf_int(conf, "auto_aof_rewrite_percentage");
    if (store_parse_memory(ob_conf_str(conf, "auto_aof_rewrite_min_size"),
                           &v) != OB_OK)
    {
        return ob_err_set(err, "store.auto_aof_rewrite_min_size: not a "
                          "memory size");
    }
    st->auto_aof_rewrite_min_size = v;
    if (store_parse_memory(ob_conf_str(conf, "repl_backlog_size"), &v)
        != OB_OK || v < 16384)
    {
        return ob_err_set(err, "store.repl_backlog_size: not a memory size "
                          "of at least 16kb");
    }
    st->repl_backlog_size = v;
    st->replica_read_only = ob_conf_bool(conf, "replica_read_only");
    st->repl_timeout = ob_conf_int(conf, "repl_timeout");
    st->repl_ping_replica_period = ob_conf_int(conf,
                                               "repl_ping_replica_period");
    if (st->replicaof != NULL && *st->replicaof == '\0') {
        free(st->replicaof);
        st->replicaof = NULL;
    }
    if (st->replicaof != NULL) {
        char host[256];
        int  port;

        if (sscanf(st->replicaof, "%255s %d", host, &port) != 2
            || port <= 0 || port > 65535)
        {
            return ob_err_set(err, "store.replicaof: not \"<host> <port>\": "
                              "\"%.200s\"", st->replicaof);
        }
    }
    return OB_OK;
}


/* "3600 1 300 100": pairs of non-negative integers; "" is none. */
int
store_save_params_valid(const char *s)
{
    long long  a, b;
    int        n;

    for (;;) {
        while (*s == ' ') {
            s++;
        }
        if (*s == '\0') {
            return OB_OK;
        }
        if (sscanf(s, "%lld %lld%n", &a, &b, &n) != 2 || a < 0 || b < 0) {
            return OB_ERR;
        }
        s += n;
        if (*s != ' ' && *s != '\0') {
            return OB_ERR;
        }
    }
}


static int
store_init(ob_cycle_t *cy, const json_t *conf, int owner, void **state,
           ob_err_t *err)
{
    store_t     *st;
    const char  *s;
    long long    mm;
    int          i;

    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return ob_err_set(err, "store: out of memory");
    }
    st->cy = cy;
    st->arena = cy->arena;
    st->owner = owner;
    st->port = (int) ob_conf_int(conf, "port");
    st->databases = (int) ob_conf_int(conf, "databases");
    s = ob_conf_str(conf, "requirepass");
    st->requirepass = (s != NULL && *s != '\0') ? strdup(s) : NULL;
    if (store_parse_memory(ob_conf_str(conf, "maxmemory"), &mm) != OB_OK) {
        free(st);
        return ob_err_set(err, "store.maxmemory: not a memory size: %.200s",
                          ob_conf_str(conf, "maxmemory"));
    }
    st->maxmemory = mm;
    {
        ob_arena_stats_t as;

        ob_arena_stats(st->arena, &as);
        st->budget = as.limit;
    }
    s = ob_conf_str(conf, "maxmemory_policy");
    for (i = 0; store_policy_names[i] != NULL; i++) {
        if (strcmp(s, store_policy_names[i]) == 0) {
            st->maxmemory_policy = (store_maxmem_policy_t) i;
        }
    }
    st->maxmemory_samples = (int) ob_conf_int(conf, "maxmemory_samples");
    st->proto_max_bulk_len = ob_conf_int(conf, "proto_max_bulk_len");
    st->query_buffer_limit = ob_conf_int(conf, "client_query_buffer_limit");
    st->pubsub_output_limit = ob_conf_int(conf, "pubsub_output_limit");
    if (store_notify_parse(ob_conf_str(conf, "notify_keyspace_events"),
                           &st->notify_flags, &st->notify_keyspace,
                           &st->notify_keyevent) != OB_OK)
    {
        free(st->requirepass);
        free(st);
        return ob_err_set(err, "store.notify_keyspace_events: unknown "
                          "class letter in \"%.200s\"",
                          ob_conf_str(conf, "notify_keyspace_events"));
    }
    st->hz = 10;
    st->slowlog_slower_than = ob_conf_int(conf, "slowlog_log_slower_than");
    st->slowlog_max_len = ob_conf_int(conf, "slowlog_max_len");
    st->lfu_log_factor = (int) ob_conf_int(conf, "lfu_log_factor");
    st->lfu_decay_time = (int) ob_conf_int(conf, "lfu_decay_time");
    st->timeout = ob_conf_int(conf, "timeout");
    if (store_persist_conf(st, cy, conf, err) != OB_OK) {
        store_fini(st);
        return OB_ERR;
    }
    st->next_client_id = 1;
    st->proto.name = "resp";
    st->proto.reject_reply = "-ERR max number of clients reached\r\n";
    /* client-query-buffer-limit: a client's unparsed input */
    st->proto.max_input = (size_t) st->query_buffer_limit;
    st->proto.session_new = store_session_new;
    st->proto.on_read = store_session_read;
    st->proto.on_close = store_session_close;

    st->dbs = store_dbs_new(&(store_dbs_conf_t) {
        .arena = st->arena, .owner = owner, .ndb = st->databases,
        .on_del = store_on_del, .on_del_ctx = st, .on_add = store_on_add,
        .seed = (uint64_t) (uintptr_t) st ^ (uint64_t) time(NULL) });
    if (st->dbs != NULL && store_cmds_init(st, err) != OB_OK) {
        store_fini(st);
        return OB_ERR;
    }
    if (st->dbs == NULL
        || store_blocking_init(st) != OB_OK
        || store_watch_init(st) != OB_OK
        || store_pubsub_init(st) != OB_OK)
    {
        store_fini(st);
        return ob_err_set(err, "store: out of memory");
    }
    if (store_child_init(st, err) != OB_OK
        || store_save_init(st, err) != OB_OK
        || store_aof_init(st, err) != OB_OK
        || store_repl_init(st, err) != OB_OK
        || store_replica_init(st, err) != OB_OK)
    {
        store_fini(st);
        return OB_ERR;
    }
    store_conf_apply(st);
    store_client_refresh_time(st);
    st->start_ms = st->now_ms;
    st->last_save_time = st->now_ms / 1000;
    for (i = 0; i < 40; i++) {
        st->run_id[i] = "0123456789abcdef"[(unsigned) rand() % 16];
    }
    st->run_id[40] = '\0';
    st->rng = ((uint64_t) st->now_ms << 20) ^ (uint64_t) getpid()
              ^ (uint64_t) (uintptr_t) st;
    *state = st;
    return OB_OK;
}


static int
store_start(ob_cycle_t *cy, void *state, ob_err_t *err)
{
    const json_t   *core = ob_conf_section(cy->conf, "core");
    store_t        *st = state;
    struct timeval  tick = { 0, STORE_CRON_MS * 1000 };
    ob_err_t        inner;
    size_t          i;

    /* The data is loaded before the port opens, as Redis loads before
     * it accepts clients. */
    if (store_save_load(st, err) != OB_OK
        || store_aof_start(st, err) != OB_OK)
    {
        return OB_ERR;
    }
    if (st->port != 0
        && ob_listen_tcp(cy, &st->proto, st, ob_conf_str(core, "listen"),
                         st->port, NULL, &inner) != OB_OK)
    {
        return ob_err_set(err, "store.port: %.480s", inner.msg);
    }
    if (store_replica_start(st, err) != OB_OK) {
        return OB_ERR;
    }
    st->cron_ev = event_new(cy->base, -1, EV_PERSIST, store_cron_cb, st);
    if (st->cron_ev == NULL || event_add(st->cron_ev, &tick) != 0) {
        return ob_err_set(err, "store: cannot start the cron");
    }
    /* Big keyspaces finish their rehash while idle, as Redis's cron. */
    for (i = 0; i < (size_t) st->databases; i++) {
        store_db_t *db = store_dbs_db(st->dbs, (int) i);

        ob_hash_timer_set(&db->ks->keys, cy->base, 100, 1);
        ob_hash_timer_set(&db->ks->expires, cy->base, 100, 1);
    }
    return OB_OK;
}


static void
store_stop(ob_cycle_t *cy, void *state)
{
    store_t *st = state;

    ob_err_t  err;

    ob_listen_close_ctx(cy, st);
    if (st->cron_ev != NULL) {
        event_free(st->cron_ev);
        st->cron_ev = NULL;
    }
    /* SIGTERM persists as SHUTDOWN does (an AOF flush, an RDB save when
     * save rules exist); the replicas get what they were not yet sent. */
    if (store_save_shutdown(st, 0, 0, &err) != OB_OK) {
        ob_log_warning(&cy->log, "store: %s", err.msg);
    }
    store_replica_stop(st);
    store_repl_stop(st);
}


static void
store_fini(void *state)
{
    store_t *st = state;
    size_t   i;

    if (st == NULL) {
        return;
    }
    if (st->cron_ev != NULL) {
        event_free(st->cron_ev);
    }
    store_replica_fini(st);
    store_repl_fini(st);
    store_aof_fini(st);
    store_propagate_fini(st);
    store_save_fini(st);
    store_child_fini(st);
    store_pubsub_fini(st);
    store_watch_fini(st);
    store_blocking_fini(st);
    if (st->cmd_entries != NULL) {
        ob_cmd_table_fini(&st->cmds);
    }
    free(st->cmd_entries);
    free(st->cmd_stats);
    if (st->dbs != NULL) {
        store_dbs_free(st->dbs);
    }
    for (i = 0; i < st->slowlog_len; i++) {
        store_slowlog_t *e = &st->slowlog[(st->slowlog_head + i)
                                          % st->slowlog_cap];
        free(e->argv);
        free(e->peer);
        free(e->name);
    }
    free(st->slowlog);
    free(st->clients);
    free(st->monitors);
    free(st->requirepass);
    free(st->dir);
    free(st->dbfilename);
    free(st->save_params);
    free(st->appendfilename);
    free(st->appenddirname);
    free(st->replicaof);
    free(st->masterauth);
    free(st->masteruser);
    free(st);
}


static void
store_stats_json(void *state, json_t *out)
{
    store_t  *st = state;
    size_t    keys = 0;
    int       i;

    for (i = 0; i < st->databases; i++) {
        keys += store_db_size(store_dbs_db(st->dbs, i));
    }
    json_object_set_new(out, "port", json_integer(st->port));
    json_object_set_new(out, "connected_clients",
                        json_integer((json_int_t) st->nclients));
    json_object_set_new(out, "blocked_clients",
                        json_integer((json_int_t) st->blocked_clients));
    json_object_set_new(out, "keys", json_integer((json_int_t) keys));
    json_object_set_new(out, "total_commands_processed",
                        json_integer((json_int_t) st->total_commands));
    json_object_set_new(out, "expired_keys",
                        json_integer((json_int_t) st->dbs->expired_keys));
    json_object_set_new(out, "evicted_keys",
                        json_integer((json_int_t) st->evicted_keys));
}


const ob_module_t store_module = {
    .name = "store",
    .conf = &store_conf_section,
    .init = store_init,
    .start = store_start,
    .stop = store_stop,
    .fini = store_fini,
    .stats = store_stats_json
};
