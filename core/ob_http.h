/*
 * ob_http.h: the admin HTTP server's route table, for modules.
 *
 * The server (libevent's evhttp) is created by ob_cycle_init, before any
 * module's init, so a module registers its routes in init or start; it
 * starts listening after every module has started.  Handlers have evhttp's
 * own signature and answer with the evhttp API (or ob_http_reply_json).
 *
 *   static void orm_http_cb(struct evhttp_request *req, void *arg) { ... }
 *
 *   ob_http_route_add(cy, "/orm/", orm_http_cb, state, err);     prefix
 *   ob_http_route_add(cy, "/metrics", metrics_cb, state, err);   exact
 *
 * A path ending in '/' is a prefix: it matches every path that starts with
 * it.  Any other path matches only itself (the query string is ignored).
 * The longest match wins, an exact route before a prefix of the same
 * length.  /health and /stats are registered the same way by the core.
 */
#ifndef OB_HTTP_H
#define OB_HTTP_H

#include <jansson.h>
#include "ob_core.h"

struct ob_cycle_s;
struct evhttp_request;

typedef void (*ob_http_handler_pt)(struct evhttp_request *req, void *arg);

#define OB_HTTP_MAX_ROUTES  32

/* Creates the server and its built-in routes (no socket yet); with
 * core.http_port 0 only the route table (routes then never run).  Called
 * by ob_cycle_init.  OB_ERR with err set on failure. */
int  ob_http_init(struct ob_cycle_s *cy, ob_err_t *err);

/* Adds a route (`path` borrowed: a string literal or the module's state).
 * OB_ERR with err set: path not starting with '/', a duplicate, too many
 * routes, or called before ob_http_init / after ob_http_stop. */
int  ob_http_route_add(struct ob_cycle_s *cy, const char *path,
                       ob_http_handler_pt handler, void *arg, ob_err_t *err);

/* Sends `doc` (stolen) as a JSON response with a trailing newline. */
void ob_http_reply_json(struct evhttp_request *req, int code,
                        const char *reason, json_t *doc);

/* The admin server's figures for /stats: connections open now, accepted,
 * refused over core.http_max_connections. */
typedef struct ob_http_stats_s {
    uint64_t  current;
    uint64_t  total;
    uint64_t  rejected;
    uint64_t  max;
} ob_http_stats_t;

void ob_http_stats(const struct ob_cycle_s *cy, ob_http_stats_t *st /* OUT */);

#endif /* OB_HTTP_H */
