/*
 * cache_cmd_stats.c: memcached's `stats` command and its sub-commands
 * (items, slabs, settings, sizes, reset), from the cache's own counters,
 * the process arena and the cycle.
 *
 * Design notes:
 *
 *   - Field names and their order are memcached 1.6.18's, since tools
 *     (python-memcached's get_stats, memccapable, munin and damemtop
 *     scripts) read them by name and people read them by position.
 *   - Only fields that mean something in onebox are printed.  Counters of
 *     machinery onebox does not have (response objects, read buffers, the
 *     slab rebalancer's rescues, segmented-LRU moves, the logger, NAPI)
 *     are left out rather than shown as zeros that look like measurements.
 *     Where onebox truly never does a thing memcached counts (disabling
 *     the listener, SASL), the field is kept
 *     with its honest constant 0, because clients look for it.
 *   - Figures from outside the cache come from the cycle (process id,
 *     uptime, connection limits, threads) and the arena (budget, pages).
 *     The cycle may be absent (unit tests drive the handlers without
 *     one): its figures are then 0 or what the cache itself knows.
 *   - The arena is shared by every module: `limit_maxbytes` is the whole
 *     budget, or the cache's own limit once cache_memlimit set one below
 *     it (cache_mem_limit); `stats slabs` shows the cache's own pages (an arena page
 *     belongs to one module).
 *   - Large items (more than a page/2) are arena blocks of their own, in
 *     class 0: `stats items` shows them as class 0; `stats slabs` cannot,
 *     since they have no pages or chunks.
 *   - `stats reset` zeroes what memcached's stats_reset zeroes: every
 *     counter, but not the figures of what exists now (curr_items, bytes,
 *     curr_connections, each class's number and mem_requested).  The
 *     core's rejected_connections belongs to the whole process and is not
 *     reset.
 */
#include "cache_int.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "ob_cycle.h"


/*
 * A stats reply is built aside in one evbuffer and appended to the
 * connection in one checked call, so that a reply is never half-written.
 * Every line's append is checked too: `failed` remembers a refused one, and
 * the reply is then replaced by memcached's out-of-memory error.
 */
typedef struct cache_stats_out_s {
    struct evbuffer  *buf;
    int               failed;
} cache_stats_out_t;


/* Appends one formatted line, remembering a failure. */
static void
cache_stat_printf(cache_stats_out_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
cache_stat_printf(cache_stats_out_t *out, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    if (evbuffer_add_vprintf(out->buf, fmt, ap) < 0) {
        out->failed = 1;
    }
    va_end(ap);
}


/* Appends "STAT <name> <unsigned>\r\n". */
static void
cache_stat_u64(cache_stats_out_t *out, const char *name, uint64_t v)
{
    cache_stat_printf(out, "STAT %s %llu\r\n", name, (unsigned long long) v);
}


static void
cache_stat_str(cache_stats_out_t *out, const char *name, const char *v)
{
    cache_stat_printf(out, "STAT %s %s\r\n", name, v);
}


/* A "<prefix>:<field>" stat of one class, as items/slabs print them. */
static void
cache_stat_class(cache_stats_out_t *out, const char *prefix, unsigned id,
                 const char *name, uint64_t v)
{
    cache_stat_printf(out, "STAT %s%u:%s %llu\r\n", prefix, id, name,
                        (unsigned long long) v);
}


/* The core section of the configuration, or NULL without a cycle. */
static const json_t *
cache_stats_core_conf(const cache_t *c)
{
    if (c->cycle == NULL || c->cycle->conf == NULL) {
        return NULL;
    }

    return ob_conf_section(c->cycle->conf, "core");
}


/* ---- stats -------------------------------------------------------------- */

static void
cache_stats_general(cache_t *c, cache_stats_out_t *out)
{
    const cache_stats_t  *s;
    const ob_cycle_t     *cy;
    const json_t         *core;
    struct rusage         ru;
    long                  uptime;

    s = &c->stats;
    cy = c->cycle;
    core = cache_stats_core_conf(c);
    memset(&ru, 0, sizeof(ru));
    getrusage(RUSAGE_SELF, &ru);

    /* without a cycle, the cache's own clock: seconds since it started */
    uptime = cy != NULL ? ob_cycle_uptime(cy) : (long) c->now;

    cache_stat_u64(out, "pid", (uint64_t) getpid());
    cache_stat_u64(out, "uptime", (uint64_t) uptime);
    cache_stat_u64(out, "time", (uint64_t) time(NULL));
    cache_stat_str(out, "version", CACHE_PROTO_VERSION);
    cache_stat_str(out, "libevent", event_get_version());
    cache_stat_u64(out, "pointer_size", 8 * sizeof(void *));
    cache_stat_printf(out, "STAT rusage_user %ld.%06ld\r\n",
                        (long) ru.ru_utime.tv_sec, (long) ru.ru_utime.tv_usec);
    cache_stat_printf(out, "STAT rusage_system %ld.%06ld\r\n",
                        (long) ru.ru_stime.tv_sec, (long) ru.ru_stime.tv_usec);

    /* connections to the cache's listeners; the limit and the refusals
     * are the process's (the core enforces one max_connections) */
    cache_stat_u64(out, "max_connections",
                   cy != NULL ? cy->max_connections : 0);
    cache_stat_u64(out, "curr_connections", s->curr_connections);
    cache_stat_u64(out, "total_connections", s->total_connections);
    cache_stat_u64(out, "rejected_connections",
                   cy != NULL ? cy->stats.conns_rejected : 0);
    cache_stat_u64(out, "connection_structures",
                   cy != NULL ? cy->stats.conns_current : s->curr_connections);

    cache_stat_u64(out, "cmd_get", s->cmd_get);
    cache_stat_u64(out, "cmd_set", s->cmd_set);
    cache_stat_u64(out, "cmd_flush", s->cmd_flush);
    cache_stat_u64(out, "cmd_touch", s->cmd_touch);
    cache_stat_u64(out, "cmd_meta", s->cmd_meta);
    cache_stat_u64(out, "get_hits", s->get_hits);
    cache_stat_u64(out, "get_misses", s->get_misses);
    cache_stat_u64(out, "get_expired", s->get_expired);
    cache_stat_u64(out, "get_flushed", s->get_flushed);
    cache_stat_u64(out, "delete_misses", s->delete_misses);
    cache_stat_u64(out, "delete_hits", s->delete_hits);
    cache_stat_u64(out, "incr_misses", s->incr_misses);
    cache_stat_u64(out, "incr_hits", s->incr_hits);
    cache_stat_u64(out, "decr_misses", s->decr_misses);
    cache_stat_u64(out, "decr_hits", s->decr_hits);
    cache_stat_u64(out, "cas_misses", s->cas_misses);
    cache_stat_u64(out, "cas_hits", s->cas_hits);
    cache_stat_u64(out, "cas_badval", s->cas_badval);
    cache_stat_u64(out, "touch_hits", s->touch_hits);
    cache_stat_u64(out, "touch_misses", s->touch_misses);
    cache_stat_u64(out, "store_too_large", s->store_too_large);
    cache_stat_u64(out, "store_no_memory", s->store_no_memory);

    /* onebox has no SASL or ascii authentication */
    cache_stat_u64(out, "auth_cmds", 0);
    cache_stat_u64(out, "auth_errors", 0);
    cache_stat_u64(out, "bytes_read", s->bytes_read);
    cache_stat_u64(out, "bytes_written", s->bytes_written);
    cache_stat_u64(out, "limit_maxbytes", cache_mem_limit(c));

    /* over max_connections the core accepts and refuses each connection;
     * it never stops listening.  conn_yields: a connection stopped after
     * reqs_per_event requests with more waiting, as memcached counts it */
    cache_stat_u64(out, "accepting_conns", 1);
    cache_stat_u64(out, "listen_disabled_num", 0);
    cache_stat_u64(out, "time_in_listen_disabled_us", 0);
    cache_stat_u64(out, "threads",
                   core != NULL ? (uint64_t) ob_conf_int(core, "threads") : 0);
    cache_stat_u64(out, "conn_yields", s->conn_yields);

    /* the table grows a bucket at a time: while it does, both bucket
     * arrays exist, and hash_bytes counts both, as memcached does */
    {
        ob_hash_stats_t  hs;

        ob_hash_stats(&c->hash, &hs);
        cache_stat_u64(out, "hash_power_level", hs.power);
        cache_stat_u64(out, "hash_bytes", hs.bytes);
        cache_stat_u64(out, "hash_is_expanding", (uint64_t) hs.rehashing);
    }

    /* the page mover (cache_items.c): the arena's reclaims and
     * `slabs reassign` / automove */
    cache_stat_u64(out, "slab_reassign_rescues", s->slab_reassign_rescues);
    cache_stat_u64(out, "slab_reassign_evictions_nomem",
                   s->slab_reassign_evictions_nomem);
    cache_stat_u64(out, "slab_reassign_busy_items",
                   s->slab_reassign_busy_items);
    cache_stat_u64(out, "slab_reassign_busy_deletes",
                   s->slab_reassign_busy_deletes);
    cache_stat_u64(out, "slab_reassign_running", (uint64_t) c->mover.pending);
    cache_stat_u64(out, "slabs_moved", s->slabs_moved);

    cache_stat_u64(out, "bytes", s->bytes);
    cache_stat_u64(out, "curr_items", s->curr_items);
    cache_stat_u64(out, "total_items", s->total_items);
    cache_stat_u64(out, "expired_unfetched", s->expired_unfetched);
    cache_stat_u64(out, "evicted_unfetched", s->evicted_unfetched);
    cache_stat_u64(out, "evicted_active", s->evicted_active);
    cache_stat_u64(out, "evictions", s->evictions);
    cache_stat_u64(out, "reclaimed", s->reclaimed);
    cache_stat_u64(out, "crawler_reclaimed", s->crawler_reclaimed);
    cache_stat_u64(out, "crawler_items_checked", s->crawler_items_checked);
}


/* ---- stats items -------------------------------------------------------- */

/*
 * One block per class holding items.  onebox keeps one CLOCK per class,
 * not memcached's HOT/WARM/COLD segments; it plays COLD's part, so every
 * item is reported as cold, and `age` is that of the items the hand would
 * evict next.  Class ids are onebox's own (README): 1 is the class of
 * core.slab_min_chunk, then one per arena class.
 */
static void
cache_stats_items(cache_t *c, cache_stats_out_t *out)
{
    const cache_class_stats_t  *cs;
    unsigned                    id, shown;
    uint64_t                    age;

    for (id = 0; id <= OB_ARENA_MAX_CLASSES; id++) {
        cs = &c->stats.classes[id];
        if (cs->number == 0) {
            continue;
        }

        shown = cache_class_id_show(c, id);     /* memcached's id */
        age = cache_items_class_age(c, id);

        cache_stat_class(out, "items:", shown, "number", cs->number);
        cache_stat_class(out, "items:", shown, "number_hot", 0);
        cache_stat_class(out, "items:", shown, "number_warm", 0);
        cache_stat_class(out, "items:", shown, "number_cold", cs->number);
        cache_stat_class(out, "items:", shown, "age_hot", 0);
        cache_stat_class(out, "items:", shown, "age_warm", 0);
        cache_stat_class(out, "items:", shown, "age", age);
        cache_stat_class(out, "items:", shown, "mem_requested",
                         cs->mem_requested);
        cache_stat_class(out, "items:", shown, "evicted", cs->evicted);
        cache_stat_class(out, "items:", shown, "evicted_nonzero",
                         cs->evicted_nonzero);
        cache_stat_class(out, "items:", shown, "evicted_time",
                         cs->evicted_time);
        cache_stat_class(out, "items:", shown, "outofmemory",
                         cs->outofmemory);
        /* no reference counts, so no leaked tail item to repair */
        cache_stat_class(out, "items:", shown, "tailrepairs", 0);
        cache_stat_class(out, "items:", shown, "reclaimed", cs->reclaimed);
        cache_stat_class(out, "items:", shown, "expired_unfetched",
                         cs->expired_unfetched);
        cache_stat_class(out, "items:", shown, "evicted_unfetched",
                         cs->evicted_unfetched);
        cache_stat_class(out, "items:", shown, "crawler_reclaimed",
                         cs->crawler_reclaimed);
    }
}


/* ---- stats slabs -------------------------------------------------------- */

static void
cache_stats_slabs(cache_t *c, cache_stats_out_t *out)
{
    const cache_class_stats_t  *cs;
    ob_arena_class_stats_t      acs;
    ob_arena_stats_t            ast;
    unsigned                    id, shown, active;

    ob_arena_stats(c->arena, &ast);
    active = 0;

    for (id = 1; id <= ast.nclasses && id <= OB_ARENA_MAX_CLASSES; id++) {
        if (ob_arena_owner_class_stats(c->arena, c->owner, id, &acs) != OB_OK
            || acs.total_pages == 0)
        {
            continue;
        }

        active++;
        cs = &c->stats.classes[id];
        shown = cache_class_id_show(c, id);     /* memcached's id */

        cache_stat_class(out, "", shown, "chunk_size", acs.chunk_size);
        cache_stat_class(out, "", shown, "chunks_per_page",
                         acs.chunks_per_page);
        cache_stat_class(out, "", shown, "total_pages", acs.total_pages);
        cache_stat_class(out, "", shown, "total_chunks",
                         (uint64_t) acs.total_pages * acs.chunks_per_page);
        cache_stat_class(out, "", shown, "used_chunks", acs.used_chunks);
        cache_stat_class(out, "", shown, "free_chunks", acs.free_chunks);
        /* the arena's uncarved chunks are counted in free_chunks */
        cache_stat_class(out, "", shown, "free_chunks_end", 0);
        cache_stat_class(out, "", shown, "get_hits", cs->get_hits);
        cache_stat_class(out, "", shown, "cmd_set", cs->cmd_set);
        cache_stat_class(out, "", shown, "delete_hits", cs->delete_hits);
        cache_stat_class(out, "", shown, "incr_hits", cs->incr_hits);
        cache_stat_class(out, "", shown, "decr_hits", cs->decr_hits);
        cache_stat_class(out, "", shown, "cas_hits", cs->cas_hits);
        cache_stat_class(out, "", shown, "cas_badval", cs->cas_badval);
        cache_stat_class(out, "", shown, "touch_hits", cs->touch_hits);
    }

    cache_stat_u64(out, "active_slabs", active);
    /* pages given to classes plus large blocks: what the budget is spent on */
    cache_stat_u64(out, "total_malloced", ast.used);
}


/* ---- stats settings ----------------------------------------------------- */

static void
cache_stats_settings(cache_t *c, cache_stats_out_t *out)
{
    const json_t            *core, *conf;
    const char              *listen;
    ob_arena_stats_t         ast;
    ob_arena_class_stats_t   acs;
    uint64_t                 chunk;
    double                   factor;
    long long                mask;

    core = cache_stats_core_conf(c);
    conf = c->cycle != NULL && c->cycle->conf != NULL
           ? ob_conf_section(c->cycle->conf, "cache") : NULL;
    ob_arena_stats(c->arena, &ast);

    listen = core != NULL ? ob_conf_str(core, "listen") : NULL;
    factor = core != NULL ? ob_conf_double(core, "slab_growth_factor") : 0.0;
    mask = conf != NULL ? ob_conf_int(conf, "unix_mask") : 0;

    /*
     * chunk_size is memcached's -n, the room the smallest class leaves for
     * key, value and flags.  memcached's is 48 (96-byte chunks minus its
     * 48-byte header); ours is the smallest arena chunk minus our item
     * header, whatever core.slab_min_chunk makes it.
     */
    chunk = 0;
    /* the class where the growth series starts (the 8-byte-step classes
     * below it are too small for an item) */
    if (ob_arena_class_stats(c->arena, ob_arena_class_of(c->arena,
            core != NULL ? (size_t) ob_conf_int(core, "slab_min_chunk") : 1),
            &acs) == OB_OK
        && acs.chunk_size > sizeof(cache_item_t))
    {
        chunk = acs.chunk_size - sizeof(cache_item_t);
    }

    cache_stat_u64(out, "maxbytes", cache_mem_limit(c));
    cache_stat_u64(out, "maxconns",
                   c->cycle != NULL ? c->cycle->max_connections : 0);
    cache_stat_u64(out, "tcpport", (uint64_t) c->port);
    cache_stat_u64(out, "udpport", 0);
    cache_stat_str(out, "inter", listen != NULL ? listen : "NULL");
    cache_stat_u64(out, "verbosity", (uint64_t) c->verbosity);
    cache_stat_u64(out, "oldest", c->oldest_live);
    cache_stat_str(out, "evictions", c->evictions_enabled ? "on" : "off");
    cache_stat_str(out, "domain_socket",
                   c->unix_socket != NULL ? c->unix_socket : "NULL");
    cache_stat_printf(out, "STAT umask %llo\r\n", (unsigned long long) mask);
    cache_stat_str(out, "shutdown_command", "no");
    cache_stat_printf(out, "STAT growth_factor %.2f\r\n", factor);
    cache_stat_u64(out, "chunk_size", chunk);
    cache_stat_u64(out, "num_threads",
                   core != NULL ? (uint64_t) ob_conf_int(core, "threads") : 0);
    cache_stat_str(out, "detail_enabled", "no");
    cache_stat_str(out, "cas_enabled", c->cas_enabled ? "yes" : "no");
    /* text and meta commands only: no binary protocol to negotiate */
    cache_stat_str(out, "binding_protocol", "ascii");
    cache_stat_str(out, "auth_enabled_sasl", "no");
    cache_stat_str(out, "auth_enabled_ascii", "no");
    cache_stat_u64(out, "item_size_max", c->max_item_size);
    /* over the limit a connection is refused at once, with an error */
    cache_stat_str(out, "maxconns_fast", "yes");
    cache_stat_str(out, "slab_reassign", "yes");
    cache_stat_u64(out, "slab_automove", (uint64_t) c->mover.automove);
    cache_stat_printf(out, "STAT slab_automove_ratio %.2f\r\n",
                        c->mover.ratio);
    cache_stat_u64(out, "slab_automove_window", CACHE_AUTOMOVE_WINDOW);
    cache_stat_u64(out, "slab_chunk_max", ast.page_size / 2);
    cache_stat_str(out, "lru_crawler", "yes");
    cache_stat_str(out, "flush_enabled", c->flush_enabled ? "yes" : "no");
    cache_stat_str(out, "dump_enabled", "no");
    cache_stat_str(out, "hash_algorithm", "xxh3");
    cache_stat_str(out, "lru_maintainer_thread", "no");
    cache_stat_str(out, "lru_segmented", "no");
    cache_stat_str(out, "temp_lru", "no");
    cache_stat_u64(out, "idle_timeout",
                   core != NULL
                   ? (uint64_t) ob_conf_int(core, "idle_timeout") : 0);
    cache_stat_str(out, "track_sizes", "no");
    cache_stat_str(out, "inline_ascii_response", "no");
}


/* ---- stats reset -------------------------------------------------------- */

static void
cache_stats_reset(cache_t *c)
{
    cache_stats_t        *s;
    cache_class_stats_t  *cs;
    uint64_t              curr_items, bytes, curr_conns, number, mem;
    unsigned              id;

    s = &c->stats;
    curr_items = s->curr_items;
    bytes = s->bytes;
    curr_conns = s->curr_connections;

    /* every counter before the per-class table, then each class but its
     * population figures: a field added later is reset by default, as
     * almost all of memcached's are */
    memset(s, 0, offsetof(cache_stats_t, classes));
    s->curr_items = curr_items;
    s->bytes = bytes;
    s->curr_connections = curr_conns;

    for (id = 0; id <= OB_ARENA_MAX_CLASSES; id++) {
        cs = &s->classes[id];
        number = cs->number;
        mem = cs->mem_requested;
        memset(cs, 0, sizeof(*cs));
        cs->number = number;
        cs->mem_requested = mem;
    }
}




/* ---- the command -------------------------------------------------------- */

int
cache_cmd_stats(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    cache_t          *c;
    cache_stats_out_t  out;
    const ob_str_t   *sub;
    size_t            len;
    unsigned char    *text;
    int               rc;

    c = cc->cache;
    sub = ntokens > 1 ? &tokens[1] : NULL;

    if (sub != NULL && cache_token_is(sub, "reset")) {
        cache_stats_reset(c);
        return cache_reply(cc, "RESET", 0);
    }

    /* built aside, so that a reply is never half-written */
    out.buf = evbuffer_new();
    out.failed = 0;
    if (out.buf == NULL) {
        return cache_reply(cc, "SERVER_ERROR out of memory writing stats", 0);
    }

    if (sub == NULL) {
        cache_stats_general(c, &out);

    } else if (cache_token_is(sub, "settings")) {
        cache_stats_settings(c, &out);

    } else if (cache_token_is(sub, "items")) {
        cache_stats_items(c, &out);

    } else if (cache_token_is(sub, "slabs")) {
        cache_stats_slabs(c, &out);

    } else if (cache_token_is(sub, "sizes")) {
        /* memcached's item-size histogram, off unless enabled at start */
        cache_stat_str(&out, "sizes_status", "disabled");

    } else {
        /* "stats noreply", "stats bogus": memcached's unknown sub-command */
        evbuffer_free(out.buf);
        return cache_reply(cc, "ERROR", 0);
    }

    /* one checked append of the whole reply: the connection gets all of
     * it or, closing, none */
    rc = OB_ERR;
    if (!out.failed && evbuffer_add(out.buf, "END\r\n", 5) == 0) {
        len = evbuffer_get_length(out.buf);
        text = evbuffer_pullup(out.buf, -1);
        if (text != NULL) {
            rc = cache_out(cc, text, len);
        }
    }
    evbuffer_free(out.buf);
    if (rc != OB_OK && !cc->out_err) {
        rc = cache_reply(cc, "SERVER_ERROR out of memory writing stats", 0);
    }

    return rc;
}
