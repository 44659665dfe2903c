/*
 * check_store_aof.c: the AOF manifest (store/store_aof_files.c) as Redis
 * 7.0's aofLoadManifestFromFile parses it: key/value pairs in any order,
 * quoted names, comments, unknown keys ignored, the errors (odd token
 * count, fewer than 6, two bases, non-monotonic incr sequences, unknown
 * types, an unterminated line, an empty manifest); and the writer's
 * order (base, history, incrs) and quoting, read back by the parser.
 */
#include "check_suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_aof_int.h"


static int
t_parse(const char *text, store_aof_manifest_t *m, ob_err_t *err)
{
    return store_aof_manifest_parse(m, text, strlen(text), err);
}


START_TEST(test_manifest_basic)
{
    store_aof_manifest_t  m;
    ob_err_t              err;

    ck_assert_int_eq(t_parse("file appendonly.aof.1.base.rdb seq 1 type b\n"
                             "file appendonly.aof.1.incr.aof seq 1 type i\n",
                             &m, &err), OB_OK);
    ck_assert_ptr_nonnull(m.base);
    ck_assert_str_eq(m.base->name, "appendonly.aof.1.base.rdb");
    ck_assert_int_eq(m.base->seq, 1);
    ck_assert_uint_eq(m.nincr, 1);
    ck_assert_str_eq(m.incr[0].name, "appendonly.aof.1.incr.aof");
    ck_assert_int_eq(m.base_seq, 1);
    ck_assert_int_eq(m.incr_seq, 1);
    ck_assert_uint_eq(m.nhist, 0);
    store_aof_manifest_free(&m);
}
END_TEST


START_TEST(test_manifest_order_quotes_comments)
{
    store_aof_manifest_t  m;
    ob_err_t              err;

    ck_assert_int_eq(t_parse("# comment\n"
                             "seq 3 type i file a.3.incr.aof extra x\n"
                             "type h seq 2 file \"old name\\x41.aof\"\n"
                             "file 'b.4.base.aof' seq 4 type b\n"
                             "file a.5.incr.aof seq 5 type i\n",
                             &m, &err), OB_OK);
    ck_assert_str_eq(m.base->name, "b.4.base.aof");
    ck_assert_uint_eq(m.nhist, 1);
    ck_assert_str_eq(m.hist[0].name, "old nameA.aof");
    ck_assert_uint_eq(m.nincr, 2);
    ck_assert_str_eq(m.incr[0].name, "a.3.incr.aof");
    ck_assert_str_eq(m.incr[1].name, "a.5.incr.aof");
    ck_assert_int_eq(m.incr_seq, 5);
    store_aof_manifest_free(&m);
}
END_TEST


START_TEST(test_manifest_errors)
{
    static const char *bad[] = {
        "file a seq 1 type b",                      /* no newline */
        "file a seq 1 type\n",                      /* odd count */
        "file a seq 1\n",                           /* fewer than 6 */
        "file a seq 1 type b\nfile b seq 2 type b\n",  /* two bases */
        "file a seq 2 type i\nfile b seq 1 type i\n",  /* not monotonic */
        "file a seq 1 type x\n",                    /* unknown type */
        "file \"a seq 1 type b\n",                  /* unbalanced quote */
        "file ../a seq 1 type b\n",                 /* a path */
        "",                                         /* empty */
    };
    store_aof_manifest_t  m;
    ob_err_t              err;
    size_t                i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(t_parse(bad[i], &m, &err) == OB_ERR, "%s", bad[i]);
        store_aof_manifest_free(&m);
    }
}
END_TEST


START_TEST(test_manifest_persist_round_trip)
{
    struct store_aof_s    aof;
    store_t               st;
    store_aof_manifest_t  m, back;
    ob_err_t              err;
    char                  dir[] = "/tmp/check_aof_XXXXXX", path[128], buf[512];
    FILE                 *f;
    size_t                n;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    memset(&aof, 0, sizeof(aof));
    memset(&st, 0, sizeof(st));
    st.appendfilename = "appendonly.aof";
    aof.st = &st;
    aof.dirpath = dir;
    memset(&m, 0, sizeof(m));
    m.base = calloc(1, sizeof(*m.base));
    m.base->name = strdup("appendonly.aof.2.base.rdb");
    m.base->seq = 2;
    m.base->type = 'b';
    ck_assert_int_eq(store_aof_manifest_add(&m.incr, &m.nincr,
                     "appendonly.aof.2.incr.aof", 2, 'i'), OB_OK);
    ck_assert_int_eq(store_aof_manifest_add(&m.hist, &m.nhist,
                     "has space.aof", 1, 'h'), OB_OK);
    ck_assert_int_eq(store_aof_manifest_persist(&aof, &m, &err), OB_OK);
    snprintf(path, sizeof(path), "%s/appendonly.aof.manifest", dir);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    ck_assert_str_eq(buf, "file appendonly.aof.2.base.rdb seq 2 type b\n"
                          "file \"has space.aof\" seq 1 type h\n"
                          "file appendonly.aof.2.incr.aof seq 2 type i\n");
    ck_assert_int_eq(t_parse(buf, &back, &err), OB_OK);
    ck_assert_str_eq(back.hist[0].name, "has space.aof");
    ck_assert_str_eq(back.incr[0].name, "appendonly.aof.2.incr.aof");
    store_aof_manifest_free(&back);
    store_aof_manifest_free(&m);
    unlink(path);
    rmdir(dir);
}
END_TEST


Suite *
store_aof_suite(void)
{
    Suite *s = suite_create("store_aof");
    TCase *tc = tcase_create("manifest");

    tcase_add_test(tc, test_manifest_basic);
    tcase_add_test(tc, test_manifest_order_quotes_comments);
    tcase_add_test(tc, test_manifest_errors);
    tcase_add_test(tc, test_manifest_persist_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
