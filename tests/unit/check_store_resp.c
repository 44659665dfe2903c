/*
 * check_store_resp.c: unit tests of store/store_resp.c (the RESP request
 * parser) and store/store_reply.c (the RESP2/RESP3 reply writers).
 *
 * The expected values are redis-server 7.0.15's, as recorded in
 * ../shared/reference/redis-protocol.md.  Every request in the table is
 * fed whole, cut in two at every byte offset, and one byte at a time, with
 * an argument array that starts at one entry (so the OB_BUSY growth path
 * runs on every request of more than one argument): each way must give
 * the same transcript of requests, errors and pending bytes.
 */
#include "check_suites.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_resp.h"
#include "store/store_reply.h"


/* ---- a driver that feeds bytes and writes a transcript -------------------- */

/*
 * Transcript: each request as "[arg|arg]" (bytes outside 0x20-0x7e as
 * \xHH), an error as "E:<text>", and "+" at the end when bytes of an
 * unfinished request are pending.
 */
typedef struct t_out_s {
    char    s[4096];
    size_t  len;
} t_out_t;


static void
t_put(t_out_t *o, const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        ck_assert_uint_lt(o->len + 5, sizeof(o->s));
        if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e) {
            o->len += (size_t) snprintf(o->s + o->len, 5, "\\x%02x",
                                        (unsigned char) s[i]);
        } else {
            o->s[o->len++] = s[i];
        }
    }
    o->s[o->len] = '\0';
}


static void
t_parser_new(store_resp_parser_t *p, size_t cap)
{
    store_resp_parser_init(p);
    p->argv = malloc(cap * sizeof(store_arg_t));
    ck_assert_ptr_nonnull(p->argv);
    p->argv_cap = cap;
}


/* Grows p->argv as OB_BUSY asks, checking that it asks for more room. */
static void
t_grow(store_resp_parser_t *p)
{
    ck_assert_uint_gt(p->argv_want, p->argv_cap);
    ck_assert_uint_eq(p->argc, p->argv_cap);
    p->argv = realloc(p->argv, p->argv_want * sizeof(store_arg_t));
    ck_assert_ptr_nonnull(p->argv);
    p->argv_cap = p->argv_want;
}


/*
 * Feeds in[0..len) to p: first `first` bytes, then `step` more at a time
 * (the buffer the parser sees is in[start..avail), start moving on as the
 * parser consumes).  Appends the transcript to o; returns parse calls.
 */
static size_t
t_feed(store_resp_parser_t *p, const uint8_t *in, size_t len, size_t first,
    size_t step, t_out_t *o)
{
    store_req_t  req;
    size_t       start, avail, consumed, calls, i;
    uint8_t     *arg;
    int          rc;

    start = 0;
    avail = OB_MIN(first, len);
    calls = 0;

    for (;;) {
        rc = store_resp_parse(p, in + start, avail - start, &consumed, &req);
        calls++;
        ck_assert_uint_le(consumed, avail - start);

        if (rc == OB_OK) {
            ck_assert_uint_ge(req.argc, 1);
            ck_assert_uint_gt(consumed, 0);
            t_put(o, "[", 1);
            for (i = 0; i < req.argc; i++) {
                ck_assert_uint_le(req.argv[i].off + req.argv[i].len,
                                  consumed);
                if (i > 0) {
                    t_put(o, "|", 1);
                }
                if (req.argv[i].flags & STORE_ARG_QUOTED) {
                    arg = malloc(req.argv[i].len + 1);
                    ck_assert_ptr_nonnull(arg);
                    t_put(o, (char *) arg,
                          store_resp_arg_unquote(in + start + req.argv[i].off,
                                                 req.argv[i].len, arg));
                    free(arg);
                } else {
                    t_put(o, (const char *) in + start + req.argv[i].off,
                          req.argv[i].len);
                }
            }
            t_put(o, "]", 1);
            start += consumed;
            continue;
        }

        start += consumed;

        if (rc == OB_BUSY) {
            t_grow(p);
            continue;
        }
        if (rc == OB_PROTO_ERR) {
            ck_assert_uint_gt(req.err_len, 0);
            t_put(o, "E:", 2);
            t_put(o, req.err, req.err_len);
            return calls;
        }

        ck_assert_int_eq(rc, OB_AGAIN);
        if (avail == len) {
            if (start < len) {
                t_put(o, "+", 1);
            }
            return calls;
        }
        avail = OB_MIN(avail + step, len);
    }
}


/* ---- the request table ---------------------------------------------------- */

typedef struct t_case_s {
    const char *in;
    size_t      len;
    const char *out;
} t_case_t;

#define T(s, out)  { s, sizeof(s) - 1, out }

static const t_case_t t_cases[] = {
    /* framing */
    T("*1\r\n$4\r\nPING\r\n",                         "[PING]"),
    T("PING\r\n",                                     "[PING]"),
    T("\nPING\n",                                     "[PING]"),
    T("\r\n\r\nPING\r\n",                             "[PING]"),
    T("*0\r\n*-1\r\nPING\r\n",                        "[PING]"),
    T("*-5\r\n*1\r\n$1\r\nx\r\n",                     "[x]"),
    T("*1\r\n$4\r\nPINGxx",                           "[PING]"),
    T("*2\r\n$4\r\nECHO\r\n$3\r\nabcde\r\nPING\r\n",  "[ECHO|abc][PING]"),
    T("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n",     "[SET|k|]"),
    T("*1\r\n$3\r\na\0b\r\n",                         "[a\\x00b]"),
    T("*1\rX$1\rXy\r\n",                              "[y]"),
    T("*1\r\n$3\r\na\r\n\r\n",                        "[a\\x0d\\x0a]"),
    T("   \n",                                        ""),
    T("",                                             ""),
    /* pipelining */
    T("*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n",
      "[PING][PING][ECHO|hi]"),
    T("GET a\r\n\r\nGET b\nGET c\r\n",                "[GET|a][GET|b][GET|c]"),
    /* pending */
    T("*2\r\n$3\r\nGET\r\n",                          "+"),
    T("*1048577\r\n",                                 "+"),
    T("*1\r\n$4\r\nPING",                             "+"),
    T("*1\r\n$4\r\nPING\r",                           "+"),
    T("*1\r",                                         "+"),
    T("*1\r\n$4\r",                                   "+"),
    T("PING",                                         "+"),
    T("PING\r\n*1\r\n",                               "[PING]+"),
    /* inline tokens (sdssplitargs) */
    T("SET a \"b c\"\r\n",                            "[SET|a|b c]"),
    T("a\"b c\" d\n",                                 "[ab c|d]"),
    T("\"\\x41\\x4g\\n\\q\\\"\"\n",                   "[Ax4g\\x0aq\"]"),
    T("\"\\r\\t\\b\\a\\\\\"\n",                       "[\\x0d\\x09\\x08\\x07\\]"),
    T("'it\\'s' x\n",                                 "[it's|x]"),
    T("'a\\b' '\\n'\n",                               "[a\\b|\\n]"),
    T("\"\" ''\n",                                    "[|]"),
    T("GET  \t a \r\n",                               "[GET|a]"),
    T("a\vb\n",                                       "[a\\x0bb]"),
    T("\va\n",                                        "[a]"),
    T("\"a\"\tb\n",                                   "[a|b]"),
    T("\"a\"\vb\n",                                   "[a|b]"),
    T("GET a\0b c\n",                                 "[GET|a]"),
    T("\x01\x02 \xff\n",                              "[\\x01\\x02|\\xff]"),
    T("\"b\"c\n",                                     "E:ERR Protocol error: unbalanced quotes in request"),
    T("\"abc\n",                                      "E:ERR Protocol error: unbalanced quotes in request"),
    T("'abc\\'\n",                                    "E:ERR Protocol error: unbalanced quotes in request"),
    T("\"abc\\\"\n",                                  "E:ERR Protocol error: unbalanced quotes in request"),
    T("'a'b\n",                                       "E:ERR Protocol error: unbalanced quotes in request"),
    T("a b \"c\n",                                    "E:ERR Protocol error: unbalanced quotes in request"),
    /* protocol errors */
    T("*abc\r\n",                                     "E:ERR Protocol error: invalid multibulk length"),
    T("*+1\r\n",                                      "E:ERR Protocol error: invalid multibulk length"),
    T("* 1\r\n",                                      "E:ERR Protocol error: invalid multibulk length"),
    T("*01\r\n",                                      "E:ERR Protocol error: invalid multibulk length"),
    T("*\r\n",                                        "E:ERR Protocol error: invalid multibulk length"),
    T("*2147483648\r\n",                              "E:ERR Protocol error: invalid multibulk length"),
    T("*1\r\nx4\r\n",                                 "E:ERR Protocol error: expected '$', got 'x'"),
    T("*1\r\n\r\n",                                   "E:ERR Protocol error: expected '$', got ' '"),
    T("*1\r\n\n4\r\n",                                "E:ERR Protocol error: expected '$', got ' '"),
    T("*1\r\n\0\r\n",                                 "E:ERR Protocol error: expected '$', got '\\x00'"),
    T("*1\r\n$-1\r\n",                                "E:ERR Protocol error: invalid bulk length"),
    T("*1\r\n$ 4\r\n",                                "E:ERR Protocol error: invalid bulk length"),
    T("*1\r\n$+4\r\n",                                "E:ERR Protocol error: invalid bulk length"),
    T("*1\r\n$\r\n",                                  "E:ERR Protocol error: invalid bulk length"),
    T("*1\r\n$536870913\r\n",                         "E:ERR Protocol error: invalid bulk length"),
    T("*1\r\n$536870912\r\n",                         "+"),
    T("PING\r\n*x\r\n",                               "[PING]E:ERR Protocol error: invalid multibulk length"),
    T("*2\r\n$1\r\na\r\n:1\r\n",                      "E:ERR Protocol error: expected '$', got ':'"),
};


static void
t_check_case(const t_case_t *c, size_t first, size_t step, size_t cap)
{
    store_resp_parser_t  p;
    t_out_t              o;

    memset(&o, 0, sizeof(o));
    t_parser_new(&p, cap);
    (void) t_feed(&p, (const uint8_t *) c->in, c->len, first, step, &o);
    ck_assert_msg(strcmp(o.s, c->out) == 0,
                  "input %d fed %zu then %zu at a time (cap %zu): got \"%s\", "
                  "want \"%s\"", (int) (c - t_cases), first, step, cap, o.s,
                  c->out);
    free(p.argv);
}


/* Every request whole, cut in two at every offset, and byte by byte. */
START_TEST(test_parse_every_split)
{
    const t_case_t  *c;
    size_t           cut;

    c = &t_cases[_i];

    t_check_case(c, c->len, 1, 1);
    t_check_case(c, c->len, 1, 64);
    t_check_case(c, 0, 1, 1);
    t_check_case(c, 0, 1, 3);
    for (cut = 0; cut <= c->len; cut++) {
        t_check_case(c, cut, c->len, 1);
    }
}
END_TEST


/* The same request in pieces from the same parser is the same request;
 * a partial request is not reported until it is complete. */
START_TEST(test_parse_again_then_ok)
{
    static const char    in[] = "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
    store_resp_parser_t  p;
    store_req_t          req;
    size_t               cut, consumed, len;
    int                  rc;

    len = sizeof(in) - 1;
    for (cut = 0; cut < len; cut++) {
        t_parser_new(&p, 4);
        rc = store_resp_parse(&p, (const uint8_t *) in, cut, &consumed, &req);
        ck_assert_int_eq(rc, OB_AGAIN);
        ck_assert_uint_eq(consumed, 0);
        rc = store_resp_parse(&p, (const uint8_t *) in, len, &consumed, &req);
        ck_assert_int_eq(rc, OB_OK);
        ck_assert_uint_eq(consumed, len);
        ck_assert_uint_eq(req.argc, 2);
        ck_assert_int_eq(req.is_inline, 0);
        ck_assert_uint_eq(req.argv[0].off, 8);
        ck_assert_uint_eq(req.argv[0].len, 3);
        ck_assert_uint_eq(req.argv[1].off, 17);
        ck_assert_uint_eq(req.argv[1].len, 3);
        /* nothing left: the parser starts afresh */
        rc = store_resp_parse(&p, (const uint8_t *) in + len, 0, &consumed,
                              &req);
        ck_assert_int_eq(rc, OB_AGAIN);
        free(p.argv);
    }
}
END_TEST


/* Skipped empty requests are handed back for draining on AGAIN, and the
 * offsets of a request after them count from the buffer's head. */
START_TEST(test_parse_skip_consumed)
{
    static const char    in[] = "\r\n*0\r\nGET a\r\n";
    store_resp_parser_t  p;
    store_req_t          req;
    size_t               consumed;
    int                  rc;

    t_parser_new(&p, 4);

    rc = store_resp_parse(&p, (const uint8_t *) in, 8, &consumed, &req);
    ck_assert_int_eq(rc, OB_AGAIN);
    ck_assert_uint_eq(consumed, 6);
    free(p.argv);

    t_parser_new(&p, 4);
    rc = store_resp_parse(&p, (const uint8_t *) in, sizeof(in) - 1,
                          &consumed, &req);
    ck_assert_int_eq(rc, OB_OK);
    ck_assert_uint_eq(consumed, sizeof(in) - 1);
    ck_assert_int_eq(req.is_inline, 1);
    ck_assert_uint_eq(req.argc, 2);
    ck_assert_uint_eq(req.argv[0].off, 6);
    ck_assert_uint_eq(req.argv[1].off, 10);
    ck_assert_uint_eq(req.argv[1].len, 1);
    free(p.argv);
}
END_TEST


START_TEST(test_parse_unauthenticated)
{
    store_resp_parser_t  p;
    t_out_t              o;

    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        { "*11\r\n",           "E:ERR Protocol error: unauthenticated multibulk length" },
        { "*10\r\n",           "+" },
        { "*1\r\n$16385\r\n",  "E:ERR Protocol error: unauthenticated bulk length" },
        { "*1\r\n$16384\r\n",  "+" },
        { "*abc\r\n",          "E:ERR Protocol error: invalid multibulk length" },
        { "*1\r\n$-1\r\n",     "E:ERR Protocol error: invalid bulk length" },
        { "AUTH pass\r\n",     "[AUTH|pass]" },
    };
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&o, 0, sizeof(o));
        t_parser_new(&p, 4);
        p.authenticated = 0;
        (void) t_feed(&p, (const uint8_t *) cases[i].in,
                      strlen(cases[i].in), 0, 1, &o);
        ck_assert_str_eq(o.s, cases[i].out);
        free(p.argv);

        /* authenticated: the same counts are fine */
        if (strncmp(cases[i].out, "E:ERR Protocol error: unauth", 28) == 0) {
            memset(&o, 0, sizeof(o));
            t_parser_new(&p, 4);
            (void) t_feed(&p, (const uint8_t *) cases[i].in,
                          strlen(cases[i].in), 0, 1, &o);
            ck_assert_str_eq(o.s, "+");
            free(p.argv);
        }
    }
}
END_TEST


static const char *
t_run(store_resp_parser_t *p, const char *in, size_t len, size_t first,
    size_t step, t_out_t *o)
{
    memset(o, 0, sizeof(*o));
    (void) t_feed(p, (const uint8_t *) in, len, first, step, o);
    return o->s;
}


START_TEST(test_parse_limits)
{
    store_resp_parser_t  p;
    store_req_t          req;
    t_out_t              o;
    char                *buf;
    size_t               n, consumed;

    n = 70000;
    buf = malloc(n + 16);
    ck_assert_ptr_nonnull(buf);

    /* inline: 64 KiB buffered without "\n" waits; one more byte closes */
    memset(buf, 'x', n + 16);
    t_parser_new(&p, 4);
    ck_assert_str_eq(t_run(&p, buf, 65536, 65536, 1, &o), "+");
    free(p.argv);
    t_parser_new(&p, 4);
    ck_assert_str_eq(t_run(&p, buf, 65537, 65536, 1, &o),
                     "E:ERR Protocol error: too big inline request");
    free(p.argv);

    /* ... but a 70,000-byte line that arrives with its "\n" is fine */
    buf[n] = '\n';
    t_parser_new(&p, 4);
    ck_assert_int_eq(store_resp_parse(&p, (const uint8_t *) buf, n + 1,
                                      &consumed, &req), OB_OK);
    ck_assert_uint_eq(consumed, n + 1);
    ck_assert_uint_eq(req.argc, 1);
    ck_assert_uint_eq(req.argv[0].len, n);
    free(p.argv);

    /* a smaller limit set by the caller */
    t_parser_new(&p, 4);
    p.inline_max = 10;
    ck_assert_str_eq(t_run(&p, "GET abcdefg", 11, 0, 1, &o),
                     "E:ERR Protocol error: too big inline request");
    ck_assert_str_eq(t_run(&p, "GET abcdef", 10, 0, 1, &o), "+");
    free(p.argv);

    /* count lines: more than 64 KiB without "\r" */
    memset(buf, '1', n);
    buf[0] = '*';
    t_parser_new(&p, 4);
    ck_assert_str_eq(t_run(&p, buf, 65536, 0, 4096, &o), "+");
    free(p.argv);
    t_parser_new(&p, 4);
    ck_assert_str_eq(t_run(&p, buf, 65537, 0, 4096, &o),
                     "E:ERR Protocol error: too big mbulk count string");
    free(p.argv);

    memcpy(buf, "*1\r\n$", 5);
    t_parser_new(&p, 4);
    ck_assert_str_eq(t_run(&p, buf, 4 + 65536, 0, 4096, &o), "+");
    free(p.argv);
    t_parser_new(&p, 4);
    ck_assert_str_eq(t_run(&p, buf, 4 + 65537, 0, 4096, &o),
                     "E:ERR Protocol error: too big bulk count string");
    free(p.argv);

    /* proto-max-bulk-len and the multibulk count limit, set by the caller */
    t_parser_new(&p, 4);
    p.bulk_max = 3;
    ck_assert_str_eq(t_run(&p, "*1\r\n$3\r\nabc\r\n", 13, 0, 1, &o),
                     "[abc]");
    ck_assert_str_eq(t_run(&p, "*1\r\n$4\r\nabcd\r\n", 14, 0, 1, &o),
                     "E:ERR Protocol error: invalid bulk length");
    p.multibulk_max = 2;
    ck_assert_str_eq(t_run(&p, "*2\r\n", 4, 0, 1, &o), "+");
    store_resp_parser_reset(&p);
    ck_assert_str_eq(t_run(&p, "*3\r\n", 4, 0, 1, &o),
                     "E:ERR Protocol error: invalid multibulk length");
    free(p.argv);

    free(buf);
}
END_TEST


static double
t_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


/*
 * Resuming is linear: a 100,000-argument multibulk, a 1 MiB bulk and a
 * 60,000-byte inline line, each fed one byte at a time, finish in well
 * under a second (quadratic re-parsing would take minutes).
 */
START_TEST(test_parse_linear)
{
    store_resp_parser_t  p;
    store_req_t          req;
    uint8_t             *buf;
    size_t               n, len, i, consumed, calls, bad;
    double               t0, dt;
    int                  rc;

    /* no ck_assert inside the timed loops: each one reports its line to
     * the forked runner, a system call that would dwarf a parse step */
    bad = 0;
    n = 100000;
    buf = malloc(16 + n * 7 + (1 << 20) + 64);
    ck_assert_ptr_nonnull(buf);

    len = (size_t) sprintf((char *) buf, "*%zu\r\n", n);
    for (i = 0; i < n; i++) {
        memcpy(buf + len, "$1\r\nx\r\n", 7);
        buf[len + 4] = (uint8_t) ('a' + i % 26);
        len += 7;
    }

    t_parser_new(&p, 1);
    t0 = t_now();
    calls = 0;
    for (i = 0; i <= len; ) {
        rc = store_resp_parse(&p, buf, i, &consumed, &req);
        calls++;
        if (rc == OB_BUSY) {
            t_grow(&p);
            continue;
        }
        if (rc == OB_OK) {
            break;
        }
        bad += (rc != OB_AGAIN || consumed != 0);
        i++;
    }
    dt = t_now() - t0;
    ck_assert_uint_eq(bad, 0);
    ck_assert_int_eq(rc, OB_OK);
    ck_assert_uint_eq(i, len);
    ck_assert_uint_eq(req.argc, n);
    ck_assert_uint_eq(req.argv[n - 1].off, len - 3);
    ck_assert_int_eq(buf[req.argv[n - 1].off], 'a' + (n - 1) % 26);
    /* the array grew by doubling: about log2(n) retries */
    ck_assert_uint_le(calls, len + 1 + 20);
    ck_assert_msg(dt < 1.0, "100,000 arguments byte by byte: %.3f s", dt);
    free(p.argv);

    /* one 1 MiB bulk */
    n = 1 << 20;
    len = (size_t) sprintf((char *) buf, "*1\r\n$%zu\r\n", n);
    memset(buf + len, 'v', n);
    len += n;
    memcpy(buf + len, "\r\n", 2);
    len += 2;

    t_parser_new(&p, 1);
    t0 = t_now();
    for (i = 0; i < len; i++) {
        bad += (store_resp_parse(&p, buf, i, &consumed, &req) != OB_AGAIN);
    }
    ck_assert_int_eq(store_resp_parse(&p, buf, len, &consumed, &req), OB_OK);
    dt = t_now() - t0;
    ck_assert_uint_eq(bad, 0);
    ck_assert_uint_eq(req.argv[0].len, n);
    ck_assert_msg(dt < 1.0, "1 MiB bulk byte by byte: %.3f s", dt);
    free(p.argv);

    /* a 60,000-byte inline line of 30,000 arguments */
    n = 60000;
    for (i = 0; i < n; i++) {
        buf[i] = (i % 2) ? ' ' : 'a';
    }
    buf[n] = '\n';
    len = n + 1;

    t_parser_new(&p, 1);
    t0 = t_now();
    for (i = 0; i <= len; ) {
        rc = store_resp_parse(&p, buf, i, &consumed, &req);
        if (rc == OB_BUSY) {
            t_grow(&p);
            continue;
        }
        if (rc == OB_OK) {
            break;
        }
        bad += (rc != OB_AGAIN);
        i++;
    }
    dt = t_now() - t0;
    ck_assert_uint_eq(bad, 0);
    ck_assert_int_eq(rc, OB_OK);
    ck_assert_uint_eq(req.argc, n / 2);
    ck_assert_int_eq(req.is_inline, 1);
    ck_assert_msg(dt < 1.0, "60,000-byte inline line byte by byte: %.3f s",
                  dt);
    free(p.argv);

    free(buf);
}
END_TEST


/* A lying "*N" asks for room only as arguments arrive. */
START_TEST(test_parse_argv_growth)
{
    static const char    in[] = "*2000000000\r\n$1\r\na\r\n$1\r\nb\r\n";
    store_resp_parser_t  p;
    store_req_t          req;
    size_t               consumed;

    t_parser_new(&p, 1);
    ck_assert_int_eq(store_resp_parse(&p, (const uint8_t *) in,
                                      sizeof(in) - 1, &consumed, &req),
                     OB_BUSY);
    ck_assert_uint_eq(p.argc, 1);
    ck_assert_uint_eq(p.argv_want, 16);
    t_grow(&p);
    ck_assert_int_eq(store_resp_parse(&p, (const uint8_t *) in,
                                      sizeof(in) - 1, &consumed, &req),
                     OB_AGAIN);
    ck_assert_uint_eq(p.argc, 2);
    free(p.argv);

    /* a short multibulk is not given more than it needs */
    t_parser_new(&p, 1);
    ck_assert_int_eq(store_resp_parse(&p,
                         (const uint8_t *) "*3\r\n$1\r\na\r\n$1\r\nb\r\n", 18,
                         &consumed, &req), OB_BUSY);
    ck_assert_uint_eq(p.argv_want, 3);
    free(p.argv);
}
END_TEST


START_TEST(test_ll)
{
    static const struct {
        const char *s;
        int         rc;
        long long   v;
    } cases[] = {
        { "0", OB_OK, 0 },
        { "1", OB_OK, 1 },
        { "-1", OB_OK, -1 },
        { "1234567890", OB_OK, 1234567890LL },
        { "9223372036854775807", OB_OK, INT64_MAX },
        { "-9223372036854775808", OB_OK, INT64_MIN },
        { "9223372036854775808", OB_ERR, 0 },
        { "-9223372036854775809", OB_ERR, 0 },
        { "99999999999999999999", OB_ERR, 0 },
        { "123456789012345678901", OB_ERR, 0 },
        { "", OB_ERR, 0 },
        { "-", OB_ERR, 0 },
        { "-0", OB_ERR, 0 },
        { "00", OB_ERR, 0 },
        { "01", OB_ERR, 0 },
        { "+1", OB_ERR, 0 },
        { " 1", OB_ERR, 0 },
        { "1 ", OB_ERR, 0 },
        { "0x10", OB_ERR, 0 },
        { "1.5", OB_ERR, 0 },
    };
    size_t     i;
    long long  v;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = 42;
        ck_assert_msg(store_resp_ll((const uint8_t *) cases[i].s,
                                    strlen(cases[i].s), &v) == cases[i].rc,
                      "\"%s\"", cases[i].s);
        if (cases[i].rc == OB_OK) {
            ck_assert_int_eq(v, cases[i].v);
        }
    }
}
END_TEST


/* ---- reply writers -------------------------------------------------------- */

typedef void (*t_writer_pt)(store_reply_t *r);

/* Runs w for protocol `proto` and compares the bytes with want. */
static void
t_reply_is(t_writer_pt w, int proto, const char *want, size_t want_len)
{
    store_reply_buf_t  b;
    store_reply_t      r;

    memset(&b, 0, sizeof(b));
    store_reply_init(&r, proto, store_reply_buf_write, &b);
    w(&r);
    ck_assert_int_eq(r.failed, 0);
    ck_assert_msg(b.len == want_len && memcmp(b.data, want, want_len) == 0,
                  "RESP%d: got \"%.*s\" (%zu), want \"%s\"", proto,
                  (int) b.len, b.data ? (char *) b.data : "", b.len, want);
    store_reply_buf_free(&b);
}

#define T_REPLY(name, body)                                                  \
    static void name(store_reply_t *r) { body; }

T_REPLY(w_simple, store_reply_simple(r, "OK", 2))
T_REPLY(w_error, store_reply_error(r, "ERR syntax error", 16))
T_REPLY(w_error_crlf, store_reply_error(r, "ERR a\r\nb", 8))
T_REPLY(w_errorf, store_reply_errorf(r, "ERR unknown command '%s', with "
        "args beginning with: ", "foo"))
T_REPLY(w_wrongtype, store_reply_error(r, "WRONGTYPE Operation against a "
        "key holding the wrong kind of value", 65))
T_REPLY(w_int, store_reply_int(r, 1); store_reply_int(r, -2);
        store_reply_int(r, 0); store_reply_int(r, INT64_MIN);
        store_reply_int(r, INT64_MAX))
T_REPLY(w_bulk, store_reply_bulk(r, "abc", 3); store_reply_bulk(r, "", 0);
        store_reply_bulk(r, "a\0\r\n", 4))
T_REPLY(w_null, store_reply_null(r))
T_REPLY(w_null_array, store_reply_null_array(r))
T_REPLY(w_array, store_reply_array(r, 2); store_reply_bulk(r, "a", 1);
        store_reply_int(r, 1); store_reply_array(r, 0))
T_REPLY(w_map, store_reply_map(r, 2); store_reply_bulk(r, "a", 1);
        store_reply_bulk(r, "1", 1); store_reply_bulk(r, "b", 1);
        store_reply_int(r, 2); store_reply_map(r, 0))
T_REPLY(w_set, store_reply_set(r, 3); store_reply_int(r, 0);
        store_reply_int(r, 1); store_reply_int(r, 2))
T_REPLY(w_push, store_reply_push(r, 3); store_reply_bulk(r, "message", 7);
        store_reply_bulk(r, "c1", 2); store_reply_bulk(r, "m", 1))
T_REPLY(w_double, store_reply_double(r, 3.0); store_reply_double(r, 0.1);
        store_reply_double(r, 1.5); store_reply_double(r, 1.1))
T_REPLY(w_double_special, store_reply_double(r, INFINITY);
        store_reply_double(r, -INFINITY); store_reply_double(r, 1e300);
        store_reply_double(r, 0.1 + 0.2); store_reply_double(r, NAN))
T_REPLY(w_bool, store_reply_bool(r, 1); store_reply_bool(r, 0))
T_REPLY(w_verbatim, store_reply_verbatim(r, "txt",
        "This is a verbatim\nstring", 25))
T_REPLY(w_bignum, store_reply_bignum(r,
        "1234567999999999999999999999999999999",
        strlen("1234567999999999999999999999999999999")))

#define T_IS(w, proto, lit)  t_reply_is(w, proto, lit, sizeof(lit) - 1)

START_TEST(test_reply_bytes)
{
    T_IS(w_simple, 2, "+OK\r\n");
    T_IS(w_simple, 3, "+OK\r\n");
    T_IS(w_error, 2, "-ERR syntax error\r\n");
    T_IS(w_error, 3, "-ERR syntax error\r\n");
    T_IS(w_error_crlf, 2, "-ERR a  b\r\n");
    T_IS(w_errorf, 2,
         "-ERR unknown command 'foo', with args beginning with: \r\n");
    T_IS(w_wrongtype, 2, "-WRONGTYPE Operation against a key holding the "
         "wrong kind of value\r\n");
    T_IS(w_int, 2, ":1\r\n:-2\r\n:0\r\n:-9223372036854775808\r\n"
         ":9223372036854775807\r\n");
    T_IS(w_int, 3, ":1\r\n:-2\r\n:0\r\n:-9223372036854775808\r\n"
         ":9223372036854775807\r\n");
    T_IS(w_bulk, 2, "$3\r\nabc\r\n$0\r\n\r\n$4\r\na\0\r\n\r\n");
    T_IS(w_bulk, 3, "$3\r\nabc\r\n$0\r\n\r\n$4\r\na\0\r\n\r\n");
    T_IS(w_null, 2, "$-1\r\n");
    T_IS(w_null, 3, "_\r\n");
    T_IS(w_null_array, 2, "*-1\r\n");
    T_IS(w_null_array, 3, "_\r\n");
    T_IS(w_array, 2, "*2\r\n$1\r\na\r\n:1\r\n*0\r\n");
    T_IS(w_array, 3, "*2\r\n$1\r\na\r\n:1\r\n*0\r\n");
    T_IS(w_map, 2, "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n:2\r\n*0\r\n");
    T_IS(w_map, 3, "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n:2\r\n%0\r\n");
    T_IS(w_set, 2, "*3\r\n:0\r\n:1\r\n:2\r\n");
    T_IS(w_set, 3, "~3\r\n:0\r\n:1\r\n:2\r\n");
    T_IS(w_push, 2, "*3\r\n$7\r\nmessage\r\n$2\r\nc1\r\n$1\r\nm\r\n");
    T_IS(w_push, 3, ">3\r\n$7\r\nmessage\r\n$2\r\nc1\r\n$1\r\nm\r\n");
    T_IS(w_double, 2, "$1\r\n3\r\n$19\r\n0.10000000000000001\r\n"
         "$3\r\n1.5\r\n$18\r\n1.1000000000000001\r\n");
    T_IS(w_double, 3, ",3\r\n,0.10000000000000001\r\n,1.5\r\n"
         ",1.1000000000000001\r\n");
    T_IS(w_double_special, 2, "$3\r\ninf\r\n$4\r\n-inf\r\n"
         "$23\r\n1.0000000000000001e+300\r\n$19\r\n0.30000000000000004\r\n"
         "$3\r\nnan\r\n");
    T_IS(w_double_special, 3, ",inf\r\n,-inf\r\n,1.0000000000000001e+300\r\n"
         ",0.30000000000000004\r\n,nan\r\n");
    T_IS(w_bool, 2, ":1\r\n:0\r\n");
    T_IS(w_bool, 3, "#t\r\n#f\r\n");
    T_IS(w_verbatim, 2, "$25\r\nThis is a verbatim\nstring\r\n");
    T_IS(w_verbatim, 3, "=29\r\ntxt:This is a verbatim\nstring\r\n");
    T_IS(w_bignum, 2, "$37\r\n1234567999999999999999999999999999999\r\n");
    T_IS(w_bignum, 3, "(1234567999999999999999999999999999999\r\n");
}
END_TEST


/* A sink that fails makes the writer fail, and every write after it. */
START_TEST(test_reply_failure)
{
    store_reply_buf_t  b;
    store_reply_t      r;
    char               buf[STORE_REPLY_DOUBLE_MAX];

    memset(&b, 0, sizeof(b));
    b.max = 8;
    store_reply_init(&r, 2, store_reply_buf_write, &b);
    ck_assert_int_eq(store_reply_simple(&r, "OK", 2), OB_OK);
    ck_assert_int_eq(store_reply_bulk(&r, "abcdef", 6), OB_ERR);
    ck_assert_int_eq(r.failed, 1);
    ck_assert_int_eq(store_reply_int(&r, 1), OB_ERR);
    ck_assert_uint_le(b.len, 8);
    store_reply_buf_free(&b);

    /* the formatters alone */
    ck_assert_uint_eq(store_reply_ll_format(-123, buf), 4);
    ck_assert_str_eq(buf, "-123");
    ck_assert_uint_eq(store_reply_double_format(-2.2250738585072014e-308,
                                                buf), 24);
    ck_assert_str_eq(buf, "-2.2250738585072014e-308");
    ck_assert_uint_eq(store_reply_double_format(10.5, buf), 4);
    ck_assert_str_eq(buf, "10.5");
}
END_TEST


/* A buffer sink that counts its calls (a batch must make fewer). */
typedef struct {
    store_reply_buf_t  b;
    size_t             calls;
} t_count_sink_t;


static int
t_count_write(void *ctx, const void *data, size_t len)
{
    t_count_sink_t  *s = ctx;

    s->calls++;
    return store_reply_buf_write(&s->b, data, len);
}


/* Replies of every shape a batch carries, one of them (big) bigger than
 * the batch's buffer, enough of them to fill it several times. */
static void
t_batch_mixed(store_reply_t *r, const char *big, size_t bigl)
{
    int  i;

    store_reply_array(r, 2000 + 6);
    for (i = 0; i < 1000; i++) {
        store_reply_bulk(r, "member", (size_t) (i % 7));
        store_reply_double(r, i * 0.1);
    }
    store_reply_bulk(r, big, bigl);
    store_reply_int(r, -7);
    store_reply_map(r, 1);
    store_reply_bulk(r, "", 0);
    store_reply_null(r);
    store_reply_bulk(r, big, STORE_REPLY_BATCH - 3);
}


START_TEST(test_reply_batch)
{
    store_reply_batch_t  bt;
    t_count_sink_t       direct, batched;
    store_reply_buf_t    lim;
    store_reply_t        r, dst;
    size_t               bigl = 3 * STORE_REPLY_BATCH + 5;
    char                *big;
    int                  proto, i;

    ck_assert_uint_ge(STORE_REPLY_BATCH, 8192);
    big = malloc(bigl);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', bigl);

    for (proto = 2; proto <= 3; proto++) {
        memset(&direct, 0, sizeof(direct));
        memset(&batched, 0, sizeof(batched));
        store_reply_init(&r, proto, t_count_write, &direct);
        t_batch_mixed(&r, big, bigl);
        ck_assert_int_eq(r.failed, 0);

        /* the same through a batch, flushed halfway and reused */
        store_reply_init(&dst, proto, t_count_write, &batched);
        store_reply_batch_init(&bt, &dst);
        ck_assert_int_eq(bt.r.proto, proto);
        t_batch_mixed(&bt.r, big, bigl);
        store_reply_batch_flush(&bt);
        store_reply_batch_init(&bt, &dst);
        store_reply_batch_flush(&bt);                /* nothing: no write */
        ck_assert_int_eq(bt.r.failed, 0);
        ck_assert_int_eq(dst.failed, 0);

        ck_assert_uint_eq(batched.b.len, direct.b.len);
        ck_assert_int_eq(memcmp(batched.b.data, direct.b.data,
                                direct.b.len), 0);
        ck_assert_uint_lt(batched.calls * 50, direct.calls);
        store_reply_buf_free(&direct.b);
        store_reply_buf_free(&batched.b);
    }

    /* a destination that fails at a flush: the batch's writer fails from
     * then on, and so does the destination */
    memset(&lim, 0, sizeof(lim));
    lim.max = STORE_REPLY_BATCH + 100;
    store_reply_init(&dst, 2, store_reply_buf_write, &lim);
    store_reply_batch_init(&bt, &dst);
    for (i = 0; i < 10000 && !bt.r.failed; i++) {
        store_reply_bulk(&bt.r, "member", 6);
    }
    ck_assert_int_eq(bt.r.failed, 1);
    ck_assert_int_eq(dst.failed, 1);
    ck_assert_int_lt(i, 10000);
    ck_assert_int_eq(store_reply_bulk(&bt.r, "a", 1), OB_ERR);
    store_reply_batch_flush(&bt);
    ck_assert_int_eq(bt.r.failed, 1);
    ck_assert_uint_le(lim.len, lim.max);
    store_reply_buf_free(&lim);

    /* a failure in the flush at the end sticks too */
    memset(&lim, 0, sizeof(lim));
    lim.max = 10;
    store_reply_init(&dst, 2, store_reply_buf_write, &lim);
    store_reply_batch_init(&bt, &dst);
    ck_assert_int_eq(store_reply_bulk(&bt.r, "abcdefghij", 10), OB_OK);
    store_reply_batch_flush(&bt);
    ck_assert_int_eq(dst.failed, 1);
    ck_assert_int_eq(bt.r.failed, 1);
    ck_assert_uint_eq(lim.len, 0);
    ck_assert_int_eq(store_reply_int(&bt.r, 1), OB_ERR);

    /* a batch over a destination that has failed already starts failed */
    store_reply_batch_init(&bt, &dst);
    ck_assert_int_eq(bt.r.failed, 1);
    ck_assert_int_eq(store_reply_simple(&bt.r, "OK", 2), OB_ERR);
    store_reply_buf_free(&lim);

    /* an element bigger than the buffer fails alone too */
    memset(&lim, 0, sizeof(lim));
    lim.max = bigl - 1;
    store_reply_init(&dst, 3, store_reply_buf_write, &lim);
    store_reply_batch_init(&bt, &dst);
    ck_assert_int_eq(store_reply_bulk(&bt.r, big, bigl), OB_ERR);
    ck_assert_int_eq(bt.r.failed, 1);
    ck_assert_int_eq(dst.failed, 1);
    store_reply_batch_flush(&bt);
    store_reply_buf_free(&lim);
    free(big);
}
END_TEST


Suite *
store_resp_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("store_resp");

    tc = tcase_create("parse");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_parse_every_split, 0,
                        (int) (sizeof(t_cases) / sizeof(t_cases[0])));
    tcase_add_test(tc, test_parse_again_then_ok);
    tcase_add_test(tc, test_parse_skip_consumed);
    tcase_add_test(tc, test_parse_unauthenticated);
    tcase_add_test(tc, test_parse_limits);
    tcase_add_test(tc, test_parse_linear);
    tcase_add_test(tc, test_parse_argv_growth);
    tcase_add_test(tc, test_ll);
    suite_add_tcase(s, tc);

    tc = tcase_create("reply");
    tcase_add_test(tc, test_reply_bytes);
    tcase_add_test(tc, test_reply_failure);
    tcase_add_test(tc, test_reply_batch);
    suite_add_tcase(s, tc);

    return s;
}
