/*
 * store_cmd_config.c: CONFIG GET / SET / RESETSTAT over the parameters
 * the store has, by Redis's names.  One table: a name, how to show the
 * value, and how to set it (NULL: immutable while running, as Redis says
 * of "port").  The persistence options are the store's own (store_persist.h).
 */
#include "store_srv.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <sys/stat.h>

#include "store_glob.h"
#include "store_persist.h"

typedef struct store_param_s store_param_t;

typedef size_t (*store_param_get_pt)(store_t *st, const store_param_t *p,
                                     char *buf, size_t cap);
/* A setter returns NULL, or why the value is refused (Redis's words). */
typedef const char *(*store_param_set_pt)(store_t *st,
                                          const store_param_t *p,
                                          const char *value, char *why,
                                          size_t cap);

struct store_param_s {
    const char          *name;
    store_param_get_pt   get;
    store_param_set_pt   set;          /* NULL: immutable */
    size_t               offset;       /* of the field in store_t */
    long long            min, max;     /* integers: Redis's range */
    long long            cap;          /* ours, if smaller: values over it
                                          are taken as it */
    const char          *fixed;        /* a constant value */
};

static const char *const store_policy_names[] = {
    "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", NULL
};


static size_t
store_param_get_ll(store_t *st, const store_param_t *p, char *buf, size_t cap)
{
    long long v;

    memcpy(&v, (char *) st + p->offset, sizeof(v));
    return (size_t) snprintf(buf, cap, "%lld", v);
}


static size_t
store_param_get_int(store_t *st, const store_param_t *p, char *buf,
                    size_t cap)
{
    int v;

    memcpy(&v, (char *) st + p->offset, sizeof(v));
    return (size_t) snprintf(buf, cap, "%d", v);
}


static size_t
store_param_get_fixed(store_t *st, const store_param_t *p, char *buf,
                      size_t cap)
{
    (void) st;
    return (size_t) snprintf(buf, cap, "%s", p->fixed);
}


static size_t
store_param_get_policy(store_t *st, const store_param_t *p, char *buf,
                       size_t cap)
{
    (void) p;
    return (size_t) snprintf(buf, cap, "%s",
                             store_policy_names[st->maxmemory_policy]);
}


static size_t
store_param_get_pass(store_t *st, const store_param_t *p, char *buf,
                     size_t cap)
{
    (void) p;
    return (size_t) snprintf(buf, cap, "%s",
                             st->requirepass != NULL ? st->requirepass : "");
}


/*
 * 'd' (Redis's module key-type events): no module raises any here, but
 * CONFIG GET shows the class back as Redis does.  A bit no event class
 * uses (store_int.h's STORE_NOTIFY_* stop at 0x0400).
 */

/* Redis shows the classes back in its canonical order. */
static size_t
store_param_get_notify(store_t *st, const store_param_t *p, char *buf,
                       size_t cap)
{
    static const struct { unsigned flag; char ch; } order[] = {
        { STORE_NOTIFY_GENERIC, 'g' }, { STORE_NOTIFY_STRING, '$' },
        { STORE_NOTIFY_LIST, 'l' }, { STORE_NOTIFY_SET, 's' },
        { STORE_NOTIFY_HASH, 'h' }, { STORE_NOTIFY_ZSET, 'z' },
        { STORE_NOTIFY_EXPIRED, 'x' }, { STORE_NOTIFY_EVICTED, 'e' },
        { STORE_NOTIFY_STREAM, 't' }, { STORE_NOTIFY_MODULE, 'd' },
        { STORE_NOTIFY_KEY_MISS, 'm' }, { STORE_NOTIFY_NEW, 'n' }
    };
    unsigned all = STORE_NOTIFY_GENERIC | STORE_NOTIFY_STRING
                   | STORE_NOTIFY_LIST | STORE_NOTIFY_SET | STORE_NOTIFY_HASH
                   | STORE_NOTIFY_ZSET | STORE_NOTIFY_EXPIRED
                   | STORE_NOTIFY_EVICTED | STORE_NOTIFY_STREAM;
    size_t   n = 0, i;

    (void) p;
    if (cap < 16) {
        return 0;
    }
    if ((st->notify_flags & all) == all) {
        buf[n++] = 'A';
    } else {
        for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
            if ((st->notify_flags & order[i].flag)
                && order[i].flag != STORE_NOTIFY_KEY_MISS)
            {
                buf[n++] = order[i].ch;
            }
        }
    }
    /*
     * As keyspaceEventsFlagsToString: n is one of the classes (so "A"
     * hides it), m comes after K and E.
     */
    if (st->notify_keyspace) {
        buf[n++] = 'K';
    }
    if (st->notify_keyevent) {
        buf[n++] = 'E';
    }
    if (st->notify_flags & STORE_NOTIFY_KEY_MISS) {
        buf[n++] = 'm';
    }
    buf[n] = '\0';
    return n;
}


/* Redis's message for a number out of its range, or the value capped
 * to what the store handles. */
static const char *
store_param_range(const store_param_t *p, long long *v, char *why, size_t cap)
{
    if (*v < p->min || *v > p->max) {
        snprintf(why, cap, "argument must be between %lld and %lld "
                 "inclusive", p->min, p->max);
        return why;
    }
    if (p->cap != 0 && *v > p->cap) {
        *v = p->cap;
    }
    return NULL;
}


static const char *
store_param_set_ll(store_t *st, const store_param_t *p, const char *value,
                   char *why, size_t cap)
{
    ob_str_t   a = { .len = strlen(value), .data = (const uint8_t *) value };
    long long  v;

    if (store_parse_ll(&a, &v) != OB_OK) {
        return "argument couldn't be parsed into an integer";
    }
    if (store_param_range(p, &v, why, cap) != NULL) {
        return why;
    }
    memcpy((char *) st + p->offset, &v, sizeof(v));
    return NULL;
}


static const char *
store_param_set_int(store_t *st, const store_param_t *p, const char *value,
                    char *why, size_t cap)
{
    ob_str_t   a = { .len = strlen(value), .data = (const uint8_t *) value };
    long long  v;
    int        i;

    if (store_parse_ll(&a, &v) != OB_OK) {
        return "argument couldn't be parsed into an integer";
    }
    if (store_param_range(p, &v, why, cap) != NULL) {
        return why;
    }
    i = (int) v;
    memcpy((char *) st + p->offset, &i, sizeof(i));
    return NULL;
}


static const char *
store_param_set_mem(store_t *st, const store_param_t *p, const char *value,
                    char *why, size_t cap)
{
    long long v;

    if (store_memory_parse(value, &v) != OB_OK || v < 0) {
        return "argument must be a memory value";
    }
    if (store_param_range(p, &v, why, cap) != NULL) {
        return why;
    }
    memcpy((char *) st + p->offset, &v, sizeof(v));
    return NULL;
}


static const char *
store_param_set_policy(store_t *st, const store_param_t *p, const char *value,
                       char *why, size_t cap)
{
    int i;

    (void) p;
    (void) why;
    (void) cap;
    for (i = 0; store_policy_names[i] != NULL; i++) {
        if (strcasecmp(value, store_policy_names[i]) == 0) {
            st->maxmemory_policy = (store_maxmem_policy_t) i;
            return NULL;
        }
    }
    return "argument(s) must be one of the following: volatile-lru, "
           "volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, "
           "allkeys-lfu, allkeys-random, noeviction";
}


static const char *
store_param_set_pass(store_t *st, const store_param_t *p, const char *value,
                     char *why, size_t cap)
{
    (void) p;
    (void) why;
    (void) cap;
    free(st->requirepass);
    st->requirepass = *value != '\0' ? strdup(value) : NULL;
    return NULL;
}


static const char *
store_param_set_notify(store_t *st, const store_param_t *p, const char *value,
                       char *why, size_t cap)
{
    int         ks, ke;
    unsigned    flags;
    const char *err = NULL;

    (void) p;
    (void) why;
    (void) cap;
    if (store_notify_parse(value, &flags, &ks, &ke) != OB_OK) {
        err = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
    } else {
        st->notify_flags = flags;
        st->notify_keyspace = ks;
        st->notify_keyevent = ke;
    }
    return err;
}


/*
 * client-output-buffer-limit: onebox limits only pub/sub clients, by a
 * hard limit (pubsub_output_limit); normal clients have none and there
 * are no replicas.  CONFIG GET shows that truth in Redis's format, and
 * CONFIG SET takes Redis's "<class> <hard> <soft> <seconds>" groups,
 * keeping the pubsub class's hard limit (soft limits are not enforced).
 */
static size_t
store_param_get_obuf(store_t *st, const store_param_t *p, char *buf,
                     size_t cap)
{
    (void) p;
    return (size_t) snprintf(buf, cap, "normal 0 0 0 slave 0 0 0 pubsub "
                             "%lld 0 0", st->pubsub_output_limit);
}


static const char *
store_param_set_obuf(store_t *st, const store_param_t *p, const char *value,
                     char *why, size_t cap)
{
    char        *copy, *tok[64], *save = NULL, *t;
    size_t       n = 0, i;
    long long    hard = -1, soft, secs;
    const char  *err = NULL;
    ob_str_t     a;

    (void) p;
    (void) why;
    (void) cap;
    copy = strdup(value);
    if (copy == NULL) {
        return "out of memory";
    }
    for (t = strtok_r(copy, " ", &save); t != NULL && n < 64;
         t = strtok_r(NULL, " ", &save))
    {
        tok[n++] = t;
    }
    if (n == 0 || n % 4 != 0 || t != NULL) {
        err = "Wrong number of arguments in buffer limit configuration.";
        goto done;
    }
    for (i = 0; i < n; i += 4) {
        if (strcasecmp(tok[i], "normal") != 0
            && strcasecmp(tok[i], "slave") != 0
            && strcasecmp(tok[i], "replica") != 0
            && strcasecmp(tok[i], "pubsub") != 0)
        {
            err = "Invalid client class specified in buffer limit "
                  "configuration.";
            goto done;
        }
        a.data = (const uint8_t *) tok[i + 3];
        a.len = strlen(tok[i + 3]);
        if (store_memory_parse(tok[i + 1], &hard) != OB_OK || hard < 0
            || store_memory_parse(tok[i + 2], &soft) != OB_OK || soft < 0
            || store_parse_ll(&a, &secs) != OB_OK || secs < 0)
        {
            err = "Error in hard, soft or soft_seconds setting in buffer "
                  "limit configuration.";
            goto done;
        }
    }
    for (i = 0; i < n; i += 4) {
        if (strcasecmp(tok[i], "pubsub") == 0) {
            store_memory_parse(tok[i + 1], &hard);
            st->pubsub_output_limit = hard;
        }
    }

done:
    free(copy);
    return err;
}


/* yes/no options kept as an int. */
static size_t
store_param_get_bool(store_t *st, const store_param_t *p, char *buf,
                     size_t cap)
{
    int v;

    memcpy(&v, (char *) st + p->offset, sizeof(v));
    return (size_t) snprintf(buf, cap, "%s", v ? "yes" : "no");
}


static const char *
store_param_set_bool(store_t *st, const store_param_t *p, const char *value,
                     char *why, size_t cap)
{
    int v;

    (void) why;
    (void) cap;
    if (strcasecmp(value, "yes") == 0) {
        v = 1;
    } else if (strcasecmp(value, "no") == 0) {
        v = 0;
    } else {
        return "argument must be 'yes' or 'no'";
    }
    memcpy((char *) st + p->offset, &v, sizeof(v));
    return NULL;
}


/* Strings kept as a malloc'd char * (NULL shows as ""). */
static size_t
store_param_get_str(store_t *st, const store_param_t *p, char *buf,
                    size_t cap)
{
    char *v;

    memcpy(&v, (char *) st + p->offset, sizeof(v));
    return (size_t) snprintf(buf, cap, "%s", v != NULL ? v : "");
}


static const char *
store_param_set_str(store_t *st, const store_param_t *p, const char *value,
                    char *why, size_t cap)
{
    char *old, *v;

    (void) why;
    (void) cap;
    v = strdup(value);
    if (v == NULL) {
        return "out of memory";
    }
    memcpy(&old, (char *) st + p->offset, sizeof(old));
    free(old);
    memcpy((char *) st + p->offset, &v, sizeof(v));
    return NULL;
}


/* masterauth and masteruser: "" is none (NULL). */
static const char *
store_param_set_nullable(store_t *st, const store_param_t *p,
                         const char *value, char *why, size_t cap)
{
    char *null = NULL, *old;

    if (*value != '\0') {
        return store_param_set_str(st, p, value, why, cap);
    }
    memcpy(&old, (char *) st + p->offset, sizeof(old));
    free(old);
    memcpy((char *) st + p->offset, &null, sizeof(null));
    return NULL;
}


/* dbfilename: a name, not a path (Redis 7.0's isValidDBfilename). */
static const char *
store_param_set_filename(store_t *st, const store_param_t *p,
                         const char *value, char *why, size_t cap)
{
    if (*value == '\0' || strchr(value, '/') != NULL
        || strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
    {
        return "dbfilename can't be a path, just a filename";
    }
    return store_param_set_str(st, p, value, why, cap);
}


/* dir: an existing directory (Redis chdir()s into it; the store keeps
 * the path, since the process's other modules share the working
 * directory). */
static const char *
store_param_set_dir(store_t *st, const store_param_t *p, const char *value,
                    char *why, size_t cap)
{
    struct stat sb;

    if (stat(value, &sb) != 0) {
        snprintf(why, cap, "%s", strerror(errno));
        return why;
    }
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(why, cap, "%s", strerror(ENOTDIR));
        return why;
    }
    return store_param_set_str(st, p, value, why, cap);
}


static const char *
store_param_set_save(store_t *st, const store_param_t *p, const char *value,
                     char *why, size_t cap)
{
    if (store_save_params_valid(value) != OB_OK) {
        return "Invalid save parameters";
    }
    return store_param_set_str(st, p, value, why, cap);
}


static size_t
store_param_get_fsync(store_t *st, const store_param_t *p, char *buf,
                      size_t cap)
{
    (void) p;
    return (size_t) snprintf(buf, cap, "%s",
                             st->appendfsync == STORE_FSYNC_ALWAYS ? "always"
                             : st->appendfsync == STORE_FSYNC_EVERYSEC
                             ? "everysec" : "no");
}


static const char *
store_param_set_fsync(store_t *st, const store_param_t *p, const char *value,
                      char *why, size_t cap)
{
    (void) p;
    (void) why;
    (void) cap;
    if (strcasecmp(value, "always") == 0) {
        st->appendfsync = STORE_FSYNC_ALWAYS;
    } else if (strcasecmp(value, "everysec") == 0) {
        st->appendfsync = STORE_FSYNC_EVERYSEC;
    } else if (strcasecmp(value, "no") == 0) {
        st->appendfsync = STORE_FSYNC_NO;
    } else {
        return "argument(s) must be one of the following: always, "
               "everysec, no";
    }
    return NULL;
}


/* appendonly yes|no starts or stops the log (store_aof.c). */
static const char *
store_param_set_appendonly(store_t *st, const store_param_t *p,
                           const char *value, char *why, size_t cap)
{
    int on;

    (void) p;
    if (strcasecmp(value, "yes") == 0) {
        on = 1;
    } else if (strcasecmp(value, "no") == 0) {
        on = 0;
    } else {
        return "argument must be 'yes' or 'no'";
    }
    if (on == st->appendonly) {
        return NULL;
    }
    if (store_aof_set_enabled(st, on) != NULL) {
        snprintf(why, cap, "%s", store_aof_set_enabled(st, on));
        return why;
    }
    return NULL;
}


#define LL_MAX  9223372036854775807LL
#define INT_MAX_ 2147483647LL

#define P_LL(n, field, lo, hi, ours) \
    { .name = n, .get = store_param_get_ll, .set = store_param_set_ll, \
      .offset = offsetof(store_t, field), .min = lo, .max = hi, .cap = ours }
#define P_MEM(n, field, lo, hi, ours) \
    { .name = n, .get = store_param_get_ll, .set = store_param_set_mem, \
      .offset = offsetof(store_t, field), .min = lo, .max = hi, .cap = ours }
#define P_INT(n, field, lo, hi, ours) \
    { .name = n, .get = store_param_get_int, .set = store_param_set_int, \
      .offset = offsetof(store_t, field), .min = lo, .max = hi, .cap = ours }
#define P_BOOL(n, field) \
    { .name = n, .get = store_param_get_bool, .set = store_param_set_bool, \
      .offset = offsetof(store_t, field) }
#define P_STR(n, field, setter) \
    { .name = n, .get = store_param_get_str, .set = setter, \
      .offset = offsetof(store_t, field) }
#define P_FIXED(n, v) \
    { .name = n, .get = store_param_get_fixed, .fixed = v }

/*
 * Ranges are Redis 7.0's (its error messages quote them); where the store
 * cannot use the whole range (a slowlog array of 2^63 entries) a value
 * over `cap` is taken as the cap.
 */
static const store_param_t store_params[] = {
    P_MEM("maxmemory", maxmemory, 0, LL_MAX, 0),
    { .name = "maxmemory-policy", .get = store_param_get_policy,
      .set = store_param_set_policy },
    P_INT("maxmemory-samples", maxmemory_samples, 1, INT_MAX_, 64),
    { .name = "requirepass", .get = store_param_get_pass,
      .set = store_param_set_pass },
    { .name = "notify-keyspace-events", .get = store_param_get_notify,
      .set = store_param_set_notify },
    P_MEM("proto-max-bulk-len", proto_max_bulk_len, 1048576, LL_MAX,
          536870912LL * 4),
    P_MEM("client-query-buffer-limit", query_buffer_limit, 1048576, LL_MAX,
          1073741824LL * 4),
    P_LL("slowlog-log-slower-than", slowlog_slower_than, -1, LL_MAX, 0),
    P_LL("slowlog-max-len", slowlog_max_len, 0, LL_MAX, 1LL << 20),
    P_LL("timeout", timeout, 0, INT_MAX_, 0),
    P_INT("lfu-log-factor", lfu_log_factor, 0, INT_MAX_, 255),
    P_INT("lfu-decay-time", lfu_decay_time, 0, INT_MAX_, 1 << 20),
    { .name = "port", .get = store_param_get_int,
      .offset = offsetof(store_t, port) },
    { .name = "databases", .get = store_param_get_int,
      .offset = offsetof(store_t, databases) },
    { .name = "hz", .get = store_param_get_int,
      .offset = offsetof(store_t, hz) },
    { .name = "client-output-buffer-limit", .get = store_param_get_obuf,
      .set = store_param_set_obuf },
    P_STR("save", save_params, store_param_set_save),
    P_STR("dir", dir, store_param_set_dir),
    P_STR("dbfilename", dbfilename, store_param_set_filename),
    P_BOOL("rdbcompression", rdbcompression),
    P_BOOL("rdbchecksum", rdbchecksum),
    P_BOOL("stop-writes-on-bgsave-error", stop_writes_on_bgsave_error),
    { .name = "appendonly", .get = store_param_get_bool,
      .set = store_param_set_appendonly,
      .offset = offsetof(store_t, appendonly) },
    { .name = "appendfsync", .get = store_param_get_fsync,
      .set = store_param_set_fsync },
    P_STR("appendfilename", appendfilename, NULL),
    P_STR("appenddirname", appenddirname, NULL),
    P_BOOL("aof-load-truncated", aof_load_truncated),
    P_BOOL("aof-use-rdb-preamble", aof_use_rdb_preamble),
    P_LL("auto-aof-rewrite-percentage", auto_aof_rewrite_percentage, 0,
         INT_MAX_, 0),
    P_MEM("auto-aof-rewrite-min-size", auto_aof_rewrite_min_size, 0, LL_MAX,
          0),
    P_STR("replicaof", replicaof, NULL),
    P_STR("masterauth", masterauth, store_param_set_nullable),
    P_STR("masteruser", masteruser, store_param_set_nullable),
    P_BOOL("replica-read-only", replica_read_only),
    P_MEM("repl-backlog-size", repl_backlog_size, 1, LL_MAX, 0),
    P_LL("repl-timeout", repl_timeout, 1, INT_MAX_, 0),
    P_LL("repl-ping-replica-period", repl_ping_replica_period, 1, INT_MAX_,
         0),
    P_FIXED("repl-diskless-sync", "no"),
    P_FIXED("repl-diskless-load", "disabled"),
    P_FIXED("bind", "127.0.0.1"),
    P_FIXED("protected-mode", "yes"),
    P_FIXED("maxclients", "10000"),
    { .name = NULL }
};


static const store_param_t *
store_param_find(const ob_str_t *name)
{
    size_t i;

    for (i = 0; store_params[i].name != NULL; i++) {
        if (strlen(store_params[i].name) == name->len
            && strncasecmp(store_params[i].name, (const char *) name->data,
                           name->len) == 0)
        {
            return &store_params[i];
        }
    }
    return NULL;
}


static void
store_cmd_config_get(store_client_t *c)
{
    store_reply_buf_t  out = { 0 };
    store_reply_t      r;
    size_t             n = 0, i, k;
    char               buf[256];
    size_t             len;
    unsigned char      seen[sizeof(store_params) / sizeof(store_params[0])];

    memset(seen, 0, sizeof(seen));
    store_reply_init(&r, c->r.proto, store_reply_buf_write, &out);
    for (k = 2; k < c->argc; k++) {
        if (memchr(c->argv[k].data, '*', c->argv[k].len) == NULL
            && memchr(c->argv[k].data, '?', c->argv[k].len) == NULL
            && memchr(c->argv[k].data, '[', c->argv[k].len) == NULL)
        {
            /* No pattern: Redis looks the name up in any case and
             * answers with the name as it was asked. */
            const store_param_t *p = store_param_find(&c->argv[k]);

            if (p == NULL || seen[p - store_params]) {
                continue;
            }
            seen[p - store_params] = 1;
            len = p->get(c->st, p, buf, sizeof(buf));
            store_reply_bulk(&r, c->argv[k].data, c->argv[k].len);
            store_reply_bulk(&r, buf, OB_MIN(len, sizeof(buf) - 1));
            n++;
            continue;
        }
        for (i = 0; store_params[i].name != NULL; i++) {
            const char *name = store_params[i].name;

            if (seen[i] || !store_glob_match((const char *) c->argv[k].data,
                                             c->argv[k].len, name,
                                             strlen(name), 1))
            {
                continue;
            }
            seen[i] = 1;
            len = store_params[i].get(c->st, &store_params[i], buf,
                                      sizeof(buf));
            store_reply_bulk(&r, name, strlen(name));
            store_reply_bulk(&r, buf, OB_MIN(len, sizeof(buf) - 1));
            n++;
        }
    }
    store_reply_map(&c->r, n);
    if (out.len > 0) {
        c->r.write(c->r.ctx, out.data, out.len);
    }
    store_reply_buf_free(&out);
}


static void
store_cmd_config_set(store_client_t *c)
{
    const store_param_t *p;
    size_t               i, k;
    char                *value;
    const char          *err;
    char                 why[128];

    if ((c->argc - 2) % 2 != 0) {
        store_add_err(c, STORE_ERR_SYNTAX);     /* as Redis 7.0 */
        return;
    }
    /* Check every pair before applying any, as Redis 7.0 does. */
    for (i = 2; i < c->argc; i += 2) {
        p = store_param_find(&c->argv[i]);
        if (p == NULL) {
            store_add_errf(c, "ERR Unknown option or number of arguments "
                           "for CONFIG SET - '%.*s'",
                           (int) OB_MIN(c->argv[i].len, 128),
                           (const char *) c->argv[i].data);
            return;
        }
        if (p->set == NULL) {
            store_add_errf(c, "ERR CONFIG SET failed (possibly related to "
                           "argument '%s') - can't set immutable config",
                           p->name);
            return;
        }
        for (k = 2; k < i; k += 2) {
            if (store_param_find(&c->argv[k]) == p) {
                /* Redis names the repeated one as it was typed. */
                store_add_errf(c, "ERR CONFIG SET failed (possibly related "
                               "to argument '%.*s') - duplicate parameter",
                               (int) OB_MIN(c->argv[i].len, 128),
                               (const char *) c->argv[i].data);
                return;
            }
        }
    }
    for (i = 2; i < c->argc; i += 2) {
        p = store_param_find(&c->argv[i]);
        value = strndup((const char *) c->argv[i + 1].data,
                        c->argv[i + 1].len);
        if (value == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        err = p->set(c->st, p, value, why, sizeof(why));
        if (err != NULL) {
            store_add_errf(c, "ERR CONFIG SET failed (possibly related to "
                           "argument '%s') - %s", p->name, err);
            free(value);
            return;
        }
        free(value);
    }
    store_conf_apply(c->st);
    store_add_ok(c);
}


/* Redis 7.0.15's CONFIG HELP, word for word. */
static const char *const store_help_config[] = {
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
    NULL
};


static void
store_cmd_config_help(store_client_t *c)
{
    store_reply_help(c, store_help_config);
}


/* onebox's configuration is JSON (--config) and flags, never a
 * redis.conf to rewrite: Redis's answer when it has no config file. */
static void
store_cmd_config_rewrite(store_client_t *c)
{
    store_add_err(c, "ERR The server is running without a config file");
}


static void
store_cmd_config_resetstat(store_client_t *c)
{
    store_t *st = c->st;

    memset(st->cmd_stats, 0, st->ncmds * sizeof(*st->cmd_stats));
    memset(st->errstats, 0, sizeof(st->errstats));
    st->nerrstats = 0;
    st->total_error_replies = 0;
    st->total_commands = 0;
    st->total_connections = 0;
    st->keyspace_hits = 0;
    st->keyspace_misses = 0;
    st->evicted_keys = 0;
    st->dbs->expired_keys = 0;
    st->pubsub_messages = 0;
    st->total_net_input = 0;
    st->total_net_output = 0;
    store_add_ok(c);
}


#define CFG(sub, amin, amax, fn) \
    { .base = { .name = "config|" sub, .arity_min = amin, \
                .arity_max = amax, .flags = OB_CMD_ADMIN \
                | STORE_CMD_NOSCRIPT | STORE_CMD_LOADING | STORE_CMD_STALE }, \
      .handler = fn, .acl = "@admin @slow @dangerous" }

const store_cmd_t store_cmds_config[] = {
    { .base = { .name = "config", .arity_min = 2, .arity_max = -1,
                .flags = STORE_CMD_SUBCMDS }, .acl = "@slow" },
    CFG("get", 3, -1, store_cmd_config_get),
    CFG("set", 4, -1, store_cmd_config_set),
    CFG("resetstat", 2, 2, store_cmd_config_resetstat),
    CFG("rewrite", 2, 2, store_cmd_config_rewrite),
    { .base = { .name = "config|help", .arity_min = 2, .arity_max = 2,
                .flags = STORE_CMD_LOADING | STORE_CMD_STALE },
      .handler = store_cmd_config_help, .acl = "@slow" },
    { .base = { .name = NULL } }
};
