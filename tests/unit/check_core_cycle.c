/*
 * check_core_cycle.c: the module lifecycle that ob_cycle runs: init and
 * start in registry order, stop and fini in reverse, the "enabled" switch,
 * a failing hook stopping start-up, and module figures in /stats.
 */
#include "check_suites.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "ob_conf.h"
#include "ob_cycle.h"
#include "ob_http.h"

/* Every hook call, in order, as "init:a start:b ...". */
static char calls[512];
static int  fail_init_of_b;


static void
record(const char *what, const char *name)
{
    size_t len = strlen(calls);

    snprintf(calls + len, sizeof(calls) - len, "%s%s:%s", len ? " " : "",
             what, name);
}


static int
mod_init(ob_cycle_t *cy, const json_t *conf, int owner, void **state,
         ob_err_t *err)
{
    const char *name = ob_conf_str(conf, "name");

    (void) cy;
    ck_assert_int_ge(owner, 0);
    record("init", name);
    if (fail_init_of_b && strcmp(name, "b") == 0) {
        return ob_err_set(err, "b.name: refused");
    }
    *state = (void *) name;
    return OB_OK;
}


static int
mod_start(ob_cycle_t *cy, void *state, ob_err_t *err)
{
    (void) cy;
    (void) err;
    record("start", state);
    return OB_OK;
}


static void
mod_stop(ob_cycle_t *cy, void *state)
{
    (void) cy;
    record("stop", state);
}


static void
mod_fini(void *state)
{
    record("fini", state);
}


static void
mod_stats(void *state, json_t *out)
{
    json_object_set_new(out, "name", json_string(state));
}


static const ob_conf_key_t mod_keys[] = {
    { .name = "name", .type = OB_CONF_STRING, .def = "\"?\"", .help = "id" },
    { .name = NULL }
};

static const ob_conf_section_t sec_a = {
    .name = "a", .keys = mod_keys, .switchable = 1
};
static const ob_conf_section_t sec_b = {
    .name = "b", .keys = mod_keys, .switchable = 1
};

static const ob_module_t mod_a = {
    .name = "a", .conf = &sec_a, .init = mod_init, .start = mod_start,
    .stop = mod_stop, .fini = mod_fini, .stats = mod_stats
};
static const ob_module_t mod_b = {
    .name = "b", .conf = &sec_b, .init = mod_init, .start = mod_start,
    .stop = mod_stop, .fini = mod_fini, .stats = mod_stats
};
static const ob_module_t *const two_modules[] = { &mod_a, &mod_b, NULL };


static void
conf_for(ob_conf_t *conf, int b_enabled)
{
    const ob_conf_section_t *sections[3] = {
        &ob_conf_core_section, &sec_a, &sec_b
    };
    ob_err_t err;

    ck_assert_int_eq(ob_conf_init(conf, sections, 3, &err), OB_OK);
    ck_assert_int_eq(ob_conf_set_text(conf, "core.http_port", "0", &err),
                     OB_OK);
    ck_assert_int_eq(ob_conf_set_text(conf, "core.log_level", "error", &err),
                     OB_OK);
    ck_assert_int_eq(ob_conf_set_text(conf, "a.name", "a", &err), OB_OK);
    ck_assert_int_eq(ob_conf_set_text(conf, "b.name", "b", &err), OB_OK);
    ck_assert_int_eq(ob_conf_set_text(conf, "b.enabled",
                                      b_enabled ? "true" : "false", &err),
                     OB_OK);
}


START_TEST(test_order_of_hooks)
{
    ob_conf_t  conf;
    ob_cycle_t cy;
    ob_err_t   err;
    json_t    *stats;

    calls[0] = '\0';
    fail_init_of_b = 0;
    conf_for(&conf, 1);
    ck_assert_int_eq(ob_cycle_init(&cy, &conf, two_modules, &err), OB_OK);
    ck_assert_int_eq(ob_cycle_start(&cy, &err), OB_OK);

    /* Each module is an arena owner under its own name, and reports its
     * figures under its name in /stats. */
    stats = ob_cycle_stats_json(&cy);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
        json_object_get(stats, "modules"), "b"), "name")), "b");
    ck_assert_ptr_nonnull(json_object_get(json_object_get(json_object_get(
        stats, "arena"), "modules"), "a"));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
        stats, "arena"), "limit")), 64 * 1024 * 1024);
    json_decref(stats);

    ob_cycle_fini(&cy);
    ck_assert_str_eq(calls, "init:a init:b start:a start:b stop:b stop:a "
                            "fini:b fini:a");
    ob_conf_free(&conf);
}
END_TEST


START_TEST(test_disabled_module_is_skipped)
{
    ob_conf_t  conf;
    ob_cycle_t cy;
    ob_err_t   err;

    calls[0] = '\0';
    fail_init_of_b = 0;
    conf_for(&conf, 0);
    ck_assert_int_eq(ob_cycle_init(&cy, &conf, two_modules, &err), OB_OK);
    ck_assert_int_eq(ob_cycle_start(&cy, &err), OB_OK);
    ck_assert_uint_eq(cy.nslots, 1);
    ob_cycle_fini(&cy);
    ck_assert_str_eq(calls, "init:a start:a stop:a fini:a");
    ob_conf_free(&conf);
}
END_TEST


START_TEST(test_failed_init_unwinds)
{
    ob_conf_t  conf;
    ob_cycle_t cy;
    ob_err_t   err;

    calls[0] = '\0';
    fail_init_of_b = 1;
    conf_for(&conf, 1);
    ck_assert_int_eq(ob_cycle_init(&cy, &conf, two_modules, &err), OB_ERR);
    ck_assert_str_eq(err.msg, "b.name: refused");
    /* a was initialised, never started: it is freed, not stopped. */
    ck_assert_str_eq(calls, "init:a init:b fini:a");
    ob_conf_free(&conf);
}
END_TEST


/* ---- admin HTTP routes from a module ------------------------------------ */

/* Replies with the route's name (arg) as the body. */
static void
route_cb(struct evhttp_request *req, void *arg)
{
    struct evbuffer *body = evbuffer_new();

    evbuffer_add_printf(body, "%s", (const char *) arg);
    evhttp_send_reply(req, HTTP_OK, "OK", body);
    evbuffer_free(body);
}


/* A module that adds its pages in start, as the ORM will. */
static int
route_mod_start(ob_cycle_t *cy, void *state, ob_err_t *err)
{
    (void) state;
    if (ob_http_route_add(cy, "/fake/", route_cb, "prefix", err) != OB_OK
        || ob_http_route_add(cy, "/fake/exact", route_cb, "exact", err)
           != OB_OK)
    {
        return OB_ERR;
    }
    /* a second registration of a path is refused */
    ck_assert_int_eq(ob_http_route_add(cy, "/fake/", route_cb, "x", err),
                     OB_ERR);
    ck_assert_int_eq(ob_http_route_add(cy, "nofirstslash", route_cb, "x",
                                       err), OB_ERR);
    return OB_OK;
}


static const ob_conf_section_t sec_r = {
    .name = "r", .keys = mod_keys, .switchable = 1
};
static const ob_module_t mod_r = {
    .name = "r", .conf = &sec_r, .start = route_mod_start
};
static const ob_module_t *const route_modules[] = { &mod_r, NULL };


typedef struct {
    const char  *path;
    int          code;           /* OUT */
    char         body[64];       /* OUT */
} route_probe_t;

static int                route_pending;
static struct event_base *route_base;


static void
route_done_cb(struct evhttp_request *req, void *arg)
{
    route_probe_t   *p = arg;
    struct evbuffer *in;
    size_t           n;

    if (req != NULL) {
        p->code = evhttp_request_get_response_code(req);
        in = evhttp_request_get_input_buffer(req);
        n = OB_MIN(evbuffer_get_length(in), sizeof(p->body) - 1);
        evbuffer_remove(in, p->body, n);
        p->body[n] = '\0';
    }
    if (--route_pending == 0) {
        event_base_loopbreak(route_base);
    }
}


/* A free TCP port on 127.0.0.1 (bound to 0, read back, closed). */
static int
free_port(void)
{
    struct sockaddr_in  sa;
    socklen_t           len = sizeof(sa);
    int                 fd = socket(AF_INET, SOCK_STREAM, 0), port;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}


START_TEST(test_module_http_routes)
{
    const ob_conf_section_t  *sections[2] = { &ob_conf_core_section, &sec_r };
    route_probe_t             probes[] = {
        { .path = "/fake/anything?x=1" }, { .path = "/fake/exact" },
        { .path = "/fake/exact/more" }, { .path = "/health" },
        { .path = "/nope" }
    };
    struct evhttp_connection *evcon[5];
    struct evhttp_request    *req;
    ob_conf_t                 conf;
    ob_cycle_t                cy;
    ob_err_t                  err;
    char                      port[16];
    size_t                    i;

    snprintf(port, sizeof(port), "%d", free_port());
    ck_assert_int_eq(ob_conf_init(&conf, sections, 2, &err), OB_OK);
    ck_assert_int_eq(ob_conf_set_text(&conf, "core.http_port", port, &err),
                     OB_OK);
    ck_assert_int_eq(ob_conf_set_text(&conf, "core.log_level", "error", &err),
                     OB_OK);
    ck_assert_int_eq(ob_cycle_init(&cy, &conf, route_modules, &err), OB_OK);
    ck_assert_int_eq(ob_cycle_start(&cy, &err), OB_OK);

    route_pending = 5;
    route_base = cy.base;
    for (i = 0; i < 5; i++) {
        evcon[i] = evhttp_connection_base_new(cy.base, NULL, "127.0.0.1",
                                              (unsigned short) atoi(port));
        evhttp_connection_set_timeout(evcon[i], 5);
        req = evhttp_request_new(route_done_cb, &probes[i]);
        ck_assert_int_eq(evhttp_make_request(evcon[i], req, EVHTTP_REQ_GET,
                                             probes[i].path), 0);
    }
    event_base_dispatch(cy.base);
    ck_assert_int_eq(route_pending, 0);

    ck_assert_int_eq(probes[0].code, 200);
    ck_assert_str_eq(probes[0].body, "prefix");
    ck_assert_int_eq(probes[1].code, 200);
    ck_assert_str_eq(probes[1].body, "exact");       /* exact wins */
    ck_assert_str_eq(probes[2].body, "prefix");      /* not the exact one */
    ck_assert_int_eq(probes[3].code, 200);
    ck_assert_ptr_nonnull(strstr(probes[3].body, "ok"));
    ck_assert_int_eq(probes[4].code, 404);

    for (i = 0; i < 5; i++) {
        evhttp_connection_free(evcon[i]);
    }
    ob_cycle_fini(&cy);
    ob_conf_free(&conf);
}
END_TEST


Suite *
ob_cycle_suite(void)
{
    Suite *s = suite_create("core_cycle");
    TCase *tc = tcase_create("lifecycle");

    tcase_add_test(tc, test_order_of_hooks);
    tcase_add_test(tc, test_disabled_module_is_skipped);
    tcase_add_test(tc, test_failed_init_unwinds);
    tcase_add_test(tc, test_module_http_routes);
    suite_add_tcase(s, tc);
    return s;
}
