/*
 * check_core_cmd.c: the shared command table (core/ob_cmd.c): lookup by
 * name in a module's own entry type, case rules per table, arity in one
 * place, and the errors a bad table gives at init.
 */
#include "check_suites.h"

#include <stdio.h>
#include <string.h>

#include "ob_cmd.h"

typedef int (*t_handler_pt)(int x);

/* A module's entry: ob_cmd_t first, then what the module needs. */
typedef struct {
    ob_cmd_t      base;
    t_handler_pt  handler;
} t_cmd_t;


static int t_double(int x) { return 2 * x; }
static int t_neg(int x) { return -x; }


static const t_cmd_t t_cmds[] = {
    { .base = { .name = "get", .arity_min = 2, .arity_max = -1,
                .flags = OB_CMD_READONLY | OB_CMD_FAST },
      .handler = t_double },
    { .base = { .name = "set", .arity_min = 5, .arity_max = 6,
                .flags = OB_CMD_WRITE },
      .handler = t_neg },
    { .base = { .name = "version", .arity_min = 1, .arity_max = 1 },
      .handler = t_double },
    { .base = { .name = NULL } }
};


START_TEST(test_lookup_and_arity)
{
    ob_cmd_table_t   t;
    ob_err_t         err;
    const ob_cmd_t  *cmd;

    ck_assert_int_eq(ob_cmd_table_init(&t, t_cmds, sizeof(t_cmds[0]), 0,
                                       &err), OB_OK);
    ck_assert_uint_eq(t.n, 3);

    cmd = ob_cmd_find(&t, "set", 3);
    ck_assert_ptr_eq(cmd, &t_cmds[1].base);
    ck_assert_int_eq(((const t_cmd_t *) cmd)->handler(4), -4);
    ck_assert_ptr_null(ob_cmd_find(&t, "se", 2));
    ck_assert_ptr_null(ob_cmd_find(&t, "sett", 4));
    ck_assert_ptr_null(ob_cmd_find(&t, "SET", 3));      /* case-sensitive */
    ck_assert_ptr_null(ob_cmd_find(&t, "", 0));
    /* not NUL-terminated: a slice of a longer line */
    ck_assert_ptr_eq(ob_cmd_find(&t, "get key", 3), &t_cmds[0].base);

    ck_assert_int_eq(ob_cmd_lookup(&t, "get", 3, 2, &cmd), OB_OK);
    ck_assert_int_eq(ob_cmd_lookup(&t, "get", 3, 200, &cmd), OB_OK);
    ck_assert_int_eq(ob_cmd_lookup(&t, "get", 3, 1, &cmd), OB_PROTO_ERR);
    ck_assert_ptr_eq(cmd, &t_cmds[0].base);
    ck_assert_int_eq(ob_cmd_lookup(&t, "set", 3, 4, &cmd), OB_PROTO_ERR);
    ck_assert_int_eq(ob_cmd_lookup(&t, "set", 3, 6, &cmd), OB_OK);
    ck_assert_int_eq(ob_cmd_lookup(&t, "set", 3, 7, &cmd), OB_PROTO_ERR);
    ck_assert_int_eq(ob_cmd_lookup(&t, "version", 7, 1, &cmd), OB_OK);
    ck_assert_int_eq(ob_cmd_lookup(&t, "nope", 4, 1, &cmd), OB_DECLINED);
    ck_assert_ptr_null(cmd);
    ck_assert_int_eq(ob_cmd_arity_is_ok(&t_cmds[1].base, 5), 1);
    ck_assert_int_eq(ob_cmd_arity_is_ok(&t_cmds[1].base, 0), 0);
    ob_cmd_table_fini(&t);
}
END_TEST


START_TEST(test_nocase)
{
    ob_cmd_table_t   t;
    ob_err_t         err;
    const ob_cmd_t  *cmd;

    ck_assert_int_eq(ob_cmd_table_init(&t, t_cmds, sizeof(t_cmds[0]),
                                       OB_CMD_NOCASE, &err), OB_OK);
    ck_assert_ptr_eq(ob_cmd_find(&t, "GET", 3), &t_cmds[0].base);
    ck_assert_ptr_eq(ob_cmd_find(&t, "VerSion", 7), &t_cmds[2].base);
    ck_assert_int_eq(ob_cmd_lookup(&t, "SET", 3, 5, &cmd), OB_OK);
    ck_assert_ptr_null(ob_cmd_find(&t, "GETS", 4));
    ob_cmd_table_fini(&t);
}
END_TEST


/* Many names: every one is found, nothing else is. */
START_TEST(test_many_names)
{
    static t_cmd_t   many[301];
    static char      names[300][16];
    ob_cmd_table_t   t;
    ob_err_t         err;
    char             other[16];
    int              i;

    for (i = 0; i < 300; i++) {
        snprintf(names[i], sizeof(names[i]), "cmd%d", i);
        many[i].base.name = names[i];
        many[i].base.arity_min = 1;
        many[i].base.arity_max = -1;
    }
    many[300].base.name = NULL;
    ck_assert_int_eq(ob_cmd_table_init(&t, many, sizeof(many[0]), 0, &err),
                     OB_OK);
    for (i = 0; i < 300; i++) {
        ck_assert_ptr_eq(ob_cmd_find(&t, names[i], strlen(names[i])),
                         &many[i].base);
        snprintf(other, sizeof(other), "cmd%d", i + 300);
        ck_assert_ptr_null(ob_cmd_find(&t, other, strlen(other)));
    }
    ob_cmd_table_fini(&t);
}
END_TEST


START_TEST(test_bad_tables)
{
    static const t_cmd_t dup[] = {
        { .base = { .name = "get", .arity_min = 2, .arity_max = -1 } },
        { .base = { .name = "GET", .arity_min = 2, .arity_max = -1 } },
        { .base = { .name = NULL } }
    };
    static const t_cmd_t arity[] = {
        { .base = { .name = "x", .arity_min = 3, .arity_max = 2 } },
        { .base = { .name = NULL } }
    };
    ob_cmd_table_t t;
    ob_err_t       err;

    /* "GET" and "get" differ in a case-sensitive table only */
    ck_assert_int_eq(ob_cmd_table_init(&t, dup, sizeof(dup[0]), 0, &err),
                     OB_OK);
    ob_cmd_table_fini(&t);
    ck_assert_int_eq(ob_cmd_table_init(&t, dup, sizeof(dup[0]),
                                       OB_CMD_NOCASE, &err), OB_ERR);
    ck_assert_ptr_nonnull(strstr(err.msg, "twice"));
    ck_assert_int_eq(ob_cmd_table_init(&t, arity, sizeof(arity[0]), 0, &err),
                     OB_ERR);
    ck_assert_ptr_nonnull(strstr(err.msg, "arity"));
}
END_TEST


Suite *
ob_cmd_suite(void)
{
    Suite *s = suite_create("core_cmd");
    TCase *tc = tcase_create("table");

    tcase_add_test(tc, test_lookup_and_arity);
    tcase_add_test(tc, test_nocase);
    tcase_add_test(tc, test_many_names);
    tcase_add_test(tc, test_bad_tables);
    suite_add_tcase(s, tc);
    return s;
}
