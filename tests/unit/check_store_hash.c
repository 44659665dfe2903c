/*
 * check_store_hash.c: unit tests of store/store_hash.c, the hash type:
 * both encodings, the conversion at Redis 7.0's limits (and never back),
 * values that change size in a hashtable, walking, HSCAN's guarantee
 * while the table grows, random and distinct random fields, copies,
 * memory figures, and out-of-memory refusals that leave the hash as it
 * was.  Every test checks that the arena gets all its bytes back.
 */
#include "check_suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ob_arena.h"
#include "store/store_hash.h"
#include "store/store_object.h"

#include "check_store_util.h"


/* ---- fixture ------------------------------------------------------------- */

static store_obj_t *
t_new(t_fix_t *f)
{
    store_obj_t  *o = store_hash_new(f->a, f->owner);

    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(o->type, STORE_OBJ_HASH);
    ck_assert_int_eq(o->encoding, STORE_ENC_LISTPACK);
    return o;
}


/* Sets field to value (NUL-terminated); returns what store_hash_set did. */
static int
t_set(t_fix_t *f, store_obj_t *o, const char *field, const char *value)
{
    return store_hash_set(f->a, f->owner, o, field, strlen(field), value,
                          strlen(value), 0);
}


/* 1 when field holds exactly value, 0 otherwise (NULL: absent). */
static int
t_is(const store_obj_t *o, const char *field, const char *value)
{
    const uint8_t  *p;
    size_t          len;
    char            buf[STORE_HASH_INTBUF];

    p = store_hash_get(o, field, strlen(field), buf, &len);
    if (value == NULL) {
        return p == NULL;
    }
    return p != NULL && len == strlen(value) && memcmp(p, value, len) == 0;
}


static void
t_field(char *buf, size_t size, size_t i)
{
    snprintf(buf, size, "field:%zu", i);
}


static void
t_value(char *buf, size_t size, size_t i)
{
    snprintf(buf, size, "value-%zu", i * 7);
}


/* Fills o with fields 0..n-1 (field:i -> value-7i); asserts each is new. */
static void
t_fill(t_fix_t *f, store_obj_t *o, size_t from, size_t n)
{
    size_t  i;
    char    k[32], v[32];

    for (i = from; i < from + n; i++) {
        t_field(k, sizeof(k), i);
        t_value(v, sizeof(v), i);
        ck_assert_int_eq(t_set(f, o, k, v), 1);
    }
}


/* A visitor collecting what it sees: a count and a checksum per field. */
typedef struct t_seen_s {
    size_t    n;
    uint8_t  *hits;          /* by field index, for field:<i> fields */
    size_t    max;
    int       values_ok;
    char      last[80];      /* the last field seen */
} t_seen_t;


static void
t_seen_one(void *arg, const uint8_t *fs, size_t nf, const uint8_t *vs,
    size_t nv)
{
    t_seen_t  *s = arg;
    size_t     i;
    char       k[80], v[32];

    s->n++;
    ck_assert_uint_lt(nf, sizeof(k));
    memcpy(k, fs, nf);
    k[nf] = '\0';
    memcpy(s->last, k, nf + 1);
    if (sscanf(k, "field:%zu", &i) == 1 && i < s->max) {
        if (s->hits[i] < 255) {
            s->hits[i]++;
        }
        t_value(v, sizeof(v), i);
        if (nv != strlen(v) || memcmp(vs, v, nv) != 0) {
            s->values_ok = 0;
        }
    }
}


static void
t_seen_init(t_seen_t *s, size_t max)
{
    memset(s, 0, sizeof(*s));
    s->hits = calloc(max, 1);
    ck_assert_ptr_nonnull(s->hits);
    s->max = max;
    s->values_ok = 1;
}


/* ---- listpack ------------------------------------------------------------ */

START_TEST(test_hash_listpack_basics)
{
    t_fix_t       f;
    store_obj_t  *o;
    char          buf[STORE_HASH_INTBUF];
    size_t        len;

    t_fix_init(&f, 16 * 1024 * 1024, 65536);
    o = t_new(&f);
    ck_assert_uint_eq(store_hash_len(o), 0);
    ck_assert(t_is(o, "a", NULL));
    ck_assert_int_eq(store_hash_exists(o, "a", 1), 0);
    ck_assert_int_eq(store_hash_del(f.a, f.owner, o, "a", 1), 0);

    ck_assert_int_eq(t_set(&f, o, "a", "1"), 1);
    ck_assert_int_eq(t_set(&f, o, "b", "hello"), 1);
    ck_assert_int_eq(t_set(&f, o, "a", "-9223372036854775808"), 0);
    ck_assert_int_eq(t_set(&f, o, "", ""), 1);
    ck_assert_int_eq(t_set(&f, o, "12", "012"), 1);
    ck_assert_uint_eq(store_hash_len(o), 4);
    ck_assert(t_is(o, "a", "-9223372036854775808"));
    ck_assert(t_is(o, "b", "hello"));
    ck_assert(t_is(o, "", ""));
    ck_assert(t_is(o, "12", "012"));
    /* an integer field is found by its text */
    ck_assert_int_eq(store_hash_exists(o, "12", 2), 1);
    ck_assert_int_eq(store_hash_exists(o, "012", 3), 0);
    ck_assert_ptr_nonnull(store_hash_get(o, "a", 1, buf, &len));
    ck_assert_uint_eq(len, 20);

    /* NX leaves an existing field */
    ck_assert_int_eq(store_hash_set(f.a, f.owner, o, "b", 1, "x", 1,
                                    STORE_HASH_SET_NX), 0);
    ck_assert(t_is(o, "b", "hello"));
    ck_assert_int_eq(store_hash_set(f.a, f.owner, o, "c", 1, "x", 1,
                                    STORE_HASH_SET_NX), 1);
    ck_assert(t_is(o, "c", "x"));

    ck_assert_int_eq(store_hash_del(f.a, f.owner, o, "b", 1), 1);
    ck_assert_int_eq(store_hash_del(f.a, f.owner, o, "b", 1), 0);
    ck_assert(t_is(o, "b", NULL));
    ck_assert(t_is(o, "c", "x"));
    ck_assert_uint_eq(store_hash_len(o), 4);
    ck_assert_int_eq(o->encoding, STORE_ENC_LISTPACK);

    store_obj_free(f.a, f.owner, o);
    t_fix_fini(&f);
}
END_TEST


typedef struct t_order_s {
    char   names[8][16];
    size_t n;
} t_order_t;


static void
t_order_one(void *arg, const uint8_t *fs, size_t nf, const uint8_t *vs,
    size_t nv)
{
    t_order_t  *o = arg;

    (void) vs;
    (void) nv;
    ck_assert_uint_lt(o->n, 8);
    ck_assert_uint_lt(nf, 16);
    memcpy(o->names[o->n], fs, nf);
    o->names[o->n][nf] = '\0';
    o->n++;
}


START_TEST(test_hash_listpack_order)
{
    t_fix_t       f;
    store_obj_t  *o;
    t_order_t     ord;

    t_fix_init(&f, 16 * 1024 * 1024, 65536);
    o = t_new(&f);
    t_set(&f, o, "z", "1");
    t_set(&f, o, "a", "2");
    t_set(&f, o, "5", "3");
    t_set(&f, o, "a", "4");              /* an update keeps its place */
    memset(&ord, 0, sizeof(ord));
    store_hash_foreach(o, t_order_one, &ord);
    ck_assert_uint_eq(ord.n, 3);
    ck_assert_str_eq(ord.names[0], "z");
    ck_assert_str_eq(ord.names[1], "a");
    ck_assert_str_eq(ord.names[2], "5");
    /* HSCAN over a listpack: everything, cursor 0, whatever was asked */
    memset(&ord, 0, sizeof(ord));
    ck_assert_uint_eq(store_hash_scan(o, 12345, 1, t_order_one, &ord), 0);
    ck_assert_uint_eq(ord.n, 3);
    store_obj_free(f.a, f.owner, o);
    t_fix_fini(&f);
}
END_TEST


/* ---- conversion --------------------------------------------------------- */

START_TEST(test_hash_convert_entries)
{
    t_fix_t       f;
    store_obj_t  *o;
    t_seen_t      s;
    size_t        i;
    char          k[32];

    t_fix_init(&f, 16 * 1024 * 1024, 65536);
    o = t_new(&f);
    t_fill(&f, o, 0, STORE_HASH_LP_ENTRIES);
    ck_assert_int_eq(o->encoding, STORE_ENC_LISTPACK);
    ck_assert_uint_eq(store_hash_len(o), STORE_HASH_LP_ENTRIES);
    /* updates at the limit stay */
    ck_assert_int_eq(t_set(&f, o, "field:0", "value-0"), 0);
    ck_assert_int_eq(o->encoding, STORE_ENC_LISTPACK);
    /* one more converts */
    t_fill(&f, o, STORE_HASH_LP_ENTRIES, 1);
    ck_assert_int_eq(o->encoding, STORE_ENC_HASHTABLE);
    ck_assert_uint_eq(store_hash_len(o), STORE_HASH_LP_ENTRIES + 1);

    t_seen_init(&s, 1000);
    store_hash_foreach(o, t_seen_one, &s);
    ck_assert_uint_eq(s.n, STORE_HASH_LP_ENTRIES + 1);
    ck_assert(s.values_ok);
    for (i = 0; i <= STORE_HASH_LP_ENTRIES; i++) {
        ck_assert_uint_eq(s.hits[i], 1);
    }
    free(s.hits);

    /* never back */
    for (i = 1; i <= STORE_HASH_LP_ENTRIES; i++) {
        t_field(k, sizeof(k), i);
        ck_assert_int_eq(store_hash_del(f.a, f.owner, o, k, strlen(k)), 1);
    }
    ck_assert_uint_eq(store_hash_len(o), 1);
    ck_assert_int_eq(o->encoding, STORE_ENC_HASHTABLE);
    ck_assert(t_is(o, "field:0", "value-0"));
    store_obj_free(f.a, f.owner, o);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_hash_convert_lengths)
{
    t_fix_t       f;
    store_obj_t  *o;
    char          v64[65], v65[66];
    ob_str_t      args[2];

    t_fix_init(&f, 16 * 1024 * 1024, 65536);
    memset(v64, 'v', 64);
    v64[64] = '\0';
    memset(v65, 'w', 65);
    v65[65] = '\0';

    /* 64 bytes stay, 65 convert: a value */
    o = t_new(&f);
    t_set(&f, o, "n", "42");
    t_set(&f, o, "a", v64);
    t_set(&f, o, v64, "b");
    ck_assert_int_eq(o->encoding, STORE_ENC_LISTPACK);
    ck_assert_int_eq(t_set(&f, o, "a", v65), 0);
    ck_assert_int_eq(o->encoding, STORE_ENC_HASHTABLE);
    ck_assert(t_is(o, "a", v65));
    ck_assert(t_is(o, v64, "b"));
    ck_assert(t_is(o, "n", "42"));
    store_obj_free(f.a, f.owner, o);

    /* a field */
    o = t_new(&f);
    ck_assert_int_eq(t_set(&f, o, v65, "x"), 1);
    ck_assert_int_eq(o->encoding, STORE_ENC_HASHTABLE);
    ck_assert(t_is(o, v65, "x"));
    store_obj_free(f.a, f.owner, o);

    /* NX over an existing field converts nothing (7.0.15) */
    o = t_new(&f);
    t_set(&f, o, "a", "1");
    ck_assert_int_eq(store_hash_set(f.a, f.owner, o, "a", 1, v65, 65,
                                    STORE_HASH_SET_NX), 0);
    ck_assert_int_eq(o->encoding, STORE_ENC_LISTPACK);

    /* try_convert: any argument over the limit */
    args[0].data = (const uint8_t *) "x";
    args[0].len = 1;
    args[1].data = (const uint8_t *) v64;
    args[1].len = 64;
    ck_assert_int_eq(store_hash_try_convert(f.a, f.owner, o, args, 2), OB_OK);
    ck_assert_int_eq(o->encoding, STORE_ENC_LISTPACK);
    args[1].data = (const uint8_t *) v65;
    args[1].len = 65;
    ck_assert_int_eq(store_hash_try_convert(f.a, f.owner, o, args, 2), OB_OK);
    ck_assert_int_eq(o->encoding, STORE_ENC_HASHTABLE);
    ck_assert(t_is(o, "a", "1"));
    /* and again: a no-op */
    ck_assert_int_eq(store_hash_convert(f.a, f.owner, o), OB_OK);
    ck_assert_uint_eq(store_hash_len(o), 1);
    store_obj_free(f.a, f.owner, o);

    /* an empty hash converts too */
    o = t_new(&f);
    ck_assert_int_eq(store_hash_convert(f.a, f.owner, o), OB_OK);
    ck_assert_uint_eq(store_hash_len(o), 0);
    ck_assert_int_eq(t_set(&f, o, "a", "b"), 1);
    store_obj_free(f.a, f.owner, o);
    t_fix_fini(&f);
}
END_TEST


/* ---- several pairs at once ----------------------------------------------- */

/* args for fields from..from+n-1 (field:i -> value-7i); the strings live
 * in bufs, which the caller frees. */
static ob_str_t *
t_pairs(size_t from, size_t n, char **bufs)
{
    ob_str_t  *args;
    char      *p;
    size_t     i;

    args = calloc(2 * n, sizeof(*args));
    *bufs = p = calloc(n, 64);
    ck_assert_ptr_nonnull(args);
    ck_assert_ptr_nonnull(p);
    for (i = 0; i < n; i++, p += 64) {
        t_field(p, 32, from + i);
        t_value(p + 32, 32, from + i);
        args[2 * i].data = (const uint8_t *) p;
        args[2 * i].len = strlen(p);
        args[2 * i + 1].data = (const uint8_t *) p + 32;
        args[2 * i + 1].len = strlen(p + 32);
    }
    return args;
}


START_TEST(test_hash_set_many)
{
    t_fix_t       f;
    store_obj_t  *o;
    ob_str_t     *args, dup[6];
    char         *bufs;
    long long     added;
    t_seen_t      s;
    size_t        i;

    t_fix_init(&f, 64 * 1024 * 1024, 65536);
    o = t_new(&f);

    /* the same field twice: counted once, the last value stays */
    dup[0].data = (const uint8_t *) "a";
    dup[0].len = 1;
    dup[1].data = (const uint8_t *) "1";
    dup[1].len = 1;
    dup[2] = dup[0];
    dup[3].data = (const uint8_t *) "2";
    dup[3].len = 1;
    dup[4].data = (const uint8_t *) "b";
    dup[4].len = 1;
    dup[5] = dup[1];
    ck_assert_int_eq(store_hash_set_many(f.a, f.owner, o, dup, 6, &added),
                     OB_OK);
    ck_assert_int_eq(added, 2);
    ck_assert(t_is(o, "a", "2"));
    ck_assert(t_is(o, "b", "1"));
    ck_assert_int_eq(store_hash_set_many(f.a, f.owner, o, dup, 2, &added),
                     OB_OK);
    ck_assert_int_eq(added, 0);
    ck_assert(t_is(o, "a", "1"));

    /* a call that crosses the entries limit converts on the way */
    args = t_pairs(0, STORE_HASH_LP_ENTRIES + 5, &bufs);
    ck_assert_int_eq(store_hash_set_many(f.a, f.owner, o, args,
                                         2 * (STORE_HASH_LP_ENTRIES + 5),
                                         &added), OB_OK);
    ck_assert_int_eq(added, STORE_HASH_LP_ENTRIES + 5);
    ck_assert_int_eq(o->encoding, STORE_ENC_HASHTABLE);

    /* over a hashtable: updates and new fields, the same field twice */
    ck_assert_int_eq(store_hash_set_many(f.a, f.owner, o, args, 40, &added),
                     OB_OK);
    ck_assert_int_eq(added, 0);
    ck_assert_int_eq(store_hash_set_many(f.a, f.owner, o, dup, 6, &added),
                     OB_OK);
    ck_assert_int_eq(added, 0);
    ck_assert(t_is(o, "a", "2"));
    free(args);
    free(bufs);
    args = t_pairs(STORE_HASH_LP_ENTRIES + 5, 100, &bufs);
    ck_assert_int_eq(store_hash_set_many(f.a, f.owner, o, args, 200, &added),
                     OB_OK);
    ck_assert_int_eq(added, 100);
    free(args);
    free(bufs);
    t_seen_init(&s, 1000);
    store_hash_foreach(o, t_seen_one, &s);
    ck_assert_uint_eq(s.n, STORE_HASH_LP_ENTRIES + 105 + 2);
    ck_assert(s.values_ok);
    for (i = 0; i < STORE_HASH_LP_ENTRIES + 105; i++) {
        ck_assert_uint_eq(s.hits[i], 1);
    }
    free(s.hits);
    store_obj_free(f.a, f.owner, o);
    t_fix_fini(&f);
}
END_TEST


/* Takes every byte the arena will give, in blocks from 4 KiB down to 16
 * bytes (so no class keeps a free chunk); t_release gives them back. */
typedef struct t_hog_s {
    void    *p[40000];
    size_t   size[40000];
    size_t   n;
} t_hog_t;


static void
t_exhaust(t_fix_t *f, t_hog_t *h)
{
    size_t  size;

    h->n = 0;
    for (size = 4096; size >= 16; size /= 2) {
        while (h->n < 40000) {
            h->p[h->n] = ob_arena_alloc(f->a, f->owner, size);
            if (h->p[h->n] == NULL) {
                break;
            }
            h->size[h->n++] = size;
        }
    }
    ck_assert_uint_lt(h->n, 40000);
}


static void
t_release(t_fix_t *f, t_hog_t *h)
{
    while (h->n > 0) {
        h->n--;
        ob_arena_free(f->a, f->owner, h->p[h->n], h->size[h->n]);
    }
}


START_TEST(test_hash_set_many_oom)
{
    t_fix_t       f;
    store_obj_t  *o[2];
    t_hog_t      *hog;
    ob_str_t     *args;
    char         *bufs;
    long long     added;
    size_t        k, len[2];
    size_t        sizes[2] = { 100, STORE_HASH_LP_ENTRIES + 10 };
    t_seen_t      s;

    /* both encodings, then no room at all: a call of 200 new pairs is
     * refused whole, and the hash is as it was */
    t_fix_init(&f, 256 * 1024, 4096);
    for (k = 0; k < 2; k++) {
        o[k] = t_new(&f);
        t_fill(&f, o[k], 0, sizes[k]);
        len[k] = store_hash_len(o[k]);
    }
    ck_assert_int_eq(o[0]->encoding, STORE_ENC_LISTPACK);
    ck_assert_int_eq(o[1]->encoding, STORE_ENC_HASHTABLE);
    args = t_pairs(5000, 200, &bufs);
    hog = malloc(sizeof(*hog));
    ck_assert_ptr_nonnull(hog);
    t_exhaust(&f, hog);
    for (k = 0; k < 2; k++) {
        ck_assert_int_eq(store_hash_set_many(f.a, f.owner, o[k], args, 400,
                                             &added), OB_ERR);
        ck_assert_uint_eq(store_hash_len(o[k]), len[k]);
        ck_assert(t_is(o[k], "field:5000", NULL));
        ck_assert(t_is(o[k], "field:5199", NULL));
        t_seen_init(&s, 10000);
        store_hash_foreach(o[k], t_seen_one, &s);
        ck_assert_uint_eq(s.n, len[k]);
        ck_assert(s.values_ok);
        free(s.hits);
    }
    t_release(&f, hog);
    free(hog);
    for (k = 0; k < 2; k++) {
        ck_assert_int_eq(store_hash_set_many(f.a, f.owner, o[k], args, 400,
                                             &added), OB_OK);
        ck_assert_int_eq(added, 200);
        store_obj_free(f.a, f.owner, o[k]);
    }
    free(args);
    free(bufs);
    t_fix_fini(&f);
}
END_TEST


/* ---- the hashtable ---------------------------------------------------------- */

START_TEST(test_hash_table_values)
{
    t_fix_t       f;
    store_obj_t  *o;
    size_t        i, j, len, before;
    char          k[32], v[400];

    t_fix_init(&f, 64 * 1024 * 1024, 65536);
    o = t_new(&f);
    t_fill(&f, o, 0, 2000);
    ck_assert_int_eq(o->encoding, STORE_ENC_HASHTABLE);
    before = store_obj_mem(f.a, o);

    /* values that grow and shrink across arena classes, and stay */
    for (j = 0; j < 3; j++) {
        for (i = 0; i < 2000; i++) {
            t_field(k, sizeof(k), i);
            len = (i * 13 + j * 101) % sizeof(v);
            memset(v, 'a' + (int) (i % 26), len);
            v[len] = '\0';
            ck_assert_int_eq(t_set(&f, o, k, v), 0);
        }
        for (i = 0; i < 2000; i++) {
            t_field(k, sizeof(k), i);
            len = (i * 13 + j * 101) % sizeof(v);
            memset(v, 'a' + (int) (i % 26), len);
            v[len] = '\0';
            ck_assert(t_is(o, k, v));
        }
    }
    ck_assert_uint_eq(store_hash_len(o), 2000);

    /* back to the first values: the memory figure comes back too */
    for (i = 0; i < 2000; i++) {
        t_field(k, sizeof(k), i);
        t_value(v, sizeof(v), i);
        ck_assert_int_eq(t_set(&f, o, k, v), 0);
    }
    ck_assert_uint_eq(store_obj_mem(f.a, o), before);

    for (i = 0; i < 2000; i += 2) {
        t_field(k, sizeof(k), i);
        ck_assert_int_eq(store_hash_del(f.a, f.owner, o, k, strlen(k)), 1);
    }
    ck_assert_uint_eq(store_hash_len(o), 1000);
    ck_assert_uint_lt(store_obj_mem(f.a, o), before);
    for (i = 0; i < 2000; i++) {
        t_field(k, sizeof(k), i);
        t_value(v, sizeof(v), i);
        ck_assert(t_is(o, k, i % 2 ? v : NULL));
    }
    store_obj_free(f.a, f.owner, o);
    t_fix_fini(&f);
}
END_TEST


/* ---- walking and scanning ------------------------------------------------- */

START_TEST(test_hash_scan_guarantee)
{
    t_fix_t       f;
    store_obj_t  *o;
    t_seen_t      s;
    uint64_t      cursor;
    size_t        i, calls = 0, added = 0;

    t_fix_init(&f, 64 * 1024 * 1024, 65536);
    o = t_new(&f);
    t_fill(&f, o, 0, 3000);

    /* a plain scan in pages of 10 sees every field, once or more */
    t_seen_init(&s, 100000);
    cursor = 0;
    do {
        cursor = store_hash_scan(o, cursor, 10, t_seen_one, &s);
        calls++;
    } while (cursor != 0);
    ck_assert_uint_gt(calls, 100);
    ck_assert(s.values_ok);
    for (i = 0; i < 3000; i++) {
        ck_assert_uint_ge(s.hits[i], 1);
    }
    free(s.hits);

    /* the table grows (and rehashes) between the calls: what was there
     * from the start is still seen */
    t_seen_init(&s, 100000);
    cursor = 0;
    do {
        cursor = store_hash_scan(o, cursor, 10, t_seen_one, &s);
        if (added < 20000) {
            t_fill(&f, o, 3000 + added, 50);
            added += 50;
        }
    } while (cursor != 0);
    ck_assert_uint_eq(added, 20000);
    for (i = 0; i < 3000; i++) {
        ck_assert_uint_ge(s.hits[i], 1);
    }
    free(s.hits);

    /* foreach: each exactly once */
    t_seen_init(&s, 100000);
    store_hash_foreach(o, t_seen_one, &s);
    ck_assert_uint_eq(s.n, 3000 + added);
    for (i = 0; i < 3000 + added; i++) {
        ck_assert_uint_eq(s.hits[i], 1);
    }
    free(s.hits);
    store_obj_free(f.a, f.owner, o);
    t_fix_fini(&f);
}
END_TEST


/* ---- random fields ---------------------------------------------------------- */

static void
t_random_all(t_fix_t *f, size_t n)
{
    store_obj_t  *o;
    t_seen_t      s;
    uint64_t      rng = 42;
    size_t        i, count;
    size_t        counts[] = { 1, 2, 3, 5, 10, 0, 0, 0, 0 };

    o = t_new(f);
    t_fill(f, o, 0, n);

    /* single picks reach every field */
    t_seen_init(&s, n);
    for (i = 0; i < n * 60; i++) {
        store_hash_random(o, &rng, t_seen_one, &s);
    }
    ck_assert_uint_eq(s.n, n * 60);
    ck_assert(s.values_ok);
    for (i = 0; i < n; i++) {
        ck_assert_msg(s.hits[i] > 0, "field %zu of %zu never picked", i, n);
    }
    free(s.hits);

    /* picks with repeats, all at once: as many as asked, every field */
    t_seen_init(&s, n);
    store_hash_random_many(o, &rng, n * 60, t_seen_one, &s, NULL);
    ck_assert_uint_eq(s.n, n * 60);
    ck_assert(s.values_ok);
    for (i = 0; i < n; i++) {
        ck_assert_uint_gt(s.hits[i], 0);
    }
    free(s.hits);

    /* distinct picks: exactly count, no repeats, from the hash */
    counts[5] = n / 3;
    counts[6] = n / 3 + 1;
    counts[7] = n - 1;
    counts[8] = n;
    for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        count = counts[i];
        if (count == 0 || count > n) {
            continue;
        }
        t_seen_init(&s, n);
        store_hash_random_distinct(o, &rng, count, t_seen_one, &s);
        ck_assert_uint_eq(s.n, count);
        ck_assert(s.values_ok);
        for (size_t j = 0; j < n; j++) {
            ck_assert_uint_le(s.hits[j], 1);
        }
        free(s.hits);
    }
    /* a count over the size is clamped */
    t_seen_init(&s, n);
    store_hash_random_distinct(o, &rng, n + 100, t_seen_one, &s);
    ck_assert_uint_eq(s.n, n);
    free(s.hits);

    /* small distinct draws reach every field over time */
    t_seen_init(&s, n);
    for (i = 0; i < n * 20; i++) {
        store_hash_random_distinct(o, &rng, 3, t_seen_one, &s);
    }
    for (i = 0; i < n; i++) {
        ck_assert_uint_gt(s.hits[i], 0);
    }
    free(s.hits);
    store_obj_free(f->a, f->owner, o);
}


typedef struct t_stop_s {
    size_t  n;
    int     stop;
} t_stop_t;


static void
t_stop_one(void *arg, const uint8_t *fs, size_t nf, const uint8_t *vs,
    size_t nv)
{
    t_stop_t  *s = arg;

    (void) fs;
    (void) nf;
    (void) vs;
    (void) nv;
    if (++s->n == 5) {
        s->stop = 1;             /* as a reply writer that failed */
    }
}


START_TEST(test_hash_random_stop)
{
    t_fix_t       f;
    store_obj_t  *o;
    t_stop_t      s;
    uint64_t      rng = 3;

    /* a huge count stops as soon as the flag is set */
    t_fix_init(&f, 64 * 1024 * 1024, 65536);
    o = t_new(&f);
    t_fill(&f, o, 0, 10);
    memset(&s, 0, sizeof(s));
    store_hash_random_many(o, &rng, UINT64_MAX, t_stop_one, &s, &s.stop);
    ck_assert_uint_eq(s.n, 5);
    t_fill(&f, o, 10, STORE_HASH_LP_ENTRIES);
    ck_assert_int_eq(o->encoding, STORE_ENC_HASHTABLE);
    memset(&s, 0, sizeof(s));
    store_hash_random_many(o, &rng, UINT64_MAX, t_stop_one, &s, &s.stop);
    ck_assert_uint_eq(s.n, 5);
    store_obj_free(f.a, f.owner, o);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_hash_random)
{
    t_fix_t  f;

    t_fix_init(&f, 64 * 1024 * 1024, 65536);
    t_random_all(&f, 1);
    t_random_all(&f, 7);
    t_random_all(&f, STORE_HASH_LP_ENTRIES);        /* listpack */
    t_random_all(&f, STORE_HASH_LP_ENTRIES + 100);  /* hashtable */
    t_random_all(&f, 5000);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_hash_random_even)
{
    t_fix_t       f;
    store_obj_t  *o;
    t_seen_t      s;
    uint64_t      rng = 11;
    size_t        i, lo = SIZE_MAX, hi = 0;
    size_t       *hits;

    /* 1000 fields, 200 picks each on average: with even picks no field
     * strays 5 standard deviations (about 70) from 200 */
    t_fix_init(&f, 64 * 1024 * 1024, 65536);
    o = t_new(&f);
    t_fill(&f, o, 0, 1000);
    ck_assert_int_eq(o->encoding, STORE_ENC_HASHTABLE);
    hits = calloc(1000, sizeof(*hits));
    ck_assert_ptr_nonnull(hits);
    for (i = 0; i < 200; i++) {
        t_seen_init(&s, 1000);
        store_hash_random_many(o, &rng, 1000, t_seen_one, &s, NULL);
        for (size_t j = 0; j < 1000; j++) {
            hits[j] += s.hits[j];
        }
        free(s.hits);
    }
    for (i = 0; i < 1000; i++) {
        lo = hits[i] < lo ? hits[i] : lo;
        hi = hits[i] > hi ? hits[i] : hi;
    }
    ck_assert_msg(lo > 130 && hi < 270, "picks per field from %zu to %zu",
                  lo, hi);
    free(hits);
    store_obj_free(f.a, f.owner, o);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_hash_random_sparse)
{
    t_fix_t       f;
    store_obj_t  *o;
    t_seen_t      s;
    uint64_t      rng = 7;
    size_t        i;
    char          k[32];

    /* a big table emptied down to a few fields: picks still find them */
    t_fix_init(&f, 64 * 1024 * 1024, 65536);
    o = t_new(&f);
    t_fill(&f, o, 0, 20000);
    for (i = 5; i < 20000; i++) {
        t_field(k, sizeof(k), i);
        ck_assert_int_eq(store_hash_del(f.a, f.owner, o, k, strlen(k)), 1);
    }
    t_seen_init(&s, 5);
    for (i = 0; i < 500; i++) {
        store_hash_random(o, &rng, t_seen_one, &s);
    }
    ck_assert_uint_eq(s.n, 500);
    for (i = 0; i < 5; i++) {
        ck_assert_uint_gt(s.hits[i], 0);
    }
    free(s.hits);
    store_obj_free(f.a, f.owner, o);
    t_fix_fini(&f);
}
END_TEST


/* ---- copies, memory ----------------------------------------------------------- */

START_TEST(test_hash_dup_mem)
{
    t_fix_t       f;
    store_obj_t  *o, *d;
    size_t        n, m1;
    size_t        sizes[] = { 0, 3, STORE_HASH_LP_ENTRIES + 1, 3000 };
    t_seen_t      s;

    t_fix_init(&f, 64 * 1024 * 1024, 65536);
    for (n = 0; n < sizeof(sizes) / sizeof(sizes[0]); n++) {
        o = t_new(&f);
        t_fill(&f, o, 0, sizes[n]);
        m1 = store_obj_mem(f.a, o);
        ck_assert_uint_gt(m1, 0);
        d = store_obj_dup(f.a, f.owner, o);
        ck_assert_ptr_nonnull(d);
        ck_assert_int_eq(d->type, STORE_OBJ_HASH);
        ck_assert_int_eq(d->encoding, o->encoding);
        ck_assert_uint_eq(store_hash_len(d), sizes[n]);
        ck_assert_uint_eq(store_obj_mem(f.a, d), store_obj_mem(f.a, o));
        /* independent: changing the original leaves the copy */
        ck_assert_int_eq(t_set(&f, o, "field:0", "changed"), sizes[n] == 0);
        t_seen_init(&s, sizes[n] + 1);
        store_hash_foreach(d, t_seen_one, &s);
        ck_assert_uint_eq(s.n, sizes[n]);
        ck_assert(s.values_ok);
        free(s.hits);
        store_obj_free(f.a, f.owner, o);
        store_obj_free(f.a, f.owner, d);
    }
    t_fix_fini(&f);
}
END_TEST


/* ---- out of memory -------------------------------------------------------- */

START_TEST(test_hash_oom)
{
    t_fix_t       f;
    store_obj_t  *o, *big;
    t_seen_t      s;
    size_t        i, ok = 0, fails = 0, n;
    char          k[32], v[32];
    int           rc;

    /* a small budget: 16 pages of 4 KiB */
    t_fix_init(&f, 64 * 1024, 4096);
    o = t_new(&f);
    for (i = 0; i < 100000 && fails < 20; i++) {
        t_field(k, sizeof(k), i);
        t_value(v, sizeof(v), i);
        n = store_hash_len(o);
        rc = t_set(&f, o, k, v);
        if (rc == OB_ERR) {
            /* refused: the hash is as it was */
            ck_assert_uint_eq(store_hash_len(o), n);
            ck_assert(t_is(o, k, NULL));
            fails++;
            continue;
        }
        ck_assert_int_eq(rc, 1);
        ok++;
    }
    ck_assert_uint_gt(ok, 100);
    ck_assert_uint_ge(fails, 20);
    ck_assert_uint_eq(store_hash_len(o), ok);
    t_seen_init(&s, 100000);
    store_hash_foreach(o, t_seen_one, &s);
    ck_assert_uint_eq(s.n, ok);
    ck_assert(s.values_ok);
    free(s.hits);

    /* a copy that cannot get memory is nothing */
    big = store_obj_dup(f.a, f.owner, o);
    if (big != NULL) {
        store_obj_free(f.a, f.owner, big);
    }

    /* deleting makes room again */
    for (i = 0; i < ok; i++) {
        t_field(k, sizeof(k), i);
        (void) store_hash_del(f.a, f.owner, o, k, strlen(k));
    }
    ck_assert_int_eq(t_set(&f, o, "fresh", "value"), 1);
    store_obj_free(f.a, f.owner, o);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_hash_oom_convert)
{
    t_fix_t       f;
    store_obj_t  *o;
    t_hog_t      *hog;
    size_t        n;
    char          v65[66];

    /* a listpack hash, then a budget with no room: the conversion fails
     * whole and the listpack stays as it was; a delete that needs no
     * smaller block works */
    t_fix_init(&f, 64 * 1024, 4096);
    o = t_new(&f);
    t_fill(&f, o, 0, 200);
    ck_assert_int_eq(o->encoding, STORE_ENC_LISTPACK);
    hog = malloc(sizeof(*hog));
    ck_assert_ptr_nonnull(hog);
    t_exhaust(&f, hog);
    memset(v65, 'z', 65);
    v65[65] = '\0';
    n = store_hash_len(o);
    ck_assert_int_eq(t_set(&f, o, "long", v65), OB_ERR);
    ck_assert_int_eq(store_hash_convert(f.a, f.owner, o), OB_ERR);
    ck_assert_int_eq(o->encoding, STORE_ENC_LISTPACK);
    ck_assert_uint_eq(store_hash_len(o), n);
    ck_assert(t_is(o, "field:7", "value-49"));
    ck_assert(t_is(o, "long", NULL));
    t_release(&f, hog);
    free(hog);
    ck_assert_int_eq(t_set(&f, o, "long", v65), 1);
    ck_assert_int_eq(o->encoding, STORE_ENC_HASHTABLE);
    ck_assert_uint_eq(store_hash_len(o), n + 1);
    ck_assert(t_is(o, "field:7", "value-49"));
    store_obj_free(f.a, f.owner, o);
    t_fix_fini(&f);
}
END_TEST


Suite *
store_hash_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("store_hash");

    tc = tcase_create("listpack");
    tcase_add_test(tc, test_hash_listpack_basics);
    tcase_add_test(tc, test_hash_listpack_order);
    suite_add_tcase(s, tc);

    tc = tcase_create("convert");
    tcase_add_test(tc, test_hash_convert_entries);
    tcase_add_test(tc, test_hash_convert_lengths);
    suite_add_tcase(s, tc);

    tc = tcase_create("set_many");
    tcase_add_test(tc, test_hash_set_many);
    tcase_add_test(tc, test_hash_set_many_oom);
    suite_add_tcase(s, tc);

    tc = tcase_create("hashtable");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_hash_table_values);
    tcase_add_test(tc, test_hash_scan_guarantee);
    tcase_add_test(tc, test_hash_random);
    tcase_add_test(tc, test_hash_random_sparse);
    tcase_add_test(tc, test_hash_random_even);
    tcase_add_test(tc, test_hash_random_stop);
    tcase_add_test(tc, test_hash_dup_mem);
    suite_add_tcase(s, tc);

    tc = tcase_create("oom");
    tcase_add_test(tc, test_hash_oom);
    tcase_add_test(tc, test_hash_oom_convert);
    suite_add_tcase(s, tc);

    return s;
}
