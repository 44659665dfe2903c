/*
 * check_core_cycle.c: the module lifecycle that ob_cycle runs: init and
 * start in registry order, stop and fini in reverse, the "enabled" switch,
 * a failing hook stopping start-up, and module figures in /stats.
 */
#include "check_suites.h"

#include <string.h>

#include "ob_conf.h"
#include "ob_cycle.h"

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

static const ob_conf_section_t sec_a = { "a", mod_keys, 1 };
static const ob_conf_section_t sec_b = { "b", mod_keys, 1 };

static const ob_module_t mod_a = {
    "a", &sec_a, mod_init, mod_start, mod_stop, mod_fini, mod_stats
};
static const ob_module_t mod_b = {
    "b", &sec_b, mod_init, mod_start, mod_stop, mod_fini, mod_stats
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


Suite *
ob_cycle_suite(void)
{
    Suite *s = suite_create("core_cycle");
    TCase *tc = tcase_create("lifecycle");

    tcase_add_test(tc, test_order_of_hooks);
    tcase_add_test(tc, test_disabled_module_is_skipped);
    tcase_add_test(tc, test_failed_init_unwinds);
    suite_add_tcase(s, tc);
    return s;
}
