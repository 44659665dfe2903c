/*
 * ob_http.c: the admin HTTP server on libevent's evhttp, and the route
 * table modules add to (ob_http.h).
 *
 *   GET /health   200 {"status":"ok"} while the server runs
 *   GET /stats    200 the ob_cycle_stats_json document, plus "http"
 *   other routes  whatever the module registered (ob_http_route_add)
 *
 * HEAD is answered like GET without a body; other methods get 405 on the
 * core's pages, unknown paths 404, both with a JSON body.
 *
 * Life: ob_http_init (ob_cycle_init, before the modules' init) creates the
 * evhttp and the routes; ob_http_start (after the modules' start) binds
 * core.http_listen at core.http_port; ob_http_stop closes everything.
 *
 * Limits.  The admin port must not be a way to take the process down:
 * about 1,100 idle connections once exhausted the descriptors, and the
 * cache stopped accepting.  So:
 *
 *   - It binds core.http_listen (loopback by default), not core.listen:
 *     opening the cache to the network with -l does not open the admin
 *     pages with it.
 *   - At most core.http_max_connections are open.  libevent 2.1's evhttp
 *     has no cap (no evhttp_set_max_connections) and no callback for a new
 *     connection, so: each connection's bufferevent is made here
 *     (evhttp_set_bevcb), which counts it; once evhttp has wrapped it (an
 *     event made active from the factory runs after evhttp_get_request
 *     returns) its evhttp_connection is found through the bufferevent's
 *     callback argument (checked with evhttp_connection_get_bufferevent)
 *     and given a close callback, which uncounts it.  At the cap the
 *     listeners are disabled (new clients wait in the kernel backlog,
 *     holding no descriptor of ours) and re-enabled when one closes.  A
 *     connection accepted over the cap anyway (the accept guard re-enables
 *     every listener after an EMFILE pause) is freed at once.
 *     (A pass-through filter bufferevent, whose free_context would also
 *     count closes, loses a reply written just before a "Connection:
 *     close": the filter only forwards output while EV_WRITE is enabled.)
 *   - core.http_timeout bounds how long an idle or slow client holds one.
 *   - The listeners are under the core's accept guard (ob_listen_guard):
 *     on EMFILE every listener pauses instead of spinning.
 */
#include "ob_http.h"
#include "ob_cycle.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "ob_conn_int.h"

#define OB_HTTP_MAX_BODY     (1024 * 1024)
#define OB_HTTP_MAX_HEADERS  (64 * 1024)
#define OB_HTTP_MAX_BOUND    16
#define OB_HTTP_FRESH_MAX    64     /* listeners stop at this many per pass */


typedef struct ob_http_route_s {
    const char          *path;      /* borrowed */
    size_t               len;
    int                  prefix;    /* path ends in '/' */
    ob_http_handler_pt   handler;
    void                *arg;
} ob_http_route_t;

struct ob_http_s {
    ob_cycle_t                  *cycle;
    struct evhttp               *http;       /* NULL: http_port 0 */
    ob_http_route_t              routes[OB_HTTP_MAX_ROUTES];
    size_t                       nroutes;
    struct evhttp_bound_socket  *bound[OB_HTTP_MAX_BOUND];
    size_t                       nbound;
    uint64_t                     nconns;     /* open now */
    uint64_t                     total;      /* accepted since start */
    uint64_t                     rejected;   /* closed at once: over the cap */
    uint64_t                     max;        /* core.http_max_connections */
    int                          capped;     /* listeners disabled at the cap */
    int                          stopping;   /* in ob_http_stop */
    struct event                *adopt_ev;   /* runs ob_http_adopt_cb */
    struct bufferevent          *fresh[OB_HTTP_FRESH_MAX];
    size_t                       nfresh;     /* made, not yet adopted */
};


void
ob_http_reply_json(struct evhttp_request *req, int code, const char *reason,
                   json_t *doc)
{
    struct evbuffer *body = evbuffer_new();
    char            *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(doc);
    if (body == NULL || text == NULL
        || evbuffer_add(body, text, strlen(text)) != 0
        || evbuffer_add(body, "\n", 1) != 0)
    {
        free(text);
        if (body != NULL) {
            evbuffer_free(body);
        }
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    free(text);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json");
    evhttp_send_reply(req, code, reason, body);
    evbuffer_free(body);
}


/* Only GET and HEAD read these pages: OB_OK, or OB_ERR after answering
 * 405 (the caller just returns). */
static int
ob_http_method_or_reply(struct evhttp_request *req)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

    if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD) {
        return OB_OK;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                      "GET, HEAD");
    ob_http_reply_json(req, 405, "Method Not Allowed",
                       json_pack("{s:s}", "error", "method not allowed"));
    return OB_ERR;
}


static void
ob_http_health_cb(struct evhttp_request *req, void *arg)
{
    (void) arg;
    if (ob_http_method_or_reply(req) == OB_OK) {
        ob_http_reply_json(req, HTTP_OK, "OK", json_pack("{s:s}", "status",
                                                         "ok"));
    }
}


static void
ob_http_stats_cb(struct evhttp_request *req, void *arg)
{
    ob_cycle_t      *cy = arg;
    ob_http_stats_t  st;
    json_t          *doc;

    if (ob_http_method_or_reply(req) != OB_OK) {
        return;
    }
    doc = ob_cycle_stats_json(cy);
    ob_http_stats(cy, &st);
    json_object_set_new(doc, "http", json_pack("{s:I,s:I,s:I,s:I}",
        "current", (json_int_t) st.current,
        "total", (json_int_t) st.total,
        "rejected", (json_int_t) st.rejected,
        "max", (json_int_t) st.max));
    ob_http_reply_json(req, HTTP_OK, "OK", doc);
}


/* The route for `path`: the longest match, exact before prefix. */
static const ob_http_route_t *
ob_http_route_find(const struct ob_http_s *h, const char *path)
{
    const ob_http_route_t *r, *best = NULL;
    size_t                 len = strlen(path), i;

    for (i = 0; i < h->nroutes; i++) {
        r = &h->routes[i];
        if (r->prefix ? (len >= r->len && memcmp(path, r->path, r->len) == 0)
                      : (len == r->len && memcmp(path, r->path, len) == 0))
        {
            if (best == NULL || r->len > best->len
                || (r->len == best->len && !r->prefix))
            {
                best = r;
            }
        }
    }
    return best;
}


/* evhttp's generic callback: every request comes through the table. */
static void
ob_http_dispatch_cb(struct evhttp_request *req, void *arg)
{
    struct ob_http_s       *h = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char             *path = uri != NULL ? evhttp_uri_get_path(uri)
                                               : NULL;
    const ob_http_route_t  *r;

    if (path == NULL || path[0] == '\0') {
        path = "/";
    }
    r = ob_http_route_find(h, path);
    if (r == NULL) {
        ob_http_reply_json(req, HTTP_NOTFOUND, "Not Found",
                           json_pack("{s:s}", "error", "not found"));
        return;
    }
    r->handler(req, r->arg);
}


static void
ob_http_listeners_enable(struct ob_http_s *h, int on)
{
    struct evconnlistener *evl;
    size_t                 i;

    for (i = 0; i < h->nbound; i++) {
        evl = evhttp_bound_socket_get_listener(h->bound[i]);
        if (on) {
            evconnlistener_enable(evl);
        } else {
            evconnlistener_disable(evl);
        }
    }
    h->capped = !on;
}


/* evhttp is freeing a connection that we counted. */
static void
ob_http_conn_closed(struct evhttp_connection *evcon, void *arg)
{
    struct ob_http_s *h = arg;

    (void) evcon;
    h->nconns--;
    if (h->capped && !h->stopping && h->nconns < h->max) {
        ob_http_listeners_enable(h, 1);
    }
}


/*
 * Runs once evhttp has made the connections of the bufferevents in
 * h->fresh: hooks their close, and frees those over the cap.  They cannot
 * have been freed in between: their sockets' events are only looked at in
 * the next loop pass, and this event was made active in this one.
 */
static void
ob_http_adopt_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ob_http_s          *h = arg;
    struct evhttp_connection  *evcon;
    void                      *cbarg;
    size_t                     i;

    (void) fd;
    (void) what;
    for (i = 0; i < h->nfresh; i++) {
        cbarg = NULL;
        bufferevent_getcb(h->fresh[i], NULL, NULL, NULL, &cbarg);
        evcon = cbarg;
        if (evcon == NULL
            || evhttp_connection_get_bufferevent(evcon) != h->fresh[i])
        {
            /* Not evhttp's connection as we know it: never uncounted, so
             * stop counting it now rather than leak the slot. */
            h->nconns--;
            continue;
        }
        evhttp_connection_set_closecb(evcon, ob_http_conn_closed, h);
        if (h->nconns > h->max) {
            h->rejected++;
            evhttp_connection_free(evcon);    /* runs ob_http_conn_closed */
        }
    }
    h->nfresh = 0;
    if (h->nconns < h->max && h->capped) {
        ob_http_listeners_enable(h, 1);
    }
}


/* evhttp's bufferevent factory: one per accepted connection (see the top
 * comment).  NULL makes evhttp build its own, uncounted: only when out of
 * memory. */
static struct bufferevent *
ob_http_bev_cb(struct event_base *base, void *arg)
{
    struct ob_http_s   *h = arg;
    struct bufferevent *bev;

    if (h->nfresh == OB_HTTP_FRESH_MAX) {
        return NULL;
    }
    bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        return NULL;
    }
    h->fresh[h->nfresh++] = bev;
    event_active(h->adopt_ev, EV_TIMEOUT, 1);
    h->nconns++;
    h->total++;
    if (h->nconns >= h->max || h->nfresh == OB_HTTP_FRESH_MAX) {
        ob_http_listeners_enable(h, 0);
    }
    return bev;
}


int
ob_http_init(ob_cycle_t *cy, ob_err_t *err)
{
    const json_t     *core = ob_conf_section(cy->conf, "core");
    struct ob_http_s *h;

    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return ob_err_set(err, "core.http_port: out of memory");
    }
    h->cycle = cy;
    h->max = (uint64_t) ob_conf_int(core, "http_max_connections");
    cy->http = h;
    h->adopt_ev = event_new(cy->base, -1, 0, ob_http_adopt_cb, h);
    if (h->adopt_ev == NULL) {
        return ob_err_set(err, "core.http_port: cannot create events");
    }

    if (ob_conf_int(core, "http_port") != 0) {
        h->http = evhttp_new(cy->base);
        if (h->http == NULL) {
            return ob_err_set(err, "core.http_port: cannot create the HTTP "
                              "server");
        }
        evhttp_set_max_body_size(h->http, OB_HTTP_MAX_BODY);
        evhttp_set_max_headers_size(h->http, OB_HTTP_MAX_HEADERS);
        evhttp_set_timeout(h->http, (int) ob_conf_int(core, "http_timeout"));
        evhttp_set_bevcb(h->http, ob_http_bev_cb, h);
        evhttp_set_gencb(h->http, ob_http_dispatch_cb, h);
    }

    if (ob_http_route_add(cy, "/health", ob_http_health_cb, cy, err) != OB_OK
        || ob_http_route_add(cy, "/stats", ob_http_stats_cb, cy, err) != OB_OK)
    {
        return OB_ERR;
    }
    return OB_OK;
}


int
ob_http_route_add(ob_cycle_t *cy, const char *path,
                  ob_http_handler_pt handler, void *arg, ob_err_t *err)
{
    struct ob_http_s *h = cy->http;
    ob_http_route_t  *r;
    size_t            len, i;

    if (h == NULL) {
        return ob_err_set(err, "http route %s: the HTTP server is not "
                          "running", path);
    }
    len = strlen(path);
    if (len == 0 || path[0] != '/') {
        return ob_err_set(err, "http route '%s': must start with '/'", path);
    }
    for (i = 0; i < h->nroutes; i++) {
        if (strcmp(h->routes[i].path, path) == 0) {
            return ob_err_set(err, "http route %s: registered twice", path);
        }
    }
    if (h->nroutes == OB_HTTP_MAX_ROUTES) {
        return ob_err_set(err, "http route %s: more than %d routes", path,
                          OB_HTTP_MAX_ROUTES);
    }
    r = &h->routes[h->nroutes++];
    r->path = path;
    r->len = len;
    r->prefix = path[len - 1] == '/';
    r->handler = handler;
    r->arg = arg;
    return OB_OK;
}


static int
ob_http_bound(evutil_socket_t fd, const char *label, int port, void *arg,
              ob_err_t *err)
{
    ob_cycle_t                  *cy = arg;
    struct ob_http_s            *h = cy->http;
    struct evhttp_bound_socket  *bs;

    (void) port;
    if (h->nbound == OB_HTTP_MAX_BOUND) {
        evutil_closesocket(fd);
        return ob_err_set(err, "more than %d addresses", OB_HTTP_MAX_BOUND);
    }
    bs = evhttp_accept_socket_with_handle(h->http, fd);
    if (bs == NULL) {
        evutil_closesocket(fd);
        return ob_err_set(err, "cannot listen on %s", label);
    }
    h->bound[h->nbound++] = bs;
    if (ob_listen_guard(cy, evhttp_bound_socket_get_listener(bs)) != OB_OK) {
        ob_log_warning(&cy->log, "http: %s: no accept guard (out of memory)",
                       label);
    }
    if (h->capped) {
        evconnlistener_disable(evhttp_bound_socket_get_listener(bs));
    }
    ob_log_notice(&cy->log, "http: listening on %s", label);
    return OB_OK;
}


int
ob_http_start(ob_cycle_t *cy, ob_err_t *err)
{
    const json_t *core = ob_conf_section(cy->conf, "core");
    int           port = (int) ob_conf_int(core, "http_port");

    if (cy->http == NULL || cy->http->http == NULL) {
        return OB_OK;
    }
    if (ob_listen_bind_all(ob_conf_str(core, "http_listen"), port,
                           ob_http_bound, cy, err) != OB_OK)
    {
        /* Name the key: the address list alone does not say which port. */
        ob_err_t inner = *err;
        return ob_err_set(err, "core.http_port: %.480s", inner.msg);
    }
    return OB_OK;
}


void
ob_http_stop(ob_cycle_t *cy)
{
    struct ob_http_s *h = cy->http;
    size_t            i;

    if (h == NULL) {
        return;
    }
    h->stopping = 1;
    for (i = 0; i < h->nbound; i++) {
        ob_listen_unguard(cy, evhttp_bound_socket_get_listener(h->bound[i]));
    }
    if (h->http != NULL) {
        /* Frees the open connections too: ob_http_conn_closed runs for each
         * while h is still here. */
        evhttp_free(h->http);
    }
    if (h->adopt_ev != NULL) {
        event_free(h->adopt_ev);
    }
    free(h);
    cy->http = NULL;
}


void
ob_http_stats(const ob_cycle_t *cy, ob_http_stats_t *st)
{
    const struct ob_http_s *h = cy->http;

    memset(st, 0, sizeof(*st));
    if (h != NULL) {
        st->current = h->nconns;
        st->total = h->total;
        st->rejected = h->rejected;
        st->max = h->max;
    }
}
