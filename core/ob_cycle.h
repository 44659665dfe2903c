/*
 * ob_cycle.h: the server struct.  Everything mutable in the process hangs
 * off one ob_cycle_t: the event base, the configuration, the arena, the
 * logger, the counters, the modules' states, the listeners and the open
 * connections.  There are no other globals.
 *
 *   ob_cycle_init   -> modules' init (exit 2 on failure: configuration)
 *   ob_cycle_start  -> modules' start, admin HTTP (exit 1 on failure)
 *   ob_cycle_run    -> the reactor, until ob_cycle_shutdown_begin (a signal)
 *   ob_cycle_fini   -> modules' stop and fini in reverse, connections closed
 */
#ifndef OB_CYCLE_H
#define OB_CYCLE_H

#include <stdint.h>
#include <sys/time.h>
#include <jansson.h>
#include "ob_core.h"
#include "ob_arena.h"
#include "ob_conf.h"
#include "ob_conn.h"
#include "ob_log.h"
#include "ob_module.h"

#define OB_MAX_MODULES 8

typedef struct ob_core_stats_s {
    uint64_t conns_total;        /* accepted since start */
    uint64_t conns_rejected;     /* refused over max_connections */
    uint64_t conns_current;      /* open now */
    uint64_t bytes_in;           /* read from clients */
    uint64_t bytes_out;          /* written to clients */
    uint64_t conn_yields;        /* on_read returned OB_BUSY (memcached's) */
    uint64_t listen_disabled_num; /* accepting paused: EMFILE and the like */
} ob_core_stats_t;

typedef struct ob_module_slot_s {
    const ob_module_t *module;   /* borrowed: the registry entry */
    void              *state;    /* what its init returned */
    int                arena_owner;
    int                started;
} ob_module_slot_t;

typedef struct ob_cycle_s {
    struct event_base *base;
    const ob_conf_t   *conf;          /* borrowed: validated, outlives the cycle */
    ob_arena_t        *arena;
    ob_log_t           log;
    ob_core_stats_t    stats;
    struct timeval     started;       /* for uptime */

    ob_module_slot_t   slots[OB_MAX_MODULES];
    size_t             nslots;        /* enabled modules, registry order */

    ob_listener_t     *listeners;     /* every open listener */
    ob_conn_t         *conns;         /* every open connection */
    struct event      *reap_ev;       /* frees connections marked closing */
    uint64_t           next_conn_id;

    /* Limits copied from the core section once, for the hot path. */
    uint64_t           max_connections;
    size_t             max_input;
    size_t             output_soft;
    size_t             output_hard;
    int                idle_timeout;
    unsigned           reqs_per_event;   /* core.reqs_per_event */
    int                shutdown_timeout; /* core.shutdown_timeout, seconds */
    int                draining;         /* graceful shutdown under way */
    struct event      *drain_ev;         /* ends the drain at shutdown_timeout */
    struct ob_listen_guard_s *lguard;    /* EMFILE back-off (ob_listen.c) */

    struct ob_http_s  *http;          /* admin HTTP server and routes (ob_http.c) */
    struct event      *sig_ev[3];     /* SIGTERM, SIGINT, SIGHUP */
    int                exit_code;
} ob_cycle_t;

/* Creates the event base, logger and arena from conf's core section, then
 * runs init for each enabled module of `modules` (NULL-terminated).  On
 * failure err says why and what was created is freed. */
int  ob_cycle_init(ob_cycle_t *cy, const ob_conf_t *conf,
                   const ob_module_t *const *modules, ob_err_t *err);

/* Starts the modules and the admin HTTP listener. */
int  ob_cycle_start(ob_cycle_t *cy, ob_err_t *err);

/* Runs the reactor until shutdown begins.  Returns the exit code. */
int  ob_cycle_run(ob_cycle_t *cy);

/* Stops accepting and leaves the reactor (from a signal or a command). */
void ob_cycle_shutdown_begin(ob_cycle_t *cy);

/* Stops and frees the modules (reverse order), closes every connection,
 * frees the arena, the logger and the base. */
void ob_cycle_fini(ob_cycle_t *cy);

/* The /stats document.  new: caller json_decref()s it. */
json_t *ob_cycle_stats_json(ob_cycle_t *cy);

/* The state of the enabled module `name`, or NULL (disabled, absent, or
 * not yet initialised).  borrowed.  This is how one module finds another's
 * public API (the ORM finds the cache). */
void *ob_cycle_module_state(ob_cycle_t *cy, const char *name);

/* Seconds since start. */
long ob_cycle_uptime(const ob_cycle_t *cy);

/* Frees every connection marked closing (called by the reap event; exposed
 * for tests that drive the loop by hand). */
void ob_conn_reap(ob_cycle_t *cy);

/* Closes every listener and connection (shutdown). */
void ob_listen_close_all(ob_cycle_t *cy);
void ob_conn_close_all(ob_cycle_t *cy);

/* Admin HTTP listener (ob_http.c; routes in ob_http.h): binds
 * core.http_listen at core.http_port after the modules started; stop
 * closes it and frees the routes. */
int  ob_http_start(ob_cycle_t *cy, ob_err_t *err);
void ob_http_stop(ob_cycle_t *cy);

#endif /* OB_CYCLE_H */
