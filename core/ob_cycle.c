/*
 * ob_cycle.c: the server's life: build the shared pieces, run the modules'
 * hooks in order, run the reactor, and take everything down again.
 *
 *   ob_cycle_init   core section -> logger, arena, event base; then each
 *                   enabled module's init, registry order
 *   ob_cycle_start  each module's start (listeners), the admin HTTP
 *                   listener, the signal events
 *   ob_cycle_run    event_base_dispatch until SIGTERM/SIGINT
 *   (the signal)    ob_cycle_shutdown_begin: listeners closed, each
 *                   module's stop in reverse order, then the loop runs on
 *                   only to write pending replies, for at most
 *                   core.shutdown_timeout seconds (ob_conn_drain_all)
 *   ob_cycle_fini   listeners closed (no new clients), each module's stop
 *                   (flush to disk) in reverse order, connections closed,
 *                   each module's fini, then the core's own pieces
 *
 * Modules are stopped before connections are closed so that a module can
 * still answer or drain what it has in flight while it flushes.
 */
#include "ob_cycle.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>

#include "ob_conn_int.h"
#include "ob_http.h"


static void
ob_cycle_reap_cb(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ob_conn_reap(arg);
}


static void
ob_cycle_signal_cb(evutil_socket_t sig, short what, void *arg)
{
    ob_cycle_t *cy = arg;

    (void) what;
    if (sig == SIGHUP) {
        ob_log_notice(&cy->log, "SIGHUP: reopening the log file");
        ob_log_reopen(&cy->log);
        return;
    }
    ob_log_notice(&cy->log, "%s received, shutting down",
                  sig == SIGTERM ? "SIGTERM" : "SIGINT");
    ob_cycle_shutdown_begin(cy);
}


/* Reads the core section into the logger, the arena and the limits. */
static int
ob_cycle_core_init(ob_cycle_t *cy, const json_t *core, ob_err_t *err)
{
    ob_arena_conf_t  ac;
    ob_log_level_t   level;
    char             aerr[256];

    if (ob_log_level_parse(ob_conf_str(core, "log_level"), &level) != OB_OK) {
        return ob_err_set(err, "core.log_level: unknown level");
    }
    if (ob_log_open(&cy->log, level, ob_conf_str(core, "log_file"), err)
        != OB_OK)
    {
        return OB_ERR;
    }

    ac.limit = (size_t) ob_conf_int(core, "memory_mb") * 1024 * 1024;
    ac.min_chunk = (size_t) ob_conf_int(core, "slab_min_chunk");
    /* smaller pages for a small -m: see ob_arena_page_size_fit */
    ac.page_size = ob_arena_page_size_fit(ac.limit,
                       (size_t) ob_conf_int(core, "slab_page_size"),
                       ac.min_chunk);
    ac.growth_factor = ob_conf_double(core, "slab_growth_factor");
    cy->arena = ob_arena_new(&ac, aerr, sizeof(aerr));
    if (cy->arena == NULL) {
        return ob_err_set(err, "core.slab_*: %s", aerr);
    }

    cy->max_connections = (uint64_t) ob_conf_int(core, "max_connections");
    cy->max_input = (size_t) ob_conf_int(core, "max_input_buffer");
    cy->output_soft = (size_t) ob_conf_int(core, "output_buffer_soft");
    cy->output_hard = (size_t) ob_conf_int(core, "output_buffer_hard");
    cy->idle_timeout = (int) ob_conf_int(core, "idle_timeout");
    cy->reqs_per_event = (unsigned) ob_conf_int(core, "reqs_per_event");
    cy->shutdown_timeout = (int) ob_conf_int(core, "shutdown_timeout");

    cy->base = event_base_new();
    if (cy->base == NULL) {
        return ob_err_set(err, "cannot create the event base");
    }
    cy->reap_ev = event_new(cy->base, -1, 0, ob_cycle_reap_cb, cy);
    if (cy->reap_ev == NULL) {
        return ob_err_set(err, "cannot create events");
    }
    return OB_OK;
}


int
ob_cycle_init(ob_cycle_t *cy, const ob_conf_t *conf,
              const ob_module_t *const *modules, ob_err_t *err)
{
    const ob_module_t *m;
    const json_t      *section;
    ob_module_slot_t  *slot;
    size_t             i;

    memset(cy, 0, sizeof(*cy));
    cy->conf = conf;
    cy->log.fp = stderr;
    cy->log.level = OB_LOG_NOTICE;
    gettimeofday(&cy->started, NULL);

    if (ob_cycle_core_init(cy, ob_conf_section(conf, "core"), err) != OB_OK
        || ob_http_init(cy, err) != OB_OK)      /* modules add routes */
    {
        ob_cycle_fini(cy);
        return OB_ERR;
    }

    for (i = 0; modules[i] != NULL; i++) {
        m = modules[i];
        section = ob_conf_section(conf, m->name);
        if (section != NULL && !ob_conf_bool(section, "enabled")) {
            ob_log_info(&cy->log, "%s: disabled by configuration", m->name);
            continue;
        }
        if (cy->nslots == OB_MAX_MODULES) {
            ob_err_set(err, "too many modules");
            ob_cycle_fini(cy);
            return OB_ERR;
        }
        slot = &cy->slots[cy->nslots];
        slot->module = m;
        slot->arena_owner = ob_arena_owner_add(cy->arena, m->name);
        cy->nslots++;
        if (m->init != NULL
            && m->init(cy, section, slot->arena_owner, &slot->state, err)
               != OB_OK)
        {
            slot->module = NULL;      /* nothing to stop or free */
            cy->nslots--;
            ob_cycle_fini(cy);
            return OB_ERR;
        }
    }
    return OB_OK;
}


int
ob_cycle_start(ob_cycle_t *cy, ob_err_t *err)
{
    static const int  sigs[3] = { SIGTERM, SIGINT, SIGHUP };
    ob_module_slot_t *slot;
    size_t            i;

    /* A peer that closes while we write must not kill the process. */
    signal(SIGPIPE, SIG_IGN);

    for (i = 0; i < 3; i++) {
        cy->sig_ev[i] = evsignal_new(cy->base, sigs[i], ob_cycle_signal_cb, cy);
        if (cy->sig_ev[i] == NULL || evsignal_add(cy->sig_ev[i], NULL) != 0) {
            return ob_err_set(err, "cannot install signal "
                     "handlers");
        }
    }

    for (i = 0; i < cy->nslots; i++) {
        slot = &cy->slots[i];
        if (slot->module->start != NULL
            && slot->module->start(cy, slot->state, err) != OB_OK)
        {
            return OB_ERR;
        }
        slot->started = 1;
    }

    return ob_http_start(cy, err);
}


int
ob_cycle_run(ob_cycle_t *cy)
{
    event_base_dispatch(cy->base);
    return cy->exit_code;
}


void
ob_cycle_shutdown_begin(ob_cycle_t *cy)
{
    ob_module_slot_t *slot;
    size_t            i;

    if (cy->draining) {
        /* A second signal: stop draining. */
        event_base_loopexit(cy->base, NULL);
        return;
    }

    /* Stop accepting at once, and let the modules stop (they may queue
     * last words: an AMQP close, a final replica flush); then the loop
     * keeps running only to write pending output, for at most
     * core.shutdown_timeout seconds.  ob_cycle_fini does the rest. */
    ob_listen_close_all(cy);
    ob_http_stop(cy);
    for (i = cy->nslots; i-- > 0; ) {
        slot = &cy->slots[i];
        if (slot->started && slot->module->stop != NULL) {
            slot->module->stop(cy, slot->state);
        }
        slot->started = 0;
    }
    if (ob_conn_drain_all(cy, cy->shutdown_timeout) != OB_OK) {
        event_base_loopexit(cy->base, NULL);
    }
}


void
ob_cycle_fini(ob_cycle_t *cy)
{
    ob_module_slot_t *slot;
    size_t            i;

    if (cy->base != NULL) {
        ob_listen_close_all(cy);
        ob_http_stop(cy);
    }

    for (i = cy->nslots; i-- > 0; ) {
        slot = &cy->slots[i];
        if (slot->started && slot->module->stop != NULL) {
            slot->module->stop(cy, slot->state);
        }
        slot->started = 0;
    }

    ob_conn_close_all(cy);
    ob_listen_guard_free(cy);

    for (i = cy->nslots; i-- > 0; ) {
        slot = &cy->slots[i];
        if (slot->module->fini != NULL) {
            slot->module->fini(slot->state);
        }
    }
    cy->nslots = 0;

    for (i = 0; i < 3; i++) {
        if (cy->sig_ev[i] != NULL) {
            event_free(cy->sig_ev[i]);
            cy->sig_ev[i] = NULL;
        }
    }
    if (cy->reap_ev != NULL) {
        event_free(cy->reap_ev);
        cy->reap_ev = NULL;
    }
    if (cy->base != NULL) {
        event_base_free(cy->base);
        cy->base = NULL;
    }
    if (cy->arena != NULL) {
        ob_arena_destroy(cy->arena);
        cy->arena = NULL;
    }
    ob_log_close(&cy->log);
}


void *
ob_cycle_module_state(ob_cycle_t *cy, const char *name)
{
    size_t i;

    for (i = 0; i < cy->nslots; i++) {
        if (strcmp(cy->slots[i].module->name, name) == 0) {
            return cy->slots[i].state;
        }
    }
    return NULL;
}


long
ob_cycle_uptime(const ob_cycle_t *cy)
{
    struct timeval now;

    gettimeofday(&now, NULL);
    return (long) (now.tv_sec - cy->started.tv_sec);
}


/* The arena's figures: budget, use, and each owner's share. */
static json_t *
ob_cycle_arena_json(const ob_cycle_t *cy)
{
    ob_arena_stats_t        st;
    ob_arena_owner_stats_t  os;
    json_t                 *arena, *owners;
    unsigned                i;

    ob_arena_stats(cy->arena, &st);
    owners = json_object();
    for (i = 0; i < st.nowners; i++) {
        if (ob_arena_owner_stats(cy->arena, (int) i, &os) != OB_OK) {
            continue;
        }
        /* limit 0: none but the budget; pages_given: pages an elastic
         * owner gave up to others or to its other classes */
        json_object_set_new(owners, os.name,
            json_pack("{s:I,s:I,s:I,s:b,s:I,s:I,s:I,s:I}",
            "bytes", (json_int_t) os.bytes,
            "limit", (json_int_t) os.limit,
            "pages", (json_int_t) os.pages,
            "elastic", os.elastic,
            "allocs", (json_int_t) os.allocs,
            "failures", (json_int_t) os.failures,
            "evict_calls", (json_int_t) os.evict_calls,
            "pages_given", (json_int_t) os.pages_given));
    }
    /* used counts pool pages: free pages the process keeps, which any
     * module takes before anything is reclaimed */
    arena = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
                      "limit", (json_int_t) st.limit,
                      "used", (json_int_t) st.used,
                      "pages", (json_int_t) st.pages,
                      "pool_pages", (json_int_t) st.pool_pages,
                      "spare_pages", (json_int_t) st.spare_pages,
                      "reclaims", (json_int_t) st.reclaims,
                      "page_size", (json_int_t) st.page_size,
                      "large_bytes", (json_int_t) st.large_bytes,
                      "classes", (json_int_t) st.nclasses);
    json_object_set_new(arena, "modules", owners);
    return arena;
}


json_t *
ob_cycle_stats_json(ob_cycle_t *cy)
{
    const ob_module_slot_t *slot;
    json_t                 *doc, *mods, *m;
    uint64_t                pin, pout, pref;
    size_t                  i;

    doc = json_pack("{s:s,s:i,s:I,s:I,s:I}",
        "version", OB_VERSION,
        "pid", (int) getpid(),
        "uptime", (json_int_t) ob_cycle_uptime(cy),
        "time", (json_int_t) time(NULL),
        "threads", (json_int_t) ob_conf_int(ob_conf_section(cy->conf, "core"),
                                            "threads"));
    ob_conn_totals(cy, &pin, &pout, &pref);
    json_object_set_new(doc, "connections", json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
        "current", (json_int_t) cy->stats.conns_current,
        "total", (json_int_t) cy->stats.conns_total,
        "rejected", (json_int_t) cy->stats.conns_rejected,
        "max", (json_int_t) cy->max_connections,
        "listen_disabled_num", (json_int_t) cy->stats.listen_disabled_num,
        "conn_yields", (json_int_t) cy->stats.conn_yields,
        "pending_in_bytes", (json_int_t) pin,
        "pending_out_bytes", (json_int_t) pout,
        "referenced_out_bytes", (json_int_t) pref));
    json_object_set_new(doc, "bytes", json_pack("{s:I,s:I}",
        "in", (json_int_t) cy->stats.bytes_in,
        "out", (json_int_t) cy->stats.bytes_out));
    json_object_set_new(doc, "arena", ob_cycle_arena_json(cy));

    mods = json_object();
    for (i = 0; i < cy->nslots; i++) {
        slot = &cy->slots[i];
        m = json_object();
        if (slot->module->stats != NULL) {
            slot->module->stats(slot->state, m);
        }
        json_object_set_new(mods, slot->module->name, m);
    }
    json_object_set_new(doc, "modules", mods);
    return doc;
}
