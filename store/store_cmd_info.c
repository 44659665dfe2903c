/*
 * store_cmd_info.c: INFO, with Redis 7.0's sections and field names so
 * that tools which parse it (redis-cli --stat, monitoring agents,
 * redis-py's info()) read onebox as they read Redis.  The sections that
 * describe features onebox does not have say so with Redis's own values
 * (no persistence yet: rdb_bgsave_in_progress:0, aof_enabled:0; a
 * master with no replicas; no cluster).
 */
#include "store_srv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/utsname.h>

typedef struct store_text_s {
    char    *data;
    size_t   len, cap;
    int      failed;
} store_text_t;


static void
store_text_add(store_text_t *t, const char *fmt, ...)
{
    va_list  ap;
    int      n;
    char    *grown;

    if (t->failed) {
        return;
    }
    if (t->data == NULL) {
        t->data = malloc(1024);
        if (t->data == NULL) {
            t->failed = 1;
            return;
        }
        t->cap = 1024;
    }
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t) n < t->cap - t->len) {
            t->len += (size_t) n;
            return;
        }
        grown = realloc(t->data, (t->cap + (size_t) n + 1) * 2);
        if (grown == NULL) {
            t->failed = 1;
            return;
        }
        t->data = grown;
        t->cap = (t->cap + (size_t) n + 1) * 2;
    }
}


/* "1.06M", Redis's bytesToHuman. */
static void
store_bytes_human(char *buf, size_t cap, double n)
{
    if (n < 1024) {
        snprintf(buf, cap, "%lluB", (unsigned long long) n);
    } else if (n < 1024.0 * 1024) {
        snprintf(buf, cap, "%.2fK", n / 1024);
    } else if (n < 1024.0 * 1024 * 1024) {
        snprintf(buf, cap, "%.2fM", n / (1024 * 1024));
    } else {
        snprintf(buf, cap, "%.2fG", n / (1024.0 * 1024 * 1024));
    }
}


static size_t
store_rss_bytes(void)
{
    FILE          *f = fopen("/proc/self/statm", "r");
    unsigned long  size, rss = 0;

    if (f == NULL) {
        return 0;
    }
    if (fscanf(f, "%lu %lu", &size, &rss) != 2) {
        rss = 0;
    }
    fclose(f);
    return rss * (size_t) sysconf(_SC_PAGESIZE);
}


static int
store_section_wanted(const char *name, const ob_str_t *want, size_t nwant,
                     int is_default, int in_all)
{
    size_t i;

    if (nwant == 0) {
        return is_default;
    }
    for (i = 0; i < nwant; i++) {
        if (store_arg_is(&want[i], name)
            || (store_arg_is(&want[i], "default") && is_default)
            || ((store_arg_is(&want[i], "all")
                 || store_arg_is(&want[i], "everything")) && in_all))
        {
            return 1;
        }
    }
    return 0;
}


char *
store_info_text(store_t *st, store_client_t *c, const ob_str_t *want,
                size_t nwant, size_t *len)
{
    store_text_t    t = { 0 };
    struct utsname  un;
    char            h1[32], h2[32];
    size_t          used = store_used_memory(st), i;
    int64_t         up = (st->now_ms - st->start_ms) / 1000;
    int             sections = 0;
    struct rusage   ru;

    (void) c;
    if (used > st->used_memory_peak) {
        st->used_memory_peak = used;
    }
#define SECTION(name, def, all) \
    if (store_section_wanted(name, want, nwant, def, all) \
        && (sections++ ? (store_text_add(&t, "\r\n"), 1) : 1))

    SECTION("server", 1, 1) {
        uname(&un);
        store_text_add(&t, "# Server\r\nredis_version:%s\r\n"
            "redis_git_sha1:00000000\r\nredis_git_dirty:0\r\n"
            "redis_build_id:0\r\nredis_mode:standalone\r\n"
            "os:%s %s %s\r\narch_bits:64\r\nmonotonic_clock:POSIX "
            "clock_gettime\r\nmultiplexing_api:epoll\r\n"
            "atomicvar_api:c11-builtin\r\ngcc_version:%d.%d.0\r\n"
            "process_id:%ld\r\nprocess_supervised:no\r\nrun_id:%s\r\n"
            "tcp_port:%d\r\nserver_time_usec:%lld\r\n"
            "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\nhz:%d\r\n"
            "configured_hz:%d\r\nlru_clock:%u\r\nexecutable:onebox\r\n"
            "config_file:\r\nio_threads_active:0\r\n",
            STORE_REDIS_VERSION, un.sysname, un.release, un.machine,
            __GNUC__, __GNUC_MINOR__, (long) getpid(), st->run_id, st->port,
            (long long) st->now_ms * 1000, (long long) up,
            (long long) up / 86400, st->hz, st->hz,
            store_lru_clock(st->now_ms));
    }
    SECTION("clients", 1, 1) {
        store_text_add(&t, "# Clients\r\nconnected_clients:%zu\r\n"
            "cluster_connections:0\r\nmaxclients:10000\r\n"
            "client_recent_max_input_buffer:0\r\n"
            "client_recent_max_output_buffer:0\r\nblocked_clients:%zu\r\n"
            "tracking_clients:0\r\nclients_in_timeout_table:%zu\r\n",
            st->nclients, st->blocked_clients, st->blocked_clients);
    }
    SECTION("memory", 1, 1) {
        size_t rss = store_rss_bytes();

        store_bytes_human(h1, sizeof(h1), (double) used);
        store_bytes_human(h2, sizeof(h2), (double) st->used_memory_peak);
        store_text_add(&t, "# Memory\r\nused_memory:%zu\r\n"
            "used_memory_human:%s\r\nused_memory_rss:%zu\r\n"
            "used_memory_peak:%zu\r\nused_memory_peak_human:%s\r\n",
            used, h1, rss, st->used_memory_peak, h2);
        store_bytes_human(h1, sizeof(h1), (double) st->maxmemory);
        store_text_add(&t, "maxmemory:%lld\r\nmaxmemory_human:%s\r\n"
            "maxmemory_policy:%s\r\nmem_fragmentation_ratio:%.2f\r\n"
            "mem_allocator:onebox-arena\r\n",
            st->maxmemory, h1,
            (const char *[]) { "noeviction", "allkeys-lru", "allkeys-lfu",
                               "allkeys-random", "volatile-lru",
                               "volatile-lfu", "volatile-random",
                               "volatile-ttl" }[st->maxmemory_policy],
            used ? (double) rss / (double) used : 0.0);
    }
    SECTION("persistence", 1, 1) {
        store_text_add(&t, "# Persistence\r\nloading:0\r\nasync_loading:0\r\n"
            "current_cow_peak:0\r\ncurrent_cow_size:0\r\n"
            "rdb_changes_since_last_save:%llu\r\n"
            "rdb_bgsave_in_progress:0\r\nrdb_last_save_time:%lld\r\n"
            "rdb_last_bgsave_status:ok\r\nrdb_last_bgsave_time_sec:-1\r\n"
            "rdb_current_bgsave_time_sec:-1\r\nrdb_last_cow_size:0\r\n"
            "aof_enabled:0\r\naof_rewrite_in_progress:0\r\n"
            "aof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\n"
            "aof_current_rewrite_time_sec:-1\r\n"
            "aof_last_bgrewrite_status:ok\r\naof_last_write_status:ok\r\n",
            (unsigned long long) st->dirty, (long long) st->last_save_time);
    }
    SECTION("stats", 1, 1) {
        store_text_add(&t, "# Stats\r\ntotal_connections_received:%llu\r\n"
            "total_commands_processed:%llu\r\ninstantaneous_ops_per_sec:0\r\n"
            "total_net_input_bytes:%llu\r\ntotal_net_output_bytes:%llu\r\n"
            "rejected_connections:%llu\r\nexpired_keys:%llu\r\n"
            "expired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\n"
            "evicted_keys:%llu\r\nkeyspace_hits:%llu\r\n"
            "keyspace_misses:%llu\r\npubsub_channels:%zu\r\n"
            "pubsub_patterns:%zu\r\ntotal_error_replies:%llu\r\n",
            (unsigned long long) st->total_connections,
            (unsigned long long) st->total_commands,
            (unsigned long long) st->total_net_input,
            (unsigned long long) st->total_net_output,
            (unsigned long long) st->rejected_connections,
            (unsigned long long) st->dbs->expired_keys,
            (unsigned long long) st->evicted_keys,
            (unsigned long long) st->keyspace_hits,
            (unsigned long long) st->keyspace_misses,
            ob_hash_count(&st->channels), st->npatterns,
            (unsigned long long) st->total_error_replies);
    }
    SECTION("replication", 1, 1) {
        store_text_add(&t, "# Replication\r\nrole:master\r\n"
            "connected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
            "master_replid:%s\r\n"
            "master_replid2:0000000000000000000000000000000000000000\r\n"
            "master_repl_offset:0\r\nsecond_repl_offset:-1\r\n"
            "repl_backlog_active:0\r\nrepl_backlog_size:1048576\r\n"
            "repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
            st->run_id);
    }
    SECTION("cpu", 1, 1) {
        getrusage(RUSAGE_SELF, &ru);
        store_text_add(&t, "# CPU\r\nused_cpu_sys:%ld.%06ld\r\n"
            "used_cpu_user:%ld.%06ld\r\n",
            (long) ru.ru_stime.tv_sec, (long) ru.ru_stime.tv_usec,
            (long) ru.ru_utime.tv_sec, (long) ru.ru_utime.tv_usec);
    }
    SECTION("modules", 1, 1) {
        store_text_add(&t, "# Modules\r\n");
    }
    SECTION("commandstats", 0, 1) {
        store_text_add(&t, "# Commandstats\r\n");
        for (i = 0; i < st->ncmds; i++) {
            const store_cmd_stats_t *cs = &st->cmd_stats[i];

            if (cs->calls == 0 && cs->rejected == 0) {
                continue;
            }
            store_text_add(&t, "cmdstat_%s:calls=%llu,usec=%llu,"
                "usec_per_call=%.2f,rejected_calls=%llu,failed_calls=%llu"
                "\r\n", st->cmd_entries[i].base.name,
                (unsigned long long) cs->calls, (unsigned long long) cs->usec,
                cs->calls ? (double) cs->usec / (double) cs->calls : 0.0,
                (unsigned long long) cs->rejected,
                (unsigned long long) cs->failed);
        }
    }
    SECTION("errorstats", 1, 1) {
        store_text_add(&t, "# Errorstats\r\n");
        for (i = 0; i < st->nerrstats; i++) {
            store_text_add(&t, "errorstat_%s:count=%llu\r\n",
                           st->errstats[i].code,
                           (unsigned long long) st->errstats[i].count);
        }
    }
    SECTION("cluster", 1, 1) {
        store_text_add(&t, "# Cluster\r\ncluster_enabled:0\r\n");
    }
    SECTION("keyspace", 1, 1) {
        store_text_add(&t, "# Keyspace\r\n");
        for (i = 0; i < (size_t) st->databases; i++) {
            store_db_t *db = store_dbs_db(st->dbs, (int) i);

            if (store_db_size(db) == 0) {
                continue;
            }
            store_text_add(&t, "db%zu:keys=%zu,expires=%zu,avg_ttl=0\r\n",
                           i, store_db_size(db), store_db_expires_count(db));
        }
    }
#undef SECTION
    if (t.failed) {
        free(t.data);
        return NULL;
    }
    *len = t.len;
    if (t.data == NULL) {
        t.data = strdup("");
    }
    return t.data;
}


static void
store_cmd_info(store_client_t *c)
{
    char   *text;
    size_t  len = 0;

    text = store_info_text(c->st, c, c->argv + 1, c->argc - 1, &len);
    if (text == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    store_reply_verbatim(&c->r, "txt", text, len);
    free(text);
}


const store_cmd_t store_cmds_info[] = {
    { .base = { .name = "info", .arity_min = 1, .arity_max = -1,
                .flags = STORE_CMD_LOADING | STORE_CMD_STALE },
      .handler = store_cmd_info, .acl = "@slow @dangerous" },
    { .base = { .name = NULL } }
};
