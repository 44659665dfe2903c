/*
 * store_resp.h: the RESP request parser (Redis 7.0's processMultibulkBuffer
 * and processInlineBuffer, as a pure, resumable function).
 *
 * Usage (the caller owns the socket, the buffer and the argv array):
 *
 *   store_resp_parser_t  p;
 *   store_req_t          req;
 *
 *   store_resp_parser_init(&p);           (Redis's default limits)
 *   p.argv = malloc(16 * sizeof(store_arg_t)); p.argv_cap = 16;
 *
 *   for (;;) {
 *       rc = store_resp_parse(&p, head, len, &consumed, &req);
 *       drain(consumed);                  (always: also after AGAIN/BUSY)
 *       if (rc == OB_OK)        execute(head, &req), then loop;
 *       else if (rc == OB_BUSY) grow p.argv to p.argv_want (keeping the
 *                               first p.argc entries), loop;
 *       else if (rc == OB_AGAIN) read more bytes, loop;
 *       else (OB_PROTO_ERR)     reply "-" req.err "\r\n", close after it.
 *   }
 *
 * `head` is the first byte not yet drained; between calls the caller may
 * move the bytes (realloc, evbuffer_pullup) but must keep them, and add
 * new ones after them.  Arguments are offsets into `head` as passed to the
 * call that returned OB_OK, valid until the caller drains.
 */
#ifndef OB_STORE_RESP_H
#define OB_STORE_RESP_H

#include <stddef.h>
#include <stdint.h>
#include "ob_core.h"

/* Redis 7.0's defaults (networking.c, server.h, config.c). */
#define STORE_RESP_INLINE_MAX        65536        /* PROTO_INLINE_MAX_SIZE */
#define STORE_RESP_BULK_MAX          536870912LL  /* proto-max-bulk-len */
#define STORE_RESP_MULTIBULK_MAX     2147483647LL /* INT_MAX */
#define STORE_RESP_UNAUTH_MULTIBULK  10           /* before AUTH */
#define STORE_RESP_UNAUTH_BULK       16384        /* before AUTH */

#define STORE_RESP_ERR_MAX           64           /* sizeof(req->err) */

/* An argument's flags. */
#define STORE_ARG_QUOTED  0x1    /* inline token with quotes: off/len span
                                    the raw text; store_resp_arg_unquote
                                    gives the bytes */

typedef struct store_arg_s {
    size_t    off;        /* first byte, from the head of the buffer */
    size_t    len;        /* bytes (raw bytes if STORE_ARG_QUOTED) */
    unsigned  flags;      /* STORE_ARG_* */
} store_arg_t;

typedef struct store_req_s {
    store_arg_t *argv;    /* borrowed: the parser's argv */
    size_t       argc;    /* >= 1 on OB_OK */
    int          is_inline; /* 1: an inline command, 0: a multibulk */
    char         err[STORE_RESP_ERR_MAX]; /* OB_PROTO_ERR: the reply text
                                    without "-" and CRLF, e.g. "ERR Protocol
                                    error: invalid bulk length"; NUL-ended,
                                    but may hold a NUL ("got '\0'") */
    size_t       err_len;         /* bytes in err */
} store_req_t;

typedef struct store_resp_parser_s {
    /* Limits, set by store_resp_parser_init; the caller may change them
     * between requests. */
    size_t       inline_max;     /* bytes buffered without "\n" (inline) or
                                    without "\r" (a count line) */
    long long    bulk_max;       /* proto-max-bulk-len */
    long long    multibulk_max;  /* largest "*N" */
    long long    unauth_multibulk_max;
    long long    unauth_bulk_max;
    int          authenticated;  /* 0: the unauth limits apply (the caller
                                    sets it: requirepass and no AUTH yet) */

    /* The argument array, owned by the caller (see the usage above). */
    store_arg_t *argv;
    size_t       argv_cap;       /* entries in argv */
    size_t       argv_want;      /* OUT on OB_BUSY: the capacity to grow to */

    /* Resume state: zeroed between requests; offsets are from the start of
     * the request being parsed. */
    int          state;          /* store_resp.c's sw_* */
    size_t       argc;           /* arguments parsed so far */
    size_t       pos;            /* next byte to parse */
    size_t       scan;           /* where to resume looking for "\r"/"\n" */
    size_t       line_end;       /* inline: the line's end (without \r\n) */
    size_t       line_next;      /* inline: the byte after its "\n" */
    long long    remaining;      /* multibulk: arguments still to come */
    long long    bulklen;        /* multibulk: the current "$N" */
} store_resp_parser_t;

/* Zeroes p and sets Redis 7.0's default limits (authenticated; no argv). */
void store_resp_parser_init(store_resp_parser_t *p);

/* Forgets a request in progress (e.g. after the connection dropped it). */
void store_resp_parser_reset(store_resp_parser_t *p);

/*
 * Parses one request from buf[0..len).
 *
 * OB_OK:        req holds a complete request (argc >= 1, argv offsets into
 *               buf); *consumed is its length plus any empty requests
 *               skipped before it.
 * OB_AGAIN:     more bytes are needed; the state is kept in p.  *consumed
 *               bytes (skipped empty requests) must be drained.
 * OB_BUSY:      p->argv is full: grow it to p->argv_want entries, keeping
 *               the first p->argc, and call again.  *consumed as for AGAIN.
 * OB_PROTO_ERR: req->err is set; the connection should send it and close.
 *               *consumed counts only the empty requests skipped before.
 *
 * No I/O, no allocation, no globals: the work done over a request fed in
 * any number of pieces is linear in its length.
 */
int store_resp_parse(store_resp_parser_t *p, const uint8_t *buf, size_t len,
                     size_t *consumed /* OUT */, store_req_t *req /* OUT */);

/*
 * The bytes of an argument flagged STORE_ARG_QUOTED: raw[0..len) is the
 * token as sent (an optional unquoted prefix, then "..." or '...'); writes
 * the decoded bytes to out (room for len bytes is always enough) and
 * returns their number.
 */
size_t store_resp_arg_unquote(const uint8_t *raw, size_t len, uint8_t *out);

/*
 * After OB_AGAIN: the bytes (from the head of the request) that must be
 * there before another call can make progress, when the parser knows it
 * (the rest of a bulk string), else 0.  The caller waits for them instead
 * of re-offering a growing big argument at every read.
 */
size_t store_resp_need(const store_resp_parser_t *p);

/*
 * Redis's string2ll: an optional "-", then "0" alone or a digit 1-9 and
 * more digits, within int64.  OB_OK with *v set, or OB_ERR.
 */
int store_resp_ll(const uint8_t *s, size_t len, long long *v /* OUT */);

#endif /* OB_STORE_RESP_H */
