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
 *      miscounted line always answers: the arity in the table below,
 *      checked by the dispatcher (ob_cmd_lookup) before the handler runs;
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
 *                  cache_item_alloc - too large for -I, or no memory:
 *                                 |   SERVER_ERROR + swallow bytes+2
 *                  cache_conn_upload: the block is copied into the item as
 *                                 |   it arrives (cache_module.c)
 *                  cache_store_done - no "\r\n": CLIENT_ERROR bad data chunk
 *                                 |
 *                  cache_store_item -> STORED, NOT_STORED, EXISTS, NOT_FOUND
 *
 * The item is allocated from the line alone, before its block arrives, as
 * memcached does: a block being sent is in the memory budget (a chunk of
 * the arena) instead of in an input buffer outside it, and a refused block
 * is discarded as it streams in.
 *
 * Retrieval replies are not built whole first: cache_mget_resume answers
 * the keys one at a time and stops while the output is over its soft
 * limit, to go on once it has drained; large values are referenced, not
 * copied.  A key over 250 bytes anywhere turns the whole reply into one
 * CLIENT_ERROR, as in memcached, so the keys are checked before the first
 * is answered.
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

#include "ob_cycle.h"


#define CACHE_MSG_BAD_FORMAT   "CLIENT_ERROR bad command line format"
#define CACHE_MSG_BAD_EXPTIME  "CLIENT_ERROR invalid exptime argument"
#define CACHE_MSG_BAD_CHUNK    "CLIENT_ERROR bad data chunk"
#define CACHE_MSG_TOO_LARGE    "SERVER_ERROR object too large for cache"
#define CACHE_MSG_NO_MEMORY    "SERVER_ERROR out of memory storing object"
#define CACHE_MSG_DELETE_USAGE \
    "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"

/* memcached's MAX_VERBOSITY_LEVEL: `verbosity 5` is recorded as 2. */
#define CACHE_VERBOSITY_MAX    2


/* memcached's set_noreply_maybe: the last token is exactly "noreply". */
static int
cache_tok_noreply(const ob_str_t *tokens, size_t ntokens)
{
    return ntokens > 1 && cache_token_is(&tokens[ntokens - 1], "noreply");
}


/* ---- storage: set add replace append prepend cas ------------------------ */

/*
 * A refused block (too large, no memory): counts it, answers, swallows the
 * block, and for set removes the old value too, so that a client never
 * reads back stale data after a failed set (memcached does the same).
 */
static int
cache_store_refuse(cache_conn_t *cc, const ob_str_t *key, cache_op_t op,
                   size_t vlen, int why, int noreply)
{
    cache_t       *c;
    cache_item_t  *old;

    c = cc->cache;

    if (why == CACHE_TOO_LARGE) {
        c->stats.store_too_large++;
    } else {
        c->stats.store_no_memory++;
    }

    if (op == CACHE_OP_SET) {
        old = cache_item_get(c, (const char *) key->data, key->len);
        if (old != NULL) {
            cache_item_unlink(c, old);
        }
    }

    cache_conn_swallow(cc, vlen);

    return cache_reply(cc, why == CACHE_TOO_LARGE ? CACHE_MSG_TOO_LARGE
                                                  : CACHE_MSG_NO_MEMORY,
                       noreply);
}


/*
 * The end of a storage command, once its block is all in the item
 * (cache_conn_upload's callback): check, store, answer.
 */
static int
cache_store_done(cache_conn_t *cc, cache_item_t *it, int bad)
{
    cache_t     *c;
    const char  *reply;

    c = cc->cache;

    if (bad) {
        /* memcached counts the set before it checks the terminator; the
         * old value stays */
        c->stats.cmd_set++;
        c->stats.classes[cache_item_clsid(c, it)].cmd_set++;
        cache_item_free(c, it);
        return cache_reply(cc, CACHE_MSG_BAD_CHUNK, cc->upload_noreply);
    }

    switch (cache_store_item(c, it, cc->upload_op, cc->upload_cas, NULL)) {

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

    return cache_reply(cc, reply, cc->upload_noreply);
}


/*
 * The storage commands' generic handler:
 *   <cmd> <key> <flags> <exptime> <bytes> [noreply]
 *   cas <key> <flags> <exptime> <bytes> <cas unique> [noreply]
 * followed by a data block of <bytes> bytes and "\r\n".  The item is
 * allocated now, from the line, and the block read into it as it comes
 * (cache_conn_upload), as memcached does: the input never holds the block
 * whole, and memory for it is taken from the budget before it is sent.
 */
static int
cache_store_generic(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                    cache_op_t op)
{
    cache_t       *c;
    cache_item_t  *it;
    ob_str_t      *key;
    uint32_t       flags;
    int32_t        exptime, vlen;
    uint64_t       cas_in;
    int            noreply, why;

    c = cc->cache;

    noreply = cache_tok_noreply(tokens, ntokens);
    key = &tokens[1];
    cas_in = 0;

    if (key->len > CACHE_KEY_MAX
        || cache_proto_u32(&tokens[2], &flags) != OB_OK
        || cache_proto_i32(&tokens[3], &exptime) != OB_OK
        || cache_proto_i32(&tokens[4], &vlen) != OB_OK
        || (op == CACHE_OP_CAS && cache_proto_u64(&tokens[5], &cas_in) != OB_OK)
        || vlen < 0 || vlen > INT32_MAX - 2)
    {
        /* no swallow: the data line is then read as a command */
        return cache_reply(cc, CACHE_MSG_BAD_FORMAT, noreply);
    }

    why = CACHE_NO_MEMORY;
    it = cache_item_alloc(c, (const char *) key->data, key->len, flags,
                          cache_exptime_rel(c, exptime), (size_t) vlen, &why);
    if (it == NULL) {
        return cache_store_refuse(cc, key, op, (size_t) vlen, why, noreply);
    }

    cc->upload_op = op;
    cc->upload_cas = cas_in;
    cc->upload_noreply = noreply;
    cache_conn_upload(cc, it, cache_store_done);

    return OB_OK;
}


static int
cache_cmd_set(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    return cache_store_generic(cc, tokens, ntokens,
                               CACHE_OP_SET);
}


static int
cache_cmd_add(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    return cache_store_generic(cc, tokens, ntokens,
                               CACHE_OP_ADD);
}


static int
cache_cmd_replace(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    return cache_store_generic(cc, tokens, ntokens,
                               CACHE_OP_REPLACE);
}


static int
cache_cmd_append(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    return cache_store_generic(cc, tokens, ntokens,
                               CACHE_OP_APPEND);
}


static int
cache_cmd_prepend(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    return cache_store_generic(cc, tokens, ntokens,
                               CACHE_OP_PREPEND);
}


static int
cache_cmd_cas(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    return cache_store_generic(cc, tokens, ntokens,
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


/* Values up to this size are copied along with their VALUE line in one
 * append; larger ones go through cache_out_value (referenced). */
#define CACHE_GET_INLINE  1000

/* Appends one hit's "VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n".
 * The header is formatted by hand into one buffer: this runs for every
 * hit, and printf-style formatting was a tenth of a get's cost.  The
 * value either follows it in the same append (small) or is appended by
 * reference; either way an append that fails closes the connection with
 * its output discarded, so a VALUE line never goes out without its data. */
static int
cache_get_value(cache_conn_t *cc, cache_item_t *it, int return_cas)
{
    char    head[6 + CACHE_KEY_MAX + 3 * 21 + 2 + CACHE_GET_INLINE + 2];
    size_t  n = 0;

    memcpy(head, "VALUE ", 6);
    n = 6;
    memcpy(head + n, CACHE_ITEM_key(it), it->nkey);
    n += it->nkey;
    head[n++] = ' ';
    n += cache_proto_u64_format(cache_item_flags(it), head + n);
    head[n++] = ' ';
    n += cache_proto_u64_format(it->nbytes, head + n);
    if (return_cas) {
        head[n++] = ' ';
        n += cache_proto_u64_format(it->cas, head + n);
    }
    head[n++] = '\r';
    head[n++] = '\n';

    /* the value is stored without its "\r\n" */
    if (it->nbytes <= CACHE_GET_INLINE) {
        memcpy(head + n, CACHE_ITEM_value(it), it->nbytes);
        n += it->nbytes;
        head[n++] = '\r';
        head[n++] = '\n';
        return cache_out(cc, head, n);
    }
    if (cache_out(cc, head, n) != OB_OK) {
        return OB_ERR;
    }
    return cache_out_value(cc, it);
}


/*
 * get/gets <key>*, and with touch != 0 gat/gats <exptime> <key>*, which
 * also set each hit's expiry.  return_cas adds the CAS to VALUE lines.
 *
 * The keys are answered by cache_mget_resume, a few at a time: it stops
 * whenever the output is over its soft limit and goes on once it drained,
 * so a line that names a large item many times never has more than about
 * the soft limit of reply queued (memcached yields the same way).  A key
 * over 250 bytes anywhere makes the whole reply an error, as in
 * memcached, so the keys are checked here, before anything is written.
 * Keys are walked by scanning spaces from the first key to the end of the
 * line, so a get has no key limit even though the tokenizer stops at 24.
 */
static int
cache_get_generic(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens,
                  int return_cas, int touch)
{
    cache_t           *c;
    const uint8_t     *p, *start, *end, *key;
    size_t             first, nkey;
    int32_t            exptime;
    cache_rel_time_t   rel;

    c = cc->cache;
    rel = 0;
    first = 1;


    if (touch) {
        if (cache_proto_i32(&tokens[1], &exptime) != OB_OK) {
            return cache_reply(cc, CACHE_MSG_BAD_EXPTIME, 0);
        }
        rel = cache_exptime_rel(c, exptime);
        first = 2;
    }

    /* From the first key to the end of the line: the tokenizer's last
     * token may hold many keys.  (`gat <exptime>` alone has none: END.) */
    start = tokens[ntokens - 1].data + tokens[ntokens - 1].len;
    end = start;
    if (first < ntokens) {
        start = tokens[first].data;
    }
    for (p = start; p < end; p = key + nkey + 1) {
        key = p;
        nkey = cache_text_key_len(key, end);
        if (nkey > CACHE_KEY_MAX) {
            return cache_reply(cc, CACHE_MSG_BAD_FORMAT, 0);
        }
    }

    cc->mget_active = 1;
    cc->mget_pos = (size_t) (start - (const uint8_t *) cc->line);
    cc->mget_end = (size_t) (end - (const uint8_t *) cc->line);
    cc->mget_cas = return_cas;
    cc->mget_touch = touch;
    cc->mget_exptime = rel;

    return OB_OK;
}


int
cache_mget_resume(cache_conn_t *cc)
{
    cache_t        *c;
    cache_item_t   *it;
    const uint8_t  *p, *end, *key;
    size_t          nkey;

    c = cc->cache;
    p = (const uint8_t *) cc->line + cc->mget_pos;
    end = (const uint8_t *) cc->line + cc->mget_end;

    while (p < end) {
        if (*p == ' ') {
            p++;
            continue;
        }

        key = p;
        nkey = cache_text_key_len(key, end);
        p = key + nkey;

        it = cache_item_get(c, (const char *) key, nkey);

        if (cc->mget_touch) {
            c->stats.cmd_touch++;
        } else {
            c->stats.cmd_get++;
        }

        if (it == NULL) {
            if (cc->mget_touch) {
                c->stats.touch_misses++;
            } else {
                c->stats.get_misses++;
            }
            continue;
        }

        if (cc->mget_touch) {
            it->exptime = cc->mget_exptime;
            c->stats.touch_hits++;
            c->stats.classes[cache_item_clsid(c, it)].touch_hits++;
        } else {
            c->stats.get_hits++;
            c->stats.classes[cache_item_clsid(c, it)].get_hits++;
        }

        cache_item_bump(c, it);
        if (cache_get_value(cc, it, cc->mget_cas) != OB_OK) {
            cc->mget_active = 0;
            return OB_ERR;
        }

        if (p < end && ob_conn_is_output_full(cc->conn)) {
            cc->mget_pos = (size_t) (p - (const uint8_t *) cc->line);
            return OB_BUSY;
        }
    }

    cc->mget_active = 0;
    return cache_out(cc, "END\r\n", 5);
}


static int
cache_cmd_get(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    return cache_get_generic(cc, tokens, ntokens, 0, 0);
}


static int
cache_cmd_gets(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    return cache_get_generic(cc, tokens, ntokens, 1, 0);
}


static int
cache_cmd_gat(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    return cache_get_generic(cc, tokens, ntokens, 0, 1);
}


static int
cache_cmd_gats(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    return cache_get_generic(cc, tokens, ntokens, 1, 1);
}


/* ---- touch delete incr decr --------------------------------------------- */

/* touch <key> <exptime> [noreply] */
static int
cache_cmd_touch(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    cache_t       *c;
    cache_item_t  *it;
    int32_t        exptime;
    int            noreply;

    c = cc->cache;


    noreply = cache_tok_noreply(tokens, ntokens);

    if (tokens[1].len > CACHE_KEY_MAX) {
        return cache_reply(cc, CACHE_MSG_BAD_FORMAT,
                                noreply);
    }

    if (cache_proto_i32(&tokens[2], &exptime) != OB_OK) {
        return cache_reply(cc, CACHE_MSG_BAD_EXPTIME,
                                noreply);
    }

    c->stats.cmd_touch++;

    it = cache_item_get(c, (const char *) tokens[1].data, tokens[1].len);
    if (it == NULL) {
        c->stats.touch_misses++;
        return cache_reply(cc, "NOT_FOUND", noreply);
    }

    it->exptime = cache_exptime_rel(c, exptime);
    c->stats.touch_hits++;
    c->stats.classes[cache_item_clsid(c, it)].touch_hits++;
    cache_item_bump(c, it);

    return cache_reply(cc, "TOUCHED", noreply);
}


/*
 * delete <key> [noreply], and the legacy delete <key> 0 [noreply]: any
 * other hold time is refused with memcached's usage message.
 */
static int
cache_cmd_delete(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    cache_t       *c;
    cache_item_t  *it;
    int            noreply, hold_zero, valid;

    c = cc->cache;
    noreply = 0;


    if (ntokens > 2) {
        hold_zero = cache_token_is(&tokens[2], "0");
        noreply = cache_tok_noreply(tokens, ntokens);
        valid = (ntokens == 3 && (hold_zero || noreply))
                || (ntokens == 4 && hold_zero && noreply);
        if (!valid) {
            return cache_reply(cc, CACHE_MSG_DELETE_USAGE, noreply);
        }
    }

    if (tokens[1].len > CACHE_KEY_MAX) {
        return cache_reply(cc, CACHE_MSG_BAD_FORMAT,
                                noreply);
    }

    it = cache_item_get(c, (const char *) tokens[1].data, tokens[1].len);
    if (it == NULL) {
        c->stats.delete_misses++;
        return cache_reply(cc, "NOT_FOUND", noreply);
    }

    c->stats.delete_hits++;
    c->stats.classes[cache_item_clsid(c, it)].delete_hits++;
    cache_item_unlink(c, it);

    return cache_reply(cc, "DELETED", noreply);
}


/* incr|decr <key> <delta> [noreply]: the arithmetic is cache_store_incr's. */
static int
cache_incr_generic(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens, int incr)
{
    cache_t     *c;
    uint64_t     delta, value;
    int          noreply;
    char         num[24];
    const char  *reply;

    c = cc->cache;


    noreply = cache_tok_noreply(tokens, ntokens);

    if (tokens[1].len > CACHE_KEY_MAX) {
        return cache_reply(cc, CACHE_MSG_BAD_FORMAT,
                                noreply);
    }

    if (cache_proto_u64(&tokens[2], &delta) != OB_OK) {
        return cache_reply(cc, "CLIENT_ERROR invalid numeric delta argument",
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

    return cache_reply(cc, reply, noreply);
}


static int
cache_cmd_incr(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    return cache_incr_generic(cc, tokens, ntokens, 1);
}


static int
cache_cmd_decr(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    return cache_incr_generic(cc, tokens, ntokens, 0);
}


/* ---- server commands ---------------------------------------------------- */

/*
 * flush_all [delay] [noreply].  Counted even when refused or malformed, as
 * memcached counts it before looking at anything.  A delay of 0 or less
 * means now; above 30 days it is a unix time (cache_items_flush applies
 * cache_exptime_rel).
 */
static int
cache_cmd_flush_all(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    cache_t  *c;
    int32_t   delay;
    int       noreply;

    c = cc->cache;
    delay = 0;


    noreply = cache_tok_noreply(tokens, ntokens);
    c->stats.cmd_flush++;

    if (!c->flush_enabled) {
        return cache_reply(cc, "CLIENT_ERROR flush_all not allowed", noreply);
    }

    /* a delay is there unless the line is `flush_all [noreply]` */
    if (ntokens != (noreply ? 2u : 1u)
        && cache_proto_i32(&tokens[1], &delay) != OB_OK)
    {
        return cache_reply(cc, CACHE_MSG_BAD_EXPTIME,
                                noreply);
    }

    cache_items_flush(c, delay > 0 ? delay : 0);

    return cache_reply(cc, "OK", noreply);
}


/* version: extra tokens are ignored, even "noreply". */
static int
cache_cmd_version(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    (void) cc;
    (void) tokens;
    (void) ntokens;

    return cache_reply(cc, "VERSION " CACHE_PROTO_VERSION, 0);
}


/*
 * verbosity <level> [noreply].  The level is recorded for `stats settings`
 * (clamped to 2 as memcached does); the process's log level belongs to the
 * core and is shared by every module, so a cache client does not change it.
 */
static int
cache_cmd_verbosity(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    uint32_t  level;
    int       noreply;


    noreply = cache_tok_noreply(tokens, ntokens);

    if (cache_proto_u32(&tokens[1], &level) != OB_OK) {
        return cache_reply(cc, CACHE_MSG_BAD_FORMAT,
                                noreply);
    }

    cc->cache->verbosity = level > CACHE_VERBOSITY_MAX
                           ? CACHE_VERBOSITY_MAX : (int) level;

    return cache_reply(cc, "OK", noreply);
}


/* quit: no reply; the connection closes once earlier replies are out. */
static int
cache_cmd_quit(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    (void) cc;
    (void) tokens;
    (void) ntokens;

    return OB_DONE;
}


/* shutdown [graceful]: memcached refuses it unless started with -A, which
 * onebox does not offer (a cache client must not stop the other modules). */
static int
cache_cmd_shutdown(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    (void) cc;
    (void) tokens;
    (void) ntokens;

    return cache_reply(cc, "ERROR: shutdown not enabled", 0);
}


/*
 * cache_memlimit <megabytes> [noreply]: sets the cache's share of the
 * arena's budget: its arena owner limit (the budget itself, shared by
 * every module, does not change).  As in memcached, the number is read as
 * a 32-bit unsigned value and anything unreadable is a bare "ERROR".
 * Unlike memcached, the limit cannot go above core.memory_mb: that is the
 * operator's bound for the whole process, not the cache's to raise from a
 * client connection.  A larger value is clamped to it and answered OK
 * (clients such as memcached's own tests expect OK for any value of 8 MB
 * or more; an error would tell them the command is unknown).  Lowering
 * the limit frees nothing at once: later allocations evict the cache's
 * oldest items, of any class, down to it.
 */
static int
cache_cmd_memlimit(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    const json_t  *core;
    uint32_t       mb;
    size_t         bytes, cap;
    int            noreply;
    const char    *reply;


    noreply = cache_tok_noreply(tokens, ntokens);

    if (cache_proto_u32(&tokens[1], &mb) != OB_OK) {
        reply = "ERROR";

    } else if (mb < 8) {
        reply = "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m";

    } else if (mb > 1000000000) {
        reply = "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes";

    } else {
        bytes = (size_t) mb * 1024 * 1024;
        core = ob_conf_section(cc->cache->cycle->conf, "core");
        cap = (size_t) ob_conf_int(core, "memory_mb") << 20;
        /* the cache's own share; at or above the budget, none but it */
        ob_arena_owner_set_limit(cc->cache->arena, cc->cache->owner,
                                 bytes < cap ? bytes : 0);
        reply = "OK";
    }

    return cache_reply(cc, reply, noreply);
}


/*
 * The table.  Names are case-sensitive.  Arity counts every token, the
 * name included, as the tokenizer gives them (at most 24: the last one then
 * holds the rest of the line, so get has no key limit).  A line with a
 * count outside it is answered "ERROR" by the dispatcher, whatever else it
 * holds (noreply included), as memcached answers it; the handlers need not
 * count.  bget is memcached's ancient alias of get, still accepted by
 * 1.6.18.
 */
const cache_cmd_t cache_text_commands[] = {
    CACHE_CMD("get",            2, -1, cache_cmd_get),
    CACHE_CMD("set",            5,  6, cache_cmd_set),
    CACHE_CMD("gets",           2, -1, cache_cmd_gets),
    CACHE_CMD("delete",         2,  4, cache_cmd_delete),
    CACHE_CMD("add",            5,  6, cache_cmd_add),
    CACHE_CMD("replace",        5,  6, cache_cmd_replace),
    CACHE_CMD("append",         5,  6, cache_cmd_append),
    CACHE_CMD("prepend",        5,  6, cache_cmd_prepend),
    CACHE_CMD("cas",            6,  7, cache_cmd_cas),
    CACHE_CMD("incr",           3,  4, cache_cmd_incr),
    CACHE_CMD("decr",           3,  4, cache_cmd_decr),
    CACHE_CMD("touch",          3,  4, cache_cmd_touch),
    CACHE_CMD("gat",            2, -1, cache_cmd_gat),
    CACHE_CMD("gats",           2, -1, cache_cmd_gats),
    CACHE_CMD("version",        1, -1, cache_cmd_version),
    CACHE_CMD("stats",          1, -1, cache_cmd_stats),
    CACHE_CMD("slabs",          1, -1, cache_cmd_slabs),
    CACHE_CMD("flush_all",      1,  3, cache_cmd_flush_all),
    CACHE_CMD("verbosity",      2,  3, cache_cmd_verbosity),
    CACHE_CMD("quit",           1, -1, cache_cmd_quit),
    CACHE_CMD("shutdown",       1, -1, cache_cmd_shutdown),
    CACHE_CMD("cache_memlimit", 2,  3, cache_cmd_memlimit),
    CACHE_CMD("bget",           2, -1, cache_cmd_get),
    CACHE_CMD(NULL,             0,  0, NULL)
};
