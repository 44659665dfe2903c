/*
 * check_core_conf.c: unit tests of the configuration (ob_conf.c,
 * ob_conf_args.c, ob_conf_core.c).
 *
 * Besides the real core section the tests use two sections of their own:
 * "test", switchable, with one key of every type (so every conversion and
 * check is exercised without depending on what a module happens to list),
 * and "cache", a stand-in for the cache module's keys that memcached's -p
 * and -I set.
 *
 * Each test gets a fresh configuration and a fresh temporary directory from
 * the checked fixture; files are written there and removed in teardown.
 * The tests that expect abort() run only when check forks (the default).
 */
#include "check_suites.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ob_conf.h"


#define TST_MAX_FILES  8
#define TST_ARGV_MAX   (OB_ARGS_MAX_SETS + 8)


static const char *const tst_modes[] = { "fast", "safe", NULL };

static const ob_conf_key_t tst_keys[] = {
    { .name = "port", .type = OB_CONF_INT, .imin = 1, .imax = 65535,
      .def = "1234", .help = "a port" },
    { .name = "ratio", .type = OB_CONF_DOUBLE, .dmin = 0.5, .dmax = 2.0,
      .def = "1", .help = "a number (integer default on purpose)" },
    { .name = "flag", .type = OB_CONF_BOOL, .def = "false", .help = "a bool" },
    { .name = "name", .type = OB_CONF_STRING, .flags = OB_CONF_NULLABLE,
      .def = "null", .help = "a nullable string" },
    { .name = "mode", .type = OB_CONF_ENUM, .choices = tst_modes,
      .def = "\"fast\"", .help = "an enum" },
    { .name = "users", .type = OB_CONF_OBJECT,
      .def = "{\"guest\": \"guest\"}", .help = "an object" },
    { .name = "limit", .type = OB_CONF_INT, .flags = OB_CONF_NULLABLE,
      .imin = 0, .imax = 100, .def = "null", .help = "a nullable int" },
    { .name = NULL }
};

static const ob_conf_section_t tst_section = {
    .name = "test", .keys = tst_keys, .switchable = 1
};

static const ob_conf_key_t tst_cache_keys[] = {
    { .name = "port", .type = OB_CONF_INT, .imin = 1, .imax = 65535,
      .def = "11211", .help = "port" },
    { .name = "max_item_size", .type = OB_CONF_INT, .imin = 1024,
      .imax = 1073741824, .def = "1048576", .help = "largest item" },
    { .name = NULL }
};

static const ob_conf_section_t tst_cache_section = {
    .name = "cache", .keys = tst_cache_keys, .switchable = 1
};

static const ob_conf_section_t *const tst_sections[] = {
    &tst_section, &tst_cache_section
};


/* Per-test state, set up by the checked fixture. */
static ob_conf_t   conf;
static ob_err_t    err;
static ob_args_t   args;
static char        tmpdir[64];
static char        files[TST_MAX_FILES][128];
static int         nfiles;
static char       *argvbuf[TST_ARGV_MAX];


static void
tst_setup(void)
{
    memset(&err, 0, sizeof(err));
    nfiles = 0;
    strcpy(tmpdir, "/tmp/check_conf.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    ck_assert_int_eq(ob_conf_init(&conf, tst_sections, 2, &err), OB_OK);
}


/* For the tests that end in abort(), so never reach a teardown: no
 * directory to leave behind (the forked child's memory goes with it). */
static void
tst_setup_conf_only(void)
{
    ck_assert_int_eq(ob_conf_init(&conf, tst_sections, 2, &err), OB_OK);
}


static void
tst_teardown(void)
{
    int  i;

    ob_conf_free(&conf);
    for (i = 0; i < nfiles; i++) {
        unlink(files[i]);
    }
    rmdir(tmpdir);
}


/* Writes text to tmpdir/name and returns the path.  borrowed. */
static const char *
tst_file(const char *name, const char *text)
{
    FILE  *fp;
    char  *path;

    ck_assert_int_lt(nfiles, TST_MAX_FILES);
    path = files[nfiles++];
    snprintf(path, sizeof(files[0]), "%s/%s", tmpdir, name);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);

    return path;
}


/* Parses a NULL-terminated list of arguments (argv[0] is added). */
static int
tst_parse(const char *first, ...)
{
    int          argc;
    va_list      ap;
    const char  *a;

    argc = 0;
    argvbuf[argc++] = (char *) "onebox";
    va_start(ap, first);
    for (a = first; a != NULL; a = va_arg(ap, const char *)) {
        argvbuf[argc++] = (char *) a;
    }
    va_end(ap);
    argvbuf[argc] = NULL;

    return ob_args_parse(&args, argc, argvbuf, &err);
}


static const json_t *
tst_core(void)
{
    return ob_conf_section(&conf, "core");
}


static const json_t *
tst_test(void)
{
    return ob_conf_section(&conf, "test");
}


#define tst_err_is(s)      ck_assert_str_eq(err.msg, (s))
#define tst_err_has(s)     ck_assert_msg(strstr(err.msg, (s)) != NULL,     \
                                         "'%s' not in '%s'", (s), err.msg)

/* Expects ob_conf_set_text(key, text) to fail with exactly msg. */
#define tst_set_fails(key, text, msg)                                        \
    do {                                                                     \
        ck_assert_int_eq(ob_conf_set_text(&conf, key, text, &err), OB_ERR);  \
        tst_err_is(msg);                                                     \
    } while (0)

#define tst_set_ok(key, text)                                                \
    ck_assert_msg(ob_conf_set_text(&conf, key, text, &err) == OB_OK,         \
                  "%s=%s: %s", key, text, err.msg)


/* ---- defaults ------------------------------------------------------------ */

START_TEST(test_defaults_core)
{
    const json_t  *core = tst_core();

    ck_assert_str_eq(ob_conf_str(core, "listen"), "127.0.0.1");
    ck_assert_int_eq(ob_conf_int(core, "http_port"), 8080);
    ck_assert_int_eq(ob_conf_int(core, "memory_mb"), 64);
    ck_assert_int_eq(ob_conf_int(core, "max_connections"), 1024);
    ck_assert_str_eq(ob_conf_str(core, "data_dir"), "./data");
    ck_assert_ptr_null(ob_conf_str(core, "pidfile"));
    ck_assert_ptr_null(ob_conf_str(core, "user"));
    ck_assert_int_eq(ob_conf_bool(core, "daemonize"), 0);
    ck_assert_str_eq(ob_conf_str(core, "log_level"), "notice");
    ck_assert_ptr_null(ob_conf_str(core, "log_file"));
    ck_assert_int_eq(ob_conf_int(core, "threads"), 4);
    ck_assert_int_eq(ob_conf_int(core, "idle_timeout"), 0);
    ck_assert(ob_conf_int(core, "max_input_buffer") == 1073741824LL);
    ck_assert(ob_conf_int(core, "output_buffer_soft") == 4194304LL);
    ck_assert(ob_conf_int(core, "output_buffer_hard") == 268435456LL);
    ck_assert_int_eq(ob_conf_int(core, "slab_page_size"), 1048576);
    ck_assert_double_eq(ob_conf_double(core, "slab_growth_factor"), 1.25);
    ck_assert_int_eq(ob_conf_int(core, "slab_min_chunk"), 96);
    ck_assert_str_eq(ob_conf_str(core, "http_listen"), "127.0.0.1");
    ck_assert_int_eq(ob_conf_int(core, "http_max_connections"), 64);
    ck_assert_int_eq(ob_conf_int(core, "http_timeout"), 10);
    ck_assert_ptr_null(json_object_get(core, "enabled"));
    ck_assert_int_eq(json_object_size(core), 23);
}
END_TEST


START_TEST(test_defaults_order_and_dump)
{
    char                 *text;
    void                 *it;
    json_t               *back;
    const ob_conf_key_t  *k;

    /* sections in order: core, then the caller's */
    it = json_object_iter(conf.root);
    ck_assert_str_eq(json_object_iter_key(it), "core");
    it = json_object_iter_next(conf.root, it);
    ck_assert_str_eq(json_object_iter_key(it), "test");
    it = json_object_iter_next(conf.root, it);
    ck_assert_str_eq(json_object_iter_key(it), "cache");

    /* keys in schema order */
    it = json_object_iter((json_t *) tst_core());
    for (k = ob_conf_core_section.keys; k->name != NULL; k++) {
        ck_assert_ptr_nonnull(it);
        ck_assert_str_eq(json_object_iter_key(it), k->name);
        it = json_object_iter_next((json_t *) tst_core(), it);
    }
    ck_assert_ptr_null(it);

    text = ob_conf_dump(&conf);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "\n  \"core\": {\n    \"listen\""));
    back = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(back);
    ck_assert(json_equal(back, conf.root));
    json_decref(back);
    free(text);
}
END_TEST


START_TEST(test_defaults_module_section)
{
    json_t        *obj;
    const json_t  *t = tst_test();

    /* enabled comes first, true */
    ck_assert_str_eq(json_object_iter_key(json_object_iter((json_t *) t)),
                     "enabled");
    ck_assert_int_eq(ob_conf_bool(t, "enabled"), 1);
    ck_assert_int_eq(ob_conf_int(t, "port"), 1234);
    ck_assert(json_is_real(json_object_get(t, "ratio")));  /* "1" -> 1.0 */
    ck_assert_double_eq(ob_conf_double(t, "ratio"), 1.0);
    ck_assert_str_eq(ob_conf_str(t, "mode"), "fast");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(t, "users"), "guest")), "guest");
    ck_assert(json_is_null(json_object_get(t, "limit")));
    ck_assert_ptr_null(ob_conf_section(&conf, "nope"));

    tst_set_ok("test.enabled", "false");
    ck_assert_int_eq(ob_conf_bool(t, "enabled"), 0);
    obj = json_pack("{s{sb}}", "test", "enabled", 1);
    ck_assert_int_eq(ob_conf_merge(&conf, obj, &err), OB_OK);
    ck_assert_int_eq(ob_conf_bool(t, "enabled"), 1);
    json_decref(obj);
}
END_TEST


static const ob_conf_key_t tst_bad_default_keys[] = {
    { .name = "n", .type = OB_CONF_INT, .imin = 1, .imax = 2, .def = "3" },
    { .name = NULL }
};
static const ob_conf_key_t tst_bad_json_keys[] = {
    { .name = "s", .type = OB_CONF_STRING, .def = "unquoted" },
    { .name = NULL }
};
static const ob_conf_key_t tst_dup_keys[] = {
    { .name = "enabled", .type = OB_CONF_BOOL, .def = "true" },
    { .name = NULL }
};
static const ob_conf_section_t tst_bad_default = {
    .name = "bad", .keys = tst_bad_default_keys, .switchable = 0
};
static const ob_conf_section_t tst_bad_json = {
    .name = "bad", .keys = tst_bad_json_keys, .switchable = 0
};
static const ob_conf_section_t tst_dup = {
    .name = "dup", .keys = tst_dup_keys, .switchable = 1
};

START_TEST(test_init_bad_schema)
{
    ob_conf_t                       c;
    const ob_conf_section_t *const  bad1[] = { &tst_bad_default };
    const ob_conf_section_t *const  bad2[] = { &tst_bad_json };
    const ob_conf_section_t *const  bad3[] = { &tst_dup };
    const ob_conf_section_t *const  bad4[] = { &tst_section, &tst_section };
    const ob_conf_section_t *const  with_core[] = { &ob_conf_core_section,
                                                    &tst_section };
    char                           *a, *b;

    ck_assert_int_eq(ob_conf_init(&c, bad1, 1, &err), OB_ERR);
    tst_err_is("bad.n: must be between 1 and 2 (got 3)");
    ck_assert_ptr_null(c.root);

    ck_assert_int_eq(ob_conf_init(&c, bad2, 1, &err), OB_ERR);
    tst_err_has("bad.s: bad default unquoted");

    ck_assert_int_eq(ob_conf_init(&c, bad3, 1, &err), OB_ERR);
    tst_err_is("dup.enabled: the key is listed twice");

    ck_assert_int_eq(ob_conf_init(&c, bad4, 2, &err), OB_ERR);
    tst_err_is("section 'test' is listed twice");

    /* the caller may list core itself (main.c does): same tree */
    ck_assert_int_eq(ob_conf_init(&c, with_core, 2, &err), OB_OK);
    a = ob_conf_dump(&c);
    ob_conf_free(&c);
    ck_assert_int_eq(ob_conf_init(&c, with_core + 1, 1, &err), OB_OK);
    b = ob_conf_dump(&c);
    ck_assert_str_eq(a, b);
    ck_assert_int_eq(json_object_size(c.root), 2);
    free(a);
    free(b);
    ob_conf_free(&c);

    /* no module sections at all */
    ck_assert_int_eq(ob_conf_init(&c, NULL, 0, &err), OB_OK);
    ck_assert_int_eq(json_object_size(c.root), 1);
    ob_conf_free(&c);
}
END_TEST


/* ---- files and merge ----------------------------------------------------- */

START_TEST(test_file_good)
{
    const char  *path;

    path = tst_file("good.json",
        "{\"core\": {\"memory_mb\": 256, \"listen\": \"0.0.0.0,::1\",\n"
        "          \"pidfile\": \"/run/x.pid\", \"daemonize\": true,\n"
        "          \"log_level\": \"debug\", \"slab_growth_factor\": 2},\n"
        " \"test\": {\"enabled\": false, \"users\": {\"a\": \"b\"},\n"
        "          \"name\": \"n\", \"limit\": 100}}\n");

    ck_assert_msg(ob_conf_load_file(&conf, path, &err) == OB_OK, "%s",
                  err.msg);
    ck_assert_int_eq(ob_conf_int(tst_core(), "memory_mb"), 256);
    ck_assert_str_eq(ob_conf_str(tst_core(), "listen"), "0.0.0.0,::1");
    ck_assert_str_eq(ob_conf_str(tst_core(), "pidfile"), "/run/x.pid");
    ck_assert_int_eq(ob_conf_bool(tst_core(), "daemonize"), 1);
    ck_assert_str_eq(ob_conf_str(tst_core(), "log_level"), "debug");
    ck_assert_double_eq(ob_conf_double(tst_core(), "slab_growth_factor"), 2);
    ck_assert_int_eq(ob_conf_int(tst_core(), "max_connections"), 1024);
    ck_assert_int_eq(ob_conf_bool(tst_test(), "enabled"), 0);
    ck_assert_str_eq(ob_conf_str(tst_test(), "name"), "n");
    ck_assert_int_eq(ob_conf_int(tst_test(), "limit"), 100);
    ck_assert_int_eq(json_object_size(json_object_get(tst_test(), "users")),
                     1);

    /* a later file goes over the earlier one; null clears a nullable key */
    path = tst_file("more.json", "{\"core\": {\"pidfile\": null}, "
                                 "\"test\": {}}");
    ck_assert_int_eq(ob_conf_load_file(&conf, path, &err), OB_OK);
    ck_assert_ptr_null(ob_conf_str(tst_core(), "pidfile"));
    ck_assert_int_eq(ob_conf_int(tst_core(), "memory_mb"), 256);
}
END_TEST


/* One bad file: its text, and the message it must produce (after the path,
 * for parse errors). */
static const struct {
    const char  *text;
    const char  *msg;
} tst_bad_files[] = {
    { "{\"core\": {\"memroy_mb\": 1}}", "unknown key core.memroy_mb" },
    { "{\"foo\": {}}", "unknown section 'foo'" },
    { "{\"core\": 3}", "core: must be an object" },
    { "{\"core\": {\"memory_mb\": \"64\"}}", "core.memory_mb: must be an integer" },
    { "{\"core\": {\"memory_mb\": 64.0}}", "core.memory_mb: must be an integer" },
    { "{\"core\": {\"memory_mb\": 0}}",
      "core.memory_mb: must be between 1 and 1048576 (got 0)" },
    { "{\"core\": {\"output_buffer_hard\": 1099511627777}}",
      "core.output_buffer_hard: must be between 0 and 1099511627776 "
      "(got 1099511627777)" },
    { "{\"core\": {\"daemonize\": 1}}", "core.daemonize: must be true or false" },
    { "{\"core\": {\"log_level\": \"loud\"}}",
      "core.log_level: must be one of debug, info, notice, warning, error" },
    { "{\"core\": {\"log_level\": 3}}",
      "core.log_level: must be one of debug, info, notice, warning, error" },
    { "{\"core\": {\"listen\": null}}", "core.listen: must be a string" },
    { "{\"core\": {\"slab_growth_factor\": \"2\"}}",
      "core.slab_growth_factor: must be a number" },
    { "{\"core\": {\"slab_growth_factor\": 1}}",
      "core.slab_growth_factor: must be between 1.01 and 100 (got 1)" },
    { "{\"test\": {\"users\": {\"a\": 1}}}",
      "test.users: must be an object of string values" },
    { "{\"test\": {\"users\": []}}",
      "test.users: must be an object of string values" },
    { "{\"test\": {\"enabled\": null}}", "test.enabled: must be true or false" },
    { "{\"core\": {\"enabled\": true}}", "unknown key core.enabled" },
    { "[1, 2]", ": must be a JSON object" },
};

START_TEST(test_file_bad)
{
    char        *before, *after, name[32];
    const char  *path;

    snprintf(name, sizeof(name), "bad%d.json", _i);
    path = tst_file(name, tst_bad_files[_i].text);
    before = ob_conf_dump(&conf);

    ck_assert_int_eq(ob_conf_load_file(&conf, path, &err), OB_ERR);
    if (tst_bad_files[_i].msg[0] == ':') {
        ck_assert_int_eq(strncmp(err.msg, path, strlen(path)), 0);
        ck_assert_str_eq(err.msg + strlen(path), tst_bad_files[_i].msg);
    } else {
        tst_err_is(tst_bad_files[_i].msg);
    }

    after = ob_conf_dump(&conf);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
}
END_TEST


START_TEST(test_file_parse_error)
{
    char         want[256];
    const char  *path;

    path = tst_file("syntax.json", "{\"core\": {\n  \"memory_mb\": 1,,\n}}\n");
    ck_assert_int_eq(ob_conf_load_file(&conf, path, &err), OB_ERR);
    snprintf(want, sizeof(want), "%s:2:18: ", path);
    ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);

    path = tst_file("dup.json", "{\"core\": {\"memory_mb\": 1,\n"
                                "\"memory_mb\": 2}}");
    ck_assert_int_eq(ob_conf_load_file(&conf, path, &err), OB_ERR);
    snprintf(want, sizeof(want), "%s:2:", path);
    ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);
    tst_err_has("duplicate");

    path = tst_file("empty.json", "");
    ck_assert_int_eq(ob_conf_load_file(&conf, path, &err), OB_ERR);
    ck_assert_int_eq(strncmp(err.msg, path, strlen(path)), 0);
}
END_TEST


START_TEST(test_file_missing)
{
    char  path[128], want[192];

    snprintf(path, sizeof(path), "%s/none.json", tmpdir);
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    ck_assert_int_eq(ob_conf_load_file(&conf, path, &err), OB_ERR);
    tst_err_is(want);
}
END_TEST


START_TEST(test_file_atomic)
{
    const char  *path;

    /* the good key comes first and is still not applied */
    path = tst_file("half.json", "{\"core\": {\"memory_mb\": 128},\n"
                                 " \"test\": {\"port\": 70000}}");
    ck_assert_int_eq(ob_conf_load_file(&conf, path, &err), OB_ERR);
    tst_err_is("test.port: must be between 1 and 65535 (got 70000)");
    ck_assert_int_eq(ob_conf_int(tst_core(), "memory_mb"), 64);

    path = tst_file("half2.json", "{\"core\": {\"memory_mb\": 128},\n"
                                  " \"nope\": {}}");
    ck_assert_int_eq(ob_conf_load_file(&conf, path, &err), OB_ERR);
    tst_err_is("unknown section 'nope'");
    ck_assert_int_eq(ob_conf_int(tst_core(), "memory_mb"), 64);
}
END_TEST


START_TEST(test_merge)
{
    json_t  *obj, *users;

    /* the merged values are copies: changing obj later changes nothing */
    obj = json_pack("{s{s{ss}sf}}", "test", "users", "x", "y", "ratio", 0.5);
    ck_assert_int_eq(ob_conf_merge(&conf, obj, &err), OB_OK);
    json_object_set_new(json_object_get(json_object_get(obj, "test"),
                                        "users"), "z", json_string("w"));
    json_decref(obj);
    users = json_object_get(tst_test(), "users");
    ck_assert_int_eq(json_object_size(users), 1);
    ck_assert_str_eq(json_string_value(json_object_get(users, "x")), "y");
    ck_assert_double_eq(ob_conf_double(tst_test(), "ratio"), 0.5);

    obj = json_array();
    ck_assert_int_eq(ob_conf_merge(&conf, obj, &err), OB_ERR);
    tst_err_is("the configuration must be a JSON object");
    json_decref(obj);

    obj = json_pack("{s{sn}}", "test", "limit");
    ck_assert_int_eq(ob_conf_merge(&conf, obj, &err), OB_OK);
    json_decref(obj);

    /* a file can only say \u0000 with JSON_ALLOW_NUL, but a caller's
     * object can hold it, and C readers of the value would cut it there */
    obj = json_pack("{s{so}}", "core", "listen", json_stringn("a\0b", 3));
    ck_assert_int_eq(ob_conf_merge(&conf, obj, &err), OB_ERR);
    tst_err_is("core.listen: must not contain NUL characters");
    json_decref(obj);
}
END_TEST


/* ---- set_text ------------------------------------------------------------ */

START_TEST(test_set_int)
{
    tst_set_ok("core.memory_mb", "128");
    ck_assert_int_eq(ob_conf_int(tst_core(), "memory_mb"), 128);
    tst_set_ok("core.memory_mb", "+1");
    ck_assert_int_eq(ob_conf_int(tst_core(), "memory_mb"), 1);
    tst_set_ok("core.output_buffer_hard", "1099511627776");
    ck_assert(ob_conf_int(tst_core(), "output_buffer_hard")
              == 1099511627776LL);

    tst_set_fails("core.memory_mb", "12x", "core.memory_mb: must be an integer");
    tst_set_fails("core.memory_mb", "", "core.memory_mb: must be an integer");
    tst_set_fails("core.memory_mb", " 12", "core.memory_mb: must be an integer");
    tst_set_fails("core.memory_mb", "12 ", "core.memory_mb: must be an integer");
    tst_set_fails("core.memory_mb", "0x10", "core.memory_mb: must be an integer");
    tst_set_fails("core.memory_mb", "1.5", "core.memory_mb: must be an integer");
    tst_set_fails("core.memory_mb", "null", "core.memory_mb: must be an integer");
    tst_set_fails("core.memory_mb", "0",
                  "core.memory_mb: must be between 1 and 1048576 (got 0)");
    tst_set_fails("core.memory_mb", "-5",
                  "core.memory_mb: must be between 1 and 1048576 (got -5)");
    tst_set_fails("core.memory_mb", "99999999999999999999",
                  "core.memory_mb: must be between 1 and 1048576 "
                  "(got 99999999999999999999)");
    tst_set_fails("core.memory_mb", "-99999999999999999999",
                  "core.memory_mb: must be between 1 and 1048576 "
                  "(got -99999999999999999999)");
    ck_assert_int_eq(ob_conf_int(tst_core(), "memory_mb"), 1);

    /* a nullable int takes null */
    tst_set_ok("test.limit", "7");
    ck_assert_int_eq(ob_conf_int(tst_test(), "limit"), 7);
    tst_set_ok("test.limit", "null");
    ck_assert(json_is_null(json_object_get(tst_test(), "limit")));
}
END_TEST


START_TEST(test_set_double)
{
    tst_set_ok("core.slab_growth_factor", "1.5");
    ck_assert_double_eq(ob_conf_double(tst_core(), "slab_growth_factor"), 1.5);
    tst_set_ok("core.slab_growth_factor", "2");
    ck_assert_double_eq(ob_conf_double(tst_core(), "slab_growth_factor"), 2.0);
    tst_set_ok("core.slab_growth_factor", "1e2");

    tst_set_fails("core.slab_growth_factor", "1.5x",
                  "core.slab_growth_factor: must be a number");
    tst_set_fails("core.slab_growth_factor", "",
                  "core.slab_growth_factor: must be a number");
    tst_set_fails("core.slab_growth_factor", "nan",
                  "core.slab_growth_factor: must be a number");
    tst_set_fails("core.slab_growth_factor", "inf",
                  "core.slab_growth_factor: must be a number");
    tst_set_fails("core.slab_growth_factor", "1e999",
                  "core.slab_growth_factor: must be a number");
    tst_set_fails("core.slab_growth_factor", "1.0",
                  "core.slab_growth_factor: must be between 1.01 and 100 "
                  "(got 1)");
    tst_set_fails("core.slab_growth_factor", "100.5",
                  "core.slab_growth_factor: must be between 1.01 and 100 "
                  "(got 100.5)");
}
END_TEST


static const struct {
    const char  *word;
    int          value;
} tst_bool_words[] = {
    { "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 }, { "1", 1 },
    { "0", 0 }, { "on", 1 }, { "off", 0 }, { "TRUE", 1 }, { "Off", 0 }
};

START_TEST(test_set_bool)
{
    tst_set_ok("core.daemonize", tst_bool_words[_i].word);
    ck_assert_int_eq(ob_conf_bool(tst_core(), "daemonize"),
                     tst_bool_words[_i].value);
    tst_set_ok("core.daemonize", tst_bool_words[_i].value ? "off" : "on");
    ck_assert_int_eq(ob_conf_bool(tst_core(), "daemonize"),
                     !tst_bool_words[_i].value);
}
END_TEST


START_TEST(test_set_bool_bad)
{
    tst_set_fails("core.daemonize", "2", "core.daemonize: must be true or false");
    tst_set_fails("core.daemonize", "", "core.daemonize: must be true or false");
    tst_set_fails("core.daemonize", "null",
                  "core.daemonize: must be true or false");
    tst_set_fails("core.daemonize", "truee",
                  "core.daemonize: must be true or false");
}
END_TEST


START_TEST(test_set_enum_string)
{
    tst_set_ok("core.log_level", "warning");
    ck_assert_str_eq(ob_conf_str(tst_core(), "log_level"), "warning");
    tst_set_fails("core.log_level", "WARNING",
                  "core.log_level: must be one of debug, info, notice, "
                  "warning, error");
    tst_set_fails("test.mode", "",
                  "test.mode: must be one of fast, safe");

    tst_set_ok("core.data_dir", "/var/lib/onebox");
    ck_assert_str_eq(ob_conf_str(tst_core(), "data_dir"), "/var/lib/onebox");
    tst_set_ok("core.data_dir", "");
    ck_assert_str_eq(ob_conf_str(tst_core(), "data_dir"), "");

    /* "null" is null only where null is allowed */
    tst_set_ok("core.listen", "null");
    ck_assert_str_eq(ob_conf_str(tst_core(), "listen"), "null");
    tst_set_ok("core.user", "nobody");
    ck_assert_str_eq(ob_conf_str(tst_core(), "user"), "nobody");
    tst_set_ok("core.user", "null");
    ck_assert_ptr_null(ob_conf_str(tst_core(), "user"));

    tst_set_fails("core.user", "\xff", "core.user: must be valid UTF-8");
}
END_TEST


START_TEST(test_set_object)
{
    const json_t  *users;

    tst_set_ok("test.users", "{\"alice\": \"secret\", \"bob\": \"pw\"}");
    users = json_object_get(tst_test(), "users");
    ck_assert_int_eq(json_object_size(users), 2);
    ck_assert_str_eq(json_string_value(json_object_get(users, "bob")), "pw");
    tst_set_ok("test.users", "{}");
    ck_assert_int_eq(json_object_size(json_object_get(tst_test(), "users")),
                     0);

    ck_assert_int_eq(ob_conf_set_text(&conf, "test.users", "{", &err), OB_ERR);
    tst_err_has("test.users: must be an object of string values (bad JSON: ");
    tst_set_fails("test.users", "[\"a\"]",
                  "test.users: must be an object of string values");
    tst_set_fails("test.users", "{\"a\": 1}",
                  "test.users: must be an object of string values");
    ck_assert_int_eq(ob_conf_set_text(&conf, "test.users", "null", &err),
                     OB_ERR);
    tst_err_has("test.users: must be an object of string values (bad JSON: ");
}
END_TEST


START_TEST(test_set_unknown)
{
    tst_set_fails("memory_mb", "1",
                  "unknown key memory_mb (keys are section.key)");
    tst_set_fails("core.memroy_mb", "1", "unknown key core.memroy_mb");
    tst_set_fails("nope.port", "1", "unknown key nope.port");
    tst_set_fails("core.", "1", "unknown key core.");
    tst_set_fails(".port", "1", "unknown key .port");
    tst_set_fails("core.enabled", "true", "unknown key core.enabled");
    tst_set_fails("core.listen.x", "1", "unknown key core.listen.x");
    tst_set_fails("cor.listen", "1", "unknown key cor.listen");
}
END_TEST


/* ---- getters ------------------------------------------------------------- */

START_TEST(test_get_missing_key_aborts)
{
    ob_conf_int(tst_core(), "no_such_key");
}
END_TEST


START_TEST(test_get_wrong_type_aborts)
{
    ob_conf_int(tst_core(), "listen");
}
END_TEST


START_TEST(test_get_double_of_int_aborts)
{
    ob_conf_double(tst_core(), "memory_mb");
}
END_TEST


START_TEST(test_get_str_of_bool_aborts)
{
    ob_conf_str(tst_core(), "daemonize");
}
END_TEST


START_TEST(test_get_null_section_aborts)
{
    ob_conf_bool(NULL, "enabled");
}
END_TEST


/* ---- the command line ---------------------------------------------------- */

/* One flag: the arguments, and the set it must give. */
static const struct {
    const char  *a1, *a2;
    const char  *key, *value, *flag;
} tst_flags[] = {
    { "-m", "128", "core.memory_mb", "128", "-m" },
    { "-c", "50", "core.max_connections", "50", "-c" },
    { "-l", "::1", "core.listen", "::1", "-l" },
    { "-p", "11311", "cache.port", "11311", "-p" },
    { "-P", "/tmp/pid", "core.pidfile", "/tmp/pid", "-P" },
    { "-u", "nobody", "core.user", "nobody", "-u" },
    { "-t", "8", "core.threads", "8", "-t" },
    { "-R", "50", "core.reqs_per_event", "50", "-R" },
    { "-f", "1.5", "core.slab_growth_factor", "1.5", "-f" },
    { "-I", "2048", "cache.max_item_size", "2048", "-I" },
    { "-m64", NULL, "core.memory_mb", "64", "-m" },
    { "-p11311", NULL, "cache.port", "11311", "-p" },
    { "-l0.0.0.0", NULL, "core.listen", "0.0.0.0", "-l" },
    { "-I2m", NULL, "cache.max_item_size", "2097152", "-I" },
    { "-I", "512k", "cache.max_item_size", "524288", "-I" },
    { "-I", "1K", "cache.max_item_size", "1024", "-I" },
    { "-I", "1M", "cache.max_item_size", "1048576", "-I" },
    { "-I", "1024", "cache.max_item_size", "1024", "-I" },
    /* the cache declares these in its own section */
    { "-s", "/tmp/mc.sock", "cache.unix_socket", "/tmp/mc.sock", "-s" },
    { "-a", "700", "cache.unix_mask", "448", "-a" },
    { "-a0755", NULL, "cache.unix_mask", "493", "-a" },
    { "-C", NULL, "cache.cas", "false", "-C" },
    { "-F", NULL, "cache.flush_enabled", "false", "-F" },
    { "-M", NULL, "cache.evictions", "false", "-M" },
    { "-d", NULL, "core.daemonize", "true", "-d" },
    { "-v", NULL, "core.log_level", "info", "-v" },
    { "-vv", NULL, "core.log_level", "debug", "-v" },
    { "-vvv", NULL, "core.log_level", "debug", "-v" },
    { "-v", "-v", "core.log_level", "debug", "-v" },
    { "-m", "-5", "core.memory_mb", "-5", "-m" },
    { "--core.memory_mb", "96", "core.memory_mb", "96", "--core.memory_mb" },
    { "--core.memory_mb=97", NULL, "core.memory_mb", "97",
      "--core.memory_mb=97" },
    { "--test.users={\"a\":\"b=c\"}", NULL, "test.users", "{\"a\":\"b=c\"}",
      "--test.users={\"a\":\"b=c\"}" },
    { "--core.listen=", NULL, "core.listen", "", "--core.listen=" },
};

START_TEST(test_args_flag)
{
    ck_assert_msg(tst_parse(tst_flags[_i].a1, tst_flags[_i].a2, NULL)
                  == OB_OK, "%s", err.msg);
    ck_assert_uint_eq(args.nsets, 1);
    ck_assert_str_eq(args.sets[0].key, tst_flags[_i].key);
    ck_assert_str_eq(args.sets[0].value, tst_flags[_i].value);
    ck_assert_str_eq(args.sets[0].flag, tst_flags[_i].flag);
    ck_assert_int_eq(args.help | args.version | args.print_config, 0);
    ck_assert_ptr_null(args.config_file);
}
END_TEST


START_TEST(test_args_options)
{
    ck_assert_int_eq(tst_parse(NULL), OB_OK);
    ck_assert_uint_eq(args.nsets, 0);

    ck_assert_int_eq(tst_parse("--help", NULL), OB_OK);
    ck_assert_int_eq(args.help, 1);
    ck_assert_int_eq(tst_parse("-h", NULL), OB_OK);
    ck_assert_int_eq(args.help, 1);
    ck_assert_int_eq(tst_parse("--version", NULL), OB_OK);
    ck_assert_int_eq(args.version, 1);
    ck_assert_int_eq(tst_parse("-V", NULL), OB_OK);
    ck_assert_int_eq(args.version, 1);
    ck_assert_int_eq(tst_parse("--print-config", NULL), OB_OK);
    ck_assert_int_eq(args.print_config, 1);
    ck_assert_int_eq(args.help, 0);

    ck_assert_int_eq(tst_parse("--config", "a.json", NULL), OB_OK);
    ck_assert_str_eq(args.config_file, "a.json");
    ck_assert_int_eq(tst_parse("--config=b.json", "-m", "1", NULL), OB_OK);
    ck_assert_str_eq(args.config_file, "b.json");
    ck_assert_uint_eq(args.nsets, 1);

    /* -U 0 is accepted and sets nothing */
    ck_assert_int_eq(tst_parse("-U", "0", "-U0", NULL), OB_OK);
    ck_assert_uint_eq(args.nsets, 0);

    /* a bundle, in order; "--" ends the options */
    ck_assert_int_eq(tst_parse("-dvm32", "--", NULL), OB_OK);
    ck_assert_uint_eq(args.nsets, 3);
    ck_assert_str_eq(args.sets[0].key, "core.daemonize");
    ck_assert_str_eq(args.sets[1].key, "core.log_level");
    ck_assert_str_eq(args.sets[2].value, "32");

    /* core and module flags bundled: each set names its own key */
    ck_assert_int_eq(tst_parse("-CdMp1234", NULL), OB_OK);
    ck_assert_uint_eq(args.nsets, 4);
    ck_assert_str_eq(args.sets[0].key, "cache.cas");
    ck_assert_str_eq(args.sets[0].flag, "-C");
    ck_assert_str_eq(args.sets[1].key, "core.daemonize");
    ck_assert_str_eq(args.sets[2].key, "cache.evictions");
    ck_assert_str_eq(args.sets[2].flag, "-M");
    ck_assert_str_eq(args.sets[3].key, "cache.port");
    ck_assert_str_eq(args.sets[3].value, "1234");

    /* -v twice raises the one set; its place is the first -v */
    ck_assert_int_eq(tst_parse("-v", "-m", "1", "-v", NULL), OB_OK);
    ck_assert_uint_eq(args.nsets, 2);
    ck_assert_str_eq(args.sets[0].value, "debug");
}
END_TEST


/* One bad command line, and its message. */
static const struct {
    const char  *a1, *a2;
    const char  *msg;
} tst_bad_args[] = {
    { "-x", NULL, "unknown option '-x'" },
    { "-dx", NULL, "unknown option '-x'" },
    { "--frobnicate", NULL, "unknown option '--frobnicate'" },
    { "--frob=1", NULL, "unknown option '--frob'" },
    { "-m", NULL, "option '-m' needs a value" },
    { "-d", "-I", "option '-I' needs a value" },
    { "-U", NULL, "option '-U' needs a value" },
    { "--config", NULL, "option '--config' needs a value" },
    { "--config=", NULL, "option '--config' needs a value" },
    { "--core.memory_mb", NULL, "option '--core.memory_mb' needs a value" },
    { "--help=yes", NULL, "option '--help' takes no value" },
    { "foo", NULL, "unexpected argument 'foo'" },
    { "-", NULL, "unexpected argument '-'" },
    { "--", "foo", "unexpected argument 'foo'" },
    { "-U", "1", "-U: UDP is not supported; only -U 0 is accepted" },
    { "-U11211", NULL, "-U: UDP is not supported; only -U 0 is accepted" },
    { "-I", "2g", "-I: bad size '2g' (a number of bytes, optionally "
                  "followed by k or m)" },
    { "-I", "", "-I: bad size '' (a number of bytes, optionally followed "
                "by k or m)" },
    { "-I", "m", "-I: bad size 'm' (a number of bytes, optionally followed "
                 "by k or m)" },
    { "-I", "1mm", "-I: bad size '1mm' (a number of bytes, optionally "
                   "followed by k or m)" },
    { "-I", "-1", "-I: bad size '-1' (a number of bytes, optionally "
                  "followed by k or m)" },
    { "-I", "99999999999999999999", "-I: bad size '99999999999999999999' "
      "(a number of bytes, optionally followed by k or m)" },
    { "-I", "18014398509481984k", "-I: bad size '18014398509481984k' "
      "(a number of bytes, optionally followed by k or m)" },
    { "-a", "9", "-a: bad mask '9' (an octal number, e.g. 700)" },
    { "-a", "7x", "-a: bad mask '7x' (an octal number, e.g. 700)" },
    { "-a", NULL, "option '-a' needs a value" },
    { "--store.a_very_long_key_name_indeed=1", NULL,
      "option '--store.a_very_long_key_name_indeed': name too long for the "
      "'=' form; write '--store.a_very_long_key_name_indeed VALUE'" },
};

START_TEST(test_args_bad)
{
    ck_assert_int_eq(tst_parse(tst_bad_args[_i].a1, tst_bad_args[_i].a2,
                               NULL), OB_ERR);
    tst_err_is(tst_bad_args[_i].msg);
}
END_TEST


START_TEST(test_args_too_many)
{
    int   i, argc;
    char *argv[OB_ARGS_MAX_SETS + 3];

    argc = 0;
    argv[argc++] = (char *) "onebox";
    for (i = 0; i < OB_ARGS_MAX_SETS; i++) {
        argv[argc++] = (char *) "-d";
    }
    argv[argc] = NULL;
    ck_assert_int_eq(ob_args_parse(&args, argc, argv, &err), OB_OK);
    ck_assert_uint_eq(args.nsets, OB_ARGS_MAX_SETS);

    argv[argc++] = (char *) "-m1";
    argv[argc] = NULL;
    ck_assert_int_eq(ob_args_parse(&args, argc, argv, &err), OB_ERR);
    tst_err_is("too many settings on the command line (at most 256)");
}
END_TEST


START_TEST(test_args_argv_untouched)
{
    char  a1[] = "--core.memory_mb=12";
    char *argv[] = { (char *) "onebox", a1, NULL };

    ck_assert_int_eq(ob_args_parse(&args, 2, argv, &err), OB_OK);
    ck_assert_str_eq(a1, "--core.memory_mb=12");
    ck_assert_int_eq(ob_args_parse(&args, 2, argv, &err), OB_OK);
    ck_assert_str_eq(args.sets[0].key, "core.memory_mb");
    ck_assert_str_eq(args.sets[0].value, "12");
}
END_TEST


START_TEST(test_apply)
{
    const char  *path;

    path = tst_file("apply.json", "{\"core\": {\"memory_mb\": 100, "
                                  "\"threads\": 2, \"log_level\": \"error\"}}");

    /* the file is read first wherever --config is; flags win over it */
    ck_assert_int_eq(tst_parse("-m", "200", "-v", "-p11311", "-I1m",
                               "--config", path, "-d",
                               "--test.mode=safe", "--core.threads", "3",
                               NULL), OB_OK);
    ck_assert_msg(ob_conf_apply_args(&conf, &args, &err) == OB_OK, "%s",
                  err.msg);
    ck_assert_int_eq(ob_conf_int(tst_core(), "memory_mb"), 200);
    ck_assert_int_eq(ob_conf_int(tst_core(), "threads"), 3);
    ck_assert_str_eq(ob_conf_str(tst_core(), "log_level"), "info");
    ck_assert_int_eq(ob_conf_bool(tst_core(), "daemonize"), 1);
    ck_assert_str_eq(ob_conf_str(tst_test(), "mode"), "safe");
    ck_assert_int_eq(ob_conf_int(ob_conf_section(&conf, "cache"), "port"),
                     11311);
    ck_assert_int_eq(ob_conf_int(ob_conf_section(&conf, "cache"),
                                 "max_item_size"), 1048576);

    /* later flags win over earlier ones */
    ck_assert_int_eq(tst_parse("-m", "1", "--core.memory_mb=2", NULL), OB_OK);
    ck_assert_int_eq(ob_conf_apply_args(&conf, &args, &err), OB_OK);
    ck_assert_int_eq(ob_conf_int(tst_core(), "memory_mb"), 2);
}
END_TEST


START_TEST(test_apply_errors)
{
    ob_conf_t                       c;
    const char                     *path;
    char                            none[128], want[192];
    const ob_conf_section_t *const  only_test[] = { &tst_section };

    ck_assert_int_eq(tst_parse("-m", "0", NULL), OB_OK);
    ck_assert_int_eq(ob_conf_apply_args(&conf, &args, &err), OB_ERR);
    tst_err_is("core.memory_mb: must be between 1 and 1048576 (got 0) "
               "(from -m)");

    ck_assert_int_eq(tst_parse("-t", "x", NULL), OB_OK);
    ck_assert_int_eq(ob_conf_apply_args(&conf, &args, &err), OB_ERR);
    tst_err_is("core.threads: must be an integer (from -t)");

    ck_assert_int_eq(tst_parse("-I", "1", NULL), OB_OK);
    ck_assert_int_eq(ob_conf_apply_args(&conf, &args, &err), OB_ERR);
    tst_err_is("cache.max_item_size: must be between 1024 and 1073741824 "
               "(got 1) (from -I)");

    /* a long option names itself already */
    ck_assert_int_eq(tst_parse("--core.memory_mb=0", NULL), OB_OK);
    ck_assert_int_eq(ob_conf_apply_args(&conf, &args, &err), OB_ERR);
    tst_err_is("core.memory_mb: must be between 1 and 1048576 (got 0)");

    ck_assert_int_eq(tst_parse("--core.nope", "1", NULL), OB_OK);
    ck_assert_int_eq(ob_conf_apply_args(&conf, &args, &err), OB_ERR);
    tst_err_is("unknown key core.nope");

    /* the first error stops it: the set after it is not applied */
    ck_assert_int_eq(tst_parse("-m", "5", "-c", "0", "-t", "9", NULL), OB_OK);
    ck_assert_int_eq(ob_conf_apply_args(&conf, &args, &err), OB_ERR);
    tst_err_has("(from -c)");
    ck_assert_int_eq(ob_conf_int(tst_core(), "memory_mb"), 5);
    ck_assert_int_eq(ob_conf_int(tst_core(), "threads"), 4);

    /* a bad file stops it before any flag */
    path = tst_file("bad.json", "{\"core\": {\"memory_mb\": -1}}");
    ck_assert_int_eq(tst_parse("-m", "7", "--config", path, NULL), OB_OK);
    ck_assert_int_eq(ob_conf_apply_args(&conf, &args, &err), OB_ERR);
    tst_err_is("core.memory_mb: must be between 1 and 1048576 (got -1)");
    ck_assert_int_eq(ob_conf_int(tst_core(), "memory_mb"), 5);

    snprintf(none, sizeof(none), "%s/none.json", tmpdir);
    snprintf(want, sizeof(want), "%s: No such file or directory", none);
    ck_assert_int_eq(tst_parse("--config", none, NULL), OB_OK);
    ck_assert_int_eq(ob_conf_apply_args(&conf, &args, &err), OB_ERR);
    tst_err_is(want);

    /* -p parses without a cache section, and applying it says so */
    ck_assert_int_eq(ob_conf_init(&c, only_test, 1, &err), OB_OK);
    ck_assert_int_eq(tst_parse("-p", "1", NULL), OB_OK);
    ck_assert_int_eq(ob_conf_apply_args(&c, &args, &err), OB_ERR);
    tst_err_is("unknown key cache.port (from -p)");
    ob_conf_free(&c);
}
END_TEST


START_TEST(test_usage)
{
    char                           *text;
    size_t                          len;
    FILE                           *out;
    const ob_conf_section_t *const  with_core[] = { &ob_conf_core_section,
                                                    &tst_section };

    out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    ob_conf_usage(&conf, out);
    fclose(out);

    ck_assert_int_eq(strncmp(text, "Usage: onebox [options]\n", 24), 0);
    ck_assert_ptr_nonnull(strstr(text, "--config FILE"));
    ck_assert_ptr_nonnull(strstr(text, "--print-config"));
    ck_assert_ptr_nonnull(strstr(text, "--help"));
    ck_assert_ptr_nonnull(strstr(text, "--version"));
    ck_assert_ptr_nonnull(strstr(text, "  -m <num>     core.memory_mb "));
    ck_assert_ptr_nonnull(strstr(text, "  -I <size>    cache.max_item_size "));
    ck_assert_ptr_nonnull(strstr(text, "  -a <mask>    cache.unix_mask "));
    ck_assert_ptr_nonnull(strstr(text, "  -M           cache.evictions "));
    ck_assert_ptr_nonnull(strstr(text, "  -U 0 "));
    ck_assert_ptr_nonnull(strstr(text,
        "  --core.memory_mb <int 1..1048576>  (default 64)\n"
        "      memory budget for all modules, MiB (memcached -m)\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "  --core.log_level <debug|info|notice|warning|error>  "
        "(default \"notice\")\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "  --core.slab_growth_factor <number 1.01..100>  (default 1.25)"));
    ck_assert_ptr_nonnull(strstr(text, "  --core.pidfile <string>  "
                                       "(default null)"));
    ck_assert_ptr_nonnull(strstr(text, "\ntest:\n  --test.enabled <bool>  "
                                       "(default true)\n      run this "
                                       "module\n  --test.port <int"));
    ck_assert_ptr_nonnull(strstr(text, "  --test.users <json>"));
    ck_assert_ptr_nonnull(strstr(text, "\ncache:\n"));
    ck_assert_ptr_null(strstr(text, "--core.enabled"));
    free(text);

    /* core listed by the caller too is printed once */
    ob_conf_free(&conf);
    ck_assert_int_eq(ob_conf_init(&conf, with_core, 2, &err), OB_OK);
    out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    ob_conf_usage(&conf, out);
    fclose(out);
    ck_assert_ptr_nonnull(strstr(text, "\ncore:\n"));
    ck_assert_ptr_null(strstr(strstr(text, "\ncore:\n") + 1, "\ncore:\n"));
    ck_assert_ptr_nonnull(strstr(text, "\ntest:\n"));
    free(text);
}
END_TEST


Suite *
ob_conf_suite(void)
{
    Suite       *s;
    TCase       *tc;
    const char  *fork;

    s = suite_create("conf");

    tc = tcase_create("defaults");
    tcase_add_checked_fixture(tc, tst_setup, tst_teardown);
    tcase_add_test(tc, test_defaults_core);
    tcase_add_test(tc, test_defaults_order_and_dump);
    tcase_add_test(tc, test_defaults_module_section);
    tcase_add_test(tc, test_init_bad_schema);
    suite_add_tcase(s, tc);

    tc = tcase_create("file");
    tcase_add_checked_fixture(tc, tst_setup, tst_teardown);
    tcase_add_test(tc, test_file_good);
    tcase_add_loop_test(tc, test_file_bad, 0,
                        sizeof(tst_bad_files) / sizeof(tst_bad_files[0]));
    tcase_add_test(tc, test_file_parse_error);
    tcase_add_test(tc, test_file_missing);
    tcase_add_test(tc, test_file_atomic);
    tcase_add_test(tc, test_merge);
    suite_add_tcase(s, tc);

    tc = tcase_create("set_text");
    tcase_add_checked_fixture(tc, tst_setup, tst_teardown);
    tcase_add_test(tc, test_set_int);
    tcase_add_test(tc, test_set_double);
    tcase_add_loop_test(tc, test_set_bool, 0,
                        sizeof(tst_bool_words) / sizeof(tst_bool_words[0]));
    tcase_add_test(tc, test_set_bool_bad);
    tcase_add_test(tc, test_set_enum_string);
    tcase_add_test(tc, test_set_object);
    tcase_add_test(tc, test_set_unknown);
    suite_add_tcase(s, tc);

    /* abort() would end the whole run without a fork per test */
    fork = getenv("CK_FORK");
    if (fork == NULL || strcmp(fork, "no") != 0) {
        tc = tcase_create("getters");
        tcase_add_checked_fixture(tc, tst_setup_conf_only, NULL);
        tcase_add_test_raise_signal(tc, test_get_missing_key_aborts, SIGABRT);
        tcase_add_test_raise_signal(tc, test_get_wrong_type_aborts, SIGABRT);
        tcase_add_test_raise_signal(tc, test_get_double_of_int_aborts,
                                    SIGABRT);
        tcase_add_test_raise_signal(tc, test_get_str_of_bool_aborts, SIGABRT);
        tcase_add_test_raise_signal(tc, test_get_null_section_aborts,
                                    SIGABRT);
        suite_add_tcase(s, tc);
    }

    tc = tcase_create("args");
    tcase_add_checked_fixture(tc, tst_setup, tst_teardown);
    tcase_add_loop_test(tc, test_args_flag, 0,
                        sizeof(tst_flags) / sizeof(tst_flags[0]));
    tcase_add_test(tc, test_args_options);
    tcase_add_loop_test(tc, test_args_bad, 0,
                        sizeof(tst_bad_args) / sizeof(tst_bad_args[0]));
    tcase_add_test(tc, test_args_too_many);
    tcase_add_test(tc, test_args_argv_untouched);
    tcase_add_test(tc, test_apply);
    tcase_add_test(tc, test_apply_errors);
    tcase_add_test(tc, test_usage);
    suite_add_tcase(s, tc);

    return s;
}
