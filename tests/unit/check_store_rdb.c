/*
 * check_store_rdb.c: unit tests of the RDB writer and loader
 * (store/store_rdb.c, store/store_rdb_load.c): the CRC-64 vector and the
 * checksum of a real redis-server file, the length and string encodings,
 * the hexdumps of real 7.0.15 files (the reference's section 5) loading to
 * the right values, the old types (ziplists, zipmap, plain list, text
 * scores), a save -> load round trip of every type and encoding with TTLs,
 * and hostile files: every truncation, every single-byte corruption, and
 * lengths that claim terabytes, all failing cleanly with nothing leaked.
 */
#include "check_suites.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ob_arena.h"
#include "store/store_int.h"
#include "store/store_db.h"
#include "store/store_hash.h"
#include "store/store_list.h"
#include "store/store_object.h"
#include "store/store_persist.h"
#include "store/store_rdb_int.h"
#include "store/store_set.h"
#include "store/store_zset.h"

#include "check_store_util.h"

#define T_NOW   1700000000000LL     /* a fixed "now" (ms) */
/* 70 bytes: past the listpack limits of hashes and zsets */
#define T_LONG  "0123456789012345678901234567890123456789" \
                "012345678901234567890123456789"


/* ---- fixture: bytes in a memfd, databases to load them into ------------- */

typedef struct t_buf_s {
    uint8_t  *p;
    size_t    n, cap;
} t_buf_t;


static void
t_put(t_buf_t *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}


static void
t_hex(t_buf_t *b, const char *hex)
{
    unsigned  v;
    uint8_t   c;

    while (*hex) {
        if (*hex == ' ' || *hex == '|') {
            hex++;
            continue;
        }
        ck_assert_int_eq(sscanf(hex, "%2x", &v), 1);
        c = (uint8_t) v;
        t_put(b, &c, 1);
        hex += 2;
    }
}


static int
t_memfd(const void *p, size_t n)
{
    int  fd = memfd_create("rdb", MFD_CLOEXEC);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, p, n), (ssize_t) n);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}


/* The bytes written to fd (from 0), into b. */
static void
t_slurp(int fd, t_buf_t *b)
{
    uint8_t  tmp[4096];
    ssize_t  n;

    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
        t_put(b, tmp, (size_t) n);
    }
}


static store_dbs_t *
t_dbs(t_fix_t *f)
{
    store_dbs_t  *s = store_dbs_new(&(store_dbs_conf_t) {
                          .arena = f->a, .owner = f->owner, .ndb = 16 });

    ck_assert_ptr_nonnull(s);
    return s;
}


/* Loads b into s (drop_expired as given); returns the result code. */
static int
t_load(store_dbs_t *s, const t_buf_t *b, int drop,
    store_rdb_load_info_t *info, ob_err_t *err)
{
    store_rdb_load_opts_t  o = { .now_ms = T_NOW, .drop_expired = drop };
    int                    fd, rc;

    fd = t_memfd(b->p, b->n);
    rc = store_rdb_load_fd(s, fd, &o, info, err);
    close(fd);
    return rc;
}


/* The 0x50-byte AUX header of a real 7.0.15 file (the reference's
 * section 1): "REDIS0010", redis-ver 7.0.15, redis-bits 64, ctime,
 * used-mem, aof-base 0. */
static const char  *t_real_hdr =
    "5245 4449 5330 3031 30fa 0972 6564 6973"
    "2d76 6572 0637 2e30 2e31 35fa 0a72 6564"
    "6973 2d62 6974 73c0 40fa 0563 7469 6d65"
    "c2b3 1906 6bfa 0875 7365 642d 6d65 6dc2"
    "2816 0f00 fa08 616f 662d 6261 7365 c000";


/* b = the real header, body (hex), EOF and a correct CRC. */
static void
t_file(t_buf_t *b, const char *body)
{
    uint64_t  crc;
    uint8_t   le[8];
    int       i;

    b->n = 0;
    t_hex(b, t_real_hdr);
    t_hex(b, body);
    t_hex(b, "ff");
    crc = store_crc64(0, b->p, b->n);
    for (i = 0; i < 8; i++) {
        le[i] = (uint8_t) (crc >> (8 * i));
    }
    t_put(b, le, 8);
}


static store_obj_t *
t_get(store_dbs_t *s, int db, const char *key)
{
    return store_db_lookup_read(store_dbs_db(s, db), key, strlen(key), T_NOW,
                                STORE_LOOKUP_NOTOUCH);
}


static void
t_str_is(store_obj_t *o, const char *want)
{
    char         buf[STORE_OBJ_INTBUF];
    const char  *p;
    size_t       len;

    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(o->type, STORE_OBJ_STRING);
    p = store_obj_string_bytes(o, buf, &len);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert(memcmp(p, want, len) == 0);
}


/* ---- CRC, lengths, strings ---------------------------------------------- */

START_TEST(test_crc64)
{
    t_buf_t  b = { 0 };

    ck_assert_uint_eq(store_crc64(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
    /* in pieces: the CRC carries over */
    ck_assert_uint_eq(store_crc64(store_crc64(0, "1234", 4), "56789", 5),
                      0xe9c6d914c4b8d9caULL);
    /* the empty file redis-server 7.0.15 wrote: its stored checksum */
    t_hex(&b, t_real_hdr);
    t_hex(&b, "ff");
    ck_assert_uint_eq(store_crc64(0, b.p, b.n), 0xb1fb61bb52e46d8eULL);
    free(b.p);
}
END_TEST


/* A writer on a memfd; t_out_bytes flushes it through save's path. */
typedef struct t_out_s {
    store_rdb_out_t  w;
    int              fd;
} t_out_t;


static void
t_out_init(t_out_t *o, int compress)
{
    memset(o, 0, sizeof(*o));
    o->fd = memfd_create("out", MFD_CLOEXEC);
    ck_assert_int_ge(o->fd, 0);
    o->w.fd = o->fd;
    o->w.cap = 16;      /* small: the buffer wraps often */
    o->w.buf = malloc(o->w.cap);
    o->w.compress = compress;
}


static void
t_out_bytes(t_out_t *o, t_buf_t *b)
{
    /* a zero-length put does not flush: write what is buffered by hand */
    ck_assert_int_eq(write(o->fd, o->w.buf, o->w.len), (ssize_t) o->w.len);
    o->w.len = 0;
    b->n = 0;
    t_slurp(o->fd, b);
    ck_assert_int_eq(ftruncate(o->fd, 0), 0);
    ck_assert_int_eq(lseek(o->fd, 0, SEEK_SET), 0);
}


static void
t_out_fini(t_out_t *o)
{
    free(o->w.buf);
    close(o->fd);
}


static void
t_expect_hex(const t_buf_t *got, const char *hex)
{
    t_buf_t  want = { 0 };
    size_t   i;

    t_hex(&want, hex);
    for (i = 0; i < OB_MIN(got->n, want.n); i++) {
        ck_assert_msg(got->p[i] == want.p[i], "byte %zu: %02x, want %02x",
                      i, got->p[i], want.p[i]);
    }
    ck_assert_uint_eq(got->n, want.n);
    free(want.p);
}


/* A reader on the bytes of b. */
static void
t_in_init(store_rdb_in_t *r, const t_buf_t *b, ob_err_t *err)
{
    memset(r, 0, sizeof(*r));
    r->fd = t_memfd(b->p, b->n);
    r->cap = 7;
    r->buf = malloc(r->cap);
    r->err = err;
}


static void
t_in_fini(store_rdb_in_t *r)
{
    free(r->buf);
    close(r->fd);
}


START_TEST(test_lengths)
{
    static const uint64_t  lens[] = { 0, 63, 64, 130, 601, 16383, 16384,
                                      UINT32_MAX, (uint64_t) UINT32_MAX + 1,
                                      UINT64_MAX };
    t_out_t         o;
    t_buf_t         b = { 0 };
    store_rdb_in_t  r;
    ob_err_t        err;
    uint64_t        v;
    size_t          i;
    int             enc;

    t_out_init(&o, 0);
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        ck_assert_int_eq(store_rdb_put_len(&o.w, lens[i]), OB_OK);
    }
    t_out_bytes(&o, &b);
    t_expect_hex(&b, "00 3f 4040 4082 4259 7fff 80 00004000 80 ffffffff"
                     "81 0000000100000000 81 ffffffffffffffff");
    ck_assert_uint_eq(o.w.written, b.n);
    ck_assert_uint_eq(o.w.crc, store_crc64(0, b.p, b.n));

    t_in_init(&r, &b, &err);
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        ck_assert_int_eq(store_rdb_get_len(&r, &v, &enc), OB_OK);
        ck_assert_uint_eq(v, lens[i]);
        ck_assert_int_eq(enc, 0);
    }
    ck_assert_uint_eq(r.offset, b.n);
    ck_assert_uint_eq(r.crc, store_crc64(0, b.p, b.n));
    /* and then the end of the file */
    ck_assert_int_eq(store_rdb_get_len(&r, &v, &enc), OB_ERR);
    ck_assert(strstr(err.msg, "truncated") != NULL);
    t_in_fini(&r);

    /* 0xC0..: a string encoding, refused where only a length may be */
    b.n = 0;
    t_hex(&b, "c0 82");
    t_in_init(&r, &b, &err);
    ck_assert_int_eq(store_rdb_get_len(&r, &v, NULL), OB_ERR);
    ck_assert(strstr(err.msg, "offset 1") != NULL);
    t_in_fini(&r);
    t_in_init(&r, &b, &err);
    ck_assert_int_eq(store_rdb_get_len(&r, &v, NULL), OB_ERR);   /* 0x82 */
    t_in_fini(&r);

    t_out_fini(&o);
    free(b.p);
}
END_TEST


START_TEST(test_strings)
{
    static const struct { const char *s; const char *hex; } cases[] = {
        { "12345", "c1 3930" },
        { "100", "c0 64" },
        { "64", "c0 40" },
        { "-1", "c0 ff" },
        { "-129", "c1 7fff" },
        { "2000000000", "c2 00943577" },
        { "-2147483648", "c2 00000080" },
        { "2147483648", "0a 32313437343833363438" },   /* past int32 */
        { "007", "03 303037" },                         /* not canonical */
        { "-0", "02 2d30" },
        { "+1", "02 2b31" },
        { "v", "01 76" },
        { "", "00" },
    };
    t_out_t         o;
    t_buf_t         b = { 0 }, all = { 0 };
    store_rdb_in_t  r;
    ob_err_t        err;
    uint8_t        *p;
    char            big[100];
    size_t          i, n;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t_out_init(&o, 1);
        ck_assert_int_eq(store_rdb_put_string(&o.w, cases[i].s,
                                              strlen(cases[i].s)), OB_OK);
        t_out_bytes(&o, &b);
        t_expect_hex(&b, cases[i].hex);
        t_out_fini(&o);
        t_put(&all, b.p, b.n);
    }
    /* 100 x "a": the very bytes redis-server wrote */
    memset(big, 'a', sizeof(big));
    t_out_init(&o, 1);
    ck_assert_int_eq(store_rdb_put_string(&o.w, big, 100), OB_OK);
    t_out_bytes(&o, &b);
    t_expect_hex(&b, "c3 09 40 64 01 61 61 e0 57 00 01 61 61");
    t_put(&all, b.p, b.n);
    /* without rdbcompression: plain */
    o.w.compress = 0;
    ck_assert_int_eq(store_rdb_put_string(&o.w, big, 100), OB_OK);
    t_out_bytes(&o, &b);
    ck_assert_uint_eq(b.n, 102);
    t_put(&all, b.p, b.n);
    /* 21 bytes that do not compress: plain even with compression */
    o.w.compress = 1;
    ck_assert_int_eq(store_rdb_put_string(&o.w, "abcdefghijklmnopqrstu",
                                          21), OB_OK);
    t_out_bytes(&o, &b);
    t_expect_hex(&b, "15 6162636465666768696a6b6c6d6e6f7071727374 75");
    t_put(&all, b.p, b.n);
    t_out_fini(&o);

    /* everything reads back as its text */
    t_in_init(&r, &all, &err);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(store_rdb_get_string(&r, &p, &n), OB_OK);
        ck_assert_uint_eq(n, strlen(cases[i].s));
        ck_assert(memcmp(p, cases[i].s, n) == 0);
        free(p);
    }
    for (i = 0; i < 2; i++) {
        ck_assert_int_eq(store_rdb_get_string(&r, &p, &n), OB_OK);
        ck_assert_uint_eq(n, 100);
        ck_assert(memcmp(p, big, 100) == 0);
        free(p);
    }
    ck_assert_int_eq(store_rdb_get_string(&r, &p, &n), OB_OK);
    ck_assert_uint_eq(n, 21);
    free(p);
    t_in_fini(&r);

    free(b.p);
    free(all.p);
}
END_TEST


/* Lengths that claim more than the file has fail without allocating
 * them; a bad LZF stream fails. */
START_TEST(test_hostile_strings)
{
    static const char  *bad[] = {
        "81 0000010000000000 41414141",     /* 2^40 bytes, 4 there */
        "80 ffffffff 41",                   /* 4 GiB - 1, 1 there */
        "c3 05 80 7fffffff 0161610000",      /* 2 GiB from 5 bytes */
        "c3 00 05",                          /* clen 0 */
        "c3 03 05 e0 ff 00",                 /* a back-reference before 0 */
        "c3 03 0a 02 61 61",                 /* expands to 3, claims 10 */
        "c4",                                /* unknown encoding */
        "c1 39",                             /* int16 cut short */
    };
    t_buf_t         b = { 0 };
    store_rdb_in_t  r;
    ob_err_t        err;
    uint8_t        *p;
    size_t          i, n;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        b.n = 0;
        t_hex(&b, bad[i]);
        t_in_init(&r, &b, &err);
        ck_assert_msg(store_rdb_get_string(&r, &p, &n) == OB_ERR,
                      "case %zu loaded", i);
        ck_assert_ptr_null(p);
        ck_assert(r.failed);
        t_in_fini(&r);
    }
    free(b.p);
}
END_TEST


/* ---- real files ------------------------------------------------------------ */

START_TEST(test_real_empty)
{
    t_fix_t                f;
    t_buf_t                b = { 0 };
    store_dbs_t           *s;
    store_rdb_load_info_t  info;
    ob_err_t               err;

    t_fix_init(&f, 16 * T_MIB, 65536);
    s = t_dbs(&f);
    t_hex(&b, t_real_hdr);
    t_hex(&b, "ff 8e6de452bb61fbb1");
    /* bytes after the RDB (an AOF's tail) are not its business */
    t_hex(&b, "2a310d0a");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    ck_assert_uint_eq(info.consumed, 89);
    ck_assert_uint_eq(info.st.keys, 0);
    ck_assert_int_eq(info.aof_base, 0);
    ck_assert_int_eq(info.has_repl, 0);

    /* a wrong checksum is refused, a zero one is not checked */
    b.p[85] ^= 1;
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_ERR);
    ck_assert(strstr(err.msg, "checksum") != NULL);
    memset(b.p + 81, 0, 8);
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);

    store_dbs_free(s);
    free(b.p);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_real_values)
{
    t_fix_t                f;
    t_buf_t                b = { 0 };
    store_dbs_t           *s;
    store_rdb_load_info_t  info;
    ob_err_t               err;
    store_obj_t           *o;
    store_list_iter_t      it;
    store_zset_it_t        zit;
    const uint8_t         *p;
    char                   buf[32];
    size_t                 len;
    double                 score;
    int                    i;

    t_fix_init(&f, 16 * T_MIB, 65536);

    /* [SET k 12345] [SET k 100] [SET k 2000000000] [SET k v] */
    {
        static const struct { const char *body, *val; } c[] = {
            { "fe 00 fb 01 00 00 01 6b c1 39 30", "12345" },
            { "fe 00 fb 01 00 00 01 6b c0 64", "100" },
            { "fe 00 fb 01 00 00 01 6b c2 00 94 35 77", "2000000000" },
            { "fe 00 fb 01 00 00 01 6b 01 76", "v" },
        };
        for (i = 0; i < 4; i++) {
            s = t_dbs(&f);
            t_file(&b, c[i].body);
            ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
            o = t_get(s, 0, "k");
            t_str_is(o, c[i].val);
            ck_assert_str_eq(store_obj_encoding_name(o),
                             i < 3 ? "int" : "embstr");
            ck_assert_uint_eq(info.st.keys, 1);
            ck_assert_uint_eq(info.consumed, b.n);
            store_dbs_free(s);
        }
    }

    /* [SET k v; PEXPIREAT k 4102444800000] */
    s = t_dbs(&f);
    t_file(&b, "fe 00 fb 01 01 fc 00 d8 c3 2c bb 03 00 00 00 01 6b 01 76");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    t_str_is(t_get(s, 0, "k"), "v");
    ck_assert_int_eq(store_db_expire_get(store_dbs_db(s, 0), "k", 1, T_NOW),
                     4102444800000LL);
    store_dbs_free(s);

    /* [SET k <100 x "a">] */
    s = t_dbs(&f);
    t_file(&b, "fe 00 fb 01 00 00 01 6b c3 09 40 64 01 61 61 e0 57 00 01 61"
               " 61");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    t_str_is(t_get(s, 0, "k"), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    ck_assert_str_eq(store_obj_encoding_name(t_get(s, 0, "k")), "raw");
    store_dbs_free(s);

    /* [RPUSH l a b 1] */
    s = t_dbs(&f);
    t_file(&b, "fe 00 fb 01 00 12 01 6c 01 02 0f 0f 00 00 00 03 00 81 61 02"
               " 81 62 02 01 01 ff");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    o = t_get(s, 0, "l");
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(o->type, STORE_OBJ_LIST);
    ck_assert_uint_eq(store_list_len(store_list_of(o)), 3);
    store_list_iter_init(store_list_of(o), 0, STORE_LIST_TAIL, &it);
    ck_assert(store_list_iter_get(&it, buf, &p, &len));
    ck_assert(len == 1 && p[0] == 'a');
    store_list_iter_next(&it);
    ck_assert(store_list_iter_get(&it, buf, &p, &len));
    ck_assert(len == 1 && p[0] == 'b');
    store_list_iter_next(&it);
    ck_assert(store_list_iter_get(&it, buf, &p, &len));
    ck_assert(len == 1 && p[0] == '1');
    store_dbs_free(s);

    /* [HSET h f v] */
    s = t_dbs(&f);
    t_file(&b, "fe 00 fb 01 00 10 01 68 0d 0d 00 00 00 02 00 81 66 02 81 76"
               " 02 ff");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    o = t_get(s, 0, "h");
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(store_obj_encoding_name(o), "listpack");
    p = store_hash_get(o, "f", 1, buf, &len);
    ck_assert(p != NULL && len == 1 && p[0] == 'v');
    store_dbs_free(s);

    /* [ZADD z 1.5 a] */
    s = t_dbs(&f);
    t_file(&b, "fe 00 fb 01 00 11 01 7a 0f 0f 00 00 00 02 00 81 61 02 83 31"
               " 2e 35 04 ff");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    o = t_get(s, 0, "z");
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(store_obj_encoding_name(o), "listpack");
    ck_assert(store_zset_score(o, "a", 1, &score) && score == 1.5);
    store_dbs_free(s);

    /* [SADD s 1 2 300] */
    s = t_dbs(&f);
    t_file(&b, "fe 00 fb 01 00 0b 01 73 0e 02 00 00 00 03 00 00 00 01 00 02"
               " 00 2c 01");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    o = t_get(s, 0, "s");
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(store_obj_encoding_name(o), "intset");
    ck_assert_uint_eq(store_set_size(o), 3);
    ck_assert(store_set_contains(o, "300", 3));
    store_dbs_free(s);

    /* [SADD s a b] */
    s = t_dbs(&f);
    t_file(&b, "fe 00 fb 01 00 02 01 73 02 01 62 01 61");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    o = t_get(s, 0, "s");
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(store_obj_encoding_name(o), "hashtable");
    ck_assert(store_set_contains(o, "a", 1) && store_set_contains(o, "b", 1));
    store_dbs_free(s);

    /* [ZADD z 1 m1 ... 130 m130]: type 5, the highest first */
    s = t_dbs(&f);
    b.n = 0;
    t_hex(&b, t_real_hdr);
    t_hex(&b, "fe 00 fb 01 00 05 01 7a 40 82");
    for (i = 130; i >= 1; i--) {
        char    m[8];
        double  d = i;
        uint8_t n = (uint8_t) snprintf(m, sizeof(m), "m%d", i);

        t_put(&b, &n, 1);
        t_put(&b, m, n);
        t_put(&b, &d, 8);       /* little-endian host */
    }
    t_hex(&b, "ff 0000000000000000");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    o = t_get(s, 0, "z");
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(store_obj_encoding_name(o), "skiplist");
    ck_assert_uint_eq(store_zset_len(o), 130);
    store_zset_it_rank(&zit, o, 0, 0);
    ck_assert(store_zset_it_valid(&zit));
    ck_assert(zit.len == 2 && memcmp(zit.ele, "m1", 2) == 0);
    ck_assert(zit.score == 1.0);
    store_dbs_free(s);

    /* a zset with one 70-byte member */
    s = t_dbs(&f);
    t_file(&b, "fe 00 fb 01 00 05 01 7a 01 c3 09 40 46 01 79 79 e0 39 00 01"
               " 79 79 00 00 00 00 00 00 f0 3f");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    o = t_get(s, 0, "z");
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(store_obj_encoding_name(o), "skiplist");
    store_dbs_free(s);

    /* FREQ 5 (an LFU policy) and IDLE (an LRU one) before the type */
    s = t_dbs(&f);
    t_file(&b, "fe 00 fb 01 00 f9 05 00 01 6b 01 76");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    t_str_is(t_get(s, 0, "k"), "v");
    store_dbs_free(s);
    s = t_dbs(&f);
    t_file(&b, "fe 00 fb 01 00 f8 80 00 00 00 64 00 01 6b 01 76");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    o = store_db_lookup_read(store_dbs_db(s, 0), "k", 1, T_NOW,
                             STORE_LOOKUP_NOTOUCH);
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq((store_lru_clock(T_NOW) - o->lru) & STORE_LRU_MAX,
                      100);
    store_dbs_free(s);

    /* FREQ counts under an LFU policy */
    s = t_dbs(&f);
    store_dbs_set_lfu(s, 1, &(store_lfu_conf_t) { .log_factor = 10,
                                                  .decay_time = 1 });
    t_file(&b, "fe 00 fb 01 00 f9 2a 00 01 6b 01 76");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    o = t_get(s, 0, "k");
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(store_obj_lfu_counter(o, T_NOW, &s->lfu_conf), 42);
    store_dbs_free(s);

    /* the old EXPIRETIME: 4-byte seconds (an RDB 6 file) */
    s = t_dbs(&f);
    b.n = 0;
    t_hex(&b, "5245444953303030 36 fe 00 fd 00 10 5e 5f 00 01 6b 01 76"
              " ff 0000000000000000");
    ck_assert_int_eq(t_load(s, &b, 0, &info, &err), OB_OK);
    ck_assert_int_eq(store_db_expire_get(store_dbs_db(s, 0), "k", 1, 0),
                     1600000000LL * 1000);
    store_dbs_free(s);

    /* empty aggregates are skipped, the keys around them load */
    s = t_dbs(&f);
    t_file(&b, "fe 00 00 01 61 01 31"
               "01 01 6c 00  02 01 73 00  03 01 7a 00  04 01 68 00"
               "05 01 79 00  0b 01 69 08 02000000 00000000"
               "10 01 70 07 07000000 0000 ff  12 01 71 00"
               "12 01 72 01 02 07 07000000 0000 ff"
               "00 01 62 01 32");
    ck_assert_msg(t_load(s, &b, 1, &info, &err) == OB_OK, "%s", err.msg);
    ck_assert_uint_eq(info.st.keys, 2);
    ck_assert_uint_eq(store_db_size(store_dbs_db(s, 0)), 2);
    t_str_is(t_get(s, 0, "b"), "2");
    store_dbs_free(s);

    /* keys in db 1 only: n = 7 and k = v, and no AUX at all */
    s = t_dbs(&f);
    b.n = 0;
    t_hex(&b, "5245444953303031 30");
    t_hex(&b, "fe 01 fb 02 00 00 01 6e c0 07 00 01 6b 01 76 ff"
              " 0000000000000000");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    t_str_is(t_get(s, 1, "n"), "7");
    t_str_is(t_get(s, 1, "k"), "v");
    ck_assert_ptr_null(t_get(s, 0, "k"));
    store_dbs_free(s);

    free(b.p);
    t_fix_fini(&f);
}
END_TEST


/* The old types a 7.0 loader still takes: plain list (1), text-score
 * zset (3), zipmap (9), ziplists (10, 12, 13), quicklist v1 (14), and
 * the PLAIN quicklist node. */
START_TEST(test_old_types)
{
    t_fix_t                f;
    t_buf_t                b = { 0 };
    store_dbs_t           *s;
    store_rdb_load_info_t  info;
    ob_err_t               err;
    store_obj_t           *o;
    const uint8_t         *p;
    char                   buf[32];
    size_t                 len;
    double                 score;

    t_fix_init(&f, 16 * T_MIB, 65536);
    s = t_dbs(&f);
    b.n = 0;
    t_hex(&b, "5245444953303030 39");           /* REDIS0009 */
    t_hex(&b, "fe 00");
    /* 1: list [x, 12] */
    t_hex(&b, "01 02 6c31 02 01 78 c0 0c");
    /* 3: zset a 1.5, b +inf */
    t_hex(&b, "03 02 7a33 02 01 61 03 312e35 01 62 fe");
    /* 9: zipmap {f: vv, g: w} (vv with 1 free byte) */
    t_hex(&b, "09 02 7a6d 0e 02 01 66 02 01 76 76 00 01 67 01 00 77 ff");
    /* 10: ziplist [ab, 7, -2] : zlbytes 19, tail 15, len 3 */
    t_hex(&b, "0a 02 7a6c 14 14000000 10000000 0300"
              " 00 02 6162  04 f8  02 fe fe ff");
    /* 12: ziplist zset c 2, d 2.5 */
    t_hex(&b, "0c 02 7a7a 18 18000000 12000000 0400"
              " 00 01 63 03 f3 02 01 64 03 03 322e35 ff");
    /* 13: ziplist hash f 1 */
    t_hex(&b, "0d 02 7a68 10 10000000 0d000000 0200"
              " 00 01 66 03 f2 ff");
    /* 14: quicklist v1, two ziplist nodes [a] [b] */
    t_hex(&b, "0e 02 7171 02"
              " 0e 0e000000 0a000000 0100 00 01 61 ff"
              " 0e 0e000000 0a000000 0100 00 01 62 ff");
    /* 18 with PLAIN nodes [p1, p2] */
    t_hex(&b, "12 07 716c706c61696e 02 01 02 7031 01 02 7032");
    t_hex(&b, "ff 0000000000000000");
    ck_assert_msg(t_load(s, &b, 1, &info, &err) == OB_OK, "%s", err.msg);
    ck_assert_uint_eq(info.st.keys, 8);

    o = t_get(s, 0, "l1");
    ck_assert_uint_eq(store_list_len(store_list_of(o)), 2);
    p = store_list_peek(store_list_of(o), STORE_LIST_TAIL, buf, &len);
    ck_assert(len == 2 && memcmp(p, "12", 2) == 0);
    o = t_get(s, 0, "z3");
    ck_assert(store_zset_score(o, "a", 1, &score) && score == 1.5);
    ck_assert(store_zset_score(o, "b", 1, &score) && isinf(score));
    o = t_get(s, 0, "zm");
    p = store_hash_get(o, "f", 1, buf, &len);
    ck_assert(p != NULL && len == 2 && memcmp(p, "vv", 2) == 0);
    p = store_hash_get(o, "g", 1, buf, &len);
    ck_assert(p != NULL && len == 1 && p[0] == 'w');
    o = t_get(s, 0, "zl");
    ck_assert_uint_eq(store_list_len(store_list_of(o)), 3);
    p = store_list_peek(store_list_of(o), STORE_LIST_TAIL, buf, &len);
    ck_assert(len == 2 && memcmp(p, "-2", 2) == 0);
    o = t_get(s, 0, "zz");
    ck_assert(store_zset_score(o, "c", 1, &score) && score == 2);
    ck_assert(store_zset_score(o, "d", 1, &score) && score == 2.5);
    o = t_get(s, 0, "zh");
    p = store_hash_get(o, "f", 1, buf, &len);
    ck_assert(p != NULL && len == 1 && p[0] == '1');
    o = t_get(s, 0, "qq");
    ck_assert_uint_eq(store_list_len(store_list_of(o)), 2);
    o = t_get(s, 0, "qlplain");
    ck_assert_uint_eq(store_list_len(store_list_of(o)), 2);
    store_dbs_free(s);

    free(b.p);
    t_fix_fini(&f);
}
END_TEST


/* ---- round trip ------------------------------------------------------------ */

static void
t_set(store_dbs_t *s, int db, const char *key, store_obj_t *o, int64_t ttl)
{
    store_db_t  *d = store_dbs_db(s, db);

    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(store_db_set(d, key, strlen(key), o, 0, T_NOW), OB_OK);
    if (ttl != 0) {
        ck_assert_int_eq(store_db_expire_set(d, key, strlen(key),
                                             T_NOW + ttl, T_NOW), OB_OK);
    }
}


/* Every type and encoding, some with TTLs, in dbs 0, 3 and 15. */
static void
t_fill(t_fix_t *f, store_dbs_t *s)
{
    store_obj_t  *o;
    char          m[128], v[128];
    int           i, added, fl;

    t_set(s, 0, "int", store_obj_string_new(f->a, f->owner, "-12345", 6), 0);
    t_set(s, 0, "bigint", store_obj_string_new(f->a, f->owner,
                                               "9223372036854775807", 19), 0);
    t_set(s, 0, "emb", store_obj_string_new(f->a, f->owner, "hello", 5),
          60000);
    memset(m, 'x', sizeof(m));
    t_set(s, 0, "raw", store_obj_string_new(f->a, f->owner, m, 100), 0);
    for (i = 0; i < 128; i++) {
        m[i] = (char) (i * 37);
    }
    t_set(s, 0, "bin", store_obj_string_new(f->a, f->owner, m, 128), 0);
    t_set(s, 0, "empty", store_obj_string_new(f->a, f->owner, "", 0), 0);

    o = store_list_obj_new(f->a, f->owner);
    store_list_push(f->a, f->owner, store_list_of(o), "a", 1, STORE_LIST_TAIL);
    store_list_push(f->a, f->owner, store_list_of(o), "42", 2, STORE_LIST_TAIL);
    t_set(s, 0, "list", o, 0);
    o = store_list_obj_new(f->a, f->owner);
    for (i = 0; i < 5000; i++) {
        snprintf(m, sizeof(m), i % 3 ? "%d" : "element-%d", i);
        ck_assert_int_eq(store_list_push(f->a, f->owner, store_list_of(o), m,
                                         strlen(m), STORE_LIST_TAIL), OB_OK);
    }
    memset(v, 'q', sizeof(v));
    store_list_push(f->a, f->owner, store_list_of(o), v, 128, STORE_LIST_HEAD);
    t_set(s, 3, "biglist", o, 120000);

    o = store_set_new(f->a, f->owner, 1);
    for (i = -3; i < 100; i++) {
        snprintf(m, sizeof(m), "%d", i * 1000);
        store_set_add(f->a, f->owner, o, m, strlen(m), &added);
    }
    t_set(s, 0, "intset", o, 0);
    o = store_set_new(f->a, f->owner, 0);
    for (i = 0; i < 700; i++) {
        snprintf(m, sizeof(m), i % 2 ? "%d" : "mem%d", i);
        store_set_add(f->a, f->owner, o, m, strlen(m), &added);
    }
    t_set(s, 0, "hset", o, 0);

    o = store_hash_new(f->a, f->owner);
    store_hash_set(f->a, f->owner, o, "f", 1, "v", 1, 0);
    store_hash_set(f->a, f->owner, o, "n", 1, "17", 2, 0);
    t_set(s, 0, "hlp", o, 0);
    o = store_hash_new(f->a, f->owner);
    for (i = 0; i < 600; i++) {
        snprintf(m, sizeof(m), "field%d", i);
        snprintf(v, sizeof(v), "%d", i * 7);
        store_hash_set(f->a, f->owner, o, m, strlen(m), v, strlen(v), 0);
    }
    t_set(s, 15, "hht", o, 5000);

    o = store_zset_new(f->a, f->owner, 3, 1);
    store_zset_add(f->a, f->owner, o, 1.5, "a", 1, 0, &fl, NULL);
    store_zset_add(f->a, f->owner, o, -2, "b", 1, 0, &fl, NULL);
    store_zset_add(f->a, f->owner, o, 3e100, "c", 1, 0, &fl, NULL);
    t_set(s, 0, "zlp", o, 0);
    o = store_zset_new(f->a, f->owner, 200, 10);
    for (i = 0; i < 200; i++) {
        snprintf(m, sizeof(m), "m%d", i);
        store_zset_add(f->a, f->owner, o, i % 7 == 0 ? INFINITY : i / 3.0,
                       m, strlen(m), 0, &fl, NULL);
    }
    t_set(s, 0, "zsl", o, 0);
}


static void
t_hash_cmp_one(void *arg, const uint8_t *f, size_t nf, const uint8_t *v,
    size_t nv)
{
    const store_obj_t  *other = arg;
    const uint8_t      *p;
    char                buf[STORE_HASH_INTBUF];
    size_t              len;

    p = store_hash_get(other, f, nf, buf, &len);
    ck_assert_ptr_nonnull(p);
    ck_assert(len == nv && memcmp(p, v, nv) == 0);
}


static void
t_obj_cmp(store_obj_t *a, store_obj_t *b)
{
    char               b1[32], b2[32];
    const uint8_t     *p1, *p2;
    const char        *s1, *s2;
    size_t             l1, l2, i;
    store_list_iter_t  i1, i2;
    store_zset_it_t    z1, z2;
    store_set_elem_t   e;

    ck_assert_int_eq(a->type, b->type);
    ck_assert_str_eq(store_obj_encoding_name(a), store_obj_encoding_name(b));
    switch (a->type) {
    case STORE_OBJ_STRING:
        s1 = store_obj_string_bytes(a, b1, &l1);
        s2 = store_obj_string_bytes(b, b2, &l2);
        ck_assert(l1 == l2 && memcmp(s1, s2, l1) == 0);
        break;
    case STORE_OBJ_LIST:
        ck_assert_uint_eq(store_list_len(store_list_of(a)),
                          store_list_len(store_list_of(b)));
        store_list_iter_init(store_list_of(a), 0, STORE_LIST_TAIL, &i1);
        store_list_iter_init(store_list_of(b), 0, STORE_LIST_TAIL, &i2);
        while (store_list_iter_get(&i1, b1, &p1, &l1)) {
            ck_assert(store_list_iter_get(&i2, b2, &p2, &l2));
            ck_assert(l1 == l2 && memcmp(p1, p2, l1) == 0);
            store_list_iter_next(&i1);
            store_list_iter_next(&i2);
        }
        break;
    case STORE_OBJ_SET:
        ck_assert_uint_eq(store_set_size(a), store_set_size(b));
        for (i = 0; i < store_set_size(a); i++) {
            store_set_get(a, i, &e);
            s1 = store_set_elem_bytes(&e, b1, &l1);
            ck_assert(store_set_contains(b, s1, l1));
        }
        break;
    case STORE_OBJ_HASH:
        ck_assert_uint_eq(store_hash_len(a), store_hash_len(b));
        store_hash_foreach(a, t_hash_cmp_one, b);
        break;
    case STORE_OBJ_ZSET:
        ck_assert_uint_eq(store_zset_len(a), store_zset_len(b));
        store_zset_it_rank(&z1, a, 0, 0);
        store_zset_it_rank(&z2, b, 0, 0);
        while (store_zset_it_valid(&z1)) {
            ck_assert(store_zset_it_valid(&z2));
            ck_assert(z1.len == z2.len && memcmp(z1.ele, z2.ele, z1.len) == 0);
            ck_assert(z1.score == z2.score);
            store_zset_it_next(&z1);
            store_zset_it_next(&z2);
        }
        break;
    default:
        ck_abort_msg("type %d", a->type);
    }
}


typedef struct t_cmp_s {
    store_dbs_t  *other;
    store_db_t   *self;
    int           db;
    size_t        n;
} t_cmp_t;


static void
t_cmp_key(void *arg, const store_entry_t *e)
{
    t_cmp_t      *c = arg;
    store_db_t   *d2;
    store_obj_t  *o;

    d2 = store_dbs_db(c->other, c->db);
    o = store_db_lookup_read(d2, e->key, e->nkey, T_NOW,
                             STORE_LOOKUP_NOTOUCH);
    ck_assert_msg(o != NULL, "key %.*s missing", (int) e->nkey, e->key);
    t_obj_cmp(e->val, o);
    ck_assert_int_eq(store_db_entry_expire(d2, store_db_find(d2, e->key,
                                                             e->nkey, T_NOW)),
                     store_db_entry_expire(c->self, e));
    c->n++;
}


/* Every key of a is in b with the same value, encoding and TTL, and the
 * databases have the same sizes. */
static void
t_dbs_cmp(store_dbs_t *a, store_dbs_t *b)
{
    t_cmp_t   c;
    uint64_t  cur;
    int       i;

    for (i = 0; i < 16; i++) {
        ck_assert_uint_eq(store_db_size(store_dbs_db(a, i)),
                          store_db_size(store_dbs_db(b, i)));
        ck_assert_uint_eq(store_db_expires_count(store_dbs_db(a, i)),
                          store_db_expires_count(store_dbs_db(b, i)));
        c.other = b;
        c.self = store_dbs_db(a, i);
        c.db = i;
        c.n = 0;
        cur = 0;
        do {
            cur = store_db_scan(store_dbs_db(a, i), cur, 1000, NULL, 0, -1,
                                T_NOW, t_cmp_key, &c);
        } while (cur != 0);
        ck_assert_uint_eq(c.n, store_db_size(store_dbs_db(a, i)));
    }
}


static void
t_ttl_is(store_dbs_t *s, int db, const char *key, int64_t want)
{
    ck_assert_int_eq(store_db_expire_get(store_dbs_db(s, db), key,
                                         strlen(key), T_NOW), want);
}


/* Saves s into b (compress, checksum as given). */
static void
t_save(store_dbs_t *s, t_buf_t *b, int compress, int checksum)
{
    store_rdb_save_opts_t  o = { .compress = compress, .checksum = checksum,
                                 .now_ms = T_NOW, .used_mem = 12345 };
    store_rdb_stats_t      st;
    ob_err_t               err;
    int                    fd;

    fd = memfd_create("save", MFD_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_msg(store_rdb_save_fd(s, fd, &o, &st, &err) == OB_OK, "%s",
                  err.msg);
    b->n = 0;
    t_slurp(fd, b);
    close(fd);
    ck_assert_uint_eq(st.bytes, b->n);
}


/* With CHECK_RDB_DUMP=<dir>, the file is also written there (to run
 * redis-check-rdb and redis-server on it by hand). */
static void
t_dump(const t_buf_t *b, const char *name)
{
    const char  *dir = getenv("CHECK_RDB_DUMP");
    char         path[512];
    FILE        *fp;

    if (dir == NULL) {
        return;
    }
    snprintf(path, sizeof(path), "%s/%s.rdb", dir, name);
    fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(b->p, 1, b->n, fp), b->n);
    fclose(fp);
}


START_TEST(test_round_trip)
{
    t_fix_t                f;
    t_buf_t                b = { 0 };
    store_dbs_t           *s, *s2;
    store_rdb_load_info_t  info;
    ob_err_t               err;
    int                    compress;

    t_fix_init(&f, 64 * T_MIB, 65536);
    s = t_dbs(&f);
    t_fill(&f, s);
    ck_assert_str_eq(store_obj_encoding_name(t_get(s, 0, "hset")),
                     "hashtable");
    ck_assert_str_eq(store_obj_encoding_name(t_get(s, 15, "hht")),
                     "hashtable");
    ck_assert_str_eq(store_obj_encoding_name(t_get(s, 0, "zsl")),
                     "skiplist");

    for (compress = 0; compress <= 1; compress++) {
        t_save(s, &b, compress, 1);
        ck_assert(memcmp(b.p, "REDIS0010", 9) == 0);
        t_dump(&b, compress ? "lzf" : "plain");
        s2 = t_dbs(&f);
        ck_assert_msg(t_load(s2, &b, 1, &info, &err) == OB_OK, "%s",
                      err.msg);
        ck_assert_uint_eq(info.consumed, b.n);
        ck_assert_uint_eq(info.st.keys, 14);
        t_dbs_cmp(s, s2);
        t_dbs_cmp(s2, s);
        t_ttl_is(s2, 0, "emb", T_NOW + 60000);
        t_ttl_is(s2, 3, "biglist", T_NOW + 120000);
        t_ttl_is(s2, 15, "hht", T_NOW + 5000);
        t_ttl_is(s2, 0, "int", -1);
        store_dbs_free(s2);
    }

    /* without a checksum: 8 zero bytes, still loads */
    t_save(s, &b, 1, 0);
    ck_assert(memcmp(b.p + b.n - 8, "\0\0\0\0\0\0\0\0", 8) == 0);
    s2 = t_dbs(&f);
    ck_assert_int_eq(t_load(s2, &b, 1, &info, &err), OB_OK);
    t_dbs_cmp(s, s2);
    store_dbs_free(s2);

    store_dbs_free(s);
    free(b.p);
    t_fix_fini(&f);
}
END_TEST


/* Expired keys: a master drops them (and counts them), a replica keeps
 * them with their past TTL.  The writer writes them as they are. */
START_TEST(test_expired)
{
    t_fix_t                f;
    t_buf_t                b = { 0 };
    store_dbs_t           *s, *s2;
    store_rdb_load_info_t  info;
    ob_err_t               err;

    t_fix_init(&f, 16 * T_MIB, 65536);
    s = t_dbs(&f);
    t_set(s, 0, "live", store_obj_string_new(f.a, f.owner, "1", 1), 1000);
    t_set(s, 0, "dead", store_obj_string_new(f.a, f.owner, "2", 1), 1000);
    ck_assert_int_eq(store_db_expire_set(store_dbs_db(s, 0), "dead", 4,
                                         T_NOW - 5, T_NOW), OB_OK);
    t_save(s, &b, 1, 1);
    ck_assert_uint_eq(store_db_size(store_dbs_db(s, 0)), 2);

    s2 = t_dbs(&f);
    ck_assert_int_eq(t_load(s2, &b, 1, &info, &err), OB_OK);
    ck_assert_uint_eq(info.st.keys, 1);
    ck_assert_uint_eq(info.st.expired, 1);
    ck_assert_uint_eq(store_db_size(store_dbs_db(s2, 0)), 1);
    store_dbs_free(s2);

    s2 = t_dbs(&f);
    ck_assert_int_eq(t_load(s2, &b, 0, &info, &err), OB_OK);
    ck_assert_uint_eq(info.st.keys, 2);
    ck_assert_uint_eq(store_db_size(store_dbs_db(s2, 0)), 2);
    ck_assert_int_eq(store_db_expires_count(store_dbs_db(s2, 0)), 2);
    store_dbs_free(s2);

    store_dbs_free(s);
    free(b.p);
    t_fix_fini(&f);
}
END_TEST


/* The replication AUX fields, aof-base, and the opcodes that stop a
 * load. */
START_TEST(test_aux_and_errors)
{
    static const struct { const char *body; const char *msg; } bad[] = {
        { "fe 10", "more than 16 databases" },                  /* db 16 */
        { "fe 00 00 01 6b 01 76 00 01 6b 01 77", "Duplicate key" },
        { "f7 01", "not supported" },                           /* MODULE_AUX */
        { "f5 00", "not supported" },                           /* FUNCTION2 */
        { "07 01 6b 00", "not supported" },                     /* module */
        { "08 01 6b 00", "Unknown RDB value type" },
        { "02 01 73 02 01 61 01 61", "Duplicate set" },
        { "04 01 68 02 01 61 01 31 01 61 01 32", "Duplicate hash" },
        { "05 01 7a 01 01 61 000000000000f87f", "NAN" },
        { "12 01 6c 01 03 01 61", "Quicklist" },
        { "0b 01 73 0c 02000000 02000000 0200 0100", "Intset" },
        { "10 01 68 0a 0a000000 0100 81 66 02 ff", "listpack" },
        { "11 01 7a 0a 0a000000 0100 81 61 02 ff", "listpack" },
        /* 2^40 elements claimed: the EOF and checksum bytes are read as
         * elements and fail, nothing sized by the claim */
        { "01 01 6c 81 0000010000000000 01 61", "Bad RDB file" },
        { "02 01 73 81 0000010000000000 01 61", "Bad RDB file" },
        { "03 01 7a 81 0000010000000000 01 61 01 31", "Bad RDB file" },
        { "04 01 68 81 0000010000000000 01 61 01 31", "Bad RDB file" },
        { "05 01 7a 81 0000010000000000", "Bad RDB file" },
        { "12 01 6c 81 0000010000000000 01 01 61", "Bad RDB file" },
        { "0e 01 6c 81 0000010000000000", "Bad RDB file" },
    };
    t_fix_t                f;
    t_buf_t                b = { 0 };
    store_dbs_t           *s;
    store_rdb_load_info_t  info;
    ob_err_t               err;
    store_rdb_save_opts_t  o = { .compress = 1, .checksum = 1,
                                 .now_ms = T_NOW, .aof_base = 1,
                                 .repl_id = "0123456789abcdef0123456789abcdef01234567",
                                 .repl_offset = 1234567890123LL,
                                 .repl_stream_db = 3 };
    size_t                 i;
    int                    fd;

    t_fix_init(&f, 16 * T_MIB, 65536);
    s = t_dbs(&f);
    fd = memfd_create("aux", MFD_CLOEXEC);
    ck_assert_int_eq(store_rdb_save_fd(s, fd, &o, NULL, &err), OB_OK);
    t_slurp(fd, &b);
    close(fd);
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    ck_assert_int_eq(info.has_repl, 1);
    ck_assert_str_eq(info.repl_id, o.repl_id);
    ck_assert_int_eq(info.repl_offset, 1234567890123LL);
    ck_assert_int_eq(info.repl_stream_db, 3);
    ck_assert_int_eq(info.aof_base, 1);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t_file(&b, bad[i].body);
        ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_ERR);
        ck_assert_msg(strstr(err.msg, bad[i].msg) != NULL,
                      "case %zu: %s", i, err.msg);
        ck_assert_msg(strstr(err.msg, "offset") != NULL, "%s", err.msg);
        store_dbs_flushall(s);
    }
    /* wrong signatures and versions */
    b.n = 0;
    t_hex(&b, "5245444953303031 31 ff");                  /* REDIS0011 */
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_ERR);
    ck_assert(strstr(err.msg, "version 11") != NULL);
    b.n = 0;
    t_hex(&b, "5245444953303030 30 ff");                  /* REDIS0000 */
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_ERR);
    b.n = 0;
    t_hex(&b, "5845444953303031 30 ff");                  /* XEDIS */
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_ERR);
    ck_assert(strstr(err.msg, "signature") != NULL);
    /* version 4: no checksum after EOF */
    b.n = 0;
    t_hex(&b, "5245444953303030 34 fe 00 00 01 6b 01 76 ff");
    ck_assert_int_eq(t_load(s, &b, 1, &info, &err), OB_OK);
    ck_assert_uint_eq(info.consumed, b.n);

    store_dbs_free(s);
    free(b.p);
    t_fix_fini(&f);
}
END_TEST


/* Every prefix of a file with every type fails cleanly; every byte
 * flipped (checksum zeroed, so the damage must be caught by the
 * structure itself, or load as other valid data) never crashes or leaks. */
START_TEST(test_truncated_and_corrupt)
{
    t_fix_t                f;
    t_buf_t                b = { 0 }, c = { 0 };
    store_dbs_t           *s, *s2;
    store_rdb_load_info_t  info;
    ob_err_t               err;
    store_obj_t           *o;
    size_t                 i, full;
    int                    fl, added, k;

    t_fix_init(&f, 64 * T_MIB, 65536);
    s = t_dbs(&f);
    /* a small file of every encoding, so that every offset is tried */
    t_set(s, 0, "s", store_obj_string_new(f.a, f.owner, "12345", 5), 1000);
    t_set(s, 0, "raw", store_obj_string_new(f.a, f.owner,
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 48), 0);
    o = store_list_obj_new(f.a, f.owner);
    store_list_push(f.a, f.owner, store_list_of(o), "a", 1, STORE_LIST_TAIL);
    store_list_push(f.a, f.owner, store_list_of(o), "300", 3,
                    STORE_LIST_TAIL);
    t_set(s, 0, "l", o, 0);
    o = store_set_new(f.a, f.owner, 1);
    store_set_add(f.a, f.owner, o, "7", 1, &added);
    store_set_add(f.a, f.owner, o, "70000", 5, &added);
    t_set(s, 0, "is", o, 0);
    o = store_set_new(f.a, f.owner, 0);
    store_set_add(f.a, f.owner, o, "x", 1, &added);
    t_set(s, 1, "hs", o, 0);
    o = store_hash_new(f.a, f.owner);
    store_hash_set(f.a, f.owner, o, "f", 1, "v", 1, 0);
    t_set(s, 0, "h", o, 0);
    o = store_hash_new(f.a, f.owner);
    /* a value too long for a listpack: it stays a hashtable on load */
    store_hash_set(f.a, f.owner, o, "f", 1, T_LONG, strlen(T_LONG), 0);
    t_set(s, 0, "hh", o, 0);
    o = store_zset_new(f.a, f.owner, 1, 1);
    store_zset_add(f.a, f.owner, o, 1.5, "a", 1, 0, &fl, NULL);
    store_zset_add(f.a, f.owner, o, 2, "b", 1, 0, &fl, NULL);
    t_set(s, 0, "z", o, 0);
    o = store_zset_new(f.a, f.owner, 1, 1);
    store_zset_add(f.a, f.owner, o, 1.5, T_LONG, strlen(T_LONG), 0, &fl,
                   NULL);
    t_set(s, 0, "zs", o, 0);

    t_save(s, &b, 0, 1);
    full = b.n;
    ck_assert_int_eq(t_load(s2 = t_dbs(&f), &b, 1, &info, &err), OB_OK);
    t_dbs_cmp(s, s2);
    store_dbs_free(s2);

    s2 = t_dbs(&f);
    for (i = 0; i < full; i++) {
        b.n = i;
        ck_assert_msg(t_load(s2, &b, 1, &info, &err) == OB_ERR,
                      "a prefix of %zu bytes loaded", i);
        ck_assert(strstr(err.msg, "offset") != NULL);
        store_dbs_flushall(s2);
    }
    b.n = full;

    /* flips: without the checksum, the structure must catch it */
    for (i = 9; i < full - 8; i++) {
        for (k = 0; k < 3; k++) {
            static const uint8_t  x[] = { 0x01, 0x80, 0xff };

            c.n = 0;
            t_put(&c, b.p, full);
            memset(c.p + full - 8, 0, 8);
            c.p[i] ^= x[k];
            (void) t_load(s2, &c, 0, &info, &err);
            store_dbs_flushall(s2);
        }
    }
    /* and with it, every flip is refused */
    for (i = 9; i < full - 8; i++) {
        c.n = 0;
        t_put(&c, b.p, full);
        c.p[i] ^= 0x10;
        ck_assert_msg(t_load(s2, &c, 1, &info, &err) == OB_ERR,
                      "a flip at %zu loaded", i);
        store_dbs_flushall(s2);
    }
    store_dbs_free(s2);

    store_dbs_free(s);
    free(b.p);
    free(c.p);
    t_fix_fini(&f);
}
END_TEST


static uint64_t
t_rand(uint64_t *x)
{
    uint64_t  z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}


/* Random damage (a few bytes overwritten, with the checksum zeroed so
 * that only the structure can catch it) to a file of every type, old
 * ones included: loads or fails, never crashes, never leaks (run it under
 * ASan: make SANITIZE=1 bin/asan/check_onebox). */
START_TEST(test_fuzz)
{
    t_fix_t                f;
    t_buf_t                b = { 0 }, c = { 0 };
    store_dbs_t           *s, *s2;
    store_rdb_load_info_t  info;
    ob_err_t               err;
    uint64_t               x = 42;
    size_t                 i, full, at, rounds;
    int                    k, n, ok = 0;

    t_fix_init(&f, 64 * T_MIB, 65536);
    s = t_dbs(&f);
    t_fill(&f, s);
    /* the big members make the file long: keep what fuzzes well */
    store_db_delete(store_dbs_db(s, 3), "biglist", 7, T_NOW);
    store_db_delete(store_dbs_db(s, 15), "hht", 3, T_NOW);
    store_db_delete(store_dbs_db(s, 0), "hset", 4, T_NOW);
    t_save(s, &b, 1, 0);
    full = b.n - 9;                     /* without EOF and checksum */
    b.n = full;
    /* the old types of test_old_types after it, then EOF */
    t_hex(&b, "fe 01 01 02 6c31 02 01 78 c0 0c"
              "03 02 7a33 02 01 61 03 312e35 01 62 fe"
              "09 02 7a6d 0e 02 01 66 02 01 76 76 00 01 67 01 00 77 ff"
              "0a 02 7a6c 14 14000000 10000000 0300"
              " 00 02 6162  04 f8  02 fe fe ff"
              "0c 02 7a7a 18 18000000 12000000 0400"
              " 00 01 63 03 f3 02 01 64 03 03 322e35 ff"
              "0e 02 7171 02"
              " 0e 0e000000 0a000000 0100 00 01 61 ff"
              " 0e 0e000000 0a000000 0100 00 01 62 ff"
              "ff 0000000000000000");
    s2 = t_dbs(&f);
    ck_assert_msg(t_load(s2, &b, 0, &info, &err) == OB_OK, "%s", err.msg);
    store_dbs_flushall(s2);
    full = b.n;

    /* CHECK_RDB_FUZZ_N=<n> runs more of them */
    rounds = getenv("CHECK_RDB_FUZZ_N") != NULL
             ? strtoul(getenv("CHECK_RDB_FUZZ_N"), NULL, 10) : 3000;
    for (i = 0; i < rounds; i++) {
        c.n = 0;
        t_put(&c, b.p, full);
        n = 1 + (int) (t_rand(&x) % 4);
        for (k = 0; k < n; k++) {
            at = 9 + t_rand(&x) % (full - 17);
            c.p[at] = (uint8_t) t_rand(&x);
        }
        if (t_rand(&x) % 4 == 0) {
            c.n = 9 + t_rand(&x) % (full - 9);
        }
        ok += t_load(s2, &c, 0, &info, &err) == OB_OK;
        store_dbs_flushall(s2);
    }
    (void) ok;
    store_dbs_free(s2);
    store_dbs_free(s);
    free(b.p);
    free(c.p);
    t_fix_fini(&f);
}
END_TEST


/* store_rdb_save_file: the file appears whole under its name, no temp
 * file stays behind. */
START_TEST(test_save_file)
{
    t_fix_t                f;
    store_dbs_t           *s, *s2;
    store_rdb_save_opts_t  o = { .compress = 1, .checksum = 1,
                                 .now_ms = T_NOW };
    store_rdb_load_info_t  info;
    store_rdb_load_opts_t  lo = { .now_ms = T_NOW, .drop_expired = 1 };
    ob_err_t               err;
    char                   dir[] = "/tmp/check_rdb_XXXXXX", path[256];
    char                   tmp[300];
    int                    fd;

    t_fix_init(&f, 16 * T_MIB, 65536);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/dump.rdb", dir);
    s = t_dbs(&f);
    t_set(s, 2, "k", store_obj_string_new(f.a, f.owner, "v", 1), 0);
    ck_assert_int_eq(store_rdb_save_file(s, path, &o, NULL, &err), OB_OK);
    snprintf(tmp, sizeof(tmp), "%s/temp-%d.rdb", dir, (int) getpid());
    ck_assert_int_ne(access(tmp, F_OK), 0);

    fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    s2 = t_dbs(&f);
    ck_assert_int_eq(store_rdb_load_fd(s2, fd, &lo, &info, &err), OB_OK);
    close(fd);
    t_str_is(t_get(s2, 2, "k"), "v");
    store_dbs_free(s2);

    /* a directory that does not exist: an error naming the temp file */
    snprintf(path, sizeof(path), "%s/nope/dump.rdb", dir);
    ck_assert_int_eq(store_rdb_save_file(s, path, &o, NULL, &err), OB_ERR);
    ck_assert(strstr(err.msg, "temp-") != NULL);

    snprintf(path, sizeof(path), "%s/dump.rdb", dir);
    unlink(path);
    rmdir(dir);
    store_dbs_free(s);
    t_fix_fini(&f);
}
END_TEST


Suite *
store_rdb_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("store_rdb");

    tc = tcase_create("format");
    tcase_add_test(tc, test_crc64);
    tcase_add_test(tc, test_lengths);
    tcase_add_test(tc, test_strings);
    tcase_add_test(tc, test_hostile_strings);
    suite_add_tcase(s, tc);

    tc = tcase_create("load");
    tcase_add_test(tc, test_real_empty);
    tcase_add_test(tc, test_real_values);
    tcase_add_test(tc, test_old_types);
    tcase_add_test(tc, test_aux_and_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("round_trip");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_expired);
    tcase_add_test(tc, test_truncated_and_corrupt);
    tcase_add_test(tc, test_fuzz);
    tcase_add_test(tc, test_save_file);
    suite_add_tcase(s, tc);

    return s;
}
