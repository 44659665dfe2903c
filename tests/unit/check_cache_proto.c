/*
 * check_cache_proto.c: unit tests of cache/cache_proto.c, the pure parsing
 * half of the memcached text protocol: framing, tokenizer, numbers, base64.
 *
 * The expected values are memcached 1.6.18's (try_read_command_ascii,
 * tokenize_command, util.c's safe_strto*), checked against a real server
 * where the integration tests cannot reach (e.g. the exact number rules).
 * Framing is fed every request cut at every byte offset: each prefix
 * before the "\n" must ask for more, and from the "\n" on the answer must
 * be the same whatever follows.
 */
#include "check_suites.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_int.h"


/* ---- helpers ------------------------------------------------------------ */

static int
t_line(const char *s, size_t len, size_t *line_len, size_t *consumed)
{
    return cache_proto_line((const uint8_t *) s, len, line_len, consumed);
}


static ob_str_t
t_str(const char *s)
{
    ob_str_t  t;

    t.data = (const uint8_t *) s;
    t.len = strlen(s);

    return t;
}


static int
t_tok_is(const ob_str_t *t, const char *s)
{
    return t->len == strlen(s) && memcmp(t->data, s, t->len) == 0;
}


/* ---- framing ------------------------------------------------------------ */

typedef struct t_frame_s {
    const char *in;          /* the bytes, up to and after the first line */
    size_t      line_len;    /* expected line length (without \r\n) */
    size_t      consumed;    /* expected bytes up to and including \n */
} t_frame_t;

static const t_frame_t t_frames[] = {
    { "get a\r\n",                   5,  7 },
    { "get a\n",                     5,  6 },
    { "\r\n",                        0,  2 },
    { "\n",                          0,  1 },
    { "set a 0 0 3\r\nabc\r\n",      11, 13 },
    { "a\r\r\n",                     2,  4 },   /* only one \r is dropped */
    { "a\rb\r\n",                    3,  5 },   /* a \r inside stays */
    { "version\r\nversion\r\n",      7,  9 },   /* pipelined: first line */
    { "get a\tb \r\n",               8,  10 },
    { "\r\r\n",                      1,  3 },
};


/* Every cut of every request: AGAIN before the "\n", OK after with the
 * same line. */
START_TEST(test_line_every_split)
{
    const t_frame_t  *f;
    size_t            len, cut, line_len, consumed;
    int               rc;

    f = &t_frames[_i];
    len = strlen(f->in);

    for (cut = 0; cut <= len; cut++) {
        line_len = 12345;
        consumed = 12345;
        rc = t_line(f->in, cut, &line_len, &consumed);

        if (cut < f->consumed) {
            ck_assert_msg(rc == OB_AGAIN, "%zu bytes of case %d: rc %d",
                          cut, _i, rc);
        } else {
            ck_assert_msg(rc == OB_OK, "%zu bytes of case %d: rc %d",
                          cut, _i, rc);
            ck_assert_uint_eq(line_len, f->line_len);
            ck_assert_uint_eq(consumed, f->consumed);
        }
    }
}
END_TEST


START_TEST(test_line_limit)
{
    char    *buf;
    size_t   line_len, consumed, n;

    n = 8192;
    buf = malloc(n + 1);
    ck_assert_ptr_nonnull(buf);

    /* up to 2048 bytes without "\n": wait; 2049: close (memcached's
     * rbytes > 2048) */
    memset(buf, 'x', n);
    ck_assert_int_eq(t_line(buf, 2048, &line_len, &consumed), OB_AGAIN);
    ck_assert_int_eq(t_line(buf, 2049, &line_len, &consumed), OB_PROTO_ERR);
    ck_assert_int_eq(t_line(buf, n, &line_len, &consumed), OB_PROTO_ERR);

    /* a set line, too: only get/gets may be longer */
    memcpy(buf, "set ", 4);
    ck_assert_int_eq(t_line(buf, 2049, &line_len, &consumed), OB_PROTO_ERR);

    /* a long multiget waits for its "\n" however long it is */
    memcpy(buf, "get ", 4);
    ck_assert_int_eq(t_line(buf, n, &line_len, &consumed), OB_AGAIN);
    memcpy(buf, "gets ", 5);
    ck_assert_int_eq(t_line(buf, n, &line_len, &consumed), OB_AGAIN);

    /* ... and is a line once it ends */
    buf[n - 1] = '\n';
    ck_assert_int_eq(t_line(buf, n, &line_len, &consumed), OB_OK);
    ck_assert_uint_eq(line_len, n - 1);
    ck_assert_uint_eq(consumed, n);
    buf[n - 1] = 'x';

    /* "get" needs its space; names are case-sensitive; gat is no get */
    memcpy(buf, "getx", 4);
    ck_assert_int_eq(t_line(buf, n, &line_len, &consumed), OB_PROTO_ERR);
    memcpy(buf, "GET ", 4);
    ck_assert_int_eq(t_line(buf, n, &line_len, &consumed), OB_PROTO_ERR);
    memcpy(buf, "gat ", 4);
    ck_assert_int_eq(t_line(buf, n, &line_len, &consumed), OB_PROTO_ERR);

    /* leading spaces are skipped, up to 100 of them */
    memset(buf, ' ', 100);
    memcpy(buf + 100, "get ", 4);
    ck_assert_int_eq(t_line(buf, n, &line_len, &consumed), OB_AGAIN);
    memset(buf, ' ', 101);
    memcpy(buf + 101, "get ", 4);
    ck_assert_int_eq(t_line(buf, n, &line_len, &consumed), OB_PROTO_ERR);

    /* all spaces */
    memset(buf, ' ', n);
    ck_assert_int_eq(t_line(buf, n, &line_len, &consumed), OB_PROTO_ERR);

    /* a long line whose "\n" is already here is a line, whatever it is */
    memset(buf, 'x', n);
    buf[5000] = '\n';
    ck_assert_int_eq(t_line(buf, n, &line_len, &consumed), OB_OK);
    ck_assert_uint_eq(line_len, 5000);
    ck_assert_uint_eq(consumed, 5001);

    free(buf);
}
END_TEST


/*
 * cache_proto_line_may_grow, the limit the connection applies while it
 * resumes its search for "\n": it sees only the first CACHE_LINE_HEAD
 * bytes, and must decide as cache_proto_line does on the whole buffer.
 */
START_TEST(test_line_may_grow)
{
    static const char *const heads[] = {
        "get a b c", "gets k", "set k 0 0 1", "getx", "gat 0 k", "GET k",
        "", "get", "gets",
    };
    char     *buf;
    size_t    n, h, sp, len, line_len, consumed, lens[] = { 1, 2048, 2049,
                                                             2100, 8192 };
    size_t    li;
    int       whole, head;

    n = 8192;
    buf = malloc(n);
    ck_assert_ptr_nonnull(buf);

    for (h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
        for (sp = 0; sp <= 102; sp += 50) {
            memset(buf, 'x', n);
            memset(buf, ' ', sp + (sp == 100 ? 1 : 0));
            memcpy(buf + sp + (sp == 100), heads[h], strlen(heads[h]));
            for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
                len = lens[li];
                whole = cache_proto_line((const uint8_t *) buf, len,
                                         &line_len, &consumed);
                head = cache_proto_line_may_grow((const uint8_t *) buf,
                                                 OB_MIN(len, CACHE_LINE_HEAD),
                                                 len);
                ck_assert_msg(whole == head, "\"%s\" after %zu spaces, "
                              "%zu bytes: %d vs %d", heads[h], sp, len,
                              whole, head);
            }
        }
    }

    /* what it answers, spelled out */
    memcpy(buf, "get k", 5);
    ck_assert_int_eq(cache_proto_line_may_grow((const uint8_t *) buf,
                                               CACHE_LINE_HEAD, 1 << 20),
                     OB_AGAIN);
    memcpy(buf, "set k", 5);
    ck_assert_int_eq(cache_proto_line_may_grow((const uint8_t *) buf,
                                               CACHE_LINE_HEAD, 2048),
                     OB_AGAIN);
    ck_assert_int_eq(cache_proto_line_may_grow((const uint8_t *) buf,
                                               CACHE_LINE_HEAD, 2049),
                     OB_PROTO_ERR);

    free(buf);
}
END_TEST


/*
 * The one decimal reader of the protocol and of incr's stored value: as
 * memcached's safe_strtoull, a "-" number wraps modulo 2^64 and is
 * refused only when the result looks negative as a signed number.
 */
START_TEST(test_u64_text)
{
    uint64_t  v;

    ck_assert(cache_proto_u64_text("-9223372036854775809", 20, &v) == OB_OK);
    ck_assert(v == 9223372036854775807ull);
    ck_assert(cache_proto_u64_text("-9223372036854775808", 20, &v) != OB_OK);
    ck_assert(cache_proto_u64_text("-1", 2, &v) != OB_OK);
    ck_assert(cache_proto_u64_text("-0", 2, &v) == OB_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert(cache_proto_u64_text("18446744073709551615", 20, &v) == OB_OK);
    ck_assert(v == UINT64_MAX);
    ck_assert(cache_proto_u64_text("18446744073709551616", 20, &v) != OB_OK);
    /* a stored value: space padding after an in-place decr, then the
     * slice's end (the "\r\n" is not part of it) */
    ck_assert(cache_proto_u64_text("99 ", 3, &v) == OB_OK);
    ck_assert_uint_eq(v, 99);
    ck_assert(cache_proto_u64_text("  12 ", 5, &v) == OB_OK);
    ck_assert_uint_eq(v, 12);
    ck_assert(cache_proto_u64_text("12x", 3, &v) != OB_OK);
    ck_assert(cache_proto_u64_text("", 0, &v) != OB_OK);
    /* the slice ends where the value ends, even before more digits */
    ck_assert(cache_proto_u64_text("123456", 3, &v) == OB_OK);
    ck_assert_uint_eq(v, 123);
}
END_TEST


/* ---- tokenizer ---------------------------------------------------------- */

START_TEST(test_tokenize_basic)
{
    ob_str_t     t[CACHE_MAX_TOKENS];
    const char  *s;
    size_t       n;

    s = "set a 0 0 1";
    n = cache_proto_tokenize(s, strlen(s), t, CACHE_MAX_TOKENS);
    ck_assert_uint_eq(n, 5);
    ck_assert(t_tok_is(&t[0], "set"));
    ck_assert(t_tok_is(&t[1], "a"));
    ck_assert(t_tok_is(&t[4], "1"));
    ck_assert_ptr_eq(t[0].data, (const uint8_t *) s);   /* slices, no copy */

    /* leading, trailing and repeated spaces */
    s = "   get    a  b   ";
    n = cache_proto_tokenize(s, strlen(s), t, CACHE_MAX_TOKENS);
    ck_assert_uint_eq(n, 3);
    ck_assert(t_tok_is(&t[0], "get"));
    ck_assert(t_tok_is(&t[1], "a"));
    ck_assert(t_tok_is(&t[2], "b"));

    /* python-memcached's trailing space on storage lines */
    s = "set s 16 0 6 ";
    n = cache_proto_tokenize(s, strlen(s), t, CACHE_MAX_TOKENS);
    ck_assert_uint_eq(n, 5);
    ck_assert(t_tok_is(&t[4], "6"));

    /* empty and blank lines */
    ck_assert_uint_eq(cache_proto_tokenize("", 0, t, CACHE_MAX_TOKENS), 0);
    ck_assert_uint_eq(cache_proto_tokenize("    ", 4, t, CACHE_MAX_TOKENS), 0);

    /* only 0x20 separates: tabs, \r and other bytes are in the token */
    s = "get a\tb c\rd\x01";
    n = cache_proto_tokenize(s, strlen(s), t, CACHE_MAX_TOKENS);
    ck_assert_uint_eq(n, 3);
    ck_assert(t_tok_is(&t[1], "a\tb"));
    ck_assert(t_tok_is(&t[2], "c\rd\x01"));

    /* the length bounds the scan: bytes past it are not looked at */
    s = "get a b";
    n = cache_proto_tokenize(s, 5, t, CACHE_MAX_TOKENS);
    ck_assert_uint_eq(n, 2);
    ck_assert(t_tok_is(&t[1], "a"));
}
END_TEST


START_TEST(test_tokenize_max)
{
    ob_str_t     t[CACHE_MAX_TOKENS];
    char         line[512], rest[512];
    const char  *s23;
    size_t       n, len, i;

    /* 30 tokens into 24 slots: 23 tokens, then the rest of the line */
    len = 0;
    for (i = 0; i < 30; i++) {
        len += (size_t) snprintf(line + len, sizeof(line) - len, "%st%zu",
                                 i ? "  " : "", i);
    }
    n = cache_proto_tokenize(line, len, t, CACHE_MAX_TOKENS);
    ck_assert_uint_eq(n, CACHE_MAX_TOKENS);
    ck_assert(t_tok_is(&t[0], "t0"));
    ck_assert(t_tok_is(&t[22], "t22"));
    snprintf(rest, sizeof(rest), "%.*s", (int) t[23].len,
             (const char *) t[23].data);
    ck_assert_str_eq(rest, "t23  t24  t25  t26  t27  t28  t29");

    /* trailing spaces are not part of the rest */
    memcpy(line + len, "   ", 3);
    n = cache_proto_tokenize(line, len + 3, t, CACHE_MAX_TOKENS);
    ck_assert_uint_eq(n, CACHE_MAX_TOKENS);
    ck_assert_uint_eq(t[23].len, strlen("t23  t24  t25  t26  t27  t28  t29"));

    /* exactly 24 tokens: the last slot is just the 24th token */
    len = 0;
    for (i = 0; i < 24; i++) {
        len += (size_t) snprintf(line + len, sizeof(line) - len, "%st%zu",
                                 i ? " " : "", i);
    }
    memcpy(line + len, "  ", 2);
    n = cache_proto_tokenize(line, len + 2, t, CACHE_MAX_TOKENS);
    ck_assert_uint_eq(n, 24);
    ck_assert(t_tok_is(&t[23], "t23"));

    /* 23 tokens and trailing spaces: no phantom 24th token */
    s23 = "a b c d e f g h i j k l m n o p q r s t u v w   ";
    n = cache_proto_tokenize(s23, strlen(s23), t, CACHE_MAX_TOKENS);
    ck_assert_uint_eq(n, 23);

    /* small tables */
    n = cache_proto_tokenize("a b  c ", 7, t, 2);
    ck_assert_uint_eq(n, 2);
    ck_assert(t_tok_is(&t[0], "a"));
    ck_assert(t_tok_is(&t[1], "b  c"));

    n = cache_proto_tokenize(" a b ", 5, t, 1);
    ck_assert_uint_eq(n, 1);
    ck_assert(t_tok_is(&t[0], "a b"));

    ck_assert_uint_eq(cache_proto_tokenize("a b", 3, t, 0), 0);
}
END_TEST


/* ---- numbers ------------------------------------------------------------ */

typedef struct t_num_s {
    const char *in;
    int         ok;
    int64_t     val;         /* read as the function's type */
} t_num_t;


START_TEST(test_u64)
{
    static const struct {
        const char *in;
        int         ok;
        uint64_t    val;
    } cases[] = {
        { "0", 1, 0 },
        { "1", 1, 1 },
        { "00012", 1, 12 },
        { "+5", 1, 5 },
        { "-0", 1, 0 },                        /* strtoull accepts it */
        { "5\t", 1, 5 },                       /* white space may follow */
        { "5\r", 1, 5 },
        { "\t5", 1, 5 },                       /* and precede */
        { "5\tx", 1, 5 },                      /* only the next byte counts */
        { "9223372036854775808", 1, 9223372036854775808ULL },
        { "18446744073709551615", 1, UINT64_MAX },
        { "000000000000000000000000018446744073709551615", 1, UINT64_MAX },
        { "18446744073709551616", 0, 0 },      /* ERANGE */
        { "99999999999999999999", 0, 0 },
        { "-1", 0, 0 },
        { "-18446744073709551615", 1, 1 },     /* -(2^64-1) mod 2^64 */
        { "", 0, 0 },
        { "+", 0, 0 },
        { "-", 0, 0 },
        { "\t", 0, 0 },
        { "abc", 0, 0 },
        { "5x", 0, 0 },
        { "1.5", 0, 0 },
        { "0x10", 0, 0 },
        { "1 2", 1, 1 },                       /* a space ends it */
    };
    ob_str_t  t;
    uint64_t  v;
    size_t    i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t = t_str(cases[i].in);
        v = 777;
        ck_assert_msg((cache_proto_u64(&t, &v) == OB_OK) == cases[i].ok,
                      "u64 \"%s\"", cases[i].in);
        if (cases[i].ok) {
            ck_assert_msg(v == cases[i].val, "u64 \"%s\" = %llu", cases[i].in,
                          (unsigned long long) v);
        } else {
            ck_assert_msg(v == 777, "u64 \"%s\" wrote its output",
                          cases[i].in);
        }
    }
}
END_TEST


START_TEST(test_u32)
{
    static const t_num_t cases[] = {
        { "0", 1, 0 },
        { "5", 1, 5 },
        { "4294967295", 1, 4294967295LL },
        { "4294967296", 1, 0 },                /* truncated to 32 bits */
        { "4294967301", 1, 5 },
        { "18446744073709551615", 1, 4294967295LL },
        { "18446744073709551616", 0, 0 },
        { "-0", 1, 0 },
        { "-1", 0, 0 },
        { "-4294967296", 0, 0 },
        { "1.5", 0, 0 },
        { "abc", 0, 0 },
        { "", 0, 0 },
        { "+7", 1, 7 },
        { "7\t", 1, 7 },
    };
    ob_str_t  t;
    uint32_t  v;
    size_t    i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t = t_str(cases[i].in);
        v = 777;
        ck_assert_msg((cache_proto_u32(&t, &v) == OB_OK) == cases[i].ok,
                      "u32 \"%s\"", cases[i].in);
        if (cases[i].ok) {
            ck_assert_msg(v == (uint32_t) cases[i].val, "u32 \"%s\" = %u",
                          cases[i].in, v);
        }
    }
}
END_TEST


START_TEST(test_i32)
{
    static const t_num_t cases[] = {
        { "0", 1, 0 },
        { "-1", 1, -1 },
        { "2592000", 1, 2592000 },
        { "2147483647", 1, 2147483647 },
        { "2147483648", 1, -2147483647LL - 1 },   /* low 32 bits */
        { "4294967296", 1, 0 },
        { "4294967299", 1, 3 },                   /* `set k 0 0 4294967299` */
        { "-2147483648", 1, -2147483647LL - 1 },
        { "-2147483649", 1, 2147483647 },
        { "9223372036854775807", 1, -1 },
        { "-9223372036854775808", 1, 0 },
        { "9223372036854775808", 0, 0 },          /* strtol's ERANGE */
        { "-9223372036854775809", 0, 0 },
        { "+3", 1, 3 },
        { "-0", 1, 0 },
        { "3\t", 1, 3 },
        { "abc", 0, 0 },
        { "1.5", 0, 0 },
        { "", 0, 0 },
        { "-", 0, 0 },
    };
    ob_str_t  t;
    int32_t   v;
    size_t    i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t = t_str(cases[i].in);
        v = 777;
        ck_assert_msg((cache_proto_i32(&t, &v) == OB_OK) == cases[i].ok,
                      "i32 \"%s\"", cases[i].in);
        if (cases[i].ok) {
            ck_assert_msg(v == (int32_t) cases[i].val, "i32 \"%s\" = %d",
                          cases[i].in, v);
        }
    }
}
END_TEST


START_TEST(test_i64)
{
    static const t_num_t cases[] = {
        { "0", 1, 0 },
        { "-1", 1, -1 },
        { "4294967296", 1, 4294967296LL },
        { "9223372036854775807", 1, INT64_MAX },
        { "-9223372036854775808", 1, INT64_MIN },
        { "9223372036854775808", 0, 0 },
        { "-9223372036854775809", 0, 0 },
        { "18446744073709551616", 0, 0 },
        { "12abc", 0, 0 },
        { "\t-12\t", 1, -12 },
    };
    ob_str_t  t;
    int64_t   v;
    size_t    i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t = t_str(cases[i].in);
        v = 777;
        ck_assert_msg((cache_proto_i64(&t, &v) == OB_OK) == cases[i].ok,
                      "i64 \"%s\"", cases[i].in);
        if (cases[i].ok) {
            ck_assert_msg(v == cases[i].val, "i64 \"%s\" = %lld",
                          cases[i].in, (long long) v);
        }
    }
}
END_TEST


/* A token is a slice: the parser must stop at its end, not at a NUL. */
START_TEST(test_number_slice)
{
    ob_str_t  t;
    uint64_t  u;
    int32_t   i;

    t.data = (const uint8_t *) "12345";
    t.len = 2;
    ck_assert(cache_proto_u64(&t, &u) == OB_OK);
    ck_assert_uint_eq(u, 12);
    ck_assert(cache_proto_i32(&t, &i) == OB_OK);
    ck_assert_int_eq(i, 12);

    t.data = (const uint8_t *) "7x";
    t.len = 1;
    ck_assert(cache_proto_u64(&t, &u) == OB_OK);
    ck_assert_uint_eq(u, 7);

    /* a '-' outside the slice does not count */
    t.data = (const uint8_t *) "18446744073709551615-";
    t.len = 20;
    ck_assert(cache_proto_u64(&t, &u) == OB_OK);
    ck_assert(u == UINT64_MAX);
    /* inside it does, even after white space (strchr over the token) */
    t.len = 21;
    ck_assert(cache_proto_u64(&t, &u) != OB_OK);
    t = t_str("18446744073709551615\t-");
    ck_assert(cache_proto_u64(&t, &u) != OB_OK);
    t = t_str("5\t-");
    ck_assert(cache_proto_u64(&t, &u) == OB_OK);      /* small: no sign check */
    ck_assert_uint_eq(u, 5);
}
END_TEST


/*
 * The same rules as memcached's util.c states them, on top of libc's
 * strto* (which need NUL-terminated strings): the oracle for a sweep of
 * inputs that the hand-written scanner must agree with.
 */
static int
t_ref_strtoull(const char *s, unsigned long long *out)
{
    char                *end;
    unsigned long long   v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno == ERANGE || end == s) {
        return 0;
    }
    if (!(isspace((unsigned char) *end) || *end == '\0')) {
        return 0;
    }
    if ((long long) v < 0 && strchr(s, '-') != NULL) {
        return 0;
    }
    *out = v;
    return 1;
}


static int
t_ref_strtol(const char *s, long *out)
{
    char  *end;
    long   v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno == ERANGE || end == s) {
        return 0;
    }
    if (!(isspace((unsigned char) *end) || *end == '\0')) {
        return 0;
    }
    *out = v;
    return 1;
}


START_TEST(test_numbers_vs_libc)
{
    static const char *parts[] = {
        "", "0", "1", "-", "+", " ", "\t", "x", "9", "-1", "00",
        "2147483647", "2147483648", "4294967295", "4294967296",
        "9223372036854775807", "9223372036854775808",
        "18446744073709551615", "18446744073709551616", "\v", "\r", ".5",
    };
    size_t               np, a, b, c;
    char                 s[128];
    ob_str_t             t;
    unsigned long long   ru;
    long                 rl;
    uint64_t             u64;
    uint32_t             u32;
    int32_t              i32;
    int64_t              i64;
    int                  ok;

    np = sizeof(parts) / sizeof(parts[0]);

    for (a = 0; a < np; a++) {
        for (b = 0; b < np; b++) {
            for (c = 0; c < np; c++) {
                snprintf(s, sizeof(s), "%s%s%s", parts[a], parts[b],
                         parts[c]);
                t = t_str(s);

                ok = t_ref_strtoull(s, &ru);
                ck_assert_msg((cache_proto_u64(&t, &u64) == OB_OK) == ok,
                              "u64 \"%s\"", s);
                ck_assert_msg(!ok || u64 == ru, "u64 \"%s\"", s);
                ck_assert_msg((cache_proto_u32(&t, &u32) == OB_OK) == ok,
                              "u32 \"%s\"", s);
                ck_assert_msg(!ok || u32 == (uint32_t) ru, "u32 \"%s\"", s);

                ok = t_ref_strtol(s, &rl);
                ck_assert_msg((cache_proto_i64(&t, &i64) == OB_OK) == ok,
                              "i64 \"%s\"", s);
                ck_assert_msg(!ok || i64 == rl, "i64 \"%s\"", s);
                ck_assert_msg((cache_proto_i32(&t, &i32) == OB_OK) == ok,
                              "i32 \"%s\"", s);
                ck_assert_msg(!ok || i32 == (int32_t) rl, "i32 \"%s\"", s);
            }
        }
    }
}
END_TEST


/* ---- base64 ------------------------------------------------------------- */

START_TEST(test_b64_vectors)
{
    static const char *vec[][2] = {     /* RFC 4648 section 10 */
        { "", "" },
        { "f", "Zg==" },
        { "fo", "Zm8=" },
        { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" },
        { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" },
    };
    char    out[64];
    long    n;
    size_t  i;

    for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        n = cache_proto_b64_encode(vec[i][0], strlen(vec[i][0]), out,
                                   sizeof(out));
        ck_assert_int_eq(n, (long) strlen(vec[i][1]));
        ck_assert(memcmp(out, vec[i][1], (size_t) n) == 0);

        n = cache_proto_b64_decode(vec[i][1], strlen(vec[i][1]), out,
                                   sizeof(out));
        ck_assert_int_eq(n, (long) strlen(vec[i][0]));
        ck_assert(memcmp(out, vec[i][0], (size_t) n) == 0);
    }

    /* the binary key of the reference's ms example: "\0\1bin" */
    n = cache_proto_b64_decode("AAFiaW4=", 8, out, sizeof(out));
    ck_assert_int_eq(n, 5);
    ck_assert(memcmp(out, "\0\1bin", 5) == 0);
    n = cache_proto_b64_encode("\0\1bin", 5, out, sizeof(out));
    ck_assert_int_eq(n, 8);
    ck_assert(memcmp(out, "AAFiaW4=", 8) == 0);
}
END_TEST


START_TEST(test_b64_roundtrip)
{
    char    in[300], enc[512], dec[300];
    long    ne, nd;
    size_t  len, i;

    for (i = 0; i < sizeof(in); i++) {
        in[i] = (char) (i * 37 + 11);
    }

    for (len = 0; len <= 256; len++) {
        ne = cache_proto_b64_encode(in, len, enc, sizeof(enc));
        ck_assert_int_eq(ne, (long) ((len + 2) / 3 * 4));

        /* exactly the room it needs is enough; one byte less is not */
        nd = cache_proto_b64_decode(enc, (size_t) ne, dec, len);
        ck_assert_int_eq(nd, (long) len);
        ck_assert(memcmp(dec, in, len) == 0);
        if (len > 0) {
            ck_assert_int_eq(cache_proto_b64_decode(enc, (size_t) ne, dec,
                                                    len - 1), -1);
            ck_assert_int_eq(cache_proto_b64_encode(in, len, enc,
                                                    (size_t) ne - 1), -1);
        }
    }

    /* decoding in place, as meta does with its key */
    ne = cache_proto_b64_encode(in, 200, enc, sizeof(enc));
    nd = cache_proto_b64_decode(enc, (size_t) ne, enc, sizeof(enc));
    ck_assert_int_eq(nd, 200);
    ck_assert(memcmp(enc, in, 200) == 0);
}
END_TEST


START_TEST(test_b64_bad)
{
    static const char *bad[] = {
        "Zg=",          /* not a multiple of 4 */
        "Zg",
        "Z",
        "Zm9vY",
        "Zg=a",         /* '=' before the end */
        "=Zg=",
        "Z===",         /* too much padding */
        "====",
        "Zm9v!A==",     /* outside the alphabet */
        "Zm9v YQ=",
        "Zm9vYg==Zm9v", /* padding in the middle */
        "Zm-_",         /* base64url is another alphabet */
        "Zm9\n",
    };
    char    out[64];
    size_t  i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(cache_proto_b64_decode(bad[i], strlen(bad[i]), out,
                                             sizeof(out)) == -1,
                      "decoded \"%s\"", bad[i]);
    }
}
END_TEST


/* The reply formatter against snprintf, at the edges of each width. */
START_TEST(test_u64_format)
{
    static const uint64_t vals[] = {
        0, 1, 9, 10, 99, 100, 4294967295ULL, 4294967296ULL,
        1000000000000000000ULL, 18446744073709551615ULL
    };
    char   got[24], want[24];
    size_t i, n;

    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        n = cache_proto_u64_format(vals[i], got);
        got[n] = '\0';
        snprintf(want, sizeof(want), "%llu", (unsigned long long) vals[i]);
        ck_assert_str_eq(got, want);
    }
}
END_TEST


Suite *
cache_proto_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("cache_proto");

    tc = tcase_create("framing");
    tcase_add_loop_test(tc, test_line_every_split, 0,
                        (int) (sizeof(t_frames) / sizeof(t_frames[0])));
    tcase_add_test(tc, test_line_limit);
    tcase_add_test(tc, test_line_may_grow);
    suite_add_tcase(s, tc);

    tc = tcase_create("tokenizer");
    tcase_add_test(tc, test_tokenize_basic);
    tcase_add_test(tc, test_tokenize_max);
    suite_add_tcase(s, tc);

    tc = tcase_create("numbers");
    tcase_add_test(tc, test_u64);
    tcase_add_test(tc, test_u32);
    tcase_add_test(tc, test_i32);
    tcase_add_test(tc, test_i64);
    tcase_add_test(tc, test_number_slice);
    tcase_add_test(tc, test_u64_text);
    tcase_add_test(tc, test_numbers_vs_libc);
    tcase_add_test(tc, test_u64_format);
    suite_add_tcase(s, tc);

    tc = tcase_create("base64");
    tcase_add_test(tc, test_b64_vectors);
    tcase_add_test(tc, test_b64_roundtrip);
    tcase_add_test(tc, test_b64_bad);
    suite_add_tcase(s, tc);

    return s;
}
