/*
 * store_reply.c: RESP2/RESP3 reply writers over a caller's byte sink.
 *
 * Each writer emits one complete RESP element (or an aggregate's header)
 * in the client's protocol version, matching redis-server 7.0's bytes
 * (../shared/reference/redis-protocol.md sections 1, 2 and 4):
 *
 *   kind          RESP3                  RESP2
 *   null          _                      $-1 (value) / *-1 (array)
 *   map of n      %n + 2n elements       *2n + 2n elements
 *   set, push     ~n, >n                 *n
 *   double        ,%.17g                 $len %.17g
 *   boolean       #t / #f                :1 / :0
 *   verbatim      =len txt:data          $len data
 *   big number    (digits                $len digits
 *
 * Nothing here allocates but the optional memory sink
 * (store_reply_buf_write), and nothing knows about sockets: a connection
 * passes a write callback of its own.
 *
 * Headers and small elements are formatted into a stack buffer and
 * handed to the sink in one call; a bulk's payload goes in its own call
 * so that it is never copied twice.
 */
#include "store_reply.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* "$" + a length + CRLF, and the like */
#define STORE_REPLY_HDR_MAX  (STORE_REPLY_LL_MAX + 4)


static int store_reply_batch_write(void *ctx, const void *data, size_t len);


static int
store_reply_out(store_reply_t *r, const void *data, size_t len)
{
    if (r->failed) {
        return OB_ERR;
    }
    if (len > 0 && r->write(r->ctx, data, len) != OB_OK) {
        r->failed = 1;
        return OB_ERR;
    }
    return OB_OK;
}


/* prefix, the number, CRLF: every header and ":v". */
static int
store_reply_hdr(store_reply_t *r, char prefix, long long n)
{
    char    buf[STORE_REPLY_HDR_MAX];
    size_t  len;

    buf[0] = prefix;
    len = 1 + store_reply_ll_format(n, buf + 1);
    buf[len++] = '\r';
    buf[len++] = '\n';

    return store_reply_out(r, buf, len);
}


void
store_reply_init(store_reply_t *r, int proto, store_reply_write_pt write,
    void *ctx)
{
    r->proto = proto;
    r->write = write;
    r->ctx = ctx;
    r->failed = 0;
}


int
store_reply_buf_write(void *ctx, const void *data, size_t len)
{
    store_reply_buf_t  *b = ctx;
    uint8_t            *nd;
    size_t              ncap;

    if (b->max != 0 && (len > b->max || b->len > b->max - len)) {
        return OB_ERR;
    }

    if (b->cap - b->len < len) {
        ncap = b->cap ? b->cap : 256;
        while (ncap - b->len < len) {
            if (ncap > SIZE_MAX / 2) {
                return OB_ERR;
            }
            ncap *= 2;
        }
        nd = realloc(b->data, ncap);
        if (nd == NULL) {
            return OB_ERR;
        }
        b->data = nd;
        b->cap = ncap;
    }

    memcpy(b->data + b->len, data, len);
    b->len += len;

    return OB_OK;
}


void
store_reply_buf_free(store_reply_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}


int
store_reply_simple(store_reply_t *r, const char *s, size_t len)
{
    (void) store_reply_out(r, "+", 1);
    (void) store_reply_out(r, s, len);
    return store_reply_out(r, "\r\n", 2);
}


int
store_reply_error(store_reply_t *r, const char *msg, size_t len)
{
    char    chunk[256];
    size_t  i, j, n;

    (void) store_reply_out(r, "-", 1);

    /* copied in chunks so that CR and LF can be replaced */
    for (i = 0; i < len; i += n) {
        n = OB_MIN(len - i, sizeof(chunk));
        memcpy(chunk, msg + i, n);
        for (j = 0; j < n; j++) {
            if (chunk[j] == '\r' || chunk[j] == '\n') {
                chunk[j] = ' ';
            }
        }
        (void) store_reply_out(r, chunk, n);
    }

    return store_reply_out(r, "\r\n", 2);
}


int
store_reply_errorf(store_reply_t *r, const char *fmt, ...)
{
    char     buf[1024];
    va_list  ap;
    int      n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    if (n < 0) {
        n = 0;
    }
    return store_reply_error(r, buf, OB_MIN((size_t) n, sizeof(buf) - 1));
}


int
store_reply_int(store_reply_t *r, long long v)
{
    return store_reply_hdr(r, ':', v);
}


int
store_reply_bulk(store_reply_t *r, const void *data, size_t len)
{
    store_reply_batch_t  *b;
    char                 *p;

    /*
     * Into a batch with room: formatted in place.  A long LRANGE or
     * SMEMBERS is mostly this, and three calls through the sink per
     * element cost more than the copying (the same bytes either way).
     */
    if (r->write == store_reply_batch_write && !r->failed) {
        b = r->ctx;
        if (len <= sizeof(b->buf) - b->n
            && sizeof(b->buf) - b->n - len >= STORE_REPLY_HDR_MAX + 2)
        {
            p = b->buf + b->n;
            *p++ = '$';
            p += store_reply_ll_format((long long) len, p);
            *p++ = '\r';
            *p++ = '\n';
            memcpy(p, data, len);
            p += len;
            *p++ = '\r';
            *p++ = '\n';
            b->n = (size_t) (p - b->buf);
            return OB_OK;
        }
    }
    (void) store_reply_hdr(r, '$', (long long) len);
    (void) store_reply_out(r, data, len);
    return store_reply_out(r, "\r\n", 2);
}


int
store_reply_null(store_reply_t *r)
{
    if (r->proto >= 3) {
        return store_reply_out(r, "_\r\n", 3);
    }
    return store_reply_out(r, "$-1\r\n", 5);
}


int
store_reply_null_array(store_reply_t *r)
{
    if (r->proto >= 3) {
        return store_reply_out(r, "_\r\n", 3);
    }
    return store_reply_out(r, "*-1\r\n", 5);
}


int
store_reply_array(store_reply_t *r, size_t n)
{
    return store_reply_hdr(r, '*', (long long) n);
}


int
store_reply_map(store_reply_t *r, size_t npairs)
{
    if (r->proto >= 3) {
        return store_reply_hdr(r, '%', (long long) npairs);
    }
    return store_reply_hdr(r, '*', (long long) npairs * 2);
}


int
store_reply_set(store_reply_t *r, size_t n)
{
    return store_reply_hdr(r, r->proto >= 3 ? '~' : '*', (long long) n);
}


int
store_reply_push(store_reply_t *r, size_t n)
{
    return store_reply_hdr(r, r->proto >= 3 ? '>' : '*', (long long) n);
}


int
store_reply_double(store_reply_t *r, double d)
{
    char    buf[STORE_REPLY_DOUBLE_MAX + 3];
    size_t  len;

    if (r->proto < 3) {
        len = store_reply_double_format(d, buf);
        return store_reply_bulk(r, buf, len);
    }

    buf[0] = ',';
    len = 1 + store_reply_double_format(d, buf + 1);
    buf[len++] = '\r';
    buf[len++] = '\n';

    return store_reply_out(r, buf, len);
}


int
store_reply_bool(store_reply_t *r, int v)
{
    if (r->proto >= 3) {
        return store_reply_out(r, v ? "#t\r\n" : "#f\r\n", 4);
    }
    return store_reply_out(r, v ? ":1\r\n" : ":0\r\n", 4);
}


int
store_reply_verbatim(store_reply_t *r, const char *ext, const void *data,
    size_t len)
{
    char  pre[4];

    if (r->proto < 3) {
        return store_reply_bulk(r, data, len);
    }

    memcpy(pre, ext, 3);
    pre[3] = ':';
    (void) store_reply_hdr(r, '=', (long long) len + 4);
    (void) store_reply_out(r, pre, 4);
    (void) store_reply_out(r, data, len);
    return store_reply_out(r, "\r\n", 2);
}


int
store_reply_bignum(store_reply_t *r, const char *digits, size_t len)
{
    if (r->proto < 3) {
        return store_reply_bulk(r, digits, len);
    }

    (void) store_reply_out(r, "(", 1);
    (void) store_reply_out(r, digits, len);
    return store_reply_out(r, "\r\n", 2);
}


size_t
store_reply_ll_format(long long v, char *buf)
{
    char                tmp[STORE_REPLY_LL_MAX];
    unsigned long long  u;
    size_t              n, len;

    /* the magnitude as unsigned, so that LLONG_MIN negates safely */
    u = (v < 0) ? 0ULL - (unsigned long long) v : (unsigned long long) v;

    n = 0;
    do {
        tmp[n++] = (char) ('0' + u % 10);
        u /= 10;
    } while (u != 0);

    len = 0;
    if (v < 0) {
        buf[len++] = '-';
    }
    while (n > 0) {
        buf[len++] = tmp[--n];
    }
    buf[len] = '\0';

    return len;
}


size_t
store_reply_double_format(double d, char *buf)
{
    int  n;

    /* Redis writes inf explicitly: libcs differ on its spelling. */
    if (isinf(d)) {
        strcpy(buf, d > 0 ? "inf" : "-inf");
        return d > 0 ? 3 : 4;
    }
    if (isnan(d)) {
        strcpy(buf, "nan");
        return 3;
    }

    n = snprintf(buf, STORE_REPLY_DOUBLE_MAX, "%.17g", d);
    return (n > 0) ? (size_t) n : 0;
}


static int
store_reply_batch_write(void *ctx, const void *data, size_t len)
{
    store_reply_batch_t  *b = ctx;

    if (len > sizeof(b->buf) - b->n) {
        store_reply_batch_flush(b);
        if (b->dst->failed) {
            return OB_ERR;
        }
        if (len > sizeof(b->buf)) {
            /* bigger than the buffer: copying it there would not save
             * a call */
            if (b->dst->write(b->dst->ctx, data, len) != OB_OK) {
                b->dst->failed = 1;
                return OB_ERR;
            }
            return OB_OK;
        }
    }
    memcpy(b->buf + b->n, data, len);
    b->n += len;
    return OB_OK;
}


void
store_reply_batch_init(store_reply_batch_t *b, store_reply_t *dst)
{
    b->dst = dst;
    b->n = 0;
    store_reply_init(&b->r, dst->proto, store_reply_batch_write, b);
    b->r.failed = dst->failed;
}


void
store_reply_batch_flush(store_reply_batch_t *b)
{
    if (b->n > 0 && !b->dst->failed
        && b->dst->write(b->dst->ctx, b->buf, b->n) != OB_OK)
    {
        b->dst->failed = 1;
    }
    b->n = 0;
    if (b->dst->failed) {
        b->r.failed = 1;
    }
}
