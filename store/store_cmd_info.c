/*
 * store_cmd_info.c: INFO, with Redis 7.0's sections and field names so
 * that tools which parse it (redis-cli --stat, monitoring agents,
 * redis-py's info()) read onebox as they read Redis.  The sections that
 * describe features onebox does not have say so with Redis's own values
 * (no cluster).  Persistence and replication write their own fields
 * (store_persist.h).
 */
#include "store_srv.h"
#include "store_persist.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/utsname.h>

void
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


/*
 * instantaneous_ops_per_sec and the kbps figures: as Redis's
 * trackInstantaneousMetric, a rate sampled every 100 ms and averaged
 * over the last 16 samples.  Sampled lazily (by each command and by
 * INFO) instead of from the cron; after a pause of more than the window
 * the old samples are dropped, so an idle server reads 0.
 */
#define STORE_INST_SAMPLES  16

typedef struct {
    int64_t   last_ms;
    uint64_t  last_value;
    uint64_t  samples[STORE_INST_SAMPLES];
    unsigned  idx;
} store_inst_metric_t;

static struct {
    store_inst_metric_t  ops, in, out;
} store_inst;


static void
store_inst_sample(store_inst_metric_t *m, int64_t now_ms, uint64_t value)
{
    int64_t dt = now_ms - m->last_ms;

    if (m->last_ms != 0 && dt > 100 * STORE_INST_SAMPLES) {
        memset(m->samples, 0, sizeof(m->samples));
    } else if (m->last_ms != 0 && dt > 0) {
        m->samples[m->idx] = (value - m->last_value) * 1000 / (uint64_t) dt;
        m->idx = (m->idx + 1) % STORE_INST_SAMPLES;
    }
    m->last_ms = now_ms;
    m->last_value = value;
}


void
store_info_track(store_t *st)
{
    if (st->now_ms - store_inst.ops.last_ms < 100) {
        return;
    }
    store_inst_sample(&store_inst.ops, st->now_ms, st->total_commands);
    store_inst_sample(&store_inst.in, st->now_ms, st->total_net_input);
    store_inst_sample(&store_inst.out, st->now_ms, st->total_net_output);
}


static uint64_t
store_info_rate(const store_inst_metric_t *m)
{
    uint64_t  sum = 0;
    size_t    i;

    for (i = 0; i < STORE_INST_SAMPLES; i++) {
        sum += m->samples[i];
    }
    return sum / STORE_INST_SAMPLES;
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
        double sysmem = (double) sysconf(_SC_PHYS_PAGES)
                        * (double) sysconf(_SC_PAGESIZE);
        char   h3[32], h4[32];

        store_bytes_human(h1, sizeof(h1), (double) used);
        store_bytes_human(h2, sizeof(h2), (double) st->used_memory_peak);
        store_bytes_human(h3, sizeof(h3), (double) rss);
        store_bytes_human(h4, sizeof(h4), sysmem);
        /* No Lua, no functions, no allocator of its own: Redis's fields
         * with the values that say so (Lua's are an empty VM's). */
        store_text_add(&t, "# Memory\r\nused_memory:%zu\r\n"
            "used_memory_human:%s\r\nused_memory_rss:%zu\r\n"
            "used_memory_rss_human:%s\r\n"
            "used_memory_peak:%zu\r\nused_memory_peak_human:%s\r\n"
            "used_memory_peak_perc:%.2f%%\r\nused_memory_overhead:0\r\n"
            "used_memory_startup:0\r\nused_memory_dataset:%zu\r\n"
            "used_memory_dataset_perc:100.00%%\r\n"
            "allocator_allocated:%zu\r\nallocator_active:%zu\r\n"
            "allocator_resident:%zu\r\ntotal_system_memory:%.0f\r\n"
            "total_system_memory_human:%s\r\nused_memory_lua:31744\r\n"
            "used_memory_vm_eval:31744\r\nused_memory_lua_human:31.00K\r\n"
            "used_memory_scripts_eval:0\r\nnumber_of_cached_scripts:0\r\n"
            "number_of_functions:0\r\nnumber_of_libraries:0\r\n"
            "used_memory_vm_functions:32768\r\n"
            "used_memory_vm_total:64512\r\n"
            "used_memory_vm_total_human:63.00K\r\n"
            "used_memory_functions:0\r\nused_memory_scripts:0\r\n"
            "used_memory_scripts_human:0B\r\n",
            used, h1, rss, h3, st->used_memory_peak, h2,
            st->used_memory_peak ? (double) used * 100
                                   / (double) st->used_memory_peak : 0.0,
            used, used, used, rss, sysmem, h4);
        store_bytes_human(h1, sizeof(h1), (double) st->maxmemory);
        store_text_add(&t, "maxmemory:%lld\r\nmaxmemory_human:%s\r\n"
            "maxmemory_policy:%s\r\nallocator_frag_ratio:1.00\r\n"
            "allocator_frag_bytes:0\r\nallocator_rss_ratio:%.2f\r\n"
            "allocator_rss_bytes:%lld\r\nrss_overhead_ratio:1.00\r\n"
            "rss_overhead_bytes:0\r\nmem_fragmentation_ratio:%.2f\r\n"
            "mem_fragmentation_bytes:%lld\r\nmem_not_counted_for_evict:0\r\n"
            "mem_replication_backlog:0\r\n"
            "mem_total_replication_buffers:0\r\nmem_clients_slaves:0\r\n"
            "mem_clients_normal:0\r\nmem_cluster_links:0\r\n"
            "mem_aof_buffer:0\r\nmem_allocator:onebox-arena\r\n"
            "active_defrag_running:0\r\nlazyfree_pending_objects:0\r\n"
            "lazyfreed_objects:0\r\n",
            st->maxmemory, h1,
            (const char *[]) { "noeviction", "allkeys-lru", "allkeys-lfu",
                               "allkeys-random", "volatile-lru",
                               "volatile-lfu", "volatile-random",
                               "volatile-ttl" }[st->maxmemory_policy],
            used ? (double) rss / (double) used : 0.0,
            (long long) rss - (long long) used,
            used ? (double) rss / (double) used : 0.0,
            (long long) rss - (long long) used);
    }
    SECTION("persistence", 1, 1) {
        store_text_add(&t, "# Persistence\r\nloading:%d\r\n"
                       "async_loading:0\r\n", st->loading);
        store_save_info(st, &t);
        store_aof_info(st, &t);
    }
    SECTION("stats", 1, 1) {
        uint64_t sync_full, sync_ok, sync_err;

        store_repl_stats(st, &sync_full, &sync_ok, &sync_err);
        store_info_track(st);
        store_text_add(&t, "# Stats\r\ntotal_connections_received:%llu\r\n"
            "total_commands_processed:%llu\r\n"
            "instantaneous_ops_per_sec:%llu\r\n"
            "total_net_input_bytes:%llu\r\ntotal_net_output_bytes:%llu\r\n"
            "total_net_repl_input_bytes:0\r\n"
            "total_net_repl_output_bytes:0\r\n"
            "instantaneous_input_kbps:%.2f\r\n"
            "instantaneous_output_kbps:%.2f\r\n"
            "instantaneous_input_repl_kbps:0.00\r\n"
            "instantaneous_output_repl_kbps:0.00\r\n"
            "rejected_connections:%llu\r\nsync_full:%llu\r\n"
            "sync_partial_ok:%llu\r\nsync_partial_err:%llu\r\n"
            "expired_keys:%llu\r\n"
            "expired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\n"
            "expire_cycle_cpu_milliseconds:0\r\n"
            "evicted_keys:%llu\r\nevicted_clients:0\r\n"
            "total_eviction_exceeded_time:0\r\n"
            "current_eviction_exceeded_time:0\r\nkeyspace_hits:%llu\r\n"
            "keyspace_misses:%llu\r\npubsub_channels:%zu\r\n"
            "pubsub_patterns:%zu\r\npubsubshard_channels:0\r\n"
            "latest_fork_usec:%llu\r\ntotal_forks:%llu\r\n"
            "migrate_cached_sockets:0\r\nslave_expires_tracked_keys:0\r\n"
            "active_defrag_hits:0\r\nactive_defrag_misses:0\r\n"
            "active_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\n"
            "total_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\n"
            "tracking_total_keys:0\r\ntracking_total_items:0\r\n"
            "tracking_total_prefixes:0\r\nunexpected_error_replies:0\r\n"
            "total_error_replies:%llu\r\ndump_payload_sanitizations:0\r\n"
            "total_reads_processed:%llu\r\ntotal_writes_processed:%llu\r\n"
            "io_threaded_reads_processed:0\r\n"
            "io_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\n"
            "reply_buffer_expands:0\r\n",
            (unsigned long long) st->total_connections,
            (unsigned long long) st->total_commands,
            (unsigned long long) store_info_rate(&store_inst.ops),
            (unsigned long long) st->total_net_input,
            (unsigned long long) st->total_net_output,
            (double) store_info_rate(&store_inst.in) / 1024,
            (double) store_info_rate(&store_inst.out) / 1024,
            (unsigned long long) st->rejected_connections,
            (unsigned long long) sync_full,
            (unsigned long long) sync_ok,
            (unsigned long long) sync_err,
            (unsigned long long) st->dbs->expired_keys,
            (unsigned long long) st->evicted_keys,
            (unsigned long long) st->keyspace_hits,
            (unsigned long long) st->keyspace_misses,
            ob_hash_count(&st->channels), st->npatterns,
            (unsigned long long) store_child_latest_fork_usec(st),
            (unsigned long long) store_child_total_forks(st),
            (unsigned long long) st->total_error_replies,
            (unsigned long long) st->total_commands,
            (unsigned long long) st->total_commands);
    }
    SECTION("replication", 1, 1) {
        store_text_add(&t, "# Replication\r\n");
        store_repl_info(st, &t);
    }
    SECTION("cpu", 1, 1) {
        getrusage(RUSAGE_SELF, &ru);
        store_text_add(&t, "# CPU\r\nused_cpu_sys:%ld.%06ld\r\n"
            "used_cpu_user:%ld.%06ld\r\n",
            (long) ru.ru_stime.tv_sec, (long) ru.ru_stime.tv_usec,
            (long) ru.ru_utime.tv_sec, (long) ru.ru_utime.tv_usec);
        getrusage(RUSAGE_CHILDREN, &ru);
        store_text_add(&t, "used_cpu_sys_children:%ld.%06ld\r\n"
            "used_cpu_user_children:%ld.%06ld\r\n",
            (long) ru.ru_stime.tv_sec, (long) ru.ru_stime.tv_usec,
            (long) ru.ru_utime.tv_sec, (long) ru.ru_utime.tv_usec);
        getrusage(RUSAGE_THREAD, &ru);
        store_text_add(&t, "used_cpu_sys_main_thread:%ld.%06ld\r\n"
            "used_cpu_user_main_thread:%ld.%06ld\r\n",
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
    SECTION("latencystats", 0, 1) {
        /* No latency histograms are kept: the section is what Redis
         * shows with latency-tracking off. */
        store_text_add(&t, "# Latencystats\r\n");
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
