/*
 * ob_http.c: the admin HTTP listener on libevent's evhttp.
 *
 *   GET /health   200 {"status":"ok"} while the server runs
 *   GET /stats    200 the ob_cycle_stats_json document
 *
 * It binds every address of core.listen at core.http_port (0 turns it
 * off).  HEAD is answered like GET without a body; other methods get 405,
 * other paths 404, both with a JSON body.  The ORM's API and the admin page
 * will add their routes to the same evhttp.
 */
#include "ob_cycle.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "ob_conn_int.h"

#define OB_HTTP_MAX_BODY     (1024 * 1024)
#define OB_HTTP_MAX_HEADERS  (64 * 1024)
#define OB_HTTP_TIMEOUT_SEC  30


/* Sends `doc` (stolen) as a JSON response. */
static void
ob_http_reply_json(struct evhttp_request *req, int code, const char *reason,
                   json_t *doc)
{
    struct evbuffer *body = evbuffer_new();
    char            *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(doc);
    if (body == NULL || text == NULL) {
        free(text);
        if (body != NULL) {
            evbuffer_free(body);
        }
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    evbuffer_add(body, text, strlen(text));
    evbuffer_add(body, "\n", 1);
    free(text);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json");
    evhttp_send_reply(req, code, reason, body);
    evbuffer_free(body);
}


/* Only GET and HEAD read these pages; returns 0 after answering 405. */
static int
ob_http_method_ok(struct evhttp_request *req)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

    if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD) {
        return 1;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                      "GET, HEAD");
    ob_http_reply_json(req, 405, "Method Not Allowed",
                       json_pack("{s:s}", "error", "method not allowed"));
    return 0;
}


static void
ob_http_health_cb(struct evhttp_request *req, void *arg)
{
    (void) arg;
    if (ob_http_method_ok(req)) {
        ob_http_reply_json(req, HTTP_OK, "OK", json_pack("{s:s}", "status",
                                                         "ok"));
    }
}


static void
ob_http_stats_cb(struct evhttp_request *req, void *arg)
{
    if (ob_http_method_ok(req)) {
        ob_http_reply_json(req, HTTP_OK, "OK", ob_cycle_stats_json(arg));
    }
}


static void
ob_http_notfound_cb(struct evhttp_request *req, void *arg)
{
    (void) arg;
    ob_http_reply_json(req, HTTP_NOTFOUND, "Not Found",
                       json_pack("{s:s}", "error", "not found"));
}


static int
ob_http_bound(evutil_socket_t fd, const char *label, int port, void *arg,
              ob_err_t *err)
{
    ob_cycle_t *cy = arg;

    (void) port;
    if (evhttp_accept_socket_with_handle(cy->http, fd) == NULL) {
        evutil_closesocket(fd);
        return ob_err_set(err, "cannot listen on %s", label);
    }
    ob_log_notice(&cy->log, "http: listening on %s", label);
    return OB_OK;
}


int
ob_http_start(ob_cycle_t *cy, ob_err_t *err)
{
    const json_t *core = ob_conf_section(cy->conf, "core");
    int           port = (int) ob_conf_int(core, "http_port");

    if (port == 0) {
        return OB_OK;
    }

    cy->http = evhttp_new(cy->base);
    if (cy->http == NULL) {
        return ob_err_set(err, "core.http_port: cannot create "
                 "the HTTP server");
    }
    evhttp_set_max_body_size(cy->http, OB_HTTP_MAX_BODY);
    evhttp_set_max_headers_size(cy->http, OB_HTTP_MAX_HEADERS);
    evhttp_set_timeout(cy->http, OB_HTTP_TIMEOUT_SEC);
    evhttp_set_cb(cy->http, "/health", ob_http_health_cb, cy);
    evhttp_set_cb(cy->http, "/stats", ob_http_stats_cb, cy);
    evhttp_set_gencb(cy->http, ob_http_notfound_cb, cy);

    if (ob_listen_bind_all(ob_conf_str(core, "listen"), port, ob_http_bound,
                           cy, err) != OB_OK)
    {
        /* Name the key: the address list alone does not say which port. */
        ob_err_t inner = *err;
        return ob_err_set(err, "core.http_port: %.480s",
                 inner.msg);
    }
    return OB_OK;
}


void
ob_http_stop(ob_cycle_t *cy)
{
    if (cy->http != NULL) {
        evhttp_free(cy->http);
        cy->http = NULL;
    }
}
