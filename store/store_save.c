/*
 * store_save.c: snapshots, as Redis 7.0 takes them (rdb.c's saveCommand,
 * bgsaveCommand, rdbSaveBackground, backgroundSaveDoneHandler; server.c's
 * save rules in serverCron, prepareForShutdown; loadDataFromDisk):
 *
 *   SAVE        the RDB written on the loop (the one blocking exception,
 *               as in Redis): dir/dbfilename, atomically replaced
 *   BGSAVE      a forked child writes it (store_child.c); the loop goes on
 *   save rules  "<seconds> <changes> ..." (CONFIG SET save): the cron
 *               starts a BGSAVE when `changes` writes happened and more
 *               than `seconds` passed since the last save; after a failed
 *               one, not again before CONFIG_BGSAVE_RETRY_DELAY (5 s)
 *   SHUTDOWN    kills a child, flushes the AOF, saves when save rules
 *               exist (or SAVE), then the cycle shuts down; a failed save
 *               keeps the server running unless FORCE
 *   start-up    the AOF when appendonly, else dir/dbfilename if it exists;
 *               a corrupt file stops the start (nothing is dropped)
 *
 * The dirty counter (st->dirty, changes since the last save) is what the
 * save rules look at: a successful SAVE clears it, a successful BGSAVE
 * takes away only what was counted when it forked, so writes made while
 * the child ran still count towards the next save.
 *
 * stop-writes-on-bgsave-error: while the last background save failed and
 * save rules exist, writes (and PING) get MISCONF (store_save_write_error,
 * checked by the dispatcher) until a save succeeds.
 */
#include "store_srv.h"
#include "store_persist.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Redis's CONFIG_BGSAVE_RETRY_DELAY: seconds between failed attempts. */
#define STORE_SAVE_RETRY_DELAY  5

#define STORE_SAVE_MISCONF \
    "MISCONF Redis is configured to save RDB snapshots, but it's currently " \
    "unable to persist to disk. Commands that may modify the data set are " \
    "disabled, because this instance is configured to report errors during " \
    "writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). " \
    "Please check the Redis logs for details about the RDB error."

typedef struct store_save_rule_s {
    long long   seconds;
    long long   changes;
} store_save_rule_t;

struct store_save_s {
    /* the save rules, parsed from st->save_params; `parsed` is the text
     * they came from, to notice a CONFIG SET */
    store_save_rule_t  *rules;
    size_t              nrules;
    char               *parsed;

    int                 bgsave_ok;        /* rdb_last_bgsave_status */
    time_t              bgsave_try;       /* last BGSAVE attempt */
    uint64_t            dirty_at_fork;    /* st->dirty when it forked */
    int                 scheduled;        /* BGSAVE SCHEDULE pending */
    pid_t               pid;              /* our BGSAVE child, or -1 */
    char                tmp[PATH_MAX];    /* its temp file, named when it
                                             forked (dir may change) */
    int                 killing;          /* we kill it: not a failure */
    uint64_t            saves;            /* rdb_saves */

    int                 shutdown_done;    /* persisted for the exit */
    int                 load_failed;      /* never overwrite that file */
    size_t              load_keys;        /* rdb_last_load_keys_loaded */
    size_t              load_expired;     /* rdb_last_load_keys_expired */
};

/* Kept by store_child.c for every child (a replica's sync too); not in
 * store_persist.h, both files being the snapshot part's. */
time_t store_child_started(const store_t *st);
size_t store_child_keys_total(const store_t *st);
long   store_child_last_secs(const store_t *st, store_child_kind_t kind);
size_t store_child_last_cow(const store_t *st, store_child_kind_t kind);


/* ---- paths, options, rules ------------------------------------------------ */

/* dir/dbfilename into buf; OB_ERR when it does not fit. */
static int
store_save_path(const store_t *st, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/%s", st->dir, st->dbfilename);

    return n > 0 && (size_t) n < cap ? OB_OK : OB_ERR;
}


static int64_t
store_save_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


void
store_save_rdb_opts(store_t *st, store_rdb_save_opts_t *o)
{
    store_maxmem_policy_t p = st->maxmemory_policy;

    memset(o, 0, sizeof(*o));
    o->compress = st->rdbcompression;
    o->checksum = st->rdbchecksum;
    /* Redis keeps the eviction metadata the policy uses: the LFU counter
     * under an LFU policy, the idle time under an LRU one. */
    o->freq = p == STORE_MAXMEM_ALLKEYS_LFU || p == STORE_MAXMEM_VOLATILE_LFU;
    o->idle = p == STORE_MAXMEM_ALLKEYS_LRU || p == STORE_MAXMEM_VOLATILE_LRU;
    o->now_ms = store_save_now_ms();
    o->used_mem = store_used_memory(st);
    if (store_repl_save_info(st, &o->repl_stream_db)) {
        o->repl_id = store_repl_id(st);
        o->repl_offset = store_repl_offset(st);
    }
}


/* 1 when "save" holds at least one rule ("" is none). */
static int
store_save_has_rules(const char *s)
{
    if (s == NULL) {
        return 0;
    }
    while (*s == ' ') {
        s++;
    }
    return *s != '\0';
}


/* Parses st->save_params again when its text changed (CONFIG SET save
 * replaces the string; the text was validated there). */
static void
store_save_rules_refresh(store_t *st)
{
    struct store_save_s *sv = st->save;
    store_save_rule_t   *rules = NULL;
    const char          *s = st->save_params != NULL ? st->save_params : "";
    long long            a, b;
    size_t               n = 0, cap = 0;
    char                *copy;
    int                  len;

    if (sv->parsed != NULL && strcmp(sv->parsed, s) == 0) {
        return;
    }
    copy = strdup(s);
    if (copy == NULL) {
        return;                         /* the old rules stay */
    }
    while (sscanf(s, " %lld %lld%n", &a, &b, &len) == 2) {
        if (n == cap) {
            store_save_rule_t *nr;

            cap = cap ? cap * 2 : 4;
            nr = realloc(rules, cap * sizeof(*rules));
            if (nr == NULL) {
                free(rules);
                free(copy);
                return;
            }
            rules = nr;
        }
        rules[n].seconds = a;
        rules[n].changes = b;
        n++;
        s += len;
    }
    free(sv->rules);
    free(sv->parsed);
    sv->rules = rules;
    sv->nrules = n;
    sv->parsed = copy;
}


/* ---- saving ------------------------------------------------------------- */

/*
 * The synchronous save (SAVE, SHUTDOWN): the RDB at dir/dbfilename, from
 * the loop.  Success clears the dirty counter and any MISCONF, as Redis's
 * rdbSave does.
 */
static int
store_save_sync(store_t *st, ob_err_t *err)
{
    struct store_save_s   *sv = st->save;
    store_rdb_save_opts_t  o;
    char                   path[PATH_MAX];

    if (store_save_path(st, path, sizeof(path)) != OB_OK) {
        return ob_err_set(err, "the RDB path is too long");
    }
    store_save_rdb_opts(st, &o);
    if (store_rdb_save_file(st->dbs, path, &o, NULL, err) != OB_OK) {
        ob_log_warning(&st->cy->log, "Error saving DB on disk: %s", err->msg);
        return OB_ERR;
    }
    ob_log_notice(&st->cy->log, "DB saved on disk");
    st->dirty = 0;
    st->last_save_time = time(NULL);
    sv->bgsave_ok = 1;
    return OB_OK;
}


/* The BGSAVE child's work: it has its own copy of everything. */
static int
store_save_child(store_t *st, void *arg)
{
    store_rdb_save_opts_t  o;
    char                   path[PATH_MAX];
    ob_err_t               err;

    (void) arg;
    if (store_save_path(st, path, sizeof(path)) != OB_OK) {
        ob_log_warning(&st->cy->log, "Error saving DB on disk: the RDB path "
                       "is too long");
        return 1;
    }
    store_save_rdb_opts(st, &o);
    if (store_rdb_save_file(st->dbs, path, &o, NULL, &err) != OB_OK) {
        ob_log_warning(&st->cy->log, "Error saving DB on disk: %s", err.msg);
        return 1;
    }
    ob_log_notice(&st->cy->log, "DB saved on disk");
    return 0;
}


/* The BGSAVE child ended (backgroundSaveDoneHandlerDisk). */
static void
store_save_bgsave_done(store_t *st, int ok, size_t cow, void *arg)
{
    struct store_save_s *sv = st->save;

    (void) arg;
    (void) cow;                         /* store_child.c keeps it for INFO */
    if (sv == NULL) {
        return;
    }
    if (ok) {
        ob_log_notice(&st->cy->log, "Background saving terminated with "
                      "success");
        st->dirty = st->dirty >= sv->dirty_at_fork
                    ? st->dirty - sv->dirty_at_fork : 0;
        st->last_save_time = time(NULL);
        sv->bgsave_ok = 1;
    } else {
        /* A killed child leaves its temp file behind. */
        if (sv->tmp[0] != '\0') {
            (void) unlink(sv->tmp);
        }
        if (sv->killing) {
            ob_log_warning(&st->cy->log, "Background saving terminated by "
                           "signal %d", SIGUSR1);
        } else {
            ob_log_warning(&st->cy->log, "Background saving error");
            sv->bgsave_ok = 0;
        }
    }
    sv->pid = -1;
    sv->tmp[0] = '\0';
    sv->killing = 0;
}


/*
 * Forks a BGSAVE (rdbSaveBackground).  OB_BUSY when a child runs; OB_ERR
 * when fork failed (that counts as a failed save, as in Redis).
 */
static int
store_save_bgsave(store_t *st)
{
    struct store_save_s *sv = st->save;
    ob_err_t             err;
    int                  rc;

    if (store_child_running(st) != STORE_CHILD_NONE) {
        return OB_BUSY;
    }
    sv->saves++;
    sv->dirty_at_fork = st->dirty;
    sv->bgsave_try = time(NULL);
    rc = store_child_start(st, STORE_CHILD_RDB, store_save_child,
                           store_save_bgsave_done, NULL, &err);
    if (rc != OB_OK) {
        sv->bgsave_ok = 0;
        ob_log_warning(&st->cy->log, "Can't save in background: %s", err.msg);
        return rc;
    }
    sv->pid = store_child_pid(st);
    /* store_rdb_save_file's name: "temp-<pid>.rdb" next to the dump. */
    if (snprintf(sv->tmp, sizeof(sv->tmp), "%s/temp-%d.rdb", st->dir,
                 (int) sv->pid) >= (int) sizeof(sv->tmp))
    {
        sv->tmp[0] = '\0';
    }
    ob_log_notice(&st->cy->log, "Background saving started by pid %ld",
                  (long) sv->pid);
    return OB_OK;
}


/* Kills the running child, ours or another part's, as prepareForShutdown
 * does; its done hook runs (ok 0). */
static void
store_save_kill_child(store_t *st)
{
    struct store_save_s *sv = st->save;
    store_child_kind_t   kind = store_child_running(st);

    if (kind == STORE_CHILD_NONE) {
        return;
    }
    ob_log_warning(&st->cy->log, kind == STORE_CHILD_RDB
                   ? "There is a child saving an .rdb. Killing it!"
                   : "There is a child rewriting the AOF. Killing it!");
    if (sv != NULL && sv->pid == store_child_pid(st)) {
        sv->killing = 1;
    }
    store_child_kill(st);
}


/*
 * FLUSHALL with save rules leaves an empty dump.rdb behind, as Redis's
 * flushAllDataAndResetRDB: a snapshot child of the old data is killed
 * and the (now empty) dataset is saved at once, so that a restart does
 * not bring the flushed keys back.
 */
void
store_save_flushall(store_t *st)
{
    ob_err_t err;

    if (st->save == NULL) {
        return;
    }
    if (store_child_running(st) == STORE_CHILD_RDB) {
        store_save_kill_child(st);
    }
    if (store_save_has_rules(st->save_params)) {
        st->save->saves++;
        (void) store_save_sync(st, &err);
    }
}


void
store_save_cron(store_t *st)
{
    struct store_save_s *sv = st->save;
    time_t               now;
    size_t               i;
    int                  may_retry;

    if (sv == NULL) {
        return;
    }
    store_save_rules_refresh(st);
    if (store_child_running(st) != STORE_CHILD_NONE || sv->shutdown_done) {
        return;
    }
    now = time(NULL);
    may_retry = sv->bgsave_ok
                || now - sv->bgsave_try > STORE_SAVE_RETRY_DELAY;
    for (i = 0; i < sv->nrules && may_retry; i++) {
        const store_save_rule_t *r = &sv->rules[i];

        if (st->dirty >= (uint64_t) r->changes
            && now - st->last_save_time > r->seconds)
        {
            ob_log_notice(&st->cy->log, "%lld changes in %lld seconds. "
                          "Saving...", r->changes, r->seconds);
            (void) store_save_bgsave(st);
            return;
        }
    }
    if (sv->scheduled && may_retry && store_save_bgsave(st) == OB_OK) {
        sv->scheduled = 0;
    }
}


/* ---- shutdown and start-up ----------------------------------------------- */

/*
 * What prepareForShutdown persists: a child is killed (it could overwrite
 * the file about to be written), the final RDB is saved when save rules
 * exist and not NOSAVE, or when SAVE; then the AOF is flushed and synced.
 * A failed save returns OB_ERR and leaves everything running (the AOF
 * too) unless `force`: then the AOF is still flushed and the exit goes on.
 * Done once: later calls (the module's stop hook after SHUTDOWN) return
 * OB_OK without saving again.
 */
static int
store_save_shutdown_generic(store_t *st, int force_save, int nosave,
                            int force, ob_err_t *err)
{
    struct store_save_s *sv = st->save;
    int                  rc = OB_OK;

    if (sv == NULL || sv->shutdown_done) {
        return OB_OK;
    }
    store_save_kill_child(st);
    /* Never save a half-loaded dataset (or what a failed load left) over
     * the file it came from. */
    if (st->loading || sv->load_failed) {
        force_save = 0;
        nosave = 1;
    }
    store_save_rules_refresh(st);
    if ((sv->nrules > 0 && !nosave) || force_save) {
        ob_log_notice(&st->cy->log, "Saving the final RDB snapshot before "
                      "exiting.");
        if (store_save_sync(st, err) != OB_OK) {
            if (!force) {
                ob_log_warning(&st->cy->log, "Error trying to save the DB, "
                               "can't exit.");
                return ob_err_set(err, "Errors trying to SHUTDOWN. Check "
                                  "logs.");
            }
            ob_log_warning(&st->cy->log, "Error trying to save the DB. Exit "
                           "anyway.");
            rc = ob_err_set(err, "Error trying to save the DB");
        }
    }
    if (st->appendonly) {
        store_aof_stop(st);
    }
    sv->shutdown_done = 1;
    return rc;
}


/* The process exits whatever this returns (SIGTERM, the module's stop):
 * a failed save is reported, the AOF is flushed all the same. */
int
store_save_shutdown(store_t *st, int force_save, int nosave, ob_err_t *err)
{
    return store_save_shutdown_generic(st, force_save, nosave, 1, err);
}


/* mkdir -p: the data directory may not exist yet on a first start. */
static int
store_save_mkdirs(const char *dir, ob_err_t *err)
{
    char    path[PATH_MAX];
    size_t  i, len = strlen(dir);

    if (len == 0) {
        return OB_OK;
    }
    if (len >= sizeof(path)) {
        return ob_err_set(err, "store.dir: path too long");
    }
    memcpy(path, dir, len + 1);
    for (i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0') {
            continue;
        }
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            return ob_err_set(err, "Can't create the data directory %s: %s",
                              path, strerror(errno));
        }
        path[i] = dir[i];
    }
    return OB_OK;
}


int
store_save_load(store_t *st, ob_err_t *err)
{
    struct store_save_s   *sv = st->save;
    store_rdb_load_opts_t  lo;
    store_rdb_load_info_t  info;
    struct timespec        t0, t1;
    struct stat            sb;
    ob_err_t               inner;
    char                   path[PATH_MAX];
    int                    fd, rc;

    if (store_save_mkdirs(st->dir, err) != OB_OK) {
        return OB_ERR;
    }
    if (st->appendonly) {
        return store_aof_load(st, err);
    }
    if (store_save_path(st, path, sizeof(path)) != OB_OK) {
        return ob_err_set(err, "store: the RDB path is too long");
    }
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT) {
            return OB_OK;               /* a first start: nothing to load */
        }
        sv->load_failed = 1;
        return ob_err_set(err, "Fatal error loading the DB from %s: %s. "
                          "Exiting.", path, strerror(errno));
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sv->load_failed = 1;
        return ob_err_set(err, "Fatal error loading the DB from %s: %s. "
                          "Exiting.", path, strerror(errno));
    }
    memset(&info, 0, sizeof(info));
    lo.now_ms = store_save_now_ms();
    /* The master decides expiry: a replica keeps what its file holds. */
    lo.drop_expired = st->replicaof == NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st->loading = 1;
    rc = store_rdb_load_fd(st->dbs, fd, &lo, &info, &inner);
    st->loading = 0;
    close(fd);
    if (rc != OB_OK) {
        /* The process exits: what was loaded is freed with the store, and
         * the file is left as it is for redis-check-rdb. */
        sv->load_failed = 1;
        return ob_err_set(err, "Fatal error loading the DB from %.200s: "
                          "%.250s. Exiting.", path, inner.msg);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* A file written for (or by) a replica carries the replication
     * history it is a snapshot of.  A replica takes it as its own, to ask
     * its master to continue from there; a master keeps it as its
     * previous id (replid2, usable up to that offset) under a new one, so
     * that its old replicas can still resync partially (loadDataFromDisk). */
    if (info.has_repl) {
        store_repl_set_history(st, info.repl_id, info.repl_offset);
        if (st->replicaof == NULL) {
            store_repl_shift_ids(st);
        }
    }
    sv->load_keys = info.st.keys;
    sv->load_expired = info.st.expired;
    ob_log_notice(&st->cy->log, "Done loading RDB, keys loaded: %zu, keys "
                  "expired: %zu.", info.st.keys, info.st.expired);
    ob_log_notice(&st->cy->log, "DB loaded from disk: %.3f seconds",
                  (double) (t1.tv_sec - t0.tv_sec)
                  + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return OB_OK;
}


/* ---- INFO and the write check -------------------------------------------- */

void
store_save_info(store_t *st, store_text_t *t)
{
    struct store_save_s *sv = st->save;
    int                  rdb = store_child_running(st) == STORE_CHILD_RDB;
    time_t               started = store_child_started(st);

    store_text_add(t, "current_cow_peak:0\r\ncurrent_cow_size:0\r\n"
        "current_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\n"
        "current_save_keys_processed:0\r\ncurrent_save_keys_total:%zu\r\n"
        "rdb_changes_since_last_save:%llu\r\n"
        "rdb_bgsave_in_progress:%d\r\nrdb_last_save_time:%lld\r\n"
        "rdb_last_bgsave_status:%s\r\nrdb_last_bgsave_time_sec:%ld\r\n"
        "rdb_current_bgsave_time_sec:%ld\r\nrdb_saves:%llu\r\n"
        "rdb_last_cow_size:%zu\r\nrdb_last_load_keys_expired:%zu\r\n"
        "rdb_last_load_keys_loaded:%zu\r\n",
        store_child_keys_total(st), (unsigned long long) st->dirty, rdb,
        (long long) st->last_save_time,
        sv == NULL || sv->bgsave_ok ? "ok" : "err",
        store_child_last_secs(st, STORE_CHILD_RDB),
        rdb ? (long) (time(NULL) - started) : -1L,
        (unsigned long long) (sv != NULL ? sv->saves : 0),
        store_child_last_cow(st, STORE_CHILD_RDB),
        sv != NULL ? sv->load_expired : 0,
        sv != NULL ? sv->load_keys : 0);
}


const char *
store_save_write_error(const store_t *st)
{
    const struct store_save_s *sv = st->save;

    if (sv != NULL && !sv->bgsave_ok && st->stop_writes_on_bgsave_error
        && store_save_has_rules(st->save_params))
    {
        return STORE_SAVE_MISCONF;
    }
    return NULL;
}


/* ---- commands ------------------------------------------------------------ */

static void
store_cmd_save(store_client_t *c)
{
    store_t   *st = c->st;
    ob_err_t   err;

    if (store_child_running(st) == STORE_CHILD_RDB) {
        store_add_err(c, "ERR Background save already in progress");
        return;
    }
    st->save->saves++;
    if (store_save_sync(st, &err) != OB_OK) {
        store_add_err(c, "ERR");
        return;
    }
    store_add_ok(c);
}


static void
store_cmd_bgsave(store_client_t *c)
{
    store_t  *st = c->st;
    int       schedule = 0;

    if (c->argc > 1) {
        if (c->argc == 2 && store_arg_is(&c->argv[1], "schedule")) {
            schedule = 1;
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }
    if (store_child_running(st) == STORE_CHILD_RDB) {
        store_add_err(c, "ERR Background save already in progress");
    } else if (store_child_running(st) != STORE_CHILD_NONE
               || (c->flags & STORE_CLIENT_IN_EXEC))
    {
        /* Inside EXEC Redis never forks: the cron will. */
        if (schedule || (c->flags & STORE_CLIENT_IN_EXEC)) {
            st->save->scheduled = 1;
            store_reply_simple(&c->r, "Background saving scheduled", 27);
        } else {
            store_add_err(c, "ERR Another child process is active (AOF?): "
                          "can't BGSAVE right now. Use BGSAVE SCHEDULE in "
                          "order to schedule a BGSAVE whenever possible.");
        }
    } else if (store_save_bgsave(st) == OB_OK) {
        store_reply_simple(&c->r, "Background saving started", 25);
    } else {
        store_add_err(c, "ERR");
    }
}


static void
store_cmd_lastsave(store_client_t *c)
{
    store_reply_int(&c->r, (long long) c->st->last_save_time);
}


#define STORE_SHUTDOWN_NOSAVE  0x01
#define STORE_SHUTDOWN_SAVE    0x02
#define STORE_SHUTDOWN_NOW     0x04
#define STORE_SHUTDOWN_FORCE   0x08

/*
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT].  Success has no reply: the
 * connection closes with the server.  No shutdown ever waits here for
 * lagging replicas, so ABORT always finds none in progress.
 */
static void
store_cmd_shutdown(store_client_t *c)
{
    store_t   *st = c->st;
    unsigned   flags = 0;
    int        abort_ = 0;
    size_t     i;
    ob_err_t   err;

    for (i = 1; i < c->argc; i++) {
        if (store_arg_is(&c->argv[i], "nosave")) {
            flags |= STORE_SHUTDOWN_NOSAVE;
        } else if (store_arg_is(&c->argv[i], "save")) {
            flags |= STORE_SHUTDOWN_SAVE;
        } else if (store_arg_is(&c->argv[i], "now")) {
            flags |= STORE_SHUTDOWN_NOW;
        } else if (store_arg_is(&c->argv[i], "force")) {
            flags |= STORE_SHUTDOWN_FORCE;
        } else if (store_arg_is(&c->argv[i], "abort")) {
            abort_ = 1;
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }
    if ((abort_ && flags != 0)
        || ((flags & STORE_SHUTDOWN_NOSAVE) && (flags & STORE_SHUTDOWN_SAVE)))
    {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    if (abort_) {
        store_add_err(c, "ERR No shutdown in progress.");
        return;
    }
    ob_log_warning(&st->cy->log, "User requested shutdown...");
    if (store_save_shutdown_generic(st, (flags & STORE_SHUTDOWN_SAVE) != 0,
                                    (flags & STORE_SHUTDOWN_NOSAVE) != 0,
                                    (flags & STORE_SHUTDOWN_FORCE) != 0, &err)
        != OB_OK && !(flags & STORE_SHUTDOWN_FORCE))
    {
        ob_log_warning(&st->cy->log, "Errors trying to shut down the server. "
                       "Check the logs for more information.");
        store_add_err(c, "ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    ob_log_warning(&st->cy->log, "Redis is now ready to exit, bye bye...");
    ob_cycle_shutdown_begin(st->cy);
}


const store_cmd_t store_cmds_save[] = {
    { .base = { .name = "save", .arity_min = 1, .arity_max = 1,
                .flags = OB_CMD_ADMIN | STORE_CMD_NOSCRIPT
                         | STORE_CMD_NO_ASYNC_LOADING | STORE_CMD_NO_MULTI },
      .handler = store_cmd_save, .acl = "@admin @slow @dangerous" },
    { .base = { .name = "bgsave", .arity_min = 1, .arity_max = -1,
                .flags = OB_CMD_ADMIN | STORE_CMD_NOSCRIPT
                         | STORE_CMD_NO_ASYNC_LOADING },
      .handler = store_cmd_bgsave, .acl = "@admin @slow @dangerous" },
    { .base = { .name = "lastsave", .arity_min = 1, .arity_max = 1,
                .flags = STORE_CMD_LOADING | STORE_CMD_STALE | OB_CMD_FAST },
      .handler = store_cmd_lastsave, .acl = "@admin @fast @dangerous" },
    { .base = { .name = "shutdown", .arity_min = 1, .arity_max = -1,
                .flags = OB_CMD_ADMIN | STORE_CMD_NOSCRIPT | STORE_CMD_LOADING
                         | STORE_CMD_STALE | STORE_CMD_NO_MULTI
                         | STORE_CMD_ALLOW_BUSY },
      .handler = store_cmd_shutdown, .acl = "@admin @slow @dangerous" },
    { .base = { .name = NULL } }
};


/* ---- life ---------------------------------------------------------------- */

int
store_save_init(store_t *st, ob_err_t *err)
{
    struct store_save_s *sv;

    sv = calloc(1, sizeof(*sv));
    if (sv == NULL) {
        return ob_err_set(err, "store: out of memory");
    }
    sv->bgsave_ok = 1;
    sv->pid = -1;
    st->save = sv;
    store_save_rules_refresh(st);
    return OB_OK;
}


void
store_save_fini(store_t *st)
{
    struct store_save_s *sv = st->save;

    if (sv == NULL) {
        return;
    }
    free(sv->rules);
    free(sv->parsed);
    free(sv);
    st->save = NULL;
}
