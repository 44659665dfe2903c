/*
 * check_store_repl.c: unit tests of store/store_repl_backlog.c, the
 * replication backlog's ring: offsets as Redis counts them, wrapping,
 * appends longer than the ring, and which PSYNC offsets it can serve.
 */
#include "check_suites.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_repl_backlog.h"


/* Collects what store_backlog_copy hands out. */
typedef struct t_out_s {
    char    buf[256];
    size_t  len;
    int     calls;
} t_out_t;


static int
t_out(void *arg, const void *p, size_t len)
{
    t_out_t *o = arg;

    ck_assert_uint_le(o->len + len, sizeof(o->buf));
    memcpy(o->buf + o->len, p, len);
    o->len += len;
    o->calls++;
    return 0;
}


START_TEST(test_backlog_offsets)
{
    /* Created when master_repl_offset is 100: the next byte is 101. */
    store_backlog_t  *b = store_backlog_new(16, 101);
    t_out_t           o;

    ck_assert_ptr_nonnull(b);
    ck_assert(store_backlog_has(b, 101));      /* nothing yet, but valid */
    ck_assert(!store_backlog_has(b, 100));
    ck_assert(!store_backlog_has(b, 102));
    store_backlog_feed(b, "abcdef", 6);        /* offsets 101..106 */
    ck_assert_int_eq(b->start, 101);
    ck_assert_uint_eq(b->histlen, 6);
    ck_assert(store_backlog_has(b, 104));
    ck_assert(store_backlog_has(b, 107));      /* the end: empty copy */
    ck_assert(!store_backlog_has(b, 108));
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(store_backlog_copy(b, 104, t_out, &o), 3);
    ck_assert_int_eq(memcmp(o.buf, "def", 3), 0);
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(store_backlog_copy(b, 107, t_out, &o), 0);
    ck_assert_int_eq(o.calls, 0);
    ck_assert_int_eq(store_backlog_copy(b, 99, t_out, &o), -1);
    store_backlog_free(b);
}
END_TEST


START_TEST(test_backlog_wrap)
{
    store_backlog_t  *b = store_backlog_new(8, 1);
    t_out_t           o;

    store_backlog_feed(b, "012345", 6);        /* 1..6 */
    store_backlog_feed(b, "6789", 4);          /* 7..10: 1 and 2 fall out */
    ck_assert_int_eq(b->start, 3);
    ck_assert_uint_eq(b->histlen, 8);
    ck_assert(!store_backlog_has(b, 2));
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(store_backlog_copy(b, 3, t_out, &o), 8);
    ck_assert_int_eq(memcmp(o.buf, "23456789", 8), 0);
    ck_assert_int_eq(o.calls, 2);              /* across the wrap */
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(store_backlog_copy(b, 9, t_out, &o), 2);
    ck_assert_int_eq(memcmp(o.buf, "89", 2), 0);
    store_backlog_free(b);
}
END_TEST


START_TEST(test_backlog_long_append)
{
    store_backlog_t  *b = store_backlog_new(4, 11);
    t_out_t           o;

    store_backlog_feed(b, "x", 1);             /* 11 */
    store_backlog_feed(b, "abcdefghij", 10);   /* 12..21: keeps 18..21 */
    ck_assert_int_eq(b->start, 18);
    ck_assert_uint_eq(b->histlen, 4);
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(store_backlog_copy(b, 18, t_out, &o), 4);
    ck_assert_int_eq(memcmp(o.buf, "ghij", 4), 0);
    store_backlog_feed(b, "KL", 2);            /* 22..23 */
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(store_backlog_copy(b, 20, t_out, &o), 4);
    ck_assert_int_eq(memcmp(o.buf, "ijKL", 4), 0);
    store_backlog_free(b);
}
END_TEST


/* Many small appends against a model of the whole stream. */
START_TEST(test_backlog_model)
{
    store_backlog_t  *b = store_backlog_new(37, 1);
    char              all[4096];
    size_t            total = 0, i, n;
    long long         from;
    t_out_t           o;

    for (i = 0; total + 20 < sizeof(all); i++) {
        char piece[20];

        n = (i * 7) % 19 + 1;
        memset(piece, 'a' + (int) (i % 26), n);
        memcpy(all + total, piece, n);
        total += n;
        store_backlog_feed(b, piece, n);
        ck_assert_int_eq(b->start + (long long) b->histlen,
                         (long long) total + 1);
        from = b->start + (long long) (i % (b->histlen + 1));
        memset(&o, 0, sizeof(o));
        ck_assert_int_eq(store_backlog_copy(b, from, t_out, &o),
                         (long long) total + 1 - from);
        ck_assert_int_eq(memcmp(o.buf, all + from - 1, o.len), 0);
    }
    store_backlog_free(b);
}
END_TEST


Suite *
store_repl_suite(void)
{
    Suite  *s = suite_create("store_repl");
    TCase  *tc = tcase_create("backlog");

    tcase_add_test(tc, test_backlog_offsets);
    tcase_add_test(tc, test_backlog_wrap);
    tcase_add_test(tc, test_backlog_long_append);
    tcase_add_test(tc, test_backlog_model);
    suite_add_tcase(s, tc);
    return s;
}
