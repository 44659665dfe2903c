/*
 * check_store_string.c: unit tests of the string value's big-string
 * capacity (store_obj_raw_cap, which APPEND and SETRANGE rely on to grow
 * in place) and of raw strings over 1 MiB in the arena: allocation and
 * free agree, the accounting returns to zero, a copy keeps its bytes.
 * The commands themselves are tested end to end (test_store_string.py).
 */
#include "check_suites.h"

#include <stdlib.h>
#include <string.h>

#include "ob_arena.h"
#include "store/store_object.h"

#define T_MIB  (1024 * 1024)


START_TEST(test_raw_cap_shape)
{
    size_t  len, cap, prev = 0;

    /* exact up to 1 MiB: small strings pay nothing */
    for (len = 0; len <= STORE_OBJ_RAW_EXACT; len += 4093) {
        ck_assert_uint_eq(store_obj_raw_cap(len), len);
    }
    ck_assert_uint_eq(store_obj_raw_cap(STORE_OBJ_RAW_EXACT),
                      STORE_OBJ_RAW_EXACT);
    /* above: never below len, at most an eighth more, monotone */
    for (len = STORE_OBJ_RAW_EXACT + 1; len < 600u * T_MIB; len += 777777) {
        cap = store_obj_raw_cap(len);
        ck_assert_uint_ge(cap, len);
        ck_assert_uint_le(cap - len, len / 8);
        ck_assert_uint_ge(cap, prev);
        prev = cap;
    }
    /* powers of two are their own capacity; one more byte rounds up */
    ck_assert_uint_eq(store_obj_raw_cap(4u * T_MIB), 4u * T_MIB);
    ck_assert_uint_eq(store_obj_raw_cap(4u * T_MIB + 1),
                      4u * T_MIB + T_MIB / 2);
    ck_assert_uint_eq(store_obj_raw_cap(512u * T_MIB), 512u * T_MIB);
}
END_TEST


START_TEST(test_raw_big_alloc_free)
{
    ob_arena_conf_t         conf = { .limit = 64u * T_MIB,
                                     .page_size = T_MIB, .min_chunk = 48,
                                     .growth_factor = 1.25 };
    ob_arena_t             *a = ob_arena_new(&conf, NULL, 0);
    ob_arena_owner_stats_t  os;
    store_obj_t            *o, *d;
    char                   *src;
    size_t                  len = 3u * T_MIB + 12345;
    int                     owner;

    ck_assert_ptr_nonnull(a);
    owner = ob_arena_owner_add(a, "store");
    src = malloc(len);
    ck_assert_ptr_nonnull(src);
    memset(src, 'x', len);
    src[len - 1] = 'y';

    o = store_obj_raw_new(a, owner, src, len);
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(store_obj_string_len(o), len);
    ck_assert_uint_ge(store_obj_mem(a, o), store_obj_raw_cap(len));

    d = store_obj_dup(a, owner, o);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(memcmp(d->v.ptr, src, len), 0);

    store_obj_free(a, owner, o);
    store_obj_free(a, owner, d);
    ck_assert_int_eq(ob_arena_owner_stats(a, owner, &os), OB_OK);
    ck_assert_uint_eq(os.bytes, 0);

    free(src);
    ob_arena_destroy(a);
}
END_TEST


Suite *
store_string_suite(void)
{
    Suite  *s = suite_create("store_string");
    TCase  *tc = tcase_create("raw");

    tcase_add_test(tc, test_raw_cap_shape);
    tcase_add_test(tc, test_raw_big_alloc_free);
    suite_add_tcase(s, tc);
    return s;
}
