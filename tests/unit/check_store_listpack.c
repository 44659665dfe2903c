/*
 * check_store_listpack.c: unit tests of store/store_listpack.c, Redis 7.0's
 * listpack: every encoding and its boundaries, the backlen sizes, walking
 * both ways, seek, insert/replace/delete at every place against a model,
 * find with skip, the saturated count, validation of corrupt buffers, the
 * arena's refusals, and byte-exact layouts taken from redis-server 7.0
 * (DUMP of lists and hashes with rdbcompression off: the listpack is the
 * payload's string as is).
 */
#include "check_suites.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ob_arena.h"
#include "store/store_listpack.h"

#include "check_store_util.h"


/* ---- fixture --------------------------------------------------------------- */

static void
t_check(const uint8_t *lp)
{
    ck_assert_msg(store_lp_validate(lp, store_lp_bytes(lp), 1),
                  "listpack does not validate");
}


/* The entry at pos, as a NUL-terminated string in out (ints in decimal). */
static const char *
t_str(const uint8_t *lp, store_lp_pos_t pos, char *out, size_t outlen)
{
    char            buf[STORE_LP_INTBUF];
    const uint8_t  *s;
    size_t          len;

    s = store_lp_get_str(lp, pos, buf, &len);
    ck_assert_uint_lt(len, outlen);
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}


/* The listpack's entries, in both directions, are exactly model[0..n). */
static void
t_same(const uint8_t *lp, const char **model, size_t n)
{
    char            buf[256];
    store_lp_pos_t  pos;
    size_t          i;

    t_check(lp);
    ck_assert_uint_eq(store_lp_count(lp), n);

    i = 0;
    for (pos = store_lp_first(lp); pos != 0; pos = store_lp_next(lp, pos)) {
        ck_assert_uint_lt(i, n);
        ck_assert_str_eq(t_str(lp, pos, buf, sizeof(buf)), model[i]);
        i++;
    }
    ck_assert_uint_eq(i, n);

    for (pos = store_lp_last(lp); pos != 0; pos = store_lp_prev(lp, pos)) {
        ck_assert_uint_gt(i, 0);
        i--;
        ck_assert_str_eq(t_str(lp, pos, buf, sizeof(buf)), model[i]);
        ck_assert(store_lp_eq(lp, pos, model[i], strlen(model[i])));
    }
    ck_assert_uint_eq(i, 0);
}


static uint8_t *
t_from(t_fix_t *f, const char **model, size_t n)
{
    uint8_t  *lp;
    size_t    i;

    lp = store_lp_new(f->a, f->owner);
    ck_assert_ptr_nonnull(lp);
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(store_lp_append(f->a, f->owner, &lp, model[i],
                                         strlen(model[i])), OB_OK);
    }
    return lp;
}


static void
t_bytes_eq(const uint8_t *lp, const uint8_t *want, size_t n)
{
    size_t  i;

    ck_assert_uint_eq(store_lp_bytes(lp), n);
    for (i = 0; i < n; i++) {
        ck_assert_msg(lp[i] == want[i], "byte %zu: %02x, want %02x", i,
                      lp[i], want[i]);
    }
}


/* ---- layout ---------------------------------------------------------------- */

START_TEST(test_layout_small)
{
    t_fix_t         f;
    uint8_t        *lp;
    static const uint8_t  empty[] = { 7, 0, 0, 0, 0, 0, 0xFF };
    /* redis 7.0: RPUSH l a 1; DUMP l (a quicklist node's listpack) */
    static const uint8_t  a1[] = { 0x0c, 0, 0, 0, 2, 0, 0x81, 'a', 0x02,
                                   0x01, 0x01, 0xFF };
    /* redis 7.0: HSET h f1 v1 f2 100 */
    static const uint8_t  h1[] = { 0x15, 0, 0, 0, 4, 0,
                                   0x82, 'f', '1', 0x03, 0x82, 'v', '1', 0x03,
                                   0x82, 'f', '2', 0x03, 0x64, 0x01, 0xFF };

    t_fix_init(&f, 16 * T_MIB, T_MIB);

    lp = store_lp_new(f.a, f.owner);
    t_bytes_eq(lp, empty, sizeof(empty));
    ck_assert_uint_eq(store_lp_count(lp), 0);
    ck_assert_uint_eq(store_lp_first(lp), 0);
    ck_assert_uint_eq(store_lp_last(lp), 0);
    ck_assert_uint_eq(store_lp_seek(lp, 0), 0);
    ck_assert_uint_eq(store_lp_seek(lp, -1), 0);
    t_check(lp);

    ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, "a", 1), OB_OK);
    ck_assert_int_eq(store_lp_append_ll(f.a, f.owner, &lp, 1), OB_OK);
    t_bytes_eq(lp, a1, sizeof(a1));
    store_lp_free(f.a, f.owner, lp);

    /* the same through the string form of 1 */
    lp = store_lp_new(f.a, f.owner);
    ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, "a", 1), OB_OK);
    ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, "1", 1), OB_OK);
    t_bytes_eq(lp, a1, sizeof(a1));
    store_lp_free(f.a, f.owner, lp);

    /* and built from the other end */
    lp = store_lp_new(f.a, f.owner);
    ck_assert_int_eq(store_lp_prepend(f.a, f.owner, &lp, "1", 1), OB_OK);
    ck_assert_int_eq(store_lp_prepend(f.a, f.owner, &lp, "a", 1), OB_OK);
    t_bytes_eq(lp, a1, sizeof(a1));
    store_lp_free(f.a, f.owner, lp);

    lp = store_lp_new(f.a, f.owner);
    ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, "f1", 2), OB_OK);
    ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, "v1", 2), OB_OK);
    ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, "f2", 2), OB_OK);
    ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, "100", 3), OB_OK);
    t_bytes_eq(lp, h1, sizeof(h1));
    store_lp_free(f.a, f.owner, lp);

    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


/* redis 7.0: RPUSH l2 with the values below; the listpack of DUMP l2. */
static const char *t_redis_ints[] = {
    "-1", "127", "128", "-4096", "4095", "4096", "-4097", "-32768", "32767",
    "32768", "-32769", "-8388608", "8388607", "8388608", "-8388609",
    "-2147483648", "2147483647", "2147483648", "-2147483649",
    "-9223372036854775808", "9223372036854775807", "01", "-0", ""
};

static const char *t_redis_ints_hex =
    "83000000180"
    "0dfff027f01c08002d00002cfff02f1001003f1ffef03f1008003f1ff7f03f200800004"
    "f2ff7fff04f200008004f2ffff7f04f30000800005f3ffff7fff05f30000008005f3ffff"
    "ff7f05f4000000800000000009f4ffffff7fffffffff09f4000000000000008009f4ffff"
    "ffffffffff7f0982303103822d30038001ff";


static size_t
t_unhex(const char *hex, uint8_t *out)
{
    size_t        n;
    unsigned int  b;

    for (n = 0; hex[0] != '\0' && hex[1] != '\0'; hex += 2, n++) {
        ck_assert_int_eq(sscanf(hex, "%2x", &b), 1);
        out[n] = (uint8_t) b;
    }
    return n;
}


START_TEST(test_layout_redis_ints)
{
    t_fix_t    f;
    uint8_t   *lp;
    uint8_t    want[256];
    size_t     n, i;

    t_fix_init(&f, 16 * T_MIB, T_MIB);

    n = t_unhex(t_redis_ints_hex, want);
    ck_assert_uint_eq(n, 131);
    ck_assert(store_lp_validate(want, n, 1));

    lp = t_from(&f, t_redis_ints,
                sizeof(t_redis_ints) / sizeof(t_redis_ints[0]));
    t_bytes_eq(lp, want, n);
    t_same(lp, t_redis_ints, sizeof(t_redis_ints) / sizeof(t_redis_ints[0]));
    store_lp_free(f.a, f.owner, lp);

    /* the Redis bytes read back the same values */
    for (i = 0; i < sizeof(t_redis_ints) / sizeof(t_redis_ints[0]); i++) {
        char  buf[64];

        ck_assert_str_eq(t_str(want, store_lp_seek(want, (long long) i), buf,
                               sizeof(buf)), t_redis_ints[i]);
    }

    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


/* ---- integers -------------------------------------------------------------- */

typedef struct t_int_s {
    long long  v;
    size_t     size;         /* entry bytes, backlen included */
    uint8_t    enc;          /* first byte, masked with mask */
    uint8_t    mask;
} t_int_t;

static const t_int_t t_ints[] = {
    { 0,                     2,  0x00, 0x80 },
    { 127,                   2,  0x00, 0x80 },
    { 128,                   3,  0xC0, 0xE0 },
    { -1,                    3,  0xC0, 0xE0 },
    { 4095,                  3,  0xC0, 0xE0 },
    { -4096,                 3,  0xC0, 0xE0 },
    { 4096,                  4,  0xF1, 0xFF },
    { -4097,                 4,  0xF1, 0xFF },
    { 32767,                 4,  0xF1, 0xFF },
    { -32768,                4,  0xF1, 0xFF },
    { 32768,                 5,  0xF2, 0xFF },
    { -32769,                5,  0xF2, 0xFF },
    { 8388607,               5,  0xF2, 0xFF },
    { -8388608,              5,  0xF2, 0xFF },
    { 8388608,               6,  0xF3, 0xFF },
    { -8388609,              6,  0xF3, 0xFF },
    { 2147483647LL,          6,  0xF3, 0xFF },
    { -2147483647LL - 1,     6,  0xF3, 0xFF },
    { 2147483648LL,          10, 0xF4, 0xFF },
    { -2147483649LL,         10, 0xF4, 0xFF },
    { LLONG_MAX,             10, 0xF4, 0xFF },
    { LLONG_MIN,             10, 0xF4, 0xFF },
    { LLONG_MIN + 1,         10, 0xF4, 0xFF },
};


START_TEST(test_int_boundaries)
{
    t_fix_t          f;
    uint8_t         *lp;
    char             dec[32];
    size_t           i, n, before;
    store_lp_pos_t   pos;
    store_lp_val_t   v;

    t_fix_init(&f, 16 * T_MIB, T_MIB);
    n = sizeof(t_ints) / sizeof(t_ints[0]);

    lp = store_lp_new(f.a, f.owner);
    for (i = 0; i < n; i++) {
        snprintf(dec, sizeof(dec), "%lld", t_ints[i].v);
        ck_assert_uint_eq(store_lp_entry_size(dec, strlen(dec)),
                          t_ints[i].size);

        /* the string and the _ll forms give the same bytes */
        before = store_lp_bytes(lp);
        ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, dec,
                                         strlen(dec)), OB_OK);
        ck_assert_uint_eq(store_lp_bytes(lp) - before, t_ints[i].size);
        ck_assert_int_eq(store_lp_append_ll(f.a, f.owner, &lp, t_ints[i].v),
                         OB_OK);
        /* the entries start where the EOF was */
        ck_assert_int_eq(memcmp(lp + before - 1,
                                lp + before - 1 + t_ints[i].size,
                                t_ints[i].size), 0);
        ck_assert_uint_eq(lp[before - 1] & t_ints[i].mask, t_ints[i].enc);
    }
    t_check(lp);
    ck_assert_uint_eq(store_lp_count(lp), 2 * n);

    for (i = 0, pos = store_lp_first(lp); i < 2 * n;
         i++, pos = store_lp_next(lp, pos))
    {
        char  buf[STORE_LP_INTBUF];
        const uint8_t  *s;
        size_t          len;

        ck_assert_uint_ne(pos, 0);
        store_lp_get(lp, pos, &v);
        ck_assert_ptr_null(v.s);
        ck_assert_msg(v.ll == t_ints[i / 2].v, "entry %zu: %lld, want %lld",
                      i, v.ll, t_ints[i / 2].v);

        snprintf(dec, sizeof(dec), "%lld", t_ints[i / 2].v);
        s = store_lp_get_str(lp, pos, buf, &len);
        ck_assert_uint_eq(len, strlen(dec));
        ck_assert_int_eq(memcmp(s, dec, len), 0);
        ck_assert(store_lp_eq(lp, pos, dec, strlen(dec)));
    }
    ck_assert_uint_eq(pos, 0);

    /* replace_ll over every entry of the first half with every width,
     * then prepend_ll of each: the values read back, the list validates */
    for (i = 0; i < n; i++) {
        pos = store_lp_seek(lp, (long long) i);
        ck_assert_int_eq(store_lp_replace_ll(f.a, f.owner, &lp, pos,
                                             t_ints[n - 1 - i].v), OB_OK);
        store_lp_get(lp, pos, &v);
        ck_assert_ptr_null(v.s);
        ck_assert(v.ll == t_ints[n - 1 - i].v);
        t_check(lp);
    }
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(store_lp_prepend_ll(f.a, f.owner, &lp, t_ints[i].v),
                         OB_OK);
        store_lp_get(lp, store_lp_first(lp), &v);
        ck_assert(v.ll == t_ints[i].v);
    }
    t_check(lp);
    ck_assert_uint_eq(store_lp_count(lp), 3 * n);
    for (i = 0; i < n; i++) {
        store_lp_get(lp, store_lp_seek(lp, (long long) i), &v);
        ck_assert(v.ll == t_ints[n - 1 - i].v);          /* prepended */
        store_lp_get(lp, store_lp_seek(lp, (long long) (n + i)), &v);
        ck_assert(v.ll == t_ints[n - 1 - i].v);          /* replaced */
        store_lp_get(lp, store_lp_seek(lp, -(long long) (n - i)), &v);
        ck_assert(v.ll == t_ints[(n + i) / 2].v);         /* as appended */
    }
    store_lp_free(f.a, f.owner, lp);

    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


/* Strings that look like numbers but are not canonical stay strings. */
START_TEST(test_int_not_canonical)
{
    static const char *strs[] = {
        "01", "-0", "+1", " 1", "1 ", "1.0", "0x10", "-", "",
        "9223372036854775808", "-9223372036854775809",
        "99999999999999999999", "00", "1e3"
    };
    t_fix_t          f;
    uint8_t         *lp;
    size_t           i, n;
    store_lp_pos_t   pos;
    store_lp_val_t   v;

    t_fix_init(&f, 16 * T_MIB, T_MIB);
    n = sizeof(strs) / sizeof(strs[0]);

    lp = t_from(&f, strs, n);
    t_same(lp, strs, n);
    for (i = 0, pos = store_lp_first(lp); pos != 0;
         i++, pos = store_lp_next(lp, pos))
    {
        store_lp_get(lp, pos, &v);
        ck_assert_ptr_nonnull(v.s);
        ck_assert_uint_eq(v.len, strlen(strs[i]));
        ck_assert_uint_eq(lp[pos] & 0xC0, 0x80);
    }

    /* an int entry never equals a non-canonical spelling of it */
    store_lp_free(f.a, f.owner, lp);
    lp = store_lp_new(f.a, f.owner);
    ck_assert_int_eq(store_lp_append_ll(f.a, f.owner, &lp, 1), OB_OK);
    ck_assert_int_eq(store_lp_append_ll(f.a, f.owner, &lp, 0), OB_OK);
    ck_assert(store_lp_eq(lp, store_lp_first(lp), "1", 1));
    ck_assert(!store_lp_eq(lp, store_lp_first(lp), "01", 2));
    ck_assert(!store_lp_eq(lp, store_lp_first(lp), "+1", 2));
    ck_assert(!store_lp_eq(lp, store_lp_first(lp), "", 0));
    ck_assert(store_lp_eq(lp, store_lp_last(lp), "0", 1));
    ck_assert(!store_lp_eq(lp, store_lp_last(lp), "-0", 2));
    store_lp_free(f.a, f.owner, lp);

    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


/* ---- strings --------------------------------------------------------------- */

typedef struct t_strlen_s {
    size_t   len;
    size_t   size;           /* entry bytes */
    uint8_t  hdr[5];         /* redis 7.0's first bytes (hlen of them) */
    size_t   hlen;
    uint8_t  back[3];        /* redis 7.0's backlen */
    size_t   blen;
} t_strlen_t;

/* From redis 7.0: RPUSH k <'x' * len>, DUMP k. */
static const t_strlen_t t_strs[] = {
    { 0,     2,     { 0x80 }, 1,                      { 0x01 }, 1 },
    { 63,    65,    { 0xBF }, 1,                      { 0x40 }, 1 },
    { 64,    67,    { 0xE0, 0x40 }, 2,                { 0x42 }, 1 },
    { 127,   131,   { 0xE0, 0x7F }, 2,                { 0x01, 0x81 }, 2 },
    { 128,   132,   { 0xE0, 0x80 }, 2,                { 0x01, 0x82 }, 2 },
    { 4095,  4099,  { 0xEF, 0xFF }, 2,                { 0x20, 0x81 }, 2 },
    { 4096,  4103,  { 0xF0, 0x00, 0x10, 0, 0 }, 5,    { 0x20, 0x85 }, 2 },
    { 16377, 16384, { 0xF0, 0xF9, 0x3F, 0, 0 }, 5,    { 0x7F, 0xFE }, 2 },
    { 16378, 16386, { 0xF0, 0xFA, 0x3F, 0, 0 }, 5,    { 0x00, 0xFF, 0xFF }, 3 },
};


START_TEST(test_str_boundaries)
{
    t_fix_t          f;
    uint8_t         *lp;
    char            *s;
    size_t           i, n, len, k;
    store_lp_pos_t   pos;
    store_lp_val_t   v;

    t_fix_init(&f, 16 * T_MIB, T_MIB);
    n = sizeof(t_strs) / sizeof(t_strs[0]);
    s = malloc(70000);
    ck_assert_ptr_nonnull(s);
    memset(s, 'x', 70000);

    for (i = 0; i < n; i++) {
        len = t_strs[i].len;
        ck_assert_uint_eq(store_lp_entry_size(s, len), t_strs[i].size);

        /* alone in a listpack: Redis's exact bytes at both ends */
        lp = store_lp_new(f.a, f.owner);
        ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, s, len), OB_OK);
        ck_assert_uint_eq(store_lp_bytes(lp), 7 + t_strs[i].size);
        ck_assert_int_eq(memcmp(lp + 6, t_strs[i].hdr, t_strs[i].hlen), 0);
        ck_assert_int_eq(memcmp(lp + 6 + t_strs[i].size - t_strs[i].blen,
                                t_strs[i].back, t_strs[i].blen), 0);
        t_check(lp);
        pos = store_lp_last(lp);
        ck_assert_uint_eq(pos, 6);
        store_lp_get(lp, pos, &v);
        ck_assert_ptr_nonnull(v.s);
        ck_assert_uint_eq(v.len, len);
        ck_assert(store_lp_eq(lp, pos, s, len));
        ck_assert(len == 0 || !store_lp_eq(lp, pos, s, len - 1));

        /* between small entries, so that prev crosses its backlen */
        ck_assert_int_eq(store_lp_prepend(f.a, f.owner, &lp, "a", 1), OB_OK);
        ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, "z", 1), OB_OK);
        t_check(lp);
        pos = store_lp_prev(lp, store_lp_last(lp));
        ck_assert_uint_eq(pos, 9);
        store_lp_get(lp, pos, &v);
        ck_assert_uint_eq(v.len, len);
        ck_assert_uint_eq(store_lp_prev(lp, pos), 6);
        ck_assert_uint_eq(store_lp_seek(lp, -2), 9);
        ck_assert_uint_eq(store_lp_seek(lp, 1), 9);
        store_lp_free(f.a, f.owner, lp);
    }

    /* lengths around the backlen's sizes, walked both ways */
    lp = store_lp_new(f.a, f.owner);
    {
        static const size_t lens[] = { 0, 1, 62, 63, 64, 65, 125, 126, 127,
                                       4094, 4095, 4096, 16376, 16377, 16378,
                                       16379, 69999 };
        size_t  m = sizeof(lens) / sizeof(lens[0]);

        for (k = 0; k < m; k++) {
            s[0] = (char) ('a' + k);
            ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, s, lens[k]),
                             OB_OK);
        }
        t_check(lp);
        ck_assert_uint_eq(store_lp_count(lp), m);
        for (k = 0, pos = store_lp_first(lp); k < m;
             k++, pos = store_lp_next(lp, pos))
        {
            store_lp_get(lp, pos, &v);
            ck_assert_uint_eq(v.len, lens[k]);
            ck_assert(lens[k] == 0 || v.s[0] == 'a' + (int) k);
        }
        ck_assert_uint_eq(pos, 0);
        for (k = m, pos = store_lp_last(lp); k > 0;
             k--, pos = store_lp_prev(lp, pos))
        {
            store_lp_get(lp, pos, &v);
            ck_assert_uint_eq(v.len, lens[k - 1]);
            ck_assert_uint_eq(store_lp_seek(lp, (long long) k - 1), pos);
            ck_assert_uint_eq(store_lp_seek(lp, (long long) k - 1
                                                - (long long) m), pos);
        }
        ck_assert_uint_eq(pos, 0);
    }
    store_lp_free(f.a, f.owner, lp);
    free(s);

    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


/* ---- editing against a model ---------------------------------------------- */

#define T_MODEL_MAX  64

typedef struct t_model_s {
    const char  *v[T_MODEL_MAX];
    size_t       n;
} t_model_t;


static void
t_model_ins(t_model_t *m, size_t at, const char *s)
{
    ck_assert_uint_lt(m->n, T_MODEL_MAX);
    memmove(&m->v[at + 1], &m->v[at], (m->n - at) * sizeof(m->v[0]));
    m->v[at] = s;
    m->n++;
}


static void
t_model_del(t_model_t *m, size_t at, size_t n)
{
    if (at >= m->n) {
        return;
    }
    if (n > m->n - at) {
        n = m->n - at;
    }
    memmove(&m->v[at], &m->v[at + n], (m->n - at - n) * sizeof(m->v[0]));
    m->n -= n;
}


/* Values of every encoding, so that edits shift entries of each kind. */
static const char *t_mix[] = {
    "a", "127", "-1", "1000", "-4096", "30000", "-100000", "8000000",
    "2000000000", "-5000000000", "9223372036854775807", "hello world",
    "x6xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "",
    "01"
};
#define T_NMIX  (sizeof(t_mix) / sizeof(t_mix[0]))


START_TEST(test_edit_model)
{
    t_fix_t          f;
    uint8_t         *lp;
    t_model_t        m;
    size_t           i, at, round;
    store_lp_pos_t   pos, np;

    t_fix_init(&f, 16 * T_MIB, T_MIB);

    for (round = 0; round < 3; round++) {
        memset(&m, 0, sizeof(m));
        lp = store_lp_new(f.a, f.owner);

        /* build by inserting before/after the start, middle, end */
        for (i = 0; i < 2 * T_NMIX; i++) {
            const char  *s = t_mix[(i * 7 + round) % T_NMIX];

            if (m.n == 0) {
                ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, s,
                                                 strlen(s)), OB_OK);
                t_model_ins(&m, 0, s);
                continue;
            }
            at = (i % 3 == 0) ? 0 : (i % 3 == 1) ? m.n / 2 : m.n - 1;
            pos = store_lp_seek(lp, (long long) at);
            ck_assert_uint_ne(pos, 0);
            ck_assert_int_eq(store_lp_insert(f.a, f.owner, &lp, pos, i & 1,
                                             s, strlen(s), &np), OB_OK);
            t_model_ins(&m, at + (i & 1), s);
            ck_assert(store_lp_eq(lp, np, s, strlen(s)));
            ck_assert_uint_eq(store_lp_seek(lp, (long long) (at + (i & 1))),
                              np);
            t_same(lp, m.v, m.n);
        }

        /* replace at start, middle, end with every encoding */
        for (i = 0; i < T_NMIX; i++) {
            const char  *s = t_mix[(i + round) % T_NMIX];

            at = (i % 3 == 0) ? 0 : (i % 3 == 1) ? m.n / 2 : m.n - 1;
            pos = store_lp_seek(lp, -(long long) (m.n - at));
            ck_assert_int_eq(store_lp_replace(f.a, f.owner, &lp, pos, s,
                                              strlen(s)), OB_OK);
            m.v[at] = s;
            ck_assert(store_lp_eq(lp, pos, s, strlen(s)));
            t_same(lp, m.v, m.n);
        }

        /* delete one or two at the end, middle, start */
        while (m.n > 0) {
            size_t  k = 1 + (m.n % 2);

            at = (m.n % 3 == 0) ? 0 : (m.n % 3 == 1) ? m.n / 2
                 : m.n - 1;
            pos = store_lp_seek(lp, (long long) at);
            np = store_lp_delete(f.a, f.owner, &lp, pos, k);
            t_model_del(&m, at, k);
            ck_assert_uint_eq(np, at < m.n ? pos : 0);
            t_same(lp, m.v, m.n);
        }
        ck_assert_uint_eq(store_lp_bytes(lp), STORE_LP_EMPTY_SIZE);
        store_lp_free(f.a, f.owner, lp);
    }

    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


/* Random edits of every kind against the model, checked after each. */
START_TEST(test_edit_random)
{
    t_fix_t          f;
    uint8_t         *lp;
    t_model_t        m;
    uint64_t         rnd = 88172645463325252ULL;
    size_t           step, at, k, j;
    store_lp_pos_t   pos, np;
    store_lp_val_t   items[3];
    const char      *s;

    t_fix_init(&f, 16 * T_MIB, T_MIB);
    memset(&m, 0, sizeof(m));
    lp = store_lp_new(f.a, f.owner);

#define T_RND()  (rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17, rnd)

    for (step = 0; step < 3000; step++) {
        s = t_mix[T_RND() % T_NMIX];
        at = m.n > 0 ? (size_t) (T_RND() % m.n) : 0;
        pos = store_lp_seek(lp, (long long) at);

        switch (T_RND() % 7) {
        case 0:
            if (m.n + 1 >= T_MODEL_MAX) {
                break;
            }
            ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, s,
                                             strlen(s)), OB_OK);
            t_model_ins(&m, m.n, s);
            break;
        case 1:
            if (m.n + 1 >= T_MODEL_MAX) {
                break;
            }
            ck_assert_int_eq(store_lp_prepend(f.a, f.owner, &lp, s,
                                              strlen(s)), OB_OK);
            t_model_ins(&m, 0, s);
            break;
        case 2:
            if (m.n == 0 || m.n + 1 >= T_MODEL_MAX) {
                break;
            }
            k = T_RND() & 1;
            ck_assert_int_eq(store_lp_insert(f.a, f.owner, &lp, pos, (int) k,
                                             s, strlen(s), &np), OB_OK);
            t_model_ins(&m, at + k, s);
            ck_assert_uint_eq(np, store_lp_seek(lp, (long long) (at + k)));
            break;
        case 3:
            if (m.n == 0) {
                break;
            }
            ck_assert_int_eq(store_lp_replace(f.a, f.owner, &lp, pos, s,
                                              strlen(s)), OB_OK);
            ck_assert_uint_eq(pos, store_lp_seek(lp, (long long) at));
            m.v[at] = s;
            break;
        case 4:
            if (m.n == 0) {
                break;
            }
            k = 1 + T_RND() % 3;
            np = store_lp_delete(f.a, f.owner, &lp, pos, k);
            t_model_del(&m, at, k);
            ck_assert_uint_eq(np, at < m.n ? pos : 0);
            break;
        case 5:
            /* splice: k deleted, up to 3 items in, at a position or the
             * end (pos 0) */
            k = m.n > 0 ? T_RND() % 3 : 0;
            j = T_RND() % 4;
            if (m.n + j >= T_MODEL_MAX) {
                break;
            }
            if (m.n == 0 || (T_RND() & 3) == 0) {
                pos = 0;
                at = m.n;
                k = 0;
            }
            {
                size_t  q;

                for (q = 0; q < j; q++) {
                    const char  *e = t_mix[(T_RND() + q) % T_NMIX];

                    items[q].s = (const uint8_t *) e;
                    items[q].len = strlen(e);
                    items[q].ll = 0;
                }
                ck_assert_int_eq(store_lp_splice(f.a, f.owner, &lp, pos, k,
                                                 items, j, &np), OB_OK);
                t_model_del(&m, at, k);
                for (q = 0; q < j; q++) {
                    t_model_ins(&m, at + q,
                                (const char *) items[q].s);
                }
                ck_assert_uint_eq(np, at < m.n
                                      ? store_lp_seek(lp, (long long) at)
                                      : 0);
            }
            break;
        default:
            if (m.n == 0) {
                break;
            }
            k = T_RND() % (m.n + 1);
            ck_assert_int_eq(store_lp_delete_range(f.a, f.owner, &lp, at, k),
                             OB_OK);
            t_model_del(&m, at, k);
            break;
        }

        t_same(lp, m.v, m.n);
    }
#undef T_RND

    store_lp_free(f.a, f.owner, lp);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


/* Pairs go in together; values read from one listpack go into another
 * as they are; integers through store_lp_val_t. */
START_TEST(test_splice)
{
    t_fix_t          f;
    uint8_t         *lp, *to;
    store_lp_val_t   it[3], v;
    store_lp_pos_t   pos, np;
    static const char *want1[] = { "f1", "v1", "f2", "-77" };
    static const char *want2[] = { "f0", "1", "f1", "v1", "f2", "-77" };
    static const char *want3[] = { "f0", "1", "f1", "new", "f2", "-77" };
    static const char *want4[] = { "f0", "1", "f2", "-77" };

    t_fix_init(&f, 16 * T_MIB, T_MIB);
    lp = store_lp_new(f.a, f.owner);

    it[0].s = (const uint8_t *) "f1"; it[0].len = 2;
    it[1].s = (const uint8_t *) "v1"; it[1].len = 2;
    ck_assert_int_eq(store_lp_splice(f.a, f.owner, &lp, 0, 0, it, 2, &np),
                     OB_OK);
    ck_assert_uint_eq(np, STORE_LP_HDR);
    it[0].s = (const uint8_t *) "f2"; it[0].len = 2;
    it[1].s = NULL; it[1].ll = -77;
    ck_assert_int_eq(store_lp_splice(f.a, f.owner, &lp, 0, 0, it, 2, &np),
                     OB_OK);
    ck_assert_uint_eq(np, store_lp_seek(lp, 2));
    t_same(lp, want1, 4);

    /* a pair before the first entry */
    it[0].s = (const uint8_t *) "f0"; it[0].len = 2;
    it[1].s = (const uint8_t *) "1"; it[1].len = 1;
    ck_assert_int_eq(store_lp_splice(f.a, f.owner, &lp, store_lp_first(lp), 0,
                                     it, 2, &np), OB_OK);
    ck_assert_uint_eq(np, STORE_LP_HDR);
    t_same(lp, want2, 6);
    store_lp_get(lp, store_lp_seek(lp, 1), &v);
    ck_assert_ptr_null(v.s);
    ck_assert_int_eq(v.ll, 1);

    /* replace a pair in place */
    pos = store_lp_find(lp, store_lp_first(lp), "f1", 2, 1);
    it[0].s = (const uint8_t *) "f1"; it[0].len = 2;
    it[1].s = (const uint8_t *) "new"; it[1].len = 3;
    ck_assert_int_eq(store_lp_splice(f.a, f.owner, &lp, pos, 2, it, 2, &np),
                     OB_OK);
    ck_assert_uint_eq(np, pos);
    t_same(lp, want3, 6);

    /* delete a pair */
    ck_assert_int_eq(store_lp_splice(f.a, f.owner, &lp, pos, 2, NULL, 0, &np),
                     OB_OK);
    ck_assert_uint_eq(np, pos);
    t_same(lp, want4, 4);
    ck_assert_int_eq(store_lp_splice(f.a, f.owner, &lp, store_lp_seek(lp, 2),
                                     5, NULL, 0, &np), OB_OK);
    ck_assert_uint_eq(np, 0);
    t_same(lp, want4, 2);
    /* nothing to do */
    ck_assert_int_eq(store_lp_splice(f.a, f.owner, &lp, 0, 3, NULL, 0, &np),
                     OB_OK);
    ck_assert_uint_eq(np, 0);
    t_same(lp, want4, 2);

    /* values read out of one listpack, in the other: the same bytes */
    store_lp_free(f.a, f.owner, lp);
    lp = t_from(&f, t_mix, T_NMIX);
    to = store_lp_new(f.a, f.owner);
    for (pos = store_lp_first(lp); pos != 0; pos = store_lp_next(lp, pos)) {
        store_lp_get(lp, pos, &v);
        ck_assert_int_eq(store_lp_splice(f.a, f.owner, &to, 0, 0, &v, 1,
                                         NULL), OB_OK);
    }
    ck_assert_uint_eq(store_lp_bytes(to), store_lp_bytes(lp));
    ck_assert_int_eq(memcmp(to, lp, store_lp_bytes(lp)), 0);

    /* an over-long string fails the whole splice */
    it[0].s = (const uint8_t *) "ok"; it[0].len = 2;
    it[1].s = (const uint8_t *) "x"; it[1].len = (size_t) UINT32_MAX + 1;
    ck_assert_int_eq(store_lp_splice(f.a, f.owner, &to, 0, 0, it, 2, NULL),
                     OB_ERR);
    ck_assert_int_eq(memcmp(to, lp, store_lp_bytes(lp)), 0);

    /* insert_ll before and after */
    pos = store_lp_seek(to, 3);
    ck_assert_int_eq(store_lp_insert_ll(f.a, f.owner, &to, pos, 0, LLONG_MIN,
                                        &np), OB_OK);
    ck_assert_uint_eq(np, pos);
    ck_assert_int_eq(store_lp_insert_ll(f.a, f.owner, &to, np, 1, 5000,
                                        &np), OB_OK);
    ck_assert_uint_eq(np, store_lp_seek(to, 4));
    store_lp_get(to, store_lp_seek(to, 3), &v);
    ck_assert(v.s == NULL && v.ll == LLONG_MIN);
    store_lp_get(to, store_lp_seek(to, 4), &v);
    ck_assert(v.s == NULL && v.ll == 5000);
    ck_assert_uint_eq(store_lp_count(to), T_NMIX + 2);
    t_check(to);
    ck_assert_int_eq(store_lp_insert_ll(f.a, f.owner, &to, 0, 0, 1, NULL),
                     OB_ERR);
    ck_assert_int_eq(store_lp_insert(f.a, f.owner, &to, 0, 0, "a", 1, NULL),
                     OB_ERR);

    store_lp_free(f.a, f.owner, to);
    store_lp_free(f.a, f.owner, lp);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


START_TEST(test_concat)
{
    t_fix_t          f;
    uint8_t         *x, *y, *e, *want;
    const char      *all[2 * T_NMIX];
    size_t           i;

    t_fix_init(&f, 64 * T_MIB, T_MIB);

    for (i = 0; i < T_NMIX; i++) {
        all[i] = t_mix[i];
        all[T_NMIX + i] = t_mix[T_NMIX - 1 - i];
    }

    x = t_from(&f, all, T_NMIX);
    y = t_from(&f, all + T_NMIX, T_NMIX);
    want = t_from(&f, all, 2 * T_NMIX);
    ck_assert_int_eq(store_lp_concat(f.a, f.owner, &x, y), OB_OK);
    t_bytes_eq(x, want, store_lp_bytes(want));
    t_same(x, all, 2 * T_NMIX);

    /* empty on either side */
    e = store_lp_new(f.a, f.owner);
    ck_assert_int_eq(store_lp_concat(f.a, f.owner, &x, e), OB_OK);
    t_bytes_eq(x, want, store_lp_bytes(want));
    ck_assert_int_eq(store_lp_concat(f.a, f.owner, &e, y), OB_OK);
    t_same(e, all + T_NMIX, T_NMIX);
    store_lp_free(f.a, f.owner, e);
    store_lp_free(f.a, f.owner, want);
    store_lp_free(f.a, f.owner, x);
    store_lp_free(f.a, f.owner, y);

    /* the count saturates as Redis's lpMerge sets it */
    x = store_lp_new(f.a, f.owner);
    for (i = 0; i < 40000; i++) {
        ck_assert_int_eq(store_lp_append_ll(f.a, f.owner, &x, (long long) i),
                         OB_OK);
    }
    y = store_lp_dup(f.a, f.owner, x);
    ck_assert_int_eq(store_lp_concat(f.a, f.owner, &x, y), OB_OK);
    ck_assert_uint_eq(x[4] | x[5] << 8, 65535);
    ck_assert_uint_eq(store_lp_count(x), 80000);
    t_check(x);
    store_lp_free(f.a, f.owner, x);
    store_lp_free(f.a, f.owner, y);

    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


START_TEST(test_delete_range)
{
    t_fix_t    f;
    uint8_t   *lp;
    t_model_t  m;
    size_t     start, n;

    t_fix_init(&f, 16 * T_MIB, T_MIB);

    for (start = 0; start <= T_NMIX + 1; start++) {
        for (n = 0; n <= T_NMIX + 2; n++) {
            memset(&m, 0, sizeof(m));
            memcpy(m.v, t_mix, sizeof(t_mix));
            m.n = T_NMIX;
            lp = t_from(&f, t_mix, T_NMIX);

            ck_assert_int_eq(store_lp_delete_range(f.a, f.owner, &lp, start,
                                                   n), OB_OK);
            t_model_del(&m, start, n);
            t_same(lp, m.v, m.n);
            store_lp_free(f.a, f.owner, lp);
        }
    }

    /* huge counts clamp */
    lp = t_from(&f, t_mix, T_NMIX);
    ck_assert_int_eq(store_lp_delete_range(f.a, f.owner, &lp, 2, SIZE_MAX),
                     OB_OK);
    t_same(lp, t_mix, 2);
    ck_assert_int_eq(store_lp_delete_range(f.a, f.owner, &lp, SIZE_MAX, 3),
                     OB_OK);
    t_same(lp, t_mix, 2);
    ck_assert_uint_eq(store_lp_delete(f.a, f.owner, &lp, store_lp_first(lp),
                                      SIZE_MAX), 0);
    t_same(lp, t_mix, 0);
    store_lp_free(f.a, f.owner, lp);

    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


START_TEST(test_seek)
{
    t_fix_t          f;
    uint8_t         *lp;
    long long        i, n;
    char             buf[256];

    t_fix_init(&f, 16 * T_MIB, T_MIB);
    lp = t_from(&f, t_mix, T_NMIX);
    n = (long long) T_NMIX;

    for (i = 0; i < n; i++) {
        ck_assert_str_eq(t_str(lp, store_lp_seek(lp, i), buf, sizeof(buf)),
                         t_mix[i]);
        ck_assert_uint_eq(store_lp_seek(lp, i), store_lp_seek(lp, i - n));
    }
    ck_assert_uint_eq(store_lp_seek(lp, n), 0);
    ck_assert_uint_eq(store_lp_seek(lp, -n - 1), 0);
    ck_assert_uint_eq(store_lp_seek(lp, LLONG_MAX), 0);
    ck_assert_uint_eq(store_lp_seek(lp, LLONG_MIN), 0);
    ck_assert_uint_eq(store_lp_seek(lp, -1), store_lp_last(lp));
    ck_assert_uint_eq(store_lp_seek(lp, 0), store_lp_first(lp));
    ck_assert_uint_eq(store_lp_next(lp, store_lp_last(lp)), 0);
    ck_assert_uint_eq(store_lp_prev(lp, store_lp_first(lp)), 0);
    ck_assert_uint_eq(store_lp_next(lp, 0), 0);
    ck_assert_uint_eq(store_lp_prev(lp, 0), 0);

    store_lp_free(f.a, f.owner, lp);
    t_fix_done(&f);
}
END_TEST


START_TEST(test_find_skip)
{
    /* a hash: field, value, ...; values equal to fields must not match
     * with skip 1 */
    static const char *h[] = {
        "f1", "f2", "f2", "100", "100", "f1", "-7", "x", "", "-7"
    };
    t_fix_t          f;
    uint8_t         *lp;
    store_lp_pos_t   pos;

    t_fix_init(&f, 16 * T_MIB, T_MIB);
    lp = t_from(&f, h, sizeof(h) / sizeof(h[0]));

    ck_assert_uint_eq(store_lp_find(lp, store_lp_first(lp), "f1", 2, 1),
                      store_lp_seek(lp, 0));
    ck_assert_uint_eq(store_lp_find(lp, store_lp_first(lp), "f2", 2, 1),
                      store_lp_seek(lp, 2));
    ck_assert_uint_eq(store_lp_find(lp, store_lp_first(lp), "100", 3, 1),
                      store_lp_seek(lp, 4));
    ck_assert_uint_eq(store_lp_find(lp, store_lp_first(lp), "-7", 2, 1),
                      store_lp_seek(lp, 6));
    ck_assert_uint_eq(store_lp_find(lp, store_lp_first(lp), "", 0, 1),
                      store_lp_seek(lp, 8));
    ck_assert_uint_eq(store_lp_find(lp, store_lp_first(lp), "x", 1, 1), 0);
    ck_assert_uint_eq(store_lp_find(lp, store_lp_first(lp), "0100", 4, 1),
                      0);
    /* the values, from the first value on */
    ck_assert_uint_eq(store_lp_find(lp, store_lp_seek(lp, 1), "x", 1, 1),
                      store_lp_seek(lp, 7));
    ck_assert_uint_eq(store_lp_find(lp, store_lp_seek(lp, 1), "f1", 2, 1),
                      store_lp_seek(lp, 5));
    /* skip 0: every entry */
    ck_assert_uint_eq(store_lp_find(lp, store_lp_first(lp), "x", 1, 0),
                      store_lp_seek(lp, 7));
    pos = store_lp_find(lp, store_lp_first(lp), "100", 3, 0);
    ck_assert_uint_eq(pos, store_lp_seek(lp, 3));
    ck_assert_uint_eq(store_lp_find(lp, store_lp_next(lp, pos), "100", 3, 0),
                      store_lp_seek(lp, 4));
    /* skip 2 (a zset-like stride of 3) */
    ck_assert_uint_eq(store_lp_find(lp, store_lp_first(lp), "100", 3, 2),
                      store_lp_seek(lp, 3));
    ck_assert_uint_eq(store_lp_find(lp, store_lp_first(lp), "f2", 2, 2), 0);
    ck_assert_uint_eq(store_lp_find(lp, 0, "f1", 2, 1), 0);

    store_lp_free(f.a, f.owner, lp);
    t_fix_done(&f);
}
END_TEST


/* ---- the saturated count --------------------------------------------------- */

START_TEST(test_count_saturation)
{
    t_fix_t          f;
    uint8_t         *lp, *cp;
    long long        i;
    store_lp_val_t   v;
    store_lp_pos_t   pos;
    size_t           n;

    t_fix_init(&f, 64 * T_MIB, T_MIB);
    lp = store_lp_new(f.a, f.owner);

    for (i = 0; i < 65534; i++) {
        ck_assert_int_eq(store_lp_append_ll(f.a, f.owner, &lp, i), OB_OK);
    }
    ck_assert_uint_eq(lp[4] | lp[5] << 8, 65534);
    ck_assert_int_eq(store_lp_append_ll(f.a, f.owner, &lp, i++), OB_OK);
    ck_assert_uint_eq(lp[4] | lp[5] << 8, 65535);
    ck_assert_uint_eq(store_lp_count(lp), 65535);
    for (; i < 70000; i++) {
        ck_assert_int_eq(store_lp_append_ll(f.a, f.owner, &lp, i), OB_OK);
    }
    ck_assert_uint_eq(lp[4] | lp[5] << 8, 65535);
    ck_assert_uint_eq(store_lp_count(lp), 70000);
    t_check(lp);

    /* seek without a known count, from both ends */
    store_lp_get(lp, store_lp_seek(lp, 69999), &v);
    ck_assert_int_eq(v.ll, 69999);
    store_lp_get(lp, store_lp_seek(lp, -1), &v);
    ck_assert_int_eq(v.ll, 69999);
    store_lp_get(lp, store_lp_seek(lp, -70000), &v);
    ck_assert_int_eq(v.ll, 0);
    store_lp_get(lp, store_lp_seek(lp, 12345), &v);
    ck_assert_int_eq(v.ll, 12345);
    store_lp_get(lp, store_lp_seek(lp, -12345), &v);
    ck_assert_int_eq(v.ll, 70000 - 12345);
    ck_assert_uint_eq(store_lp_seek(lp, 70000), 0);
    ck_assert_uint_eq(store_lp_seek(lp, -70001), 0);
    ck_assert_uint_eq(store_lp_seek(lp, LLONG_MIN), 0);

    /* a replace keeps it saturated; find walks it */
    pos = store_lp_seek(lp, 5);
    ck_assert_int_eq(store_lp_replace(f.a, f.owner, &lp, pos, "five", 4),
                     OB_OK);
    ck_assert_uint_eq(lp[4] | lp[5] << 8, 65535);
    ck_assert_uint_eq(store_lp_find(lp, store_lp_first(lp), "five", 4, 0),
                      pos);
    ck_assert_uint_eq(store_lp_find(lp, store_lp_first(lp), "69998", 5, 0),
                      store_lp_seek(lp, -2));

    /* deletes: saturated while there are 65535 or more, then the walk
     * sets the count again (Redis's lpLength does so) */
    cp = store_lp_dup(f.a, f.owner, lp);
    ck_assert_int_eq(memcmp(cp, lp, store_lp_bytes(lp)), 0);
    ck_assert_int_eq(store_lp_delete_range(f.a, f.owner, &lp, 0, 4465),
                     OB_OK);
    ck_assert_uint_eq(lp[4] | lp[5] << 8, 65535);
    ck_assert_uint_eq(store_lp_count(lp), 65535);
    t_check(lp);
    ck_assert_uint_eq(store_lp_delete(f.a, f.owner, &lp, store_lp_first(lp),
                                      1), store_lp_first(lp));
    ck_assert_uint_eq(lp[4] | lp[5] << 8, 65534);
    n = store_lp_count(lp);
    ck_assert_uint_eq(n, 65534);
    t_check(lp);
    ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, "again", 5), OB_OK);
    ck_assert_uint_eq(lp[4] | lp[5] << 8, 65535);
    store_lp_free(f.a, f.owner, lp);

    /* a saturated header with fewer entries (as Redis may leave it) is
     * valid, and counted by walking */
    ck_assert_int_eq(store_lp_delete_range(f.a, f.owner, &cp, 0, 69990),
                     OB_OK);
    ck_assert_uint_eq(store_lp_count(cp), 10);
    cp[4] = 0xFF;
    cp[5] = 0xFF;
    ck_assert(store_lp_validate(cp, store_lp_bytes(cp), 1));
    ck_assert_uint_eq(store_lp_count(cp), 10);
    store_lp_get(cp, store_lp_seek(cp, -10), &v);
    ck_assert_int_eq(v.ll, 69990);
    store_lp_free(f.a, f.owner, cp);

    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


/* ---- validation ------------------------------------------------------------ */

START_TEST(test_validate)
{
    t_fix_t    f;
    uint8_t   *lp;
    uint8_t    buf[8192];
    size_t     n, i;
    char       big[300];

    t_fix_init(&f, 16 * T_MIB, T_MIB);
    lp = t_from(&f, t_mix, T_NMIX);
    memset(big, 'b', sizeof(big));
    ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, big, sizeof(big)),
                     OB_OK);
    n = store_lp_bytes(lp);
    ck_assert_uint_lt(n, sizeof(buf));
    memcpy(buf, lp, n);
    ck_assert(store_lp_validate(buf, n, 1));
    ck_assert(store_lp_validate(buf, n, 0));

    /* too small, truncated, total wrong, no EOF */
    ck_assert(!store_lp_validate(buf, 6, 0));
    ck_assert(!store_lp_validate(NULL, 7, 0));
    ck_assert(!store_lp_validate(buf, n - 1, 0));
    ck_assert(!store_lp_validate(buf, n - 1, 1));
    buf[0]++;
    ck_assert(!store_lp_validate(buf, n, 1));
    buf[0]--;
    buf[n - 1] = 0;
    ck_assert(!store_lp_validate(buf, n, 0));
    buf[n - 1] = STORE_LP_EOF;

    /* a truncated copy whose header says it is whole: the total says n,
     * the block is shorter; with the header fixed, an entry runs off */
    memcpy(buf, lp, n);
    buf[n - 20] = STORE_LP_EOF;
    buf[0] = (uint8_t) (n - 19);
    buf[1] = (uint8_t) ((n - 19) >> 8);
    ck_assert(store_lp_validate(buf, n - 19, 0));
    ck_assert(!store_lp_validate(buf, n - 19, 1));

    /* the count wrong */
    memcpy(buf, lp, n);
    buf[4]++;
    ck_assert(store_lp_validate(buf, n, 0));
    ck_assert(!store_lp_validate(buf, n, 1));
    buf[4]--;

    /* every single-byte corruption of the entries is caught by the deep
     * check or leaves a listpack that still validates (and then walks) */
    for (i = STORE_LP_HDR; i < n - 1; i++) {
        uint8_t  save = buf[i];
        unsigned bit;

        for (bit = 0; bit < 8; bit++) {
            buf[i] = (uint8_t) (save ^ (1u << bit));
            if (store_lp_validate(buf, n, 1)) {
                store_lp_pos_t  pos;
                size_t          k = 0;

                for (pos = store_lp_first(buf); pos != 0;
                     pos = store_lp_next(buf, pos))
                {
                    ck_assert_uint_lt(pos, n - 1);
                    k++;
                }
                ck_assert_uint_eq(k, store_lp_count(buf));
            }
        }
        buf[i] = save;
    }

    /* a bad backlen: the last entry's (the 300-byte string: 2 bytes) */
    memcpy(buf, lp, n);
    buf[n - 2] ^= 0x01;
    ck_assert(!store_lp_validate(buf, n, 1));
    memcpy(buf, lp, n);
    buf[n - 3] ^= 0x01;
    ck_assert(!store_lp_validate(buf, n, 1));
    /* a backlen that is not the shortest form */
    {
        uint8_t  odd[] = { 10, 0, 0, 0, 1, 0, 0x81, 'a', 0x02, 0xFF };

        ck_assert(store_lp_validate(odd, sizeof(odd), 1));
        odd[8] = 0x82;
        ck_assert(!store_lp_validate(odd, sizeof(odd), 1));
        odd[8] = 0x03;
        ck_assert(!store_lp_validate(odd, sizeof(odd), 1));
        odd[8] = 0x02;
        odd[6] = 0xF5;       /* no such encoding */
        ck_assert(!store_lp_validate(odd, sizeof(odd), 1));
        odd[6] = 0xFF;       /* EOF in the middle */
        ck_assert(!store_lp_validate(odd, sizeof(odd), 1));
    }
    /* a 32-bit string whose length bytes run past the end */
    {
        uint8_t  cut[] = { 10, 0, 0, 0, 1, 0, 0xF0, 0x01, 0x00, 0xFF };

        ck_assert(!store_lp_validate(cut, sizeof(cut), 1));
    }
    /* a 12-bit string whose second byte is the EOF */
    {
        uint8_t  cut[] = { 8, 0, 0, 0, 1, 0, 0xE0, 0xFF };

        ck_assert(!store_lp_validate(cut, sizeof(cut), 1));
    }
    /* an empty listpack, and one whose count is off */
    {
        uint8_t  e[] = { 7, 0, 0, 0, 0, 0, 0xFF };

        ck_assert(store_lp_validate(e, sizeof(e), 1));
        e[4] = 1;
        ck_assert(!store_lp_validate(e, sizeof(e), 1));
    }

    store_lp_free(f.a, f.owner, lp);
    t_fix_done(&f);
}
END_TEST


/* ---- out of memory --------------------------------------------------------- */

START_TEST(test_oom)
{
    t_fix_t          f;
    uint8_t         *lp, *copy, *src;
    void            *hog[16384];
    size_t           nhog, n, i;
    char            *big;
    store_lp_pos_t   pos, np;

    /* 256 KiB of budget in 4 KiB pages: a 300 KiB string cannot fit */
    t_fix_init(&f, 256 * 1024, 4096);
    big = malloc(300 * 1024);
    ck_assert_ptr_nonnull(big);
    memset(big, 'q', 300 * 1024);

    lp = t_from(&f, t_mix, T_NMIX);
    n = store_lp_bytes(lp);
    copy = malloc(n);
    memcpy(copy, lp, n);

    ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, big, 300 * 1024),
                     OB_ERR);
    ck_assert_int_eq(store_lp_prepend(f.a, f.owner, &lp, big, 300 * 1024),
                     OB_ERR);
    pos = store_lp_seek(lp, 3);
    np = 12345;
    ck_assert_int_eq(store_lp_insert(f.a, f.owner, &lp, pos, 1, big,
                                     300 * 1024, &np), OB_ERR);
    ck_assert_uint_eq(np, 12345);
    ck_assert_int_eq(store_lp_replace(f.a, f.owner, &lp, pos, big,
                                      300 * 1024), OB_ERR);
    ck_assert_uint_eq(store_lp_bytes(lp), n);
    ck_assert_int_eq(memcmp(lp, copy, n), 0);

    src = t_from(&f, t_mix, T_NMIX);

    /* fill the budget to the last byte with chunks of another class, so
     * that any growth out of the listpack's class is refused */
    nhog = 0;
    while (nhog < 16384
           && (hog[nhog] = ob_arena_alloc(f.a, f.owner, 40)) != NULL)
    {
        nhog++;
    }
    ck_assert_uint_lt(nhog, 16384);
    {
        char  s[600];

        memset(s, 's', sizeof(s));
        ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, s, sizeof(s)),
                         OB_ERR);
        ck_assert_int_eq(store_lp_insert(f.a, f.owner, &lp, pos, 0, s,
                                         sizeof(s), NULL), OB_ERR);
        ck_assert_int_eq(store_lp_replace(f.a, f.owner, &lp, pos, s,
                                          sizeof(s)), OB_ERR);
        {
            store_lp_val_t  pair[2];

            pair[0].s = (const uint8_t *) "field";
            pair[0].len = 5;
            pair[1].s = (const uint8_t *) s;
            pair[1].len = sizeof(s);
            ck_assert_int_eq(store_lp_splice(f.a, f.owner, &lp, 0, 0, pair,
                                             2, NULL), OB_ERR);
            ck_assert_int_eq(store_lp_splice(f.a, f.owner, &lp, pos, 1, pair,
                                             2, NULL), OB_ERR);
        }
    }
    ck_assert_int_eq(store_lp_concat(f.a, f.owner, &lp, src), OB_ERR);
    ck_assert_uint_eq(store_lp_bytes(lp), n);
    ck_assert_int_eq(memcmp(lp, copy, n), 0);

    /* a shrink out of the class is refused too, and changes nothing */
    np = store_lp_delete(f.a, f.owner, &lp, store_lp_first(lp), 10);
    if (np == STORE_LP_NOMEM) {
        ck_assert_uint_eq(store_lp_bytes(lp), n);
        ck_assert_int_eq(memcmp(lp, copy, n), 0);
        ck_assert_int_eq(store_lp_remove(f.a, f.owner, &lp,
                                         store_lp_first(lp), 10, &np),
                         OB_ERR);
        ck_assert_int_eq(memcmp(lp, copy, n), 0);
    } else {
        t_same(lp, t_mix + 10, T_NMIX - 10);
    }

    for (i = 0; i < nhog; i++) {
        ob_arena_free(f.a, f.owner, hog[i], 40);
    }
    store_lp_free(f.a, f.owner, lp);
    store_lp_free(f.a, f.owner, src);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);

    /* a string longer than any encoding */
    lp = store_lp_new(f.a, f.owner);
    ck_assert_uint_eq(store_lp_entry_size(big, (size_t) UINT32_MAX + 1),
                      SIZE_MAX);
    ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, big,
                                     (size_t) UINT32_MAX + 1), OB_ERR);
    t_bytes_eq(lp, (const uint8_t *) "\x07\0\0\0\0\0\xff", 7);
    store_lp_free(f.a, f.owner, lp);

    free(copy);
    free(big);
    t_fix_done(&f);
}
END_TEST


/*
 * A shrink to another class when the budget is full: in a fresh arena
 * the listpack jumps from the empty one's class to a 2 KiB one at once,
 * the budget is then filled with chunks of a third class, and deleting
 * the entry needs a chunk of the smallest class again.  The delete is
 * refused and the listpack is as it was; with room again it goes through.
 * Same class shrinks never allocate (release build) and so never fail.
 */
START_TEST(test_oom_shrink)
{
    t_fix_t          f;
    uint8_t         *lp, *copy;
    static void     *hog[65536];
    size_t           nhog, n, i;
    char             s[2000];
    store_lp_pos_t   np;

    t_fix_init(&f, 128 * 1024, 4096);
    memset(s, 'z', sizeof(s));

    lp = store_lp_new(f.a, f.owner);
    ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, "a", 1), OB_OK);
    ck_assert_int_eq(store_lp_append(f.a, f.owner, &lp, s, sizeof(s)),
                     OB_OK);
    n = store_lp_bytes(lp);
    copy = malloc(n);
    memcpy(copy, lp, n);

    /* every free page, of the pool or the budget, goes to the hogs */
    nhog = 0;
    while (nhog < 65536
           && (hog[nhog] = ob_arena_alloc(f.a, f.owner, 40)) != NULL)
    {
        nhog++;
    }
    ck_assert_uint_lt(nhog, 65536);

    np = store_lp_delete(f.a, f.owner, &lp, store_lp_last(lp), 1);
    ck_assert_uint_eq(np, STORE_LP_NOMEM);
    ck_assert_uint_eq(store_lp_bytes(lp), n);
    ck_assert_int_eq(memcmp(lp, copy, n), 0);
    ck_assert_int_eq(store_lp_delete_range(f.a, f.owner, &lp, 0, 2), OB_ERR);
    ck_assert_int_eq(memcmp(lp, copy, n), 0);
    ck_assert_int_eq(store_lp_remove(f.a, f.owner, &lp, store_lp_first(lp), 2,
                                     &np), OB_ERR);
    ck_assert_int_eq(memcmp(lp, copy, n), 0);
    t_check(lp);

    /* room again: the same delete goes through */
    for (i = 0; i < nhog; i++) {
        ob_arena_free(f.a, f.owner, hog[i], 40);
    }
    ck_assert_uint_eq(store_lp_delete(f.a, f.owner, &lp, store_lp_last(lp), 1),
                      0);
    ck_assert_uint_eq(store_lp_bytes(lp), 7 + 3);
    t_check(lp);

    store_lp_free(f.a, f.owner, lp);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    free(copy);
    t_fix_done(&f);
}
END_TEST


Suite *
store_listpack_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("store_listpack");

    tc = tcase_create("listpack");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_layout_small);
    tcase_add_test(tc, test_layout_redis_ints);
    tcase_add_test(tc, test_int_boundaries);
    tcase_add_test(tc, test_int_not_canonical);
    tcase_add_test(tc, test_str_boundaries);
    tcase_add_test(tc, test_edit_model);
    tcase_add_test(tc, test_edit_random);
    tcase_add_test(tc, test_splice);
    tcase_add_test(tc, test_concat);
    tcase_add_test(tc, test_delete_range);
    tcase_add_test(tc, test_seek);
    tcase_add_test(tc, test_find_skip);
    tcase_add_test(tc, test_count_saturation);
    tcase_add_test(tc, test_validate);
    tcase_add_test(tc, test_oom);
    tcase_add_test(tc, test_oom_shrink);
    suite_add_tcase(s, tc);

    return s;
}
