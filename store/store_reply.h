/*
 * store_reply.h: RESP2 and RESP3 reply writers (Redis 7.0's addReply*),
 * writing into a caller's byte sink so that they are testable without a
 * socket.
 *
 * A writer takes the store_reply_t, which knows the client's protocol
 * version (2, or 3 after HELLO 3) and where the bytes go:
 *
 *   store_reply_buf_t  out = { 0 };
 *   store_reply_t      r;
 *
 *   store_reply_init(&r, 3, store_reply_buf_write, &out);
 *   store_reply_map(&r, 1);                 "%1\r\n"    (RESP2: "*2\r\n")
 *   store_reply_bulk(&r, "score", 5);
 *   store_reply_double(&r, 1.5);            ",1.5\r\n"  (RESP2: bulk)
 *   ...
 *   store_reply_buf_free(&out);
 *
 * A connection passes its own write callback (e.g. one over an evbuffer).
 * A failed write makes every later one fail too (r->failed), so a handler
 * may check only once, at the end.
 */
#ifndef OB_STORE_REPLY_H
#define OB_STORE_REPLY_H

#include <stddef.h>
#include <stdint.h>
#include "ob_core.h"

/* Room for any long long ("-9223372036854775808") and a NUL. */
#define STORE_REPLY_LL_MAX      21
/* Room for any double in %.17g ("-2.2250738585072014e-308") and a NUL. */
#define STORE_REPLY_DOUBLE_MAX  32

/* Appends data[0..len) wherever the bytes go; OB_OK or OB_ERR. */
typedef int (*store_reply_write_pt)(void *ctx, const void *data, size_t len);

typedef struct store_reply_s {
    int                   proto;   /* 2 or 3: the client's RESP version */
    store_reply_write_pt  write;
    void                 *ctx;     /* borrowed: write's first argument */
    int                   failed;  /* a write failed: the rest are dropped */
} store_reply_t;

/* A growable memory sink (tests, small replies built before sending). */
typedef struct store_reply_buf_s {
    uint8_t  *data;     /* new: store_reply_buf_free frees it */
    size_t    len;
    size_t    cap;
    size_t    max;      /* 0: unbounded; else a write past it fails */
} store_reply_buf_t;

void store_reply_init(store_reply_t *r, int proto, store_reply_write_pt write,
                      void *ctx);

/* store_reply_write_pt over a store_reply_buf_t (ctx); grows by realloc. */
int  store_reply_buf_write(void *ctx, const void *data, size_t len);
void store_reply_buf_free(store_reply_buf_t *b);

/* "+s\r\n": s must hold no CR or LF (the caller's constant strings). */
int store_reply_simple(store_reply_t *r, const char *s, size_t len);

/*
 * "-msg\r\n": msg starts with its code ("ERR syntax error", "WRONGTYPE
 * Operation against ...").  CR and LF inside become spaces, as Redis's
 * addReplyErrorFormat does, so a message quoting client bytes cannot
 * break the framing.
 */
int store_reply_error(store_reply_t *r, const char *msg, size_t len);
int store_reply_errorf(store_reply_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int store_reply_int(store_reply_t *r, long long v);           /* ":v" */
int store_reply_bulk(store_reply_t *r, const void *data, size_t len);

/* A missing value: "$-1" (RESP2) or "_" (RESP3). */
int store_reply_null(store_reply_t *r);
/* A missing array (EXEC aborted by WATCH, BLPOP timeout): "*-1" or "_". */
int store_reply_null_array(store_reply_t *r);

/* Aggregate headers; the caller writes the elements after them. */
int store_reply_array(store_reply_t *r, size_t n);     /* "*n" */
int store_reply_map(store_reply_t *r, size_t npairs);  /* "%n"; RESP2 "*2n" */
int store_reply_set(store_reply_t *r, size_t n);       /* "~n"; RESP2 "*n" */
int store_reply_push(store_reply_t *r, size_t n);      /* ">n"; RESP2 "*n" */

/*
 * A double as Redis 7.0's addReplyDouble: %.17g ("3", "0.1000...01",
 * "1.0000000000000001e+300"), "inf" and "-inf"; RESP3 ",d", RESP2 a bulk
 * string.  NaN is written "nan" (Redis's commands never reply one).
 * -0.0 is "-0": the store normalizes its scores the way Redis stores
 * them before replying.
 */
int store_reply_double(store_reply_t *r, double d);

int store_reply_bool(store_reply_t *r, int v);   /* "#t"/"#f"; RESP2 ":1"/":0" */

/* "=N\r\next:data" (ext: 3 bytes, "txt" or "mkd"); RESP2 a plain bulk. */
int store_reply_verbatim(store_reply_t *r, const char *ext, const void *data,
                         size_t len);

/* "(digits"; RESP2 a bulk string.  digits: an optional "-" and digits. */
int store_reply_bignum(store_reply_t *r, const char *digits, size_t len);

/* Number formatting shared with the commands (INCR's reply, ZSCORE's
 * bulk): writes a NUL-ended string to buf, returns its length. */
size_t store_reply_ll_format(long long v, char *buf /* [STORE_REPLY_LL_MAX] */);
size_t store_reply_double_format(double d,
                                 char *buf /* [STORE_REPLY_DOUBLE_MAX] */);

/*
 * Replies written in batches.  store_reply_bulk and store_reply_double
 * each make two or three small writes into the sink, and a connection's
 * write (an evbuffer append) costs more per call than copying the bytes:
 * a long LRANGE, SMEMBERS or ZRANGE is dominated by those calls.  A batch
 * is a store_reply_t (b.r) over a stack buffer that goes to `dst` (the
 * same write callback, so failures and output limits behave alike) a
 * buffer at a time; a write bigger than the buffer goes through on its
 * own, after what is buffered; store_reply_bulk formats a bulk that fits
 * straight into the buffer.  The bytes are those of writing to `dst`
 * directly.
 *
 *   store_reply_batch_t  b;
 *
 *   store_reply_array(&c->r, n);
 *   store_reply_batch_init(&b, &c->r);
 *   for (...) {
 *       store_reply_bulk(&b.r, ele, len);
 *   }
 *   store_reply_batch_flush(&b);
 *
 * Nothing may be written to `dst` directly between init and flush.  A
 * failure of `dst` makes b.r.failed (and dst->failed) stick; b.r.failed
 * is the one to check inside the loop.
 */
#define STORE_REPLY_BATCH  16384

typedef struct store_reply_batch_s {
    store_reply_t   r;            /* write the elements through this */
    store_reply_t  *dst;          /* borrowed: the client's */
    size_t          n;            /* bytes in buf */
    char            buf[STORE_REPLY_BATCH];
} store_reply_batch_t;

void store_reply_batch_init(store_reply_batch_t *b, store_reply_t *dst);
/* Hands what is buffered to dst; the batch may be written again after. */
void store_reply_batch_flush(store_reply_batch_t *b);

#endif /* OB_STORE_REPLY_H */
