/*
 * check_store_db.c: unit tests of store/store_object.c (value objects and
 * their encodings), store/store_glob.c (Redis's glob) and store/store_db.c
 * (the databases: lazy and active expiry, TTLs, RENAME, MOVE, SWAPDB,
 * RANDOMKEY, SCAN and its guarantee, out-of-memory behaviour, the
 * deletion callback).
 *
 * Time is passed in: T_NOW is an arbitrary "now" in Unix ms, so expiry is
 * exact and no test sleeps.
 */
#include "check_suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ob_arena.h"
#include "store/store_db.h"
#include "store/store_glob.h"
#include "store/store_object.h"

#define T_STORE_OWN_FIXTURE
#include "check_store_util.h"

#define T_NOW   1700000000000LL


/* ---- fixture --------------------------------------------------------------- */

typedef struct t_fix_s {
    ob_arena_t   *a;
    int           owner;
    store_dbs_t  *s;
    store_db_t   *db;
    size_t        dels[3];       /* on_del calls, by why */
    int           last_db;
} t_fix_t;


static void
t_on_del(void *ctx, int dbid, const store_entry_t *e, store_del_why_t why)
{
    t_fix_t  *f = ctx;

    ck_assert_ptr_nonnull(e->val);
    ck_assert_uint_lt((unsigned) why, 3);
    f->dels[why]++;
    f->last_db = dbid;
}


static void
t_fix_init(t_fix_t *f, size_t limit, size_t page_size)
{
    store_dbs_conf_t  dconf;

    memset(f, 0, sizeof(*f));
    f->a = t_store_arena(limit, page_size, &f->owner);

    memset(&dconf, 0, sizeof(dconf));
    dconf.arena = f->a;
    dconf.owner = f->owner;
    dconf.on_del = t_on_del;
    dconf.on_del_ctx = f;
    dconf.seed = 12345;
    f->s = store_dbs_new(&dconf);
    ck_assert_ptr_nonnull(f->s);
    f->db = store_dbs_db(f->s, 0);
    ck_assert_ptr_nonnull(f->db);
}


static void
t_fix_fini(t_fix_t *f)
{
    store_dbs_free(f->s);
    /* everything the store took went back */
    t_store_arena_free(f->a, f->owner);
}


/* Sets key to the string value (both NUL-terminated); asserts success. */
static void
t_set(store_db_t *db, t_fix_t *f, const char *k, const char *v)
{
    store_obj_t  *o = store_obj_string_new(f->a, f->owner, v, strlen(v));

    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(store_db_set(db, k, strlen(k), o, 0, T_NOW), OB_OK);
}


/* 1 when key holds the string v (read lookup at `now`). */
static int
t_is(store_db_t *db, const char *k, const char *v, int64_t now)
{
    store_obj_t  *o;
    const char   *p;
    size_t        len;
    char          buf[STORE_OBJ_INTBUF];

    o = store_db_lookup_read(db, k, strlen(k), now, 0);
    if (o == NULL) {
        return v == NULL;
    }
    if (v == NULL) {
        return 0;
    }
    p = store_obj_string_bytes(o, buf, &len);
    return len == strlen(v) && memcmp(p, v, len) == 0;
}


/* ---- objects ---------------------------------------------------------------- */

START_TEST(test_obj_encodings)
{
    static const struct {
        const char *s;
        const char *enc;
    } cases[] = {
        { "123", "int" }, { "0", "int" }, { "-1", "int" },
        { "9223372036854775807", "int" },
        { "-9223372036854775808", "int" },
        { "9223372036854775808", "embstr" },
        { "-9223372036854775809", "embstr" },
        { "0123", "embstr" }, { "-0", "embstr" }, { "+1", "embstr" },
        { " 1", "embstr" }, { "1 ", "embstr" }, { "", "embstr" },
        { "-", "embstr" }, { "00", "embstr" }, { "1a", "embstr" },
        { "123456789012345678901", "embstr" },
        /* 44 bytes: embstr; 45: raw */
        { "12345678901234567890123456789012345678901234x", "raw" },
        { "1234567890123456789012345678901234567890123x", "embstr" }
    };
    t_fix_t       f;
    store_obj_t  *o, *d;
    const char   *p;
    size_t        i, len;
    char          buf[STORE_OBJ_INTBUF];

    t_fix_init(&f, 4 * T_MIB, 65536);
    ck_assert_uint_eq(strlen(cases[17].s), 45);
    ck_assert_uint_eq(strlen(cases[18].s), 44);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        o = store_obj_string_new(f.a, f.owner, cases[i].s,
                                 strlen(cases[i].s));
        ck_assert_ptr_nonnull(o);
        ck_assert_msg(strcmp(store_obj_encoding_name(o), cases[i].enc) == 0,
                      "\"%s\": %s, want %s", cases[i].s,
                      store_obj_encoding_name(o), cases[i].enc);
        ck_assert_str_eq(store_obj_type_name(o), "string");
        p = store_obj_string_bytes(o, buf, &len);
        ck_assert_uint_eq(len, strlen(cases[i].s));
        ck_assert_uint_eq(store_obj_string_len(o), len);
        ck_assert(memcmp(p, cases[i].s, len) == 0);

        d = store_obj_dup(f.a, f.owner, o);
        ck_assert_ptr_nonnull(d);
        ck_assert_ptr_ne(d, o);
        ck_assert_str_eq(store_obj_encoding_name(d), cases[i].enc);
        p = store_obj_string_bytes(d, buf, &len);
        ck_assert_uint_eq(len, strlen(cases[i].s));
        ck_assert(memcmp(p, cases[i].s, len) == 0);
        ck_assert_uint_gt(store_obj_mem(f.a, o), 0);

        store_obj_free(f.a, f.owner, o);
        store_obj_free(f.a, f.owner, d);
    }

    /* raw whatever the bytes (APPEND's result), and copies keep it */
    o = store_obj_raw_new(f.a, f.owner, "ab", 2);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(store_obj_encoding_name(o), "raw");
    d = store_obj_dup(f.a, f.owner, o);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(store_obj_encoding_name(d), "raw");
    p = store_obj_string_bytes(d, buf, &len);
    ck_assert_uint_eq(len, 2);
    ck_assert(memcmp(p, "ab", 2) == 0);
    store_obj_free(f.a, f.owner, o);
    store_obj_free(f.a, f.owner, d);
    o = store_obj_raw_new(f.a, f.owner, "", 0);
    ck_assert_ptr_nonnull(o);
    p = store_obj_string_bytes(o, buf, &len);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(len, 0);
    ck_assert_uint_eq(store_obj_string_len(o), 0);
    store_obj_free(f.a, f.owner, o);

    /* compact: an int or an 8-byte string is one 16-byte chunk, a 44-byte
     * string one 56-byte chunk */
    o = store_obj_string_new(f.a, f.owner, "12345678", 8);
    ck_assert_uint_eq(store_obj_mem(f.a, o), 16);
    store_obj_free(f.a, f.owner, o);
    o = store_obj_string_new(f.a, f.owner, "abcdefgh", 8);
    ck_assert_str_eq(store_obj_encoding_name(o), "embstr");
    ck_assert_uint_eq(store_obj_mem(f.a, o), 16);
    store_obj_free(f.a, f.owner, o);
    o = store_obj_string_new(f.a, f.owner, cases[18].s, 44);
    ck_assert_uint_eq(store_obj_mem(f.a, o), 56);
    store_obj_free(f.a, f.owner, o);

    o = store_obj_ll_new(f.a, f.owner, -42);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(store_obj_encoding_name(o), "int");
    ck_assert_uint_eq(store_obj_string_len(o), 3);
    store_obj_free(f.a, f.owner, o);

    /* binary bytes, a NUL inside */
    o = store_obj_string_new(f.a, f.owner, "a\0b", 3);
    ck_assert_ptr_nonnull(o);
    p = store_obj_string_bytes(o, buf, &len);
    ck_assert_uint_eq(len, 3);
    ck_assert(memcmp(p, "a\0b", 3) == 0);
    store_obj_free(f.a, f.owner, o);

    ck_assert_str_eq(store_obj_type_name_of(STORE_OBJ_LIST), "list");
    ck_assert_str_eq(store_obj_type_name_of(STORE_OBJ_HASH), "hash");
    ck_assert_str_eq(store_obj_type_name_of(STORE_OBJ_SET), "set");
    ck_assert_str_eq(store_obj_type_name_of(STORE_OBJ_ZSET), "zset");
    ck_assert_str_eq(store_obj_type_name_of(STORE_OBJ_STREAM), "stream");
    ck_assert_int_eq(store_obj_type_by_name("ZSet", 4), STORE_OBJ_ZSET);
    ck_assert_int_eq(store_obj_type_by_name("string", 6), STORE_OBJ_STRING);
    ck_assert_int_eq(store_obj_type_by_name("strin", 5), -1);
    ck_assert_int_eq(store_obj_type_by_name("none", 4), -1);

    t_fix_fini(&f);
}
END_TEST


START_TEST(test_obj_is_ll)
{
    long long  v;

    ck_assert_int_eq(store_str_is_ll("123", 3, &v), 1);
    ck_assert_int_eq(v, 123);
    ck_assert_int_eq(store_str_is_ll("-9223372036854775808", 20, &v), 1);
    ck_assert(v == INT64_MIN);
    ck_assert_int_eq(store_str_is_ll("9223372036854775807", 19, &v), 1);
    ck_assert(v == INT64_MAX);
    ck_assert_int_eq(store_str_is_ll("9223372036854775808", 19, &v), 0);
    ck_assert_int_eq(store_str_is_ll("-0", 2, &v), 0);
    ck_assert_int_eq(store_str_is_ll("0123", 4, &v), 0);
    ck_assert_int_eq(store_str_is_ll("+1", 2, &v), 0);
    ck_assert_int_eq(store_str_is_ll("", 0, &v), 0);
    ck_assert_int_eq(store_str_is_ll("99999999999999999999", 20, &v), 0);
    ck_assert_int_eq(store_str_is_ll("12\0", 3, &v), 0);
}
END_TEST


/* ---- glob ------------------------------------------------------------------ */

START_TEST(test_glob)
{
    static const struct {
        const char *pat, *s;
        int         nocase, want;
    } cases[] = {
        { "h?llo", "hello", 0, 1 }, { "h?llo", "hllo", 0, 0 },
        { "h?llo", "heello", 0, 0 },
        { "h*llo", "hllo", 0, 1 }, { "h*llo", "heeeello", 0, 1 },
        { "h*llo", "hello world", 0, 0 },
        { "h[ae]llo", "hello", 0, 1 }, { "h[ae]llo", "hallo", 0, 1 },
        { "h[ae]llo", "hillo", 0, 0 },
        { "h[^e]llo", "hallo", 0, 1 }, { "h[^e]llo", "hello", 0, 0 },
        { "h[!e]llo", "h!llo", 0, 1 }, { "h[!e]llo", "hallo", 0, 0 },
        { "h[a-b]llo", "hbllo", 0, 1 }, { "h[a-b]llo", "hcllo", 0, 0 },
        { "h[b-a]llo", "hallo", 0, 1 },
        { "h\\*llo", "h*llo", 0, 1 }, { "h\\*llo", "hello", 0, 0 },
        { "h\\?llo", "hello", 0, 0 }, { "h[\\]]llo", "h]llo", 0, 1 },
        { "HELLO", "hello", 1, 1 }, { "HELLO", "hello", 0, 0 },
        { "h[A-C]llo", "hbllo", 1, 1 }, { "h[A-C]llo", "hbllo", 0, 0 },
        { "*", "", 0, 1 }, { "*", "anything", 0, 1 }, { "", "", 0, 1 },
        { "", "a", 0, 0 }, { "a*", "a", 0, 1 }, { "**a**", "ba", 0, 1 },
        { "*a*b", "xaxxb", 0, 1 }, { "*a*b", "xaxxbx", 0, 0 },
        { "a*b*c", "abc", 0, 1 }, { "a*b*c", "acb", 0, 0 },
        { "[abc", "b", 0, 1 }, { "[]", "a", 0, 0 },
        { "user:*:name", "user:42:name", 0, 1 },
        { "\\", "\\", 0, 1 }, { "?", "", 0, 0 },
        { "*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 0 }
    };
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(store_glob_match(cases[i].pat, strlen(cases[i].pat),
                                       cases[i].s, strlen(cases[i].s),
                                       cases[i].nocase) == cases[i].want,
                      "\"%s\" vs \"%s\"", cases[i].pat, cases[i].s);
    }
    /* binary: a NUL in both */
    ck_assert_int_eq(store_glob_match("a\0*", 3, "a\0bc", 4, 0), 1);
}
END_TEST


/* ---- keyspace ---------------------------------------------------------------- */

START_TEST(test_db_set_get_delete)
{
    t_fix_t  f;

    t_fix_init(&f, 4 * T_MIB, 65536);
    ck_assert(t_is(f.db, "k", NULL, T_NOW));
    t_set(f.db, &f, "k", "v1");
    ck_assert(t_is(f.db, "k", "v1", T_NOW));
    t_set(f.db, &f, "k", "a longer value, more than forty-four bytes long.");
    ck_assert(t_is(f.db, "k", "a longer value, more than forty-four bytes long.",
                   T_NOW));
    t_set(f.db, &f, "n", "12");
    ck_assert(t_is(f.db, "n", "12", T_NOW));
    ck_assert_uint_eq(store_db_size(f.db), 2);
    ck_assert_int_eq(store_db_key_is_live(f.db, "k", 1, T_NOW), 1);
    ck_assert_int_eq(store_db_key_is_live(f.db, "x", 1, T_NOW), 0);
    /* other databases are separate */
    ck_assert(t_is(store_dbs_db(f.s, 1), "k", NULL, T_NOW));
    ck_assert_ptr_null(store_dbs_db(f.s, 16));
    ck_assert_ptr_null(store_dbs_db(f.s, -1));

    ck_assert_int_eq(store_db_delete(f.db, "k", 1, T_NOW), OB_OK);
    ck_assert_int_eq(store_db_delete(f.db, "k", 1, T_NOW), OB_DECLINED);
    ck_assert(t_is(f.db, "k", NULL, T_NOW));
    ck_assert_uint_eq(store_db_size(f.db), 1);
    ck_assert_uint_eq(f.dels[STORE_DEL_EXPLICIT], 1);
    ck_assert_uint_eq(f.dels[STORE_DEL_EXPIRED], 0);

    /* binary keys */
    ck_assert_int_eq(store_db_set(f.db, "a\0b", 3,
                     store_obj_string_new(f.a, f.owner, "x", 1), 0, T_NOW),
                     OB_OK);
    ck_assert_ptr_nonnull(store_db_lookup_read(f.db, "a\0b", 3, T_NOW, 0));
    ck_assert_ptr_null(store_db_lookup_read(f.db, "a\0c", 3, T_NOW, 0));

    t_fix_fini(&f);
}
END_TEST


START_TEST(test_db_expiry_lazy)
{
    t_fix_t  f;

    t_fix_init(&f, 4 * T_MIB, 65536);
    t_set(f.db, &f, "k", "v");
    ck_assert_int_eq(store_db_pttl(f.db, "k", 1, T_NOW), -1);
    ck_assert_int_eq(store_db_ttl(f.db, "k", 1, T_NOW), -1);
    ck_assert_int_eq(store_db_pttl(f.db, "nokey", 5, T_NOW), -2);
    ck_assert_int_eq(store_db_ttl(f.db, "nokey", 5, T_NOW), -2);
    ck_assert_int_eq(store_db_expire_set(f.db, "nokey", 5, T_NOW + 1, T_NOW),
                     OB_DECLINED);

    ck_assert_int_eq(store_db_expire_set(f.db, "k", 1, T_NOW + 10000, T_NOW),
                     OB_OK);
    ck_assert_int_eq(store_db_pttl(f.db, "k", 1, T_NOW), 10000);
    ck_assert_int_eq(store_db_ttl(f.db, "k", 1, T_NOW), 10);
    ck_assert_int_eq(store_db_ttl(f.db, "k", 1, T_NOW + 1600), 8);
    ck_assert_int_eq(store_db_expire_get(f.db, "k", 1, T_NOW), T_NOW + 10000);
    ck_assert_int_eq(store_db_entry_expire(f.db,
                     store_db_find(f.db, "k", 1, T_NOW)), T_NOW + 10000);
    ck_assert_uint_eq(store_db_expires_count(f.db), 1);
    /* at the instant itself the key still lives (now > when expires) */
    ck_assert(t_is(f.db, "k", "v", T_NOW + 10000));
    ck_assert_int_eq(store_db_pttl(f.db, "k", 1, T_NOW + 10000), 0);

    /* read lookup after expiry: missing, and deleted (master) */
    ck_assert(t_is(f.db, "k", NULL, T_NOW + 10001));
    ck_assert_uint_eq(store_db_size(f.db), 0);
    ck_assert_uint_eq(store_db_expires_count(f.db), 0);
    ck_assert_uint_eq(f.dels[STORE_DEL_EXPIRED], 1);
    ck_assert_uint_eq(f.s->expired_keys, 1);

    /* write lookup after expiry */
    t_set(f.db, &f, "w", "v");
    ck_assert_int_eq(store_db_expire_set(f.db, "w", 1, T_NOW + 5, T_NOW),
                     OB_OK);
    ck_assert_ptr_nonnull(store_db_lookup_write(f.db, "w", 1, T_NOW, 0));
    ck_assert_ptr_null(store_db_lookup_write(f.db, "w", 1, T_NOW + 6, 0));
    ck_assert_uint_eq(store_db_size(f.db), 0);
    ck_assert_uint_eq(f.dels[STORE_DEL_EXPIRED], 2);

    /* persist */
    t_set(f.db, &f, "p", "v");
    ck_assert_int_eq(store_db_persist(f.db, "p", 1, T_NOW), OB_DECLINED);
    ck_assert_int_eq(store_db_expire_set(f.db, "p", 1, T_NOW + 5, T_NOW),
                     OB_OK);
    ck_assert_int_eq(store_db_persist(f.db, "p", 1, T_NOW), OB_OK);
    ck_assert_int_eq(store_db_pttl(f.db, "p", 1, T_NOW), -1);
    ck_assert_int_eq(store_db_entry_expire(f.db,
                     store_db_find(f.db, "p", 1, T_NOW)), -1);
    ck_assert(t_is(f.db, "p", "v", T_NOW + 100));
    ck_assert_int_eq(store_db_persist(f.db, "zz", 2, T_NOW), OB_DECLINED);

    /* SET drops the TTL, KEEPTTL keeps it */
    ck_assert_int_eq(store_db_expire_set(f.db, "p", 1, T_NOW + 50, T_NOW),
                     OB_OK);
    ck_assert_int_eq(store_db_set(f.db, "p", 1,
                     store_obj_string_new(f.a, f.owner, "v2", 2),
                     STORE_SET_KEEPTTL, T_NOW), OB_OK);
    ck_assert_int_eq(store_db_pttl(f.db, "p", 1, T_NOW), 50);
    t_set(f.db, &f, "p", "v3");
    ck_assert_int_eq(store_db_pttl(f.db, "p", 1, T_NOW), -1);
    ck_assert_uint_eq(store_db_expires_count(f.db), 0);

    /* a SET over a logically expired key makes a new key without a TTL,
     * even with KEEPTTL */
    ck_assert_int_eq(store_db_expire_set(f.db, "p", 1, T_NOW + 50, T_NOW),
                     OB_OK);
    ck_assert_int_eq(store_db_set(f.db, "p", 1,
                     store_obj_string_new(f.a, f.owner, "v4", 2),
                     STORE_SET_KEEPTTL, T_NOW + 51), OB_OK);
    ck_assert_int_eq(store_db_pttl(f.db, "p", 1, T_NOW + 51), -1);
    ck_assert(t_is(f.db, "p", "v4", T_NOW + 51));

    /* DEL of an expired key: not there, counted as an expiry */
    ck_assert_int_eq(store_db_expire_set(f.db, "p", 1, T_NOW, T_NOW),
                     OB_OK);
    ck_assert_int_eq(store_db_delete(f.db, "p", 1, T_NOW + 1), OB_DECLINED);
    ck_assert_uint_eq(f.dels[STORE_DEL_EXPIRED], 4);
    ck_assert_uint_eq(f.dels[STORE_DEL_EXPLICIT], 0);

    t_fix_fini(&f);
}
END_TEST


START_TEST(test_db_replica_reads)
{
    t_fix_t  f;

    t_fix_init(&f, 4 * T_MIB, 65536);
    store_dbs_set_replica(f.s, 1);
    t_set(f.db, &f, "k", "v");
    ck_assert_int_eq(store_db_expire_set(f.db, "k", 1, T_NOW + 10, T_NOW),
                     OB_OK);
    /* missing to reads, but kept */
    ck_assert(t_is(f.db, "k", NULL, T_NOW + 11));
    ck_assert_int_eq(store_db_key_is_live(f.db, "k", 1, T_NOW + 11), 0);
    ck_assert_int_eq(store_db_pttl(f.db, "k", 1, T_NOW + 11), -2);
    ck_assert_uint_eq(store_db_size(f.db), 1);
    ck_assert_uint_eq(f.dels[STORE_DEL_EXPIRED], 0);
    /* RANDOMKEY gives up after its tries and answers the expired key */
    ck_assert_ptr_nonnull(store_db_random(f.db, T_NOW + 11));
    /* the master's DEL removes it */
    ck_assert_int_eq(store_db_delete(f.db, "k", 1, T_NOW + 11), OB_DECLINED);
    ck_assert_uint_eq(store_db_size(f.db), 0);
    ck_assert_uint_eq(f.dels[STORE_DEL_EXPIRED], 1);

    /* a write lookup deletes */
    t_set(f.db, &f, "w", "v");
    ck_assert_int_eq(store_db_expire_set(f.db, "w", 1, T_NOW + 10, T_NOW),
                     OB_OK);
    ck_assert_ptr_null(store_db_lookup_write(f.db, "w", 1, T_NOW + 11, 0));
    ck_assert_uint_eq(store_db_size(f.db), 0);

    t_fix_fini(&f);
}
END_TEST


START_TEST(test_db_rename_move_swap)
{
    t_fix_t      f;
    store_db_t  *db1;

    t_fix_init(&f, 4 * T_MIB, 65536);
    db1 = store_dbs_db(f.s, 1);

    ck_assert_int_eq(store_db_rename(f.db, "a", 1, "b", 1, 0, T_NOW),
                     OB_DECLINED);
    t_set(f.db, &f, "a", "va");
    ck_assert_int_eq(store_db_expire_set(f.db, "a", 1, T_NOW + 1000, T_NOW),
                     OB_OK);
    /* same key */
    ck_assert_int_eq(store_db_rename(f.db, "a", 1, "a", 1, 0, T_NOW), OB_OK);
    ck_assert_int_eq(store_db_rename(f.db, "a", 1, "a", 1, 1, T_NOW),
                     OB_BUSY);
    ck_assert(t_is(f.db, "a", "va", T_NOW));

    /* to a new name: value and TTL move */
    ck_assert_int_eq(store_db_rename(f.db, "a", 1, "bb", 2, 0, T_NOW), OB_OK);
    ck_assert(t_is(f.db, "a", NULL, T_NOW));
    ck_assert(t_is(f.db, "bb", "va", T_NOW));
    ck_assert_int_eq(store_db_pttl(f.db, "bb", 2, T_NOW), 1000);
    ck_assert_uint_eq(store_db_size(f.db), 1);
    ck_assert_uint_eq(store_db_expires_count(f.db), 1);

    /* over an existing key with a TTL: dst's TTL goes, src's (none) too */
    t_set(f.db, &f, "c", "vc");
    ck_assert_int_eq(store_db_rename(f.db, "c", 1, "bb", 2, 1, T_NOW),
                     OB_BUSY);
    ck_assert_int_eq(store_db_rename(f.db, "c", 1, "bb", 2, 0, T_NOW), OB_OK);
    ck_assert(t_is(f.db, "bb", "vc", T_NOW));
    ck_assert_int_eq(store_db_pttl(f.db, "bb", 2, T_NOW), -1);
    ck_assert_uint_eq(store_db_expires_count(f.db), 0);
    ck_assert_uint_eq(store_db_size(f.db), 1);
    /* no deletion callbacks for renames */
    ck_assert_uint_eq(f.dels[STORE_DEL_EXPLICIT], 0);

    /* MOVE */
    ck_assert_int_eq(store_db_expire_set(f.db, "bb", 2, T_NOW + 7, T_NOW),
                     OB_OK);
    ck_assert_int_eq(store_dbs_move(f.s, 0, 0, "bb", 2, T_NOW), OB_ERR);
    ck_assert_int_eq(store_dbs_move(f.s, 0, 16, "bb", 2, T_NOW), OB_ERR);
    ck_assert_int_eq(store_dbs_move(f.s, 0, 1, "zz", 2, T_NOW), OB_DECLINED);
    ck_assert_int_eq(store_dbs_move(f.s, 0, 1, "bb", 2, T_NOW), OB_OK);
    ck_assert(t_is(f.db, "bb", NULL, T_NOW));
    ck_assert(t_is(db1, "bb", "vc", T_NOW));
    ck_assert_int_eq(store_db_pttl(db1, "bb", 2, T_NOW), 7);
    ck_assert_uint_eq(store_db_size(f.db), 0);
    ck_assert_uint_eq(store_db_expires_count(f.db), 0);
    ck_assert_uint_eq(store_db_expires_count(db1), 1);
    t_set(f.db, &f, "bb", "other");
    ck_assert_int_eq(store_dbs_move(f.s, 0, 1, "bb", 2, T_NOW), OB_BUSY);

    /* SWAPDB */
    ck_assert_int_eq(store_dbs_swap(f.s, 0, 1), OB_OK);
    ck_assert(t_is(f.db, "bb", "vc", T_NOW));
    ck_assert(t_is(db1, "bb", "other", T_NOW));
    ck_assert_int_eq(store_db_pttl(f.db, "bb", 2, T_NOW), 7);
    ck_assert_int_eq(store_dbs_swap(f.s, 0, 99), OB_ERR);
    /* expiry after the swap is in the right database */
    ck_assert(t_is(f.db, "bb", NULL, T_NOW + 8));
    ck_assert_int_eq(f.last_db, 0);
    ck_assert(t_is(db1, "bb", "other", T_NOW + 8));

    /* flush */
    t_set(f.db, &f, "x", "1");
    t_set(db1, &f, "y", "2");
    store_db_flush(db1);
    ck_assert_uint_eq(store_db_size(db1), 0);
    ck_assert_uint_eq(store_db_size(f.db), 1);
    t_set(db1, &f, "y", "2");
    ck_assert_int_eq(store_db_expire_set(db1, "y", 1, T_NOW + 7, T_NOW),
                     OB_OK);
    store_dbs_flushall(f.s);
    ck_assert_uint_eq(store_db_size(f.db), 0);
    ck_assert_uint_eq(store_db_size(db1), 0);
    ck_assert_uint_eq(store_db_expires_count(db1), 0);
    ck_assert(t_is(db1, "y", NULL, T_NOW));

    t_fix_fini(&f);
}
END_TEST


START_TEST(test_db_randomkey)
{
    t_fix_t         f;
    store_entry_t  *e;
    char            k[32];
    int             i, seen_a = 0, seen_b = 0;

    t_fix_init(&f, 16 * T_MIB, 65536);
    ck_assert_ptr_null(store_db_random(f.db, T_NOW));

    /* 1000 expired keys and two live ones */
    for (i = 0; i < 1000; i++) {
        snprintf(k, sizeof(k), "exp:%d", i);
        t_set(f.db, &f, k, "v");
        ck_assert_int_eq(store_db_expire_set(f.db, k, strlen(k), T_NOW + 1,
                                             T_NOW), OB_OK);
    }
    t_set(f.db, &f, "a", "live");
    t_set(f.db, &f, "b", "live");
    for (i = 0; i < 50; i++) {
        e = store_db_random(f.db, T_NOW + 2);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(e->nkey, 1);
        seen_a |= e->key[0] == 'a';
        seen_b |= e->key[0] == 'b';
    }
    ck_assert(seen_a && seen_b);

    store_db_flush(f.db);
    for (i = 0; i < 10; i++) {
        snprintf(k, sizeof(k), "exp:%d", i);
        t_set(f.db, &f, k, "v");
        ck_assert_int_eq(store_db_expire_set(f.db, k, strlen(k), T_NOW + 1,
                                             T_NOW), OB_OK);
    }
    /* only expired keys: deleted, then NULL */
    ck_assert_ptr_null(store_db_random(f.db, T_NOW + 2));
    ck_assert_uint_eq(store_db_size(f.db), 0);

    t_fix_fini(&f);
}
END_TEST


/* ---- SCAN ------------------------------------------------------------------- */

typedef struct t_scan_s {
    unsigned char  *seen;        /* per key index */
    size_t          n, calls;
} t_scan_t;


static void
t_scan_fn(void *arg, const store_entry_t *e)
{
    t_scan_t  *t = arg;
    char       k[32];
    long       i;

    ck_assert_uint_lt(e->nkey, sizeof(k));
    memcpy(k, e->key, e->nkey);
    k[e->nkey] = '\0';
    if (strncmp(k, "key:", 4) == 0) {
        i = strtol(k + 4, NULL, 10);
        ck_assert(i >= 0 && (size_t) i < t->n);
        t->seen[i] = 1;
    }
    t->calls++;
}


START_TEST(test_db_scan_guarantee)
{
    t_fix_t   f;
    t_scan_t  t;
    uint64_t  cursor = 0;
    size_t    i, n = 5000, added = 0, steps = 0;
    char      k[32];

    t_fix_init(&f, 32 * T_MIB, 65536);
    t.n = n;
    t.calls = 0;
    t.seen = calloc(n, 1);
    ck_assert_ptr_nonnull(t.seen);

    /* 500 keys present from the start; 4500 more arrive during the scan,
     * so the table grows several times while the cursor walks */
    for (i = 0; i < 500; i++) {
        snprintf(k, sizeof(k), "key:%zu", i);
        t_set(f.db, &f, k, "v");
    }
    added = 500;
    do {
        cursor = store_db_scan(f.db, cursor, 0, NULL, 0, -1, T_NOW,
                               t_scan_fn, &t);
        for (i = 0; i < 50 && added < n; i++, added++) {
            snprintf(k, sizeof(k), "key:%zu", added);
            t_set(f.db, &f, k, "v");
        }
        steps++;
        ck_assert_uint_lt(steps, 100000);
    } while (cursor != 0);

    for (i = 0; i < 500; i++) {
        ck_assert_msg(t.seen[i], "key:%zu present throughout, not returned",
                      i);
    }

    /* a fresh full scan of the grown table returns every key */
    memset(t.seen, 0, n);
    cursor = 0;
    do {
        cursor = store_db_scan(f.db, cursor, 100, NULL, 0, -1, T_NOW,
                               t_scan_fn, &t);
    } while (cursor != 0);
    for (i = 0; i < added; i++) {
        ck_assert(t.seen[i]);
    }

    /* and while it shrinks: delete 90% during the scan, the rest must
     * come */
    memset(t.seen, 0, n);
    cursor = 0;
    i = 0;
    do {
        size_t  j;

        cursor = store_db_scan(f.db, cursor, 10, NULL, 0, -1, T_NOW,
                               t_scan_fn, &t);
        for (j = 0; j < 100 && i < n; i++) {
            if (i % 10 != 0) {
                snprintf(k, sizeof(k), "key:%zu", i);
                ck_assert_int_eq(store_db_delete(f.db, k, strlen(k), T_NOW),
                                 OB_OK);
                j++;
            }
        }
    } while (cursor != 0);
    for (i = 0; i < n; i += 10) {
        ck_assert(t.seen[i]);
    }

    free(t.seen);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_db_scan_filters)
{
    t_fix_t       f;
    t_scan_t      t;
    uint64_t      cursor;
    size_t        i, n = 200, got;
    char          k[32];
    store_obj_t  *o;

    t_fix_init(&f, 16 * T_MIB, 65536);
    t.n = n;
    t.seen = calloc(n, 1);
    ck_assert_ptr_nonnull(t.seen);
    for (i = 0; i < n; i++) {
        snprintf(k, sizeof(k), "key:%zu", i);
        t_set(f.db, &f, k, "v");
    }
    t_set(f.db, &f, "other", "v");
    /* a non-string header, to filter by TYPE */
    o = store_obj_payload_new(f.a, f.owner, STORE_OBJ_LIST,
                              STORE_ENC_QUICKLIST, NULL);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(store_obj_type_name(o), "list");
    ck_assert_str_eq(store_obj_encoding_name(o), "quicklist");
    ck_assert_int_eq(store_db_set(f.db, "key:list", 8, o, 0, T_NOW), OB_OK);
    /* an expired key is never returned */
    t_set(f.db, &f, "key:7", "v");
    ck_assert_int_eq(store_db_expire_set(f.db, "key:7", 5, T_NOW - 1, T_NOW),
                     OB_OK);

    /* MATCH key:1?: key:10..key:19 */
    t.calls = 0;
    cursor = 0;
    do {
        cursor = store_db_scan(f.db, cursor, 0, "key:1?", 6, -1, T_NOW,
                               t_scan_fn, &t);
    } while (cursor != 0);
    ck_assert_uint_eq(t.calls, 10);
    for (i = 10; i < 20; i++) {
        ck_assert(t.seen[i]);
    }

    /* TYPE list */
    t.calls = 0;
    cursor = 0;
    do {
        cursor = store_db_scan(f.db, cursor, 1000, NULL, 0, STORE_OBJ_LIST,
                               T_NOW, t_scan_fn, &t);
    } while (cursor != 0);
    ck_assert_uint_eq(t.calls, 1);

    /* everything: the expired key:7 is left out and deleted */
    memset(t.seen, 0, n);
    t.calls = 0;
    cursor = 0;
    do {
        cursor = store_db_scan(f.db, cursor, 5, NULL, 0, -1, T_NOW,
                               t_scan_fn, &t);
    } while (cursor != 0);
    got = t.calls;
    ck_assert_uint_eq(got, n - 1 + 2);
    ck_assert(!t.seen[7]);
    ck_assert_uint_eq(store_db_size(f.db), n - 1 + 2);
    ck_assert_uint_eq(f.dels[STORE_DEL_EXPIRED], 1);

    /* the list's header (no payload) is freed with the rest: store_obj_free
     * frees a non-string's header only */
    free(t.seen);
    t_fix_fini(&f);
}
END_TEST


/* ---- active expiry ---------------------------------------------------------- */

START_TEST(test_db_active_expire)
{
    t_fix_t               f;
    store_expire_stats_t  st;
    size_t                i, n = 100000, total = 0, calls = 0, live;
    uint64_t              budget = 10000, worst = 0;
    char                  k[32];
    store_db_t           *db3;

    t_fix_init(&f, 256 * T_MIB, T_MIB);
    db3 = store_dbs_db(f.s, 3);
    /* 80% of the keys expire at T_NOW + 10, 10% later, 10% never */
    for (i = 0; i < n; i++) {
        snprintf(k, sizeof(k), "key:%zu", i);
        t_set(i % 2 ? f.db : db3, &f, k, "value");
        if (i % 10 < 8) {
            ck_assert_int_eq(store_db_expire_set(i % 2 ? f.db : db3, k,
                                                 strlen(k), T_NOW + 10,
                                                 T_NOW), OB_OK);
        } else if (i % 10 == 8) {
            ck_assert_int_eq(store_db_expire_set(i % 2 ? f.db : db3, k,
                                                 strlen(k), T_NOW + 100000,
                                                 T_NOW), OB_OK);
        }
    }
    /* nothing is due yet */
    ck_assert_uint_eq(store_dbs_active_expire(f.s, T_NOW, budget, &st), 0);

    while (calls < 10000) {
        store_dbs_active_expire(f.s, T_NOW + 11, budget, &st);
        calls++;
        total += st.expired;
        if (st.elapsed_us > worst) {
            worst = st.elapsed_us;
        }
        if (!st.timed_out) {
            break;
        }
        ck_assert_uint_gt(st.expired, 0);
    }
    /* every call either ran out of budget or stopped because the samples
     * were mostly live: most of the 80% are gone */
    ck_assert_uint_ge(total, n * 8 / 10 * 9 / 10);
    ck_assert_uint_le(total, n * 8 / 10);
    ck_assert_uint_eq(f.dels[STORE_DEL_EXPIRED], total);
    ck_assert_uint_eq(f.s->expired_keys, total);
    /* not badly over the budget (generous: 2 cores shared, sanitizers) */
    ck_assert_msg(worst < budget + 200000, "a call took %llu us",
                  (unsigned long long) worst);
    live = store_db_size(f.db) + store_db_size(db3);
    ck_assert_uint_eq(live, n - total);

    /* the keys with a far TTL and none are all there */
    for (i = 0; i < n; i++) {
        if (i % 10 >= 8) {
            snprintf(k, sizeof(k), "key:%zu", i);
            ck_assert(t_is(i % 2 ? f.db : db3, k, "value", T_NOW + 11));
        }
    }

    /* a tiny budget still makes progress and stays near it */
    store_dbs_flushall(f.s);
    for (i = 0; i < 20000; i++) {
        snprintf(k, sizeof(k), "key:%zu", i);
        t_set(f.db, &f, k, "value");
        ck_assert_int_eq(store_db_expire_set(f.db, k, strlen(k), T_NOW,
                                             T_NOW), OB_OK);
    }
    store_dbs_active_expire(f.s, T_NOW + 1, 1, &st);
    ck_assert_uint_ge(st.expired, 1);
    ck_assert(st.timed_out);
    ck_assert_uint_le(st.sampled, 4 * STORE_EXPIRE_SAMPLE + 256);

    t_fix_fini(&f);
}
END_TEST


/* ---- out of memory ------------------------------------------------------------ */

START_TEST(test_db_oom)
{
    t_fix_t        f;
    store_obj_t   *o;
    size_t         i, ok = 0, fails = 0;
    char           k[32], v[40];

    /* a small budget: 16 pages of 4 KiB */
    t_fix_init(&f, 64 * 1024, 4096);
    for (i = 0; i < 100000 && fails < 50; i++) {
        snprintf(k, sizeof(k), "key:%zu", i);
        snprintf(v, sizeof(v), "value-%zu", i);
        o = store_obj_string_new(f.a, f.owner, v, strlen(v));
        if (o == NULL) {
            fails++;
            continue;
        }
        if (store_db_set(f.db, k, strlen(k), o, 0, T_NOW) != OB_OK) {
            store_obj_free(f.a, f.owner, o);
            fails++;
            continue;
        }
        if (store_db_expire_set(f.db, k, strlen(k), T_NOW + 1000000, T_NOW)
            != OB_OK)
        {
            /* the key stays, without a TTL */
            ck_assert_int_eq(store_db_pttl(f.db, k, strlen(k), T_NOW), -1);
            fails++;
        }
        ok++;
    }
    ck_assert_uint_gt(ok, 100);
    ck_assert_uint_ge(fails, 50);
    ck_assert_uint_eq(store_db_size(f.db), ok);

    /* every stored key still reads back */
    for (i = 0; i < ok + fails; i++) {
        snprintf(k, sizeof(k), "key:%zu", i);
        snprintf(v, sizeof(v), "value-%zu", i);
        if (store_db_lookup_read(f.db, k, strlen(k), T_NOW, 0) != NULL) {
            ck_assert(t_is(f.db, k, v, T_NOW));
        }
    }

    /* a rename to a new (long) name that cannot get memory changes
     * nothing; overwriting an existing key needs no memory */
    memset(v, 'n', sizeof(v) - 1);
    v[sizeof(v) - 1] = '\0';
    if (store_db_rename(f.db, "key:0", 5, v, strlen(v), 0, T_NOW) == OB_ERR)
    {
        ck_assert(t_is(f.db, "key:0", "value-0", T_NOW));
        ck_assert_uint_eq(store_db_size(f.db), ok);
    }
    ck_assert_int_eq(store_db_rename(f.db, "key:1", 5, "key:2", 5, 0, T_NOW),
                     OB_OK);
    ck_assert(t_is(f.db, "key:2", "value-1", T_NOW));

    /* deleting makes room again */
    for (i = 3; i < 100; i++) {
        snprintf(k, sizeof(k), "key:%zu", i);
        (void) store_db_delete(f.db, k, strlen(k), T_NOW);
    }
    o = store_obj_string_new(f.a, f.owner, "fresh", 5);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(store_db_set(f.db, "fresh", 5, o, 0, T_NOW), OB_OK);

    t_fix_fini(&f);
}
END_TEST


/*
 * An eviction hook as the maxmemory policy will be (allkeys-random): it
 * deletes keys from inside an allocation.  SET, EXPIRE and RENAME under
 * that pressure must never touch a freed entry (the sanitizer build
 * checks) and leave the counts right.
 */
static size_t
t_evict_random(void *ctx, unsigned class_id, size_t want)
{
    t_fix_t        *f = ctx;
    store_entry_t  *e;
    size_t          freed = 0;

    (void) class_id;
    while (freed < want) {
        e = store_db_random(f->db, T_NOW);
        if (e == NULL) {
            break;
        }
        freed += ob_arena_chunk_size(f->a, sizeof(*e) + e->nkey)
                 + store_obj_mem(f->a, e->val);
        store_db_delete_entry(f->db, e, STORE_DEL_EVICTED);
    }
    return freed;
}


typedef struct t_count_s {
    size_t  n;
} t_count_t;


static void
t_count_fn(void *arg, const store_entry_t *e)
{
    (void) e;
    ((t_count_t *) arg)->n++;
}


START_TEST(test_db_evict_hook)
{
    t_fix_t      f;
    t_count_t    c;
    store_obj_t *o;
    uint64_t     cursor;
    size_t       i, sets = 0;
    char         k[32], k2[48], v[64];

    t_fix_init(&f, 64 * 1024, 4096);
    ob_arena_owner_set_evict(f.a, f.owner, t_evict_random, &f);

    for (i = 0; i < 20000; i++) {
        snprintf(k, sizeof(k), "key:%zu", i);
        snprintf(v, sizeof(v), "value-%zu-%.*s", i, (int) (i % 40),
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        o = store_obj_string_new(f.a, f.owner, v, strlen(v));
        if (o == NULL) {
            continue;
        }
        if (store_db_set(f.db, k, strlen(k), o, 0, T_NOW) != OB_OK) {
            store_obj_free(f.a, f.owner, o);
            continue;
        }
        sets++;
        (void) store_db_expire_set(f.db, k, strlen(k), T_NOW + 100000,
                                   T_NOW);
        if (i % 3 == 0 && i > 0) {
            /* rename the previous key to a long new name */
            snprintf(k, sizeof(k), "key:%zu", i - 1);
            snprintf(k2, sizeof(k2), "renamed-key-with-a-long-name:%zu", i);
            (void) store_db_rename(f.db, k, strlen(k), k2, strlen(k2), 0,
                                   T_NOW);
        }
    }
    ck_assert_uint_gt(sets, 10000);
    ck_assert_uint_gt(f.dels[STORE_DEL_EVICTED], 1000);
    ck_assert_uint_le(store_db_expires_count(f.db), store_db_size(f.db));

    c.n = 0;
    cursor = 0;
    do {
        cursor = store_db_scan(f.db, cursor, 100, NULL, 0, -1, T_NOW,
                               t_count_fn, &c);
    } while (cursor != 0);
    ck_assert_uint_eq(c.n, store_db_size(f.db));

    t_fix_fini(&f);
}
END_TEST


Suite *
store_db_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("store_db");

    tc = tcase_create("object");
    tcase_add_test(tc, test_obj_encodings);
    tcase_add_test(tc, test_obj_is_ll);
    tcase_add_test(tc, test_glob);
    suite_add_tcase(s, tc);

    tc = tcase_create("db");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_db_set_get_delete);
    tcase_add_test(tc, test_db_expiry_lazy);
    tcase_add_test(tc, test_db_replica_reads);
    tcase_add_test(tc, test_db_rename_move_swap);
    tcase_add_test(tc, test_db_randomkey);
    tcase_add_test(tc, test_db_scan_guarantee);
    tcase_add_test(tc, test_db_scan_filters);
    tcase_add_test(tc, test_db_active_expire);
    tcase_add_test(tc, test_db_oom);
    tcase_add_test(tc, test_db_evict_hook);
    suite_add_tcase(s, tc);

    return s;
}
