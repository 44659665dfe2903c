/*
 * cache_proto.c: the pure parsing half of memcached's text protocol: line
 * framing, the tokenizer, the number readers and base64.
 *
 * Nothing here does I/O, allocates or keeps state: every function reads a
 * byte range and writes its results through OUT parameters, so each one is
 * unit-tested (tests/unit/check_cache_proto.c) and can be fuzzed alone.
 *
 * Design notes:
 *
 *   - The rules are memcached 1.6.18's, byte for byte, because clients
 *     depend on its edge cases:
 *       framing    try_read_command_ascii (proto_text.c): a line ends at
 *                  the first "\n", one "\r" before it is dropped; more than
 *                  2048 bytes without "\n" closes the connection unless the
 *                  buffer (after at most 100 leading spaces) starts with
 *                  "get " or "gets ", whose key lists are unbounded.
 *       tokens     tokenize_command: only 0x20 separates; a tab is part of
 *                  a token; past max - 1 tokens the rest of the line is one
 *                  last token.
 *       numbers    safe_strtoull / safe_strtoul / safe_strtol (util.c),
 *                  which wrap strtoull / strtoul / strtol.
 *   - The numbers are read with a small hand-written scanner instead of
 *     libc's strto*: tokens are slices of the line, not NUL-terminated C
 *     strings, and copying each one into a bounded buffer would either
 *     limit their length or need an allocation.  The scanner reproduces
 *     what strto* accept (leading white space, a sign, decimal digits, the
 *     ERANGE overflow) and the safe_ wrappers' tests on top:
 *       - the number must be followed by white space or the end of the
 *         token ("5\t" is 5, as in memcached; "5x" is refused);
 *       - strtoul/strtoull negate a "-" number modulo 2^64; the wrappers
 *         then refuse it only when the result looks negative as a signed
 *         value and the token holds a '-' anywhere: so "-0" is 0, "-1" is
 *         refused;
 *       - memcached assigns the 64-bit long results of strtoul / strtol to
 *         32-bit variables: flags "4294967296" become 0 and an exptime or
 *         byte count of "4294967299" becomes 3.  This assumes LP64 (long is
 *         64 bits), as memcached's Linux builds do.
 *   - Base64 is RFC 4648 with padding, and stricter than memcached's
 *     decoder (which skips characters outside the alphabet): a key that
 *     is not clean base64 is refused rather than guessed at.
 */
#include "cache_int.h"

#include <string.h>


/* The parts of a decimal number as strto* scan it. */
typedef struct cache_num_s {
    uint64_t mag;           /* the digits' value (saturated on overflow) */
    int      neg;           /* a '-' sign came before the digits */
    int      overflow;      /* the digits exceed 2^64 - 1 (strto*'s ERANGE) */
} cache_num_t;


static const char cache_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


int
cache_proto_line(const uint8_t *buf, size_t len, size_t *line_len,
                 size_t *consumed)
{
    const uint8_t  *nl;
    size_t          n;

    nl = memchr(buf, '\n', len);

    if (nl != NULL) {
        n = (size_t) (nl - buf);
        *consumed = n + 1;
        if (n > 0 && buf[n - 1] == '\r') {
            n--;
        }
        *line_len = n;
        return OB_OK;
    }

    return cache_proto_line_may_grow(buf, len, len);
}


int
cache_proto_line_may_grow(const uint8_t *head, size_t nhead, size_t len)
{
    size_t  sp;

    if (len <= CACHE_LINE_MAX) {
        return OB_AGAIN;
    }

    /*
     * Over the limit without a line end: only a multiget may be that long.
     * memcached skips leading spaces, but no more than 100 of them, before
     * looking at the command.  len > 2048 leaves room for "gets ", and
     * head holds at least CACHE_LINE_HEAD bytes.
     */
    for (sp = 0; sp < nhead && head[sp] == ' '; sp++) {
        /* void */
    }

    if (sp > 100 || nhead - sp < 5) {
        return OB_PROTO_ERR;
    }

    if (memcmp(head + sp, "get ", 4) == 0
        || memcmp(head + sp, "gets ", 5) == 0)
    {
        return OB_AGAIN;
    }

    return OB_PROTO_ERR;
}


size_t
cache_proto_tokenize(const char *line, size_t len, ob_str_t *tokens,
                     size_t max)
{
    size_t       i, start, n, end;
    const char  *sp;

    n = 0;
    i = 0;

    if (max == 0) {
        return 0;
    }

    while (i < len) {
        while (i < len && line[i] == ' ') {
            i++;
        }
        if (i == len) {
            break;
        }

        if (n == max - 1) {
            /* the last slot takes the rest of the line, from here up to
             * its last non-space byte */
            end = len;
            while (end > i && line[end - 1] == ' ') {
                end--;
            }
            tokens[n].data = (const uint8_t *) line + i;
            tokens[n].len = end - i;
            n++;
            break;
        }

        /* memchr: the token's end is found a vector at a time, which
         * matters for the long keys and key lists of multigets. */
        start = i;
        sp = memchr(line + i, ' ', len - i);
        i = sp != NULL ? (size_t) (sp - line) : len;
        tokens[n].data = (const uint8_t *) line + start;
        tokens[n].len = i - start;
        n++;
    }

    return n;
}


/* isspace() in the C locale, which is what strto* and the wrappers use. */
static int
cache_proto_is_space(uint8_t ch)
{
    return ch == ' ' || (ch >= '\t' && ch <= '\r');
}


int
cache_token_is(const ob_str_t *t, const char *s)
{
    size_t  n;

    n = strlen(s);

    return t->len == n && memcmp(t->data, s, n) == 0;
}


/*
 * Scans a token as strtoull would, then applies safe_strto*'s end test.
 * Returns OB_OK when the token is a number by those rules (overflow is
 * reported in num->overflow, for the caller to refuse), OB_ERR when it is
 * not.
 */
static int
cache_proto_scan(const ob_str_t *t, cache_num_t *num /* OUT */)
{
    const uint8_t  *p, *end;
    unsigned        d;
    size_t          digits;

    p = t->data;
    end = t->data + t->len;
    num->mag = 0;
    num->neg = 0;
    num->overflow = 0;
    digits = 0;

    while (p < end && cache_proto_is_space(*p)) {
        p++;
    }

    if (p < end && (*p == '+' || *p == '-')) {
        num->neg = (*p == '-');
        p++;
    }

    for ( /* void */ ; p < end && *p >= '0' && *p <= '9'; p++) {
        d = (unsigned) (*p - '0');
        if (num->mag > (UINT64_MAX - d) / 10) {
            num->overflow = 1;
            num->mag = UINT64_MAX;
        } else if (!num->overflow) {
            num->mag = num->mag * 10 + d;
        }
        digits++;
    }

    /* no digits: strto*'s endptr == str */
    if (digits == 0) {
        return OB_ERR;
    }

    /* safe_strto*: what follows must be white space or the end */
    return (p == end || cache_proto_is_space(*p)) ? OB_OK : OB_ERR;
}


/*
 * safe_strtoull / safe_strtoul on LP64: strtoull, negated modulo 2^64 for
 * a '-' sign; refused when it overflowed, or when the result has its top
 * bit set and the text holds a '-' anywhere.  So
 * "-1" is refused, but "-9223372036854775809" is 9223372036854775807, as
 * memcached reads it (its incr then answers 9223372036854775808).
 */
int
cache_proto_u64_text(const char *p, size_t n, uint64_t *out)
{
    cache_num_t  num;
    ob_str_t     t;
    uint64_t     v;

    t.data = (const uint8_t *) p;
    t.len = n;

    if (cache_proto_scan(&t, &num) != OB_OK || num.overflow) {
        return OB_ERR;
    }

    v = num.neg ? (uint64_t) 0 - num.mag : num.mag;

    /* memcached's strchr(str, '-') runs over the whole token (its
     * tokenizer NUL-terminates tokens), not only up to the digits' end */
    if ((v >> 63) != 0 && memchr(t.data, '-', t.len) != NULL) {
        return OB_ERR;
    }

    *out = v;
    return OB_OK;
}


int
cache_proto_u64(const ob_str_t *t, uint64_t *out)
{
    uint64_t  v;

    if (cache_proto_u64_text((const char *) t->data, t->len, &v) != OB_OK) {
        return OB_ERR;
    }

    *out = v;
    return OB_OK;
}


int
cache_proto_u32(const ob_str_t *t, uint32_t *out)
{
    uint64_t  v;

    if (cache_proto_u64_text((const char *) t->data, t->len, &v) != OB_OK) {
        return OB_ERR;
    }

    /* memcached stores the unsigned long in a uint32_t: the low 32 bits */
    *out = (uint32_t) v;
    return OB_OK;
}


int
cache_proto_i64(const ob_str_t *t, int64_t *out)
{
    cache_num_t  num;

    if (cache_proto_scan(t, &num) != OB_OK || num.overflow) {
        return OB_ERR;
    }

    /* strtol's range: ERANGE above INT64_MAX, or below INT64_MIN */
    if (num.neg) {
        if (num.mag > (uint64_t) INT64_MAX + 1) {
            return OB_ERR;
        }
        *out = num.mag == (uint64_t) INT64_MAX + 1
               ? INT64_MIN : -(int64_t) num.mag;

    } else {
        if (num.mag > (uint64_t) INT64_MAX) {
            return OB_ERR;
        }
        *out = (int64_t) num.mag;
    }

    return OB_OK;
}


int
cache_proto_i32(const ob_str_t *t, int32_t *out)
{
    int64_t   v;
    uint32_t  u;

    if (cache_proto_i64(t, &v) != OB_OK) {
        return OB_ERR;
    }

    /* memcached assigns the long to an int32_t: the low 32 bits, read as
     * two's complement.  Spelled out, because converting an out-of-range
     * value to a signed type is implementation-defined in C. */
    u = (uint32_t) v;
    *out = u <= (uint32_t) INT32_MAX ? (int32_t) u : -(int32_t) ~u - 1;
    return OB_OK;
}


/* The value of one base64 character, or -1. */
static int
cache_b64_value(uint8_t ch)
{
    if (ch >= 'A' && ch <= 'Z') {
        return ch - 'A';
    }
    if (ch >= 'a' && ch <= 'z') {
        return ch - 'a' + 26;
    }
    if (ch >= '0' && ch <= '9') {
        return ch - '0' + 52;
    }
    if (ch == '+') {
        return 62;
    }
    if (ch == '/') {
        return 63;
    }
    return -1;
}


long
cache_proto_b64_decode(const char *in, size_t len, char *out, size_t outlen)
{
    const uint8_t  *p;
    size_t          i, o, pad, need;
    uint32_t        acc;
    int             v, k;

    p = (const uint8_t *) in;

    if (len % 4 != 0) {
        return -1;
    }

    pad = 0;
    if (len > 0 && p[len - 1] == '=') {
        pad++;
        if (p[len - 2] == '=') {
            pad++;
        }
    }

    need = len / 4 * 3 - pad;
    if (need > outlen) {
        return -1;
    }

    o = 0;
    for (i = 0; i < len; i += 4) {
        acc = 0;
        for (k = 0; k < 4; k++) {
            if (i + (size_t) k >= len - pad) {
                v = 0;              /* padding, only in the last quantum */
            } else {
                v = cache_b64_value(p[i + (size_t) k]);
                if (v < 0) {
                    return -1;      /* outside the alphabet, or a '=' early */
                }
            }
            acc = (acc << 6) | (uint32_t) v;
        }

        out[o++] = (char) (acc >> 16);
        if (o < need) {
            out[o++] = (char) (acc >> 8);
        }
        if (o < need) {
            out[o++] = (char) acc;
        }
    }

    return (long) need;
}


long
cache_proto_b64_encode(const char *in, size_t len, char *out, size_t outlen)
{
    const uint8_t  *p;
    size_t          i, o, need;
    uint32_t        acc;

    p = (const uint8_t *) in;
    need = (len + 2) / 3 * 4;

    if (need > outlen) {
        return -1;
    }

    o = 0;
    for (i = 0; i + 2 < len; i += 3) {
        acc = ((uint32_t) p[i] << 16) | ((uint32_t) p[i + 1] << 8) | p[i + 2];
        out[o++] = cache_b64_alphabet[(acc >> 18) & 0x3f];
        out[o++] = cache_b64_alphabet[(acc >> 12) & 0x3f];
        out[o++] = cache_b64_alphabet[(acc >> 6) & 0x3f];
        out[o++] = cache_b64_alphabet[acc & 0x3f];
    }

    if (len - i == 1) {
        acc = (uint32_t) p[i] << 16;
        out[o++] = cache_b64_alphabet[(acc >> 18) & 0x3f];
        out[o++] = cache_b64_alphabet[(acc >> 12) & 0x3f];
        out[o++] = '=';
        out[o++] = '=';

    } else if (len - i == 2) {
        acc = ((uint32_t) p[i] << 16) | ((uint32_t) p[i + 1] << 8);
        out[o++] = cache_b64_alphabet[(acc >> 18) & 0x3f];
        out[o++] = cache_b64_alphabet[(acc >> 12) & 0x3f];
        out[o++] = cache_b64_alphabet[(acc >> 6) & 0x3f];
        out[o++] = '=';
    }

    return (long) o;
}


size_t
cache_proto_u64_format(uint64_t v, char *buf)
{
    char    tmp[20];
    size_t  n = 0, i;

    do {
        tmp[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (i = 0; i < n; i++) {
        buf[i] = tmp[n - 1 - i];
    }
    return n;
}
