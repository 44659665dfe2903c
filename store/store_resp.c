/*
 * store_resp.c: the RESP request parser: multibulk ("*N\r\n$len\r\n...")
 * and inline commands, as a pure function resumed across reads.
 *
 * The rules are redis-server 7.0's (networking.c processMultibulkBuffer,
 * processInlineBuffer; sds.c sdssplitargs; util.c string2ll), checked
 * against a live server (../shared/reference/redis-protocol.md section 1):
 *
 *   - the first byte of a request picks its kind: "*" is a multibulk,
 *     anything else an inline line;
 *   - a count line ("*N", "$N") ends at the first "\r" and needs one more
 *     byte after it, which is skipped unchecked, as are the 2 bytes after
 *     a bulk's payload ("*1\r\n$4\r\nPINGxx" is PING);
 *   - "*0", "*-1" (any N <= 0) and empty inline lines are skipped;
 *   - the "$" of a bulk is checked only once its count line is complete;
 *   - the "too big" errors fire when more than inline_max bytes are
 *     buffered without the "\r" (count lines) or "\n" (inline) that would
 *     end the line: a longer inline line that arrives with its "\n" is
 *     accepted.
 *
 * Deliberate differences from Redis: the line ends are found with memchr,
 * not strchr, so a NUL byte does not hide a "\r" or "\n" behind it (Redis
 * would wait for more data until the "too big" limit).  In an inline line
 * a NUL ends the text that is split into arguments, as it ends the C
 * string sdssplitargs reads.
 *
 * State machine (p->state; offsets are from the request's first byte):
 *
 *   START -> MBULK_COUNT   first byte "*"                 [parse]
 *   START -> INLINE_LINE   any other byte                 [parse]
 *   MBULK_COUNT -> BULK_LEN     "*N\r?" read, N > 0       [parse_mbulk]
 *   MBULK_COUNT -> START        N <= 0: skipped
 *   BULK_LEN -> BULK_DATA       "$L\r?" read              [parse_mbulk]
 *   BULK_DATA -> BULK_LEN       L + 2 bytes there, more args to come
 *   BULK_DATA -> START          the last argument: OB_OK
 *   INLINE_LINE -> INLINE_TOKENS  "\n" found              [parse_inline]
 *   INLINE_TOKENS -> START      every token stored: OB_OK (or skipped)
 *
 * Resuming: p->scan remembers how far the search for a line end went, and
 * p->pos where the next item starts, so a request fed one byte at a time
 * costs O(its length) in all, not O(length^2).
 *
 * The argument array: Redis accepts up to INT_MAX arguments, so a fixed
 * array in the parser cannot hold them, and sizing one from the "*N" a
 * client announces would let "*2000000000\r\n" allocate gigabytes.  The
 * caller owns the array instead and the parser asks for more room
 * (OB_BUSY, p->argv_want) only when an argument has fully arrived, so the
 * array grows with the bytes received (each argument costs at least 6
 * bytes on the wire, "$0\r\n\r\n"), as Redis grows c->argv.  The saved
 * state makes the retry resume where the parser stopped.
 *
 * Arguments are offsets, not pointers: the caller's buffer may move
 * between reads (STYLE.md 2.5).  Inline tokens with quotes are reported as
 * their raw span plus STORE_ARG_QUOTED; store_resp_arg_unquote decodes
 * them, so the parser never writes into the caller's bytes.
 */
#include "store_resp.h"

#include <stdio.h>
#include <string.h>


enum {
    sw_start = 0,
    sw_mbulk_count,
    sw_bulk_len,
    sw_bulk_data,
    sw_inline_line,
    sw_inline_tokens
};


/* parse_mbulk / parse_inline: an empty request to skip. */
#define STORE_RESP_SKIP  OB_DECLINED


static int store_resp_parse_mbulk(store_resp_parser_t *p, const uint8_t *b,
    size_t n, store_req_t *req);
static int store_resp_parse_inline(store_resp_parser_t *p, const uint8_t *b,
    size_t n, store_req_t *req);
static int store_resp_token(const uint8_t *b, size_t start, size_t end,
    size_t *tok_end, unsigned *flags);
static int store_resp_error(store_req_t *req, const char *msg);
static int store_resp_busy(store_resp_parser_t *p);


void
store_resp_parser_init(store_resp_parser_t *p)
{
    memset(p, 0, sizeof(*p));
    p->inline_max = STORE_RESP_INLINE_MAX;
    p->bulk_max = STORE_RESP_BULK_MAX;
    p->multibulk_max = STORE_RESP_MULTIBULK_MAX;
    p->unauth_multibulk_max = STORE_RESP_UNAUTH_MULTIBULK;
    p->unauth_bulk_max = STORE_RESP_UNAUTH_BULK;
    p->authenticated = 1;
}


void
store_resp_parser_reset(store_resp_parser_t *p)
{
    p->state = sw_start;
    p->argc = 0;
    p->pos = 0;
    p->scan = 0;
    p->line_end = 0;
    p->line_next = 0;
    p->remaining = 0;
    p->bulklen = 0;
}


int
store_resp_parse(store_resp_parser_t *p, const uint8_t *buf, size_t len,
    size_t *consumed, store_req_t *req)
{
    size_t          base, i;
    const uint8_t  *b;
    int             rc;

    req->argv = p->argv;
    req->argc = 0;
    req->is_inline = 0;
    req->err[0] = '\0';
    req->err_len = 0;

    /* bytes of empty requests skipped in this call */
    base = 0;

    for (;;) {
        b = buf + base;

        if (p->state == sw_start) {
            if (base == len) {
                *consumed = base;
                return OB_AGAIN;
            }
            p->state = (b[0] == '*') ? sw_mbulk_count : sw_inline_line;
        }

        if (p->state == sw_inline_line || p->state == sw_inline_tokens) {
            rc = store_resp_parse_inline(p, b, len - base, req);
        } else {
            rc = store_resp_parse_mbulk(p, b, len - base, req);
        }

        if (rc == STORE_RESP_SKIP) {
            base += p->pos;
            store_resp_parser_reset(p);
            continue;
        }

        if (rc != OB_OK) {
            /* AGAIN, BUSY: the state is relative to b, which is the head
             * of the buffer once the caller drains base bytes. */
            *consumed = base;
            if (rc == OB_PROTO_ERR) {
                store_resp_parser_reset(p);
            }
            return rc;
        }

        req->argv = p->argv;
        req->argc = p->argc;
        req->is_inline = (p->state == sw_inline_tokens);
        if (base > 0) {
            for (i = 0; i < p->argc; i++) {
                p->argv[i].off += base;
            }
        }
        *consumed = base + p->pos;
        store_resp_parser_reset(p);
        return OB_OK;
    }
}


/*
 * The search for a count line's "\r", resumed at p->scan.  OB_OK with
 * *cr its offset when it and the byte after it are there; OB_AGAIN (and
 * p->scan moved on) when not; OB_PROTO_ERR (req->err set to too_big) when
 * more than inline_max bytes from line_start hold no "\r".
 */
static int
store_resp_count_line(store_resp_parser_t *p, const uint8_t *b, size_t n,
    size_t line_start, const char *too_big, store_req_t *req, size_t *cr)
{
    const uint8_t  *r;
    size_t          from;

    from = OB_MAX(p->scan, line_start);
    r = (from < n) ? memchr(b + from, '\r', n - from) : NULL;

    if (r == NULL) {
        if (n - line_start > p->inline_max) {
            return store_resp_error(req, too_big);
        }
        p->scan = OB_MAX(from, n);
        return OB_AGAIN;
    }

    p->scan = (size_t) (r - b);
    if (p->scan + 2 > n) {
        return OB_AGAIN;
    }

    *cr = p->scan;
    return OB_OK;
}


static int
store_resp_parse_mbulk(store_resp_parser_t *p, const uint8_t *b, size_t n,
    store_req_t *req)
{
    size_t     cr;
    long long  ll;
    int        rc, ch;

    if (p->state == sw_mbulk_count) {
        rc = store_resp_count_line(p, b, n, 0,
                 "ERR Protocol error: too big mbulk count string", req, &cr);
        if (rc != OB_OK) {
            return rc;
        }

        if (store_resp_ll(b + 1, cr - 1, &ll) != OB_OK
            || ll > p->multibulk_max)
        {
            return store_resp_error(req,
                       "ERR Protocol error: invalid multibulk length");
        }
        if (!p->authenticated && ll > p->unauth_multibulk_max) {
            return store_resp_error(req,
                   "ERR Protocol error: unauthenticated multibulk length");
        }

        p->pos = cr + 2;
        if (ll <= 0) {
            return STORE_RESP_SKIP;
        }
        p->remaining = ll;
        p->scan = p->pos;
        p->state = sw_bulk_len;
    }

    while (p->remaining > 0) {

        if (p->state == sw_bulk_len) {
            rc = store_resp_count_line(p, b, n, p->pos,
                     "ERR Protocol error: too big bulk count string", req,
                     &cr);
            if (rc != OB_OK) {
                return rc;
            }

            if (b[p->pos] != '$') {
                /* Redis puts the byte in the message as %c, with CR and
                 * LF turned into spaces (addReplyErrorFormat). */
                ch = b[p->pos];
                if (ch == '\r' || ch == '\n') {
                    ch = ' ';
                }
                req->err_len = (size_t) snprintf(req->err, sizeof(req->err),
                                   "ERR Protocol error: expected '$', got '");
                req->err[req->err_len++] = (char) ch;
                req->err[req->err_len++] = '\'';
                req->err[req->err_len] = '\0';
                return OB_PROTO_ERR;
            }

            if (store_resp_ll(b + p->pos + 1, cr - p->pos - 1, &ll) != OB_OK
                || ll < 0 || ll > p->bulk_max)
            {
                return store_resp_error(req,
                           "ERR Protocol error: invalid bulk length");
            }
            if (!p->authenticated && ll > p->unauth_bulk_max) {
                return store_resp_error(req,
                       "ERR Protocol error: unauthenticated bulk length");
            }

            p->bulklen = ll;
            p->pos = cr + 2;
            p->state = sw_bulk_data;
        }

        /* sw_bulk_data: the payload and the 2 bytes after it */
        if (n - p->pos < (unsigned long long) p->bulklen + 2) {
            return OB_AGAIN;
        }
        if (p->argc == p->argv_cap) {
            return store_resp_busy(p);
        }

        p->argv[p->argc].off = p->pos;
        p->argv[p->argc].len = (size_t) p->bulklen;
        p->argv[p->argc].flags = 0;
        p->argc++;

        p->pos += (size_t) p->bulklen + 2;
        p->scan = p->pos;
        p->remaining--;
        p->state = sw_bulk_len;
    }

    return OB_OK;
}


/* C's isspace in the C locale, which sdssplitargs uses between tokens. */
static int
store_resp_is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f'
           || c == '\r';
}


static int
store_resp_is_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
           || (c >= 'A' && c <= 'F');
}


static int
store_resp_hex(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    return (c | 0x20) - 'a' + 10;
}


static int
store_resp_parse_inline(store_resp_parser_t *p, const uint8_t *b, size_t n,
    store_req_t *req)
{
    const uint8_t  *nl, *z;
    size_t          end, tok_end;
    unsigned        flags;

    if (p->state == sw_inline_line) {
        nl = (p->scan < n) ? memchr(b + p->scan, '\n', n - p->scan) : NULL;
        if (nl == NULL) {
            if (n > p->inline_max) {
                return store_resp_error(req,
                           "ERR Protocol error: too big inline request");
            }
            p->scan = n;
            return OB_AGAIN;
        }

        end = (size_t) (nl - b);
        p->line_next = end + 1;
        if (end > 0 && b[end - 1] == '\r') {
            end--;
        }
        z = memchr(b, '\0', end);
        if (z != NULL) {
            end = (size_t) (z - b);
        }
        p->line_end = end;
        p->pos = 0;
        p->state = sw_inline_tokens;
    }

    /* sw_inline_tokens: p->pos is where the next token may start */
    for (;;) {
        while (p->pos < p->line_end && store_resp_is_space(b[p->pos])) {
            p->pos++;
        }
        if (p->pos == p->line_end) {
            break;
        }
        if (p->argc == p->argv_cap) {
            return store_resp_busy(p);
        }
        if (store_resp_token(b, p->pos, p->line_end, &tok_end, &flags)
            != OB_OK)
        {
            return store_resp_error(req,
                       "ERR Protocol error: unbalanced quotes in request");
        }
        p->argv[p->argc].off = p->pos;
        p->argv[p->argc].len = tok_end - p->pos;
        p->argv[p->argc].flags = flags;
        p->argc++;
        p->pos = tok_end;
    }

    p->pos = p->line_next;
    return p->argc == 0 ? STORE_RESP_SKIP : OB_OK;
}


/*
 * One sdssplitargs token from b[start..end) (start is not a space): plain
 * bytes up to a separator (space, tab, CR, LF), where a quote may open a
 * quoted part that ends the token.  The closing quote must be followed by
 * a space or the end of the line.  OB_ERR: unbalanced quotes.
 */
static int
store_resp_token(const uint8_t *b, size_t start, size_t end,
    size_t *tok_end, unsigned *flags)
{
    size_t   i;
    uint8_t  c, q;

    *flags = 0;

    for (i = start; i < end; i++) {
        c = b[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            break;
        }
        if (c != '"' && c != '\'') {
            continue;
        }

        *flags = STORE_ARG_QUOTED;
        q = c;
        for (i++; i < end; i++) {
            c = b[i];
            if (q == '"' && c == '\\') {
                if (i + 3 < end && b[i + 1] == 'x'
                    && store_resp_is_hex(b[i + 2])
                    && store_resp_is_hex(b[i + 3]))
                {
                    i += 3;
                } else if (i + 1 < end) {
                    i++;
                }
            } else if (q == '\'' && c == '\\') {
                if (i + 1 < end && b[i + 1] == '\'') {
                    i++;
                }
            } else if (c == q) {
                if (i + 1 < end && !store_resp_is_space(b[i + 1])) {
                    return OB_ERR;
                }
                *tok_end = i + 1;
                return OB_OK;
            }
        }
        return OB_ERR;
    }

    *tok_end = i;
    return OB_OK;
}


size_t
store_resp_arg_unquote(const uint8_t *raw, size_t len, uint8_t *out)
{
    size_t   i, o;
    uint8_t  c, q;

    o = 0;
    q = 0;

    for (i = 0; i < len; i++) {
        c = raw[i];

        if (q == 0) {
            if (c == '"' || c == '\'') {
                q = c;
            } else {
                out[o++] = c;
            }
            continue;
        }

        if (c == q) {
            /* the closing quote ends the token */
            break;
        }

        if (q == '"' && c == '\\') {
            if (i + 3 < len && raw[i + 1] == 'x'
                && store_resp_is_hex(raw[i + 2])
                && store_resp_is_hex(raw[i + 3]))
            {
                out[o++] = (uint8_t) (store_resp_hex(raw[i + 2]) * 16
                                      + store_resp_hex(raw[i + 3]));
                i += 3;
                continue;
            }
            if (i + 1 < len) {
                i++;
                switch (raw[i]) {
                case 'n': c = '\n'; break;
                case 'r': c = '\r'; break;
                case 't': c = '\t'; break;
                case 'b': c = '\b'; break;
                case 'a': c = '\a'; break;
                default:  c = raw[i]; break;
                }
            }
        } else if (q == '\'' && c == '\\' && i + 1 < len
                   && raw[i + 1] == '\'')
        {
            i++;
            c = '\'';
        }

        out[o++] = c;
    }

    return o;
}


int
store_resp_ll(const uint8_t *s, size_t len, long long *v)
{
    unsigned long long  u, d;
    size_t              i;
    int                 neg;

    /* string2ll refuses 21 chars and more (LONG_STR_SIZE) */
    if (len == 0 || len > 20) {
        return OB_ERR;
    }
    if (len == 1 && s[0] == '0') {
        *v = 0;
        return OB_OK;
    }

    i = 0;
    neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i++;
        if (i == len) {
            return OB_ERR;
        }
    }

    if (s[i] < '1' || s[i] > '9') {
        return OB_ERR;
    }
    u = (unsigned long long) (s[i] - '0');

    for (i++; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return OB_ERR;
        }
        d = (unsigned long long) (s[i] - '0');
        if (u > (~0ULL - d) / 10) {
            return OB_ERR;
        }
        u = u * 10 + d;
    }

    if (neg) {
        if (u > (unsigned long long) INT64_MAX + 1) {
            return OB_ERR;
        }
        *v = (u == (unsigned long long) INT64_MAX + 1)
             ? INT64_MIN : -(long long) u;
        return OB_OK;
    }

    if (u > (unsigned long long) INT64_MAX) {
        return OB_ERR;
    }
    *v = (long long) u;
    return OB_OK;
}


static int
store_resp_error(store_req_t *req, const char *msg)
{
    size_t  n;

    n = strlen(msg);
    if (n >= sizeof(req->err)) {
        n = sizeof(req->err) - 1;
    }
    memcpy(req->err, msg, n);
    req->err[n] = '\0';
    req->err_len = n;

    return OB_PROTO_ERR;
}


/*
 * argv is full: ask for twice the room (16 at first), but no more than the
 * request can still use, so a lying "*N" costs nothing up front.
 */
static int
store_resp_busy(store_resp_parser_t *p)
{
    size_t  want;

    want = p->argv_cap < 8 ? 16 : p->argv_cap * 2;
    if (p->state != sw_inline_tokens
        && (unsigned long long) want > p->argc + (unsigned long long) p->remaining)
    {
        want = p->argc + (size_t) p->remaining;
    }
    p->argv_want = want;

    return OB_BUSY;
}


size_t
store_resp_need(const store_resp_parser_t *p)
{
    if (p->state == sw_bulk_data) {
        return p->pos + (size_t) p->bulklen + 2;
    }
    return 0;
}
