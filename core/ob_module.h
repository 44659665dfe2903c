/*
 * ob_module.h: how a module (cache, store, mq, orm) plugs into the core.
 *
 * After nginx's ngx_module_t, scaled down.  A module is one static
 * descriptor; core/ob_modules.c lists the ones compiled in.  The core calls
 * the hooks in a fixed order and stops at the first that fails:
 *
 *   init   (every enabled module, registry order)  parse conf, allocate
 *   start  (every enabled module, registry order)  listeners, timers
 *   ... the reactor runs ...
 *   stop   (reverse order)                          stop accepting, flush to disk
 *   fini   (reverse order)                          free everything
 *
 * All of a module's state hangs off the pointer its init returns: modules
 * keep no globals.  Any hook may be NULL.
 */
#ifndef OB_MODULE_H
#define OB_MODULE_H

#include <jansson.h>
#include "ob_core.h"
#include "ob_conf.h"

struct ob_cycle_s;

typedef struct ob_module_s {
    const char              *name;   /* "cache": also its config section and arena owner */
    const ob_conf_section_t *conf;   /* its config section (switchable: has "enabled") */

    /* Reads the validated section, allocates the state.  `arena_owner` is
     * the module's owner id in cy->arena.  OB_ERR with err set stops
     * start-up with exit status 2 (a configuration problem). */
    int  (*init)(struct ob_cycle_s *cy, const json_t *conf, int arena_owner,
                 void **state /* OUT */, ob_err_t *err);

    /* Opens listeners and timers on cy->base.  OB_ERR with err set stops
     * start-up with exit status 1 (e.g. the port is taken). */
    int  (*start)(struct ob_cycle_s *cy, void *state, ob_err_t *err);

    /* Stops accepting and flushes what must survive to disk.  On SIGTERM
     * it runs inside the loop, before the shutdown drain: output it adds
     * to connections (an AMQP close, a last replica flush) is still
     * written, for up to core.shutdown_timeout seconds; connections are
     * read no more, and one that yielded still gets on_read until its
     * received requests are answered. */
    void (*stop)(struct ob_cycle_s *cy, void *state);

    /* Frees the state. */
    void (*fini)(void *state);

    /* Adds the module's figures to `out` (a JSON object) for /stats. */
    void (*stats)(void *state, json_t *out);
} ob_module_t;

/* The modules compiled in, NULL-terminated (core/ob_modules.c). */
extern const ob_module_t *const ob_modules[];

#endif /* OB_MODULE_H */
