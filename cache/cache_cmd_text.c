/*
 * cache_cmd_text.c: the commands of memcached's classic text protocol, as
 * the table cache_text_commands that cache_module.c dispatches through.
 *
 * Every reply, error string and edge case is memcached 1.6.18's
 * (proto_text.c), because clients (python-memcached, pymemcache,
 * libmemcached) are written against it.  The order of the checks matters
 * as much as the checks, since it decides which error a bad line gets:
 *
 *   1. the token count ("ERROR"), before noreply is even looked at, so a
 *      miscounted line always answers;
 *   2. noreply: the last token is exactly "noreply"; from then on it hides
 *      every reply of the command, errors included (memcached's out_string
 *      skips them all);
 *   3. the key length (250), then the numbers, each with the error string
 *      memcached uses for that command.
 *
 * Storage commands (one generic handler, as redis's setGenericCommand):
 *
 *   line -> count -> key -> flags exptime bytes [cas] ----- bad: CLIENT_ERROR,
 *                                 |                         no swallow (the
 *                                 |                         data line is then
 *                                 |                         read as a command)
 *                  too large for -I? ----------------------- SERVER_ERROR +
 *                                 |                          swallow bytes+2
 *                  block all here? -- no: OB_AGAIN (nothing drained; the
 *                                 |   line is parsed again with more input)
 *                  cache_item_alloc - fails: SERVER_ERROR + swallow
 *                                 |
 *                  take the block - no "\r\n": CLIENT_ERROR bad data chunk
 *                                 |
 *                  cache_store_item -> STORED, NOT_STORED, EXISTS, NOT_FOUND
 *
 * "Too large" is decided from the line alone, with the rule of
 * cache_item_alloc (header + key + value over max_item_size), so that a
 * refused block is discarded as it streams in instead of being buffered
 * whole first; the item itself is allocated only once its block has fully
 * arrived, so a slow sender does not make us allocate (and maybe evict)
 * on every read.
 *
 * Retrieval replies for a multi-key get are built in a temporary buffer
 * and appended to the output only when complete: a key over 250 bytes
 * anywhere turns the whole reply into one CLIENT_ERROR, as in memcached.
 * Keys are walked by scanning spaces from the first key to the end of the
 * line, so a get has no key limit even though the tokenizer stops at 24.
 *
 * Statistics follow memcached's accounting: cmd_get and get_hits/misses
 * per key of get/gets; gat/gats count as touches (cmd_touch, touch_hits,
 * touch_misses) and not as gets; every lookup that meets an expired or
 * flushed item counts get_expired / get_flushed (memcached's do_item_get).
 * A data block that fails its "\r\n" check still counts as a set.  The
 * store (cache_store.c) counts cmd_set, cas_* and incr/decr_*.
 */
#include "cache_int.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>


#define CACHE_MSG_BAD_FORMAT   "CLIENT_ERROR bad command line format"
#define CACHE_MSG_BAD_EXPTIME  "CLIENT_ERROR invalid exptime argument"
#define CACHE_MSG_BAD_CHUNK    "CLIENT_ERROR bad data chunk"
#define CACHE_MSG_TOO_LARGE    "SERVER_ERROR object too large for cache"
#define CACHE_MSG_NO_MEMORY    "SERVER_ERROR out of memory storing object"
#define CACHE_MSG_DELETE_USAGE \
    "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"

/* memcached's MAX_VERBOSITY_LEVEL: `verbosity 5` is recorded as 2. */
#define CACHE_VERBOSITY_MAX    2


/* 1 when token t is exactly the string s. */
static int
cache_tok_is(const ob_str_t *t, const char *s)
{
    size_t  n;

    n = strlen(s);

    return t->len == n && memcmp(t->data, s, n) == 0;
}


/* memcached's set_noreply_maybe: the last token is exactly "noreply". */
static int
cache_tok_noreply(const ob_str_t *tokens, size_t ntokens)
{
    return ntokens > 1 && cache_tok_is(&tokens[ntokens - 1], "noreply");
}


/*
 * Answers `text` (unless noreply) and drains the command line: the end of
 * every handler that takes no data block.
 */
static int
cache_text_reply(struct evbuffer *in, size_t line_consumed,
                 struct evbuffer *out, const char *text, int noreply)
{
    cache_reply(out, text, noreply);
    evbuffer_drain(in, line_consumed);

    return OB_OK;
}


/* ---- storage: set add replace append prepend cas ------------------------ */

/*
 * A refused block (too large, no memory): counts it, answers, swallows the
 * block, and for set removes the old value too, so that a client never
 * reads back stale data after a failed set (memcached does the same).
 */
static int
cache_store_refuse(cache_conn_t *cc, struct evbuffer *in, size_t line_consumed,
                   struct evbuffer *out, const ob_str_t *key, cache_op_t op,
                   size_t vlen, int why, int noreply)
{
    cache_t       *c;
    cache_item_t  *old;

    c = cc->cache;

    if (why == CACHE_TOO_LARGE) {
        c->stats.store_too_large++;
        cache_reply(out, CACHE_MSG_TOO_LARGE, noreply);
    } else {
        c->stats.store_no_memory++;
        cache_reply(out, CACHE_MSG_NO_MEMORY, noreply);
    }

    if (op == CACHE_OP_SET) {
        old = cache_item_get(c, (const char *) key->data, key->len);
        if (old != NULL) {
            cache_item_unlink(c, old);
        }
    }

    cache_conn_swallow(cc, in, line_consumed, vlen);

    return OB_OK;
}


/*
 * The storage commands' generic handler:
 *   <cmd> <key> <flags> <exptime> <bytes> [noreply]
 *   cas <key> <flags> <exptime> <bytes> <cas unique> [noreply]
 * followed by a data block of <bytes> bytes and "\r\n".
 */
static int
cache_store_generic(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                    size_t line_consumed, struct evbuffer *in,
                    struct evbuffer *out, cache_op_t op)
{
    cache_t       *c;
    cache_item_t  *it;
    ob_str_t      *key;
    uint32_t       flags;
    int32_t        exptime, vlen;
    uint64_t       cas_in;
    size_t         nargs, nbytes;
    int            noreply, rc, why;
    const char    *reply;

    c = cc->cache;
    nargs = op == CACHE_OP_CAS ? 6 : 5;

    if (ntokens != nargs && ntokens != nargs + 1) {
        return cache_text_reply(in, line_consumed, out, "ERROR", 0);
    }

    noreply = cache_tok_noreply(tokens, ntokens);
    key = &tokens[1];
    cas_in = 0;

    if (key->len > CACHE_KEY_MAX
        || !cache_proto_u32(&tokens[2], &flags)
        || !cache_proto_i32(&tokens[3], &exptime)
        || !cache_proto_i32(&tokens[4], &vlen)
        || (op == CACHE_OP_CAS && !cache_proto_u64(&tokens[5], &cas_in))
        || vlen < 0 || vlen > INT32_MAX - 2)
    {
        return cache_text_reply(in, line_consumed, out, CACHE_MSG_BAD_FORMAT,
                                noreply);
    }

    nbytes = (size_t) vlen + 2;

    /* Decided before the block arrives, so that it is discarded as it
     * comes instead of buffered. */
    if (cache_item_too_large(c, key->len, nbytes)) {
        return cache_store_refuse(cc, in, line_consumed, out, key, op,
                                  (size_t) vlen, CACHE_TOO_LARGE, noreply);
    }

    if (evbuffer_get_length(in) < line_consumed + nbytes) {
        return OB_AGAIN;
    }

    why = CACHE_NO_MEMORY;
    it = cache_item_alloc(c, (const char *) key->data, key->len, flags,
                          cache_exptime_rel(c, exptime), nbytes, &why);
    if (it == NULL) {
        return cache_store_refuse(cc, in, line_consumed, out, key, op,
                                  (size_t) vlen, why, noreply);
    }

    rc = cache_conn_take_block(in, line_consumed, (size_t) vlen,
                               CACHE_ITEM_value(it));
    if (rc != OB_OK) {
        /* OB_PROTO_ERR: the block did not end in "\r\n" (OB_AGAIN cannot
         * happen: the block is all here).  memcached counts the set before
         * it checks the terminator; the old value stays. */
        c->stats.cmd_set++;
        c->stats.classes[it->clsid].cmd_set++;
        cache_item_free(c, it);
        cache_reply(out, CACHE_MSG_BAD_CHUNK, noreply);
        return OB_OK;
    }

    memcpy(CACHE_ITEM_value(it) + vlen, "\r\n", 2);

    switch (cache_store_item(c, it, op, cas_in, NULL)) {

    case OB_OK:
        reply = "STORED";
        break;

    case CACHE_EXISTS:
        reply = "EXISTS";
        break;

    case CACHE_NOT_FOUND:
        reply = "NOT_FOUND";
        break;

    case CACHE_NOT_STORED:
    case CACHE_NO_MEMORY:
        /* an append/prepend whose joined value cannot be allocated (too
         * large or no memory): memcached 1.6.18 answers NOT_STORED */
        reply = "NOT_STORED";
        break;

    default:
        reply = "SERVER_ERROR Unhandled storage type.";
        break;
    }

    cache_reply(out, reply, noreply);

    return OB_OK;
}


static int
cache_cmd_set(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
              size_t line_consumed, struct evbuffer *in, struct evbuffer *out)
{
    return cache_store_generic(cc, tokens, ntokens, line_consumed, in, out,
                               CACHE_OP_SET);
}


static int
cache_cmd_add(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
              size_t line_consumed, struct evbuffer *in, struct evbuffer *out)
{
    return cache_store_generic(cc, tokens, ntokens, line_consumed, in, out,
                               CACHE_OP_ADD);
}


static int
cache_cmd_replace(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                  size_t line_consumed, struct evbuffer *in,
                  struct evbuffer *out)
{
    return cache_store_generic(cc, tokens, ntokens, line_consumed, in, out,
                               CACHE_OP_REPLACE);
}


static int
cache_cmd_append(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                 size_t line_consumed, struct evbuffer *in,
                 struct evbuffer *out)
{
    return cache_store_generic(cc, tokens, ntokens, line_consumed, in, out,
                               CACHE_OP_APPEND);
}


static int
cache_cmd_prepend(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                  size_t line_consumed, struct evbuffer *in,
                  struct evbuffer *out)
{
    return cache_store_generic(cc, tokens, ntokens, line_consumed, in, out,
                               CACHE_OP_PREPEND);
}


static int
cache_cmd_cas(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
              size_t line_consumed, struct evbuffer *in, struct evbuffer *out)
{
    return cache_store_generic(cc, tokens, ntokens, line_consumed, in, out,
                               CACHE_OP_CAS);
}


/* ---- retrieval: get gets gat gats --------------------------------------- */

/* The length of the key at p: up to the next space or `end`. */
static size_t
cache_text_key_len(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *sp = memchr(p, ' ', (size_t) (end - p));

    return (size_t) ((sp != NULL ? sp : end) - p);
}


/* Appends one hit's "VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n".
 * The header is formatted by hand into one buffer: this runs for every
 * hit, and printf-style formatting was a tenth of a get's cost. */
static void
cache_get_value(struct evbuffer *buf, const cache_item_t *it, int return_cas)
{
    char    head[6 + CACHE_KEY_MAX + 3 * 21 + 2];
    size_t  n = 0;

    memcpy(head, "VALUE ", 6);
    n = 6;
    memcpy(head + n, CACHE_ITEM_key(it), it->nkey);
    n += it->nkey;
    head[n++] = ' ';
    n += cache_proto_u64_format(it->flags, head + n);
    head[n++] = ' ';
    n += cache_proto_u64_format(it->nbytes - 2, head + n);
    if (return_cas) {
        head[n++] = ' ';
        n += cache_proto_u64_format(it->cas, head + n);
    }
    head[n++] = '\r';
    head[n++] = '\n';
    evbuffer_add(buf, head, n);

    /* the stored value already ends in "\r\n" */
    evbuffer_add(buf, CACHE_ITEM_value(it), it->nbytes);
}


/*
 * get/gets <key>*, and with touch != 0 gat/gats <exptime> <key>*, which
 * also set each hit's expiry.  return_cas adds the CAS to VALUE lines.
 */
static int
cache_get_generic(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                  size_t line_consumed, struct evbuffer *in,
                  struct evbuffer *out, int return_cas, int touch)
{
    cache_t           *c;
    cache_item_t      *it;
    const uint8_t     *p, *start, *end, *key;
    size_t             first, nkey;
    int32_t            exptime;
    cache_rel_time_t   rel;

    c = cc->cache;
    rel = 0;
    first = 1;

    if (ntokens < 2) {
        return cache_text_reply(in, line_consumed, out, "ERROR", 0);
    }

    if (touch) {
        if (!cache_proto_i32(&tokens[1], &exptime)) {
            return cache_text_reply(in, line_consumed, out,
                                    CACHE_MSG_BAD_EXPTIME, 0);
        }
        rel = cache_exptime_rel(c, exptime);
        first = 2;
    }

    /* From the first key to the end of the line: the tokenizer's last
     * token may hold many keys.  (`gat <exptime>` alone has none: END.)
     * A key over 250 bytes anywhere makes the whole reply an error, so the
     * keys are checked before anything is written. */
    start = tokens[ntokens - 1].data + tokens[ntokens - 1].len;
    end = start;
    if (first < ntokens) {
        start = tokens[first].data;
    }
    for (p = start; p < end; p = key + nkey + 1) {
        key = p;
        nkey = cache_text_key_len(key, end);
        if (nkey > CACHE_KEY_MAX) {
            return cache_text_reply(in, line_consumed, out,
                                    CACHE_MSG_BAD_FORMAT, 0);
        }
    }

    p = start;
    while (p < end) {
        if (*p == ' ') {
            p++;
            continue;
        }

        key = p;
        nkey = cache_text_key_len(key, end);
        p = key + nkey;

        it = cache_item_get(c, (const char *) key, nkey);

        if (touch) {
            c->stats.cmd_touch++;
        } else {
            c->stats.cmd_get++;
        }

        if (it == NULL) {
            if (touch) {
                c->stats.touch_misses++;
            } else {
                c->stats.get_misses++;
            }
            continue;
        }

        if (touch) {
            it->exptime = rel;
            c->stats.touch_hits++;
            c->stats.classes[it->clsid].touch_hits++;
        } else {
            c->stats.get_hits++;
            c->stats.classes[it->clsid].get_hits++;
        }

        cache_item_bump(c, it);
        cache_get_value(out, it, return_cas);
    }

    evbuffer_add(out, "END\r\n", 5);
    evbuffer_drain(in, line_consumed);

    return OB_OK;
}


static int
cache_cmd_get(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
              size_t line_consumed, struct evbuffer *in, struct evbuffer *out)
{
    return cache_get_generic(cc, tokens, ntokens, line_consumed, in, out,
                             0, 0);
}


static int
cache_cmd_gets(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
               size_t line_consumed, struct evbuffer *in, struct evbuffer *out)
{
    return cache_get_generic(cc, tokens, ntokens, line_consumed, in, out,
                             1, 0);
}


static int
cache_cmd_gat(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
              size_t line_consumed, struct evbuffer *in, struct evbuffer *out)
{
    return cache_get_generic(cc, tokens, ntokens, line_consumed, in, out,
                             0, 1);
}


static int
cache_cmd_gats(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
               size_t line_consumed, struct evbuffer *in, struct evbuffer *out)
{
    return cache_get_generic(cc, tokens, ntokens, line_consumed, in, out,
                             1, 1);
}


/* ---- touch delete incr decr --------------------------------------------- */

/* touch <key> <exptime> [noreply] */
static int
cache_cmd_touch(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                size_t line_consumed, struct evbuffer *in,
                struct evbuffer *out)
{
    cache_t       *c;
    cache_item_t  *it;
    int32_t        exptime;
    int            noreply;

    c = cc->cache;

    if (ntokens != 3 && ntokens != 4) {
        return cache_text_reply(in, line_consumed, out, "ERROR", 0);
    }

    noreply = cache_tok_noreply(tokens, ntokens);

    if (tokens[1].len > CACHE_KEY_MAX) {
        return cache_text_reply(in, line_consumed, out, CACHE_MSG_BAD_FORMAT,
                                noreply);
    }

    if (!cache_proto_i32(&tokens[2], &exptime)) {
        return cache_text_reply(in, line_consumed, out, CACHE_MSG_BAD_EXPTIME,
                                noreply);
    }

    c->stats.cmd_touch++;

    it = cache_item_get(c, (const char *) tokens[1].data, tokens[1].len);
    if (it == NULL) {
        c->stats.touch_misses++;
        return cache_text_reply(in, line_consumed, out, "NOT_FOUND", noreply);
    }

    it->exptime = cache_exptime_rel(c, exptime);
    c->stats.touch_hits++;
    c->stats.classes[it->clsid].touch_hits++;
    cache_item_bump(c, it);

    return cache_text_reply(in, line_consumed, out, "TOUCHED", noreply);
}


/*
 * delete <key> [noreply], and the legacy delete <key> 0 [noreply]: any
 * other hold time is refused with memcached's usage message.
 */
static int
cache_cmd_delete(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                 size_t line_consumed, struct evbuffer *in,
                 struct evbuffer *out)
{
    cache_t       *c;
    cache_item_t  *it;
    int            noreply, hold_zero, valid;

    c = cc->cache;
    noreply = 0;

    if (ntokens < 2 || ntokens > 4) {
        return cache_text_reply(in, line_consumed, out, "ERROR", 0);
    }

    if (ntokens > 2) {
        hold_zero = cache_tok_is(&tokens[2], "0");
        noreply = cache_tok_noreply(tokens, ntokens);
        valid = (ntokens == 3 && (hold_zero || noreply))
                || (ntokens == 4 && hold_zero && noreply);
        if (!valid) {
            return cache_text_reply(in, line_consumed, out,
                                    CACHE_MSG_DELETE_USAGE, noreply);
        }
    }

    if (tokens[1].len > CACHE_KEY_MAX) {
        return cache_text_reply(in, line_consumed, out, CACHE_MSG_BAD_FORMAT,
                                noreply);
    }

    it = cache_item_get(c, (const char *) tokens[1].data, tokens[1].len);
    if (it == NULL) {
        c->stats.delete_misses++;
        return cache_text_reply(in, line_consumed, out, "NOT_FOUND", noreply);
    }

    c->stats.delete_hits++;
    c->stats.classes[it->clsid].delete_hits++;
    cache_item_unlink(c, it);

    return cache_text_reply(in, line_consumed, out, "DELETED", noreply);
}


/* incr|decr <key> <delta> [noreply]: the arithmetic is cache_store_incr's. */
static int
cache_incr_generic(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                   size_t line_consumed, struct evbuffer *in,
                   struct evbuffer *out, int incr)
{
    cache_t     *c;
    uint64_t     delta, value;
    int          noreply;
    char         num[24];
    const char  *reply;

    c = cc->cache;

    if (ntokens != 3 && ntokens != 4) {
        return cache_text_reply(in, line_consumed, out, "ERROR", 0);
    }

    noreply = cache_tok_noreply(tokens, ntokens);

    if (tokens[1].len > CACHE_KEY_MAX) {
        return cache_text_reply(in, line_consumed, out, CACHE_MSG_BAD_FORMAT,
                                noreply);
    }

    if (!cache_proto_u64(&tokens[2], &delta)) {
        return cache_text_reply(in, line_consumed, out,
                                "CLIENT_ERROR invalid numeric delta argument",
                                noreply);
    }

    switch (cache_store_incr(c, (const char *) tokens[1].data, tokens[1].len,
                             incr, delta, 0, &value, NULL))
    {
    case OB_OK:
        snprintf(num, sizeof(num), "%llu", (unsigned long long) value);
        reply = num;
        break;

    case OB_DECLINED:
        reply = "CLIENT_ERROR cannot increment or decrement non-numeric value";
        break;

    case CACHE_NOT_FOUND:
        reply = "NOT_FOUND";
        break;

    default:                            /* CACHE_NO_MEMORY */
        reply = "SERVER_ERROR out of memory";
        break;
    }

    return cache_text_reply(in, line_consumed, out, reply, noreply);
}


static int
cache_cmd_incr(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
               size_t line_consumed, struct evbuffer *in, struct evbuffer *out)
{
    return cache_incr_generic(cc, tokens, ntokens, line_consumed, in, out, 1);
}


static int
cache_cmd_decr(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
               size_t line_consumed, struct evbuffer *in, struct evbuffer *out)
{
    return cache_incr_generic(cc, tokens, ntokens, line_consumed, in, out, 0);
}


/* ---- server commands ---------------------------------------------------- */

/*
 * flush_all [delay] [noreply].  Counted even when refused or malformed, as
 * memcached counts it before looking at anything.  A delay of 0 or less
 * means now; above 30 days it is a unix time (cache_items_flush applies
 * cache_exptime_rel).
 */
static int
cache_cmd_flush_all(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                    size_t line_consumed, struct evbuffer *in,
                    struct evbuffer *out)
{
    cache_t  *c;
    int32_t   delay;
    int       noreply;

    c = cc->cache;
    delay = 0;

    if (ntokens < 1 || ntokens > 3) {
        return cache_text_reply(in, line_consumed, out, "ERROR", 0);
    }

    noreply = cache_tok_noreply(tokens, ntokens);
    c->stats.cmd_flush++;

    if (!c->flush_enabled) {
        return cache_text_reply(in, line_consumed, out,
                                "CLIENT_ERROR flush_all not allowed", noreply);
    }

    /* a delay is there unless the line is `flush_all [noreply]` */
    if (ntokens != (noreply ? 2u : 1u)
        && !cache_proto_i32(&tokens[1], &delay))
    {
        return cache_text_reply(in, line_consumed, out, CACHE_MSG_BAD_EXPTIME,
                                noreply);
    }

    cache_items_flush(c, delay > 0 ? delay : 0);

    return cache_text_reply(in, line_consumed, out, "OK", noreply);
}


/* version: extra tokens are ignored, even "noreply". */
static int
cache_cmd_version(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                  size_t line_consumed, struct evbuffer *in,
                  struct evbuffer *out)
{
    (void) cc;
    (void) tokens;
    (void) ntokens;

    return cache_text_reply(in, line_consumed, out,
                            "VERSION " CACHE_PROTO_VERSION, 0);
}


/*
 * verbosity <level> [noreply].  The level is recorded for `stats settings`
 * (clamped to 2 as memcached does); the process's log level belongs to the
 * core and is shared by every module, so a cache client does not change it.
 */
static int
cache_cmd_verbosity(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                    size_t line_consumed, struct evbuffer *in,
                    struct evbuffer *out)
{
    uint32_t  level;
    int       noreply;

    if (ntokens != 2 && ntokens != 3) {
        return cache_text_reply(in, line_consumed, out, "ERROR", 0);
    }

    noreply = cache_tok_noreply(tokens, ntokens);

    if (!cache_proto_u32(&tokens[1], &level)) {
        return cache_text_reply(in, line_consumed, out, CACHE_MSG_BAD_FORMAT,
                                noreply);
    }

    cc->cache->verbosity = level > CACHE_VERBOSITY_MAX
                           ? CACHE_VERBOSITY_MAX : (int) level;

    return cache_text_reply(in, line_consumed, out, "OK", noreply);
}


/* quit: no reply; the connection closes once earlier replies are out. */
static int
cache_cmd_quit(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
               size_t line_consumed, struct evbuffer *in, struct evbuffer *out)
{
    (void) cc;
    (void) tokens;
    (void) ntokens;
    (void) out;

    evbuffer_drain(in, line_consumed);

    return OB_DONE;
}


/* shutdown [graceful]: memcached refuses it unless started with -A, which
 * onebox does not offer (a cache client must not stop the other modules). */
static int
cache_cmd_shutdown(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                   size_t line_consumed, struct evbuffer *in,
                   struct evbuffer *out)
{
    (void) cc;
    (void) tokens;
    (void) ntokens;

    return cache_text_reply(in, line_consumed, out,
                            "ERROR: shutdown not enabled", 0);
}


/*
 * cache_memlimit <megabytes> [noreply]: sets the arena's budget, which is
 * the process's (every module allocates from it).  As in memcached, the
 * number is read as a 32-bit unsigned value and anything unreadable is a
 * bare "ERROR".  Lowering the budget frees nothing at once: later
 * allocations evict down to it.
 */
static int
cache_cmd_memlimit(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                   size_t line_consumed, struct evbuffer *in,
                   struct evbuffer *out)
{
    uint32_t     mb;
    int          noreply;
    const char  *reply;

    if (ntokens != 2 && ntokens != 3) {
        return cache_text_reply(in, line_consumed, out, "ERROR", 0);
    }

    noreply = cache_tok_noreply(tokens, ntokens);

    if (!cache_proto_u32(&tokens[1], &mb)) {
        reply = "ERROR";

    } else if (mb < 8) {
        reply = "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m";

    } else if (mb > 1000000000) {
        reply = "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes";

    } else {
        ob_arena_set_limit(cc->cache->arena, (size_t) mb * 1024 * 1024);
        reply = "OK";
    }

    return cache_text_reply(in, line_consumed, out, reply, noreply);
}


/*
 * The table.  Names are case-sensitive.  The hot commands come first: the
 * lookup is a linear scan.  bget is memcached's ancient alias of get, still
 * accepted by 1.6.18.
 */
const cache_cmd_t cache_text_commands[] = {
    { "get",            cache_cmd_get },
    { "set",            cache_cmd_set },
    { "gets",           cache_cmd_gets },
    { "delete",         cache_cmd_delete },
    { "add",            cache_cmd_add },
    { "replace",        cache_cmd_replace },
    { "append",         cache_cmd_append },
    { "prepend",        cache_cmd_prepend },
    { "cas",            cache_cmd_cas },
    { "incr",           cache_cmd_incr },
    { "decr",           cache_cmd_decr },
    { "touch",          cache_cmd_touch },
    { "gat",            cache_cmd_gat },
    { "gats",           cache_cmd_gats },
    { "version",        cache_cmd_version },
    { "stats",          cache_cmd_stats },
    { "flush_all",      cache_cmd_flush_all },
    { "verbosity",      cache_cmd_verbosity },
    { "quit",           cache_cmd_quit },
    { "shutdown",       cache_cmd_shutdown },
    { "cache_memlimit", cache_cmd_memlimit },
    { "bget",           cache_cmd_get },
    { NULL,             NULL }
};
