/*
 * cache_cmd_meta.c: memcached's meta commands, mg ms md ma me mn, answered
 * as memcached 1.6.18 answers them (its proto_text.c process_m*_command).
 *
 * A meta line is `<cmd> <key> [<datalen> for ms] <flag>*`; a flag is one
 * character, perhaps with a value glued to it (T30, Oabc).  mg, ms, md and
 * ma go through the same steps:
 *
 *   meta_req_start    a key (else ERROR) of at most 250 bytes, at most 19
 *                     tokens
 *   meta_parse_flags  memcached's _meta_flag_preparse, driven by the
 *                     meta_flags table: every flag 1.6.18 knows is taken
 *                     by every command (mg ignores F); a repeated or
 *                     unknown flag stops the scan, a bad value does not
 *   the command       look up, act, reply: the code, then the flags that
 *                     echo something in request order, then (mg) Z X W
 *
 * Design notes:
 *
 *   - memcached's quirks are kept, because clients see them; each is noted
 *     where it is done (the opaque is checked while the reply is written,
 *     after mg's T and ma's update; md and ma have one message for every
 *     flag error; ma N q still answers; me's exp is negative ...).
 *   - Errors are sent even with q.  Once ms has read <datalen>, a refusal
 *     swallows the data block; before, the block is read as commands.
 *   - ms allocates its item from the line, and its block is copied into
 *     it as it arrives (cache_conn_upload), as memcached does: a block in
 *     transit is in the memory budget, never buffered whole.
 *   - A large mg value is appended by reference (cache_out_value), and a
 *     pipeline of mg stops between requests while the output is full
 *     (cache_on_read), so its replies never pile up past the soft limit.
 *   - Items stored by ms with b carry CACHE_ITEM_KEY_BINARY, so that k and
 *     me print their key base64-encoded (memcached's ITEM_KEY_BINARY).
 *   - Statistics are memcached's: mg counts get_* (touch_* with T), md
 *     delete_*, ms cmd_set and cas_* (in cache_store_item), ma incr_/decr_*
 *     (in cache_store_incr); only me counts cmd_meta.  Every lookup counts
 *     get_expired / get_flushed, as do_item_get does.
 */
#include "cache_int.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "ob_cycle.h"


#define META_TOKENS_MAX        19       /* memcached's 20 has an end token */
#define META_OPAQUE_MAX        (CACHE_OPAQUE_MAX + 1)   /* with the O */
#define META_LINE_MAX          1024     /* a reply line; ~400 at worst */
#define META_KEY64_MAX         ((CACHE_KEY_MAX + 2) / 3 * 4)

#define META_ERR_FORMAT   "CLIENT_ERROR bad command line format"
#define META_ERR_TOKEN    "CLIENT_ERROR bad token in command line format"
#define META_ERR_FLAG     "CLIENT_ERROR invalid or duplicate flag"
#define META_ERR_OPAQUE   "CLIENT_ERROR opaque token too long"

/* What the flags ask for, in meta_req_t.opts. */
#define META_O_BASE64      0x0001   /* b */
#define META_O_QUIET       0x0002   /* q */
#define META_O_NO_BUMP     0x0004   /* u */
#define META_O_VALUE       0x0008   /* v */
#define META_O_INVALIDATE  0x0010   /* I */
#define META_O_CAS         0x0020   /* C */
#define META_O_TTL         0x0040   /* T */
#define META_O_VIVIFY      0x0080   /* N */
#define META_O_RECACHE     0x0100   /* R */
#define META_O_LOCKED      0x0200   /* h l T N R: bump after the reply */


/* One meta request, parsed.  The tokens live in the connection's copy of
 * the line, so they stay valid after the input is drained. */
typedef struct meta_req_s {
    ob_str_t          *tokens;          /* borrowed: the line's tokens */
    size_t             ntokens;
    size_t             first;           /* index of the first flag token */
    const char        *key;             /* the token, or bin when b */
    size_t             nkey;
    uint32_t           opts;            /* META_O_* */
    char               mode;            /* M's character, 0 without M */
    cache_rel_time_t   exptime;         /* T */
    cache_rel_time_t   vivify_exptime;  /* N */
    cache_rel_time_t   recache_time;    /* R */
    uint32_t           client_flags;    /* F */
    uint64_t           cas;             /* C */
    uint64_t           delta;           /* D, default 1 */
    uint64_t           initial;         /* J, default 0 */
    char               bin[CACHE_KEY_MAX];  /* the key decoded from b */
} meta_req_t;

/* How a flag's value is read. */
typedef enum {
    META_ARG_NONE = 1,      /* none, or only echoed back (O) */
    META_ARG_KEY64,         /* b: decode the key */
    META_ARG_TTL,           /* an exptime (int32), made a rel time */
    META_ARG_U32,           /* F */
    META_ARG_U64,           /* C D J */
    META_ARG_MODE           /* M: exactly one character */
} meta_arg_t;

typedef struct meta_flag_s {
    uint8_t      arg;       /* meta_arg_t; 0: not a flag of 1.6.18 */
    uint32_t     opts;      /* META_O_* it sets */
    size_t       off;       /* where its value goes in meta_req_t */
    const char  *err;       /* reply for a bad value; NULL keeps the last */
} meta_flag_t;

#define META_AT(field)  offsetof(meta_req_t, field)

/*
 * The flags of memcached 1.6.18's _meta_flag_preparse, shared by mg, ms,
 * md and ma.  E (explicit CAS) and S came later: they are invalid here.
 */
static const meta_flag_t meta_flags[128] = {
    ['b'] = { META_ARG_KEY64, META_O_BASE64, 0,
              "CLIENT_ERROR error decoding key" },
    ['N'] = { META_ARG_TTL, META_O_VIVIFY | META_O_LOCKED,
              META_AT(vivify_exptime), META_ERR_TOKEN },
    ['T'] = { META_ARG_TTL, META_O_TTL | META_O_LOCKED,
              META_AT(exptime), META_ERR_TOKEN },
    ['R'] = { META_ARG_TTL, META_O_RECACHE | META_O_LOCKED,
              META_AT(recache_time), META_ERR_TOKEN },
    ['C'] = { META_ARG_U64, META_O_CAS, META_AT(cas), META_ERR_TOKEN },
    ['D'] = { META_ARG_U64, 0, META_AT(delta),
              "CLIENT_ERROR invalid numeric delta value" },
    ['J'] = { META_ARG_U64, 0, META_AT(initial),
              "CLIENT_ERROR invalid numeric initial value" },
    ['F'] = { META_ARG_U32, 0, META_AT(client_flags), NULL },
    ['M'] = { META_ARG_MODE, 0, 0,
              "CLIENT_ERROR incorrect length for M token" },
    ['h'] = { META_ARG_NONE, META_O_LOCKED, 0, NULL },
    ['l'] = { META_ARG_NONE, META_O_LOCKED, 0, NULL },
    ['u'] = { META_ARG_NONE, META_O_NO_BUMP, 0, NULL },
    ['q'] = { META_ARG_NONE, META_O_QUIET, 0, NULL },
    ['v'] = { META_ARG_NONE, META_O_VALUE, 0, NULL },
    ['I'] = { META_ARG_NONE, META_O_INVALIDATE, 0, NULL },
    /* only echoed, or (P L: proxy hints) accepted and ignored */
    ['O'] = { META_ARG_NONE }, ['k'] = { META_ARG_NONE },
    ['c'] = { META_ARG_NONE }, ['f'] = { META_ARG_NONE },
    ['s'] = { META_ARG_NONE }, ['t'] = { META_ARG_NONE },
    ['P'] = { META_ARG_NONE }, ['L'] = { META_ARG_NONE },
};

/* ms's M modes, and the store operation of each (S is the default). */
static const char        meta_set_modes[] = "SEAPR";
static const cache_op_t  meta_set_ops[] = {
    CACHE_OP_SET, CACHE_OP_ADD, CACHE_OP_APPEND, CACHE_OP_PREPEND,
    CACHE_OP_REPLACE
};

/* A reply line being written. */
typedef struct meta_line_s {
    char    buf[META_LINE_MAX];
    size_t  len;
} meta_line_t;


/* ---- reply lines -------------------------------------------------------- */

/* Appends bytes; the line is sized for the longest reply, so the bound
 * only guards against a mistake. */
static void
meta_put(meta_line_t *l, const void *p, size_t n)
{
    if (n <= sizeof(l->buf) - l->len) {
        memcpy(l->buf + l->len, p, n);
        l->len += n;
    }
}


static void
meta_put_u64(meta_line_t *l, uint64_t v)
{
    char  num[24];
    int   n;

    n = snprintf(num, sizeof(num), "%llu", (unsigned long long) v);
    meta_put(l, num, (size_t) n);
}


/* " <flag><v>", e.g. " c61". */
static void
meta_put_flag(meta_line_t *l, char flag, uint64_t v)
{
    char  head[2] = { ' ', flag };

    meta_put(l, head, 2);
    meta_put_u64(l, v);
}


/* A key as it is printed: raw, or base64 when it came base64-encoded. */
static void
meta_put_keytext(meta_line_t *l, const char *key, size_t nkey, int binary)
{
    char  enc[META_KEY64_MAX];
    long  n;

    if (!binary) {
        meta_put(l, key, nkey);
        return;
    }
    n = cache_proto_b64_encode(key, nkey, enc, sizeof(enc));
    if (n > 0) {
        meta_put(l, enc, (size_t) n);
    }
}


/* The k flag: " k<key>", and " b" after a base64 key (memcached's
 * META_KEY), which tells the client how to read it. */
static void
meta_put_key(meta_line_t *l, const char *key, size_t nkey, int binary)
{
    meta_put(l, " k", 2);
    meta_put_keytext(l, key, nkey, binary);
    if (binary) {
        meta_put(l, " b", 2);
    }
}


/* The O flag: the whole token, O included. */
static void
meta_put_token(meta_line_t *l, const ob_str_t *t)
{
    meta_put(l, " ", 1);
    meta_put(l, t->data, t->len);
}


/* The t flag: -1 for never, else the seconds left, as memcached prints
 * them (unsigned: an item given an exptime already past in this very
 * request shows a wrapped number). */
static void
meta_put_ttl(meta_line_t *l, const cache_t *c, cache_rel_time_t exptime)
{
    if (exptime == 0) {
        meta_put(l, " t-1", 4);
    } else {
        meta_put_flag(l, 't', (uint32_t) (exptime - c->now));
    }
}


/* Ends the line and sends it.  OB_OK or OB_ERR (as cache_out). */
static int
meta_send(cache_conn_t *cc, meta_line_t *l)
{
    meta_put(l, "\r\n", 2);
    return cache_out(cc, l->buf, l->len);
}


/* Echoes the O and k flags (what md and the misses of mg and ma send),
 * and c when `cas` is given (ms).  Returns the error line for an opaque
 * too long, else NULL. */
static const char *
meta_put_echo(meta_line_t *l, const meta_req_t *req, const uint64_t *cas)
{
    const ob_str_t  *t;
    size_t           i;

    for (i = req->first; i < req->ntokens; i++) {
        t = &req->tokens[i];
        if (t->data[0] == 'O') {
            if (t->len > META_OPAQUE_MAX) {
                return META_ERR_OPAQUE;
            }
            meta_put_token(l, t);

        } else if (t->data[0] == 'k') {
            meta_put_key(l, req->key, req->nkey,
                         (req->opts & META_O_BASE64) != 0);

        } else if (t->data[0] == 'c' && cas != NULL) {
            meta_put_flag(l, 'c', *cas);
        }
    }
    return NULL;
}


/* Sends an error (always, q or not). */
static int
meta_error(cache_conn_t *cc, const char *err)
{
    return cache_reply(cc, err, 0);
}


/* ---- requests ----------------------------------------------------------- */

/*
 * The checks mg, ms, md and ma make before their flags, in memcached's
 * order: a key (a missing token is "ERROR" as for every command), of at
 * most 250 bytes, and at most 19 tokens.  Fills the request's defaults.
 * Returns the error line, or NULL.
 */
static const char *
meta_req_start(meta_req_t *req, ob_str_t *tokens, size_t ntokens,
               size_t first, const char *too_many)
{
    memset(req, 0, offsetof(meta_req_t, bin));
    req->tokens = tokens;
    req->ntokens = ntokens;
    req->first = first;
    req->delta = 1;

    if (ntokens < 2) {
        return "ERROR";
    }
    if (tokens[1].len > CACHE_KEY_MAX) {
        return META_ERR_FORMAT;
    }
    if (ntokens > META_TOKENS_MAX) {
        return too_many;
    }
    req->key = (const char *) tokens[1].data;
    req->nkey = tokens[1].len;
    return NULL;
}


/* Reads one flag's value into the request.  OB_OK, or OB_ERR if bad. */
static int
meta_flag_value(cache_t *c, meta_req_t *req, const meta_flag_t *f,
                const ob_str_t *t)
{
    ob_str_t   v;
    char      *dst;
    int32_t    ttl;
    uint32_t   u32;
    uint64_t   u64;
    long       n;

    v.data = t->data + 1;
    v.len = t->len - 1;
    dst = (char *) req + f->off;

    switch (f->arg) {
    case META_ARG_KEY64:
        n = cache_proto_b64_decode((const char *) req->tokens[1].data,
                                   req->tokens[1].len, req->bin,
                                   sizeof(req->bin));
        if (n <= 0) {
            return OB_ERR;
        }
        req->key = req->bin;
        req->nkey = (size_t) n;
        return OB_OK;

    case META_ARG_TTL:
        if (cache_proto_i32(&v, &ttl) != OB_OK) {
            return OB_ERR;
        }
        *(cache_rel_time_t *) dst = cache_exptime_rel(c, ttl);
        return OB_OK;

    case META_ARG_U32:
        if (cache_proto_u32(&v, &u32) != OB_OK) {
            return OB_ERR;
        }
        *(uint32_t *) dst = u32;
        return OB_OK;

    case META_ARG_U64:
        if (cache_proto_u64(&v, &u64) != OB_OK) {
            return OB_ERR;
        }
        *(uint64_t *) dst = u64;
        return OB_OK;

    case META_ARG_MODE:
        if (t->len != 2) {
            return OB_ERR;
        }
        req->mode = (char) t->data[1];
        return OB_OK;

    default:
        return OB_OK;
    }
}


/*
 * memcached's _meta_flag_preparse over the tokens from req->first on.  A
 * repeated flag (or one starting with a byte above 126) and an unknown
 * one end the scan with their own message.  A bad value does not: its
 * message is kept (F has none, so the default stays) and a later flag may
 * still replace it.  Returns the error line, or NULL.
 */
static const char *
meta_parse_flags(cache_t *c, meta_req_t *req)
{
    const meta_flag_t  *f;
    const ob_str_t     *t;
    const char         *err;
    uint8_t             seen[128], ch;
    size_t              i;
    int                 bad;

    memset(seen, 0, sizeof(seen));
    err = META_ERR_FORMAT;
    bad = 0;

    for (i = req->first; i < req->ntokens; i++) {
        t = &req->tokens[i];
        ch = t->data[0];
        if (ch >= 127 || seen[ch]) {
            return "CLIENT_ERROR duplicate flag";
        }
        seen[ch] = 1;

        f = &meta_flags[ch];
        if (f->arg == 0) {
            return "CLIENT_ERROR invalid flag";
        }
        req->opts |= f->opts;
        if (meta_flag_value(c, req, f, t) != OB_OK) {
            bad = 1;
            if (f->err != NULL) {
                err = f->err;
            }
        }
    }

    return bad ? err : NULL;
}


/* ---- the store ---------------------------------------------------------- */

/*
 * Creates the item that mg N and ma N make on a miss, with `value` and no
 * TTL yet (the N flag sets it while the reply is written, as memcached).
 * The key is known to be absent.  Like memcached's, the item does not
 * remember a base64 key.  Returns the linked item, or NULL (no memory).
 */
static cache_item_t *
meta_vivify(cache_t *c, const meta_req_t *req, const char *value, size_t len)
{
    cache_item_t  *it;
    int            why;

    it = cache_item_alloc(c, req->key, req->nkey, 0, 0, len, &why);
    if (it == NULL) {
        return NULL;
    }
    memcpy(CACHE_ITEM_value(it), value, len);
    cache_item_link(c, it, NULL);
    return it;
}


/* ---- mg ----------------------------------------------------------------- */

/*
 * mg <key> <flags>*: a miss is EN (hidden by q) with O and k; a hit is
 * VA <len> (with v) or HD, the flags in order, then Z (a win was already
 * handed out), X (stale) and W (this client won the right to recache: N
 * created the item, R found its TTL below the token, or it is stale and
 * nobody won yet).  h and l show the item before this fetch: with them
 * (and T, N, R) the bump comes after the reply, as memcached's "locked"
 * fetch.
 */
static int
meta_cmd_mg(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    cache_t         *c = cc->cache;
    meta_req_t       req;
    meta_line_t      line;
    cache_item_t    *it;
    const ob_str_t  *t;
    const char      *err;
    size_t           i;
    int              created, won, touched;

    err = meta_req_start(&req, tokens, ntokens, 2,
                         "CLIENT_ERROR options flags are too long");
    if (err == NULL) {
        err = meta_parse_flags(c, &req);
    }
    if (err != NULL) {
        return meta_error(cc, err);
    }

    it = cache_item_get(c, req.key, req.nkey);
    created = 0;
    if (it == NULL && (req.opts & META_O_VIVIFY)) {
        it = meta_vivify(c, &req, "", 0);
        created = it != NULL;
    }
    line.len = 0;
    if (it == NULL) {
        /* EN, hidden by q; counted before the opaque is checked */
        c->stats.cmd_get++;
        c->stats.get_misses++;
        meta_put(&line, "EN", 2);
        err = meta_put_echo(&line, &req, NULL);
        if (err != NULL) {
            cache_reply(cc, err, 0);
        } else if (!(req.opts & META_O_QUIET)) {
            meta_send(cc, &line);
        }
        return OB_OK;
    }

    if (!(req.opts & (META_O_LOCKED | META_O_NO_BUMP))) {
        cache_item_bump(c, it);
    }

    if (req.opts & META_O_VALUE) {
        meta_put(&line, "VA ", 3);
        meta_put_u64(&line, it->nbytes);
    } else {
        meta_put(&line, "HD", 2);
    }

    won = 0;
    touched = 0;
    for (i = req.first; i < req.ntokens; i++) {
        t = &req.tokens[i];
        switch (t->data[0]) {
        case 'T':
            it->exptime = req.exptime;
            touched = 1;
            break;
        case 'N':
            if (created) {
                it->exptime = req.vivify_exptime;
                won = 1;
            }
            break;
        case 'R':
            if (!(it->it_flags & CACHE_ITEM_TOKEN) && !created
                && it->exptime != 0 && it->exptime < req.recache_time)
            {
                won = 1;
            }
            break;
        case 's':
            meta_put_flag(&line, 's', it->nbytes);
            break;
        case 't':
            meta_put_ttl(&line, c, it->exptime);
            break;
        case 'c':
            meta_put_flag(&line, 'c', it->cas);
            break;
        case 'f':
            meta_put_flag(&line, 'f', cache_item_flags(it));
            break;
        case 'l':
            meta_put_flag(&line, 'l', (uint32_t) (c->now - it->time));
            break;
        case 'h':
            meta_put_flag(&line, 'h',
                          (it->it_flags & CACHE_ITEM_FETCHED) != 0);
            break;
        case 'O':
            /* checked this late in memcached too: a T before it stays */
            if (t->len > META_OPAQUE_MAX) {
                cache_reply(cc, META_ERR_OPAQUE, 0);
                return OB_OK;
            }
            meta_put_token(&line, t);
            break;
        case 'k':
            meta_put_key(&line, CACHE_ITEM_key(it), it->nkey,
                         (it->it_flags & CACHE_ITEM_KEY_BINARY) != 0);
            break;
        default:
            break;
        }
    }

    /* Z before W: a client never sees both */
    if (it->it_flags & CACHE_ITEM_TOKEN) {
        meta_put(&line, " Z", 2);
    }
    if (it->it_flags & CACHE_ITEM_STALE) {
        meta_put(&line, " X", 2);
        if (!(it->it_flags & CACHE_ITEM_TOKEN)) {
            won = 1;
        }
    }
    if (won) {
        meta_put(&line, " W", 2);
        it->it_flags |= CACHE_ITEM_TOKEN;
    }

    /* the value after its line, referenced when large; a failed append
     * closes the connection with its output discarded, never half sent */
    if (meta_send(cc, &line) != OB_OK
        || ((req.opts & META_O_VALUE) && cache_out_value(cc, it) != OB_OK))
    {
        return OB_ERR;
    }

    if ((req.opts & META_O_LOCKED) && !(req.opts & META_O_NO_BUMP)) {
        cache_item_bump(c, it);
    }

    if (touched) {
        c->stats.cmd_touch++;
        c->stats.touch_hits++;
        c->stats.classes[cache_item_clsid(c, it)].touch_hits++;
    } else {
        c->stats.cmd_get++;
        c->stats.get_hits++;
        c->stats.classes[cache_item_clsid(c, it)].get_hits++;
    }
    return OB_OK;
}


/* ---- ms ----------------------------------------------------------------- */

/*
 * An ms whose item cannot be made: too large, or no memory.  memcached
 * also drops the old value, so that a failed store leaves nothing stale
 * behind, whatever the mode.  The data block is swallowed.
 */
static int
meta_set_refused(cache_conn_t *cc, const meta_req_t *req, int why,
                 size_t vlen)
{
    cache_t       *c = cc->cache;
    cache_item_t  *old;

    if (why == CACHE_TOO_LARGE) {
        c->stats.store_too_large++;
    } else {
        c->stats.store_no_memory++;
    }

    old = cache_item_get(c, req->key, req->nkey);
    if (old != NULL) {
        cache_item_unlink(c, old);
    }

    cache_conn_swallow(cc, vlen);
    return cache_reply(cc, why == CACHE_TOO_LARGE
                           ? "SERVER_ERROR object too large for cache"
                           : "SERVER_ERROR out of memory storing object", 0);
}


/*
 * Stores the filled item `it` (taken: linked or freed).  With I, a CAS
 * below the item's still stores, but keeps the old TTL, marks the item
 * stale and keeps its win marker (memcached's CAS_STALE), which
 * cache_store_item does not know; everything else is cache_store_item's.
 */
static int
meta_set_store(cache_t *c, const meta_req_t *req, cache_item_t *it,
               cache_op_t op, uint64_t *cas /* OUT */)
{
    cache_item_t  *old;

    if ((req->opts & META_O_INVALIDATE) && op == CACHE_OP_CAS
        && req->cas != 0)
    {
        old = cache_item_get(c, req->key, req->nkey);
        if (old != NULL && req->cas < old->cas) {
            c->stats.cmd_set++;
            c->stats.classes[cache_item_clsid(c, it)].cmd_set++;
            c->stats.cas_hits++;
            c->stats.classes[cache_item_clsid(c, old)].cas_hits++;

            it->exptime = old->exptime;
            it->it_flags |= CACHE_ITEM_STALE
                            | (old->it_flags & CACHE_ITEM_TOKEN);
            cache_item_link(c, it, old);
            *cas = it->cas;
            return OB_OK;
        }
    }

    /* add never compares: memcached ignores C there */
    return cache_store_item(c, it, op, op == CACHE_OP_ADD ? 0 : req->cas,
                            cas);
}


/*
 * ms's line: the checks, the flags and the store operation.  Returns the
 * error line or NULL; *vlen is set (>= 0) once <datalen> was read, which
 * decides whether a refusal swallows the block.  Run again, on the same
 * tokens, when the block has arrived (meta_ms_done): it is pure but for
 * the TTLs, which the item already has.
 */
static const char *
meta_ms_parse(cache_t *c, meta_req_t *req, ob_str_t *tokens, size_t ntokens,
              cache_op_t *op /* OUT */, int32_t *vlen /* OUT */)
{
    const ob_str_t  *t;
    const char      *err, *mode;
    size_t           i;

    *vlen = -1;
    *op = CACHE_OP_SET;

    err = meta_req_start(req, tokens, ntokens, 3,
                         "CLIENT_ERROR options flags too long");
    if (err == NULL
        && (ntokens < 3 || cache_proto_i32(&tokens[2], vlen) != OB_OK || *vlen < 0
            || *vlen > INT_MAX - 2))
    {
        *vlen = -1;
        err = META_ERR_FORMAT;
    }
    if (err != NULL) {
        return err;
    }

    err = meta_parse_flags(c, req);
    if (err == NULL) {
        for (i = req->first; i < req->ntokens; i++) {
            t = &req->tokens[i];
            if (t->data[0] == 'O' && t->len > META_OPAQUE_MAX) {
                err = META_ERR_OPAQUE;
            }
        }
        mode = req->mode != 0 ? strchr(meta_set_modes, req->mode)
                              : meta_set_modes;
        if (mode == NULL || *mode == '\0') {
            err = "CLIENT_ERROR invalid mode for ms M token";
        } else {
            *op = meta_set_ops[mode - meta_set_modes];
        }
    }
    if (err != NULL) {
        return err;
    }

    if ((req->opts & META_O_CAS)
        && (*op == CACHE_OP_SET || *op == CACHE_OP_REPLACE))
    {
        *op = CACHE_OP_CAS;
    }
    return NULL;
}


/* The end of an ms, once its block is all in the item: check, store,
 * answer (cache_conn_upload's callback). */
static int
meta_ms_done(cache_conn_t *cc, cache_item_t *it, int bad)
{
    cache_t      *c = cc->cache;
    meta_req_t    req;
    meta_line_t   line;
    const char   *code;
    cache_op_t    op;
    uint64_t      cas;
    int32_t       vlen;
    int           rc;

    if (bad) {
        /* memcached counts the set before it checks the block */
        c->stats.cmd_set++;
        c->stats.classes[cache_item_clsid(c, it)].cmd_set++;
        cache_item_free(c, it);
        return cache_reply(cc, "CLIENT_ERROR bad data chunk", 0);
    }

    (void) meta_ms_parse(c, &req, cc->tokens, cc->ntokens, &op, &vlen);
    if (req.opts & META_O_BASE64) {
        it->it_flags |= CACHE_ITEM_KEY_BINARY;
    }

    cas = 0;
    rc = meta_set_store(c, &req, it, op, &cas);
    if (rc == OB_OK && (req.opts & META_O_QUIET)) {
        return OB_OK;
    }
    /* an append that would be too large is "not stored" too */
    code = rc == OB_OK ? "HD" : rc == CACHE_EXISTS ? "EX"
           : rc == CACHE_NOT_FOUND ? "NF" : "NS";

    line.len = 0;
    meta_put(&line, code, 2);
    (void) meta_put_echo(&line, &req, &cas);    /* the opaque was checked */
    return meta_send(cc, &line);
}


/*
 * ms <key> <datalen> <flags>*\r\n<data>\r\n: HD, NS, EX or NF, with the O,
 * k and c (the new CAS, 0 when not stored) flags.  q hides HD only.  M
 * picks the mode; C turns set and replace into cas.  The item is
 * allocated from the line and the block read into it as it comes, as for
 * set (cache_cmd_text.c).
 */
static int
meta_cmd_ms(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    cache_t         *c = cc->cache;
    meta_req_t       req;
    cache_item_t    *it;
    const char      *err;
    cache_op_t       op;
    int32_t          vlen;
    int              why;

    err = meta_ms_parse(c, &req, tokens, ntokens, &op, &vlen);
    if (err != NULL) {
        /* without <datalen> the data line will be read as a command */
        if (vlen >= 0) {
            cache_conn_swallow(cc, (size_t) vlen);
        }
        return meta_error(cc, err);
    }

    why = CACHE_NO_MEMORY;
    it = cache_item_alloc(c, req.key, req.nkey, req.client_flags, req.exptime,
                          (size_t) vlen, &why);
    if (it == NULL) {
        return meta_set_refused(cc, &req, why, (size_t) vlen);
    }

    cache_conn_upload(cc, it, meta_ms_done);
    return OB_OK;
}


/* ---- md ----------------------------------------------------------------- */

/*
 * md <key> <flags>*: HD (hidden by q), NF or EX, with O and k.  With I
 * the item is not removed but marked stale with a new CAS (and T's TTL),
 * and its win marker is cleared so that the next mg wins.
 */
static int
meta_cmd_md(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    cache_t       *c = cc->cache;
    meta_req_t     req;
    meta_line_t    line;
    cache_item_t  *it;
    const char    *err;

    err = meta_req_start(&req, tokens, ntokens, 2,
                         "CLIENT_ERROR options flags too long");
    if (err == NULL && meta_parse_flags(c, &req) != NULL) {
        err = META_ERR_FLAG;
    }
    if (err == NULL) {
        line.len = 0;
        meta_put(&line, "HD", 2);       /* the code is filled in below */
        err = meta_put_echo(&line, &req, NULL);
    }
    if (err != NULL) {
        return meta_error(cc, err);
    }

    it = cache_item_get(c, req.key, req.nkey);
    if (it == NULL) {
        c->stats.delete_misses++;
        memcpy(line.buf, "NF", 2);

    } else if ((req.opts & META_O_CAS) && it->cas != req.cas) {
        c->stats.delete_misses++;
        memcpy(line.buf, "EX", 2);

    } else {
        if (req.opts & META_O_INVALIDATE) {
            if (req.opts & META_O_TTL) {
                it->exptime = req.exptime;
            }
            it->it_flags |= CACHE_ITEM_STALE;
            it->it_flags &= (uint8_t) ~CACHE_ITEM_TOKEN;
            it->cas = c->cas_enabled ? cache_next_cas(c) : 0;
        } else {
            c->stats.delete_hits++;
            c->stats.classes[cache_item_clsid(c, it)].delete_hits++;
            cache_item_unlink(c, it);
        }
        if (req.opts & META_O_QUIET) {
            return OB_OK;
        }
    }

    return meta_send(cc, &line);
}


/* ---- ma ----------------------------------------------------------------- */

/*
 * ma <key> <flags>*: incr (default, MI, M+) or decr (MD, M-) by D
 * (default 1).  HD or VA <len> (then the number) on success, hidden by
 * q, except when N created the item with J (memcached answers then);
 * NF, EX, with O and k, otherwise.  When the number grows longer than the
 * value it replaces, memcached's do_add_delta links a new item but hands
 * back the old one, so T and t act on that dead item: *exptime points to
 * a copy then, and the stored TTL stays.
 */
static int
meta_cmd_ma(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    cache_t         *c = cc->cache;
    meta_req_t       req;
    meta_line_t      line;
    cache_item_t    *it;
    const ob_str_t  *t;
    const char      *err;
    cache_rel_time_t  dead, *exptime;
    uint64_t         value, cas;
    size_t           i, olen;
    char             num[24];
    int              incr, created, n, rc;

    err = meta_req_start(&req, tokens, ntokens, 2,
                         "CLIENT_ERROR options flags too long");
    if (err == NULL && meta_parse_flags(c, &req) != NULL) {
        err = META_ERR_FLAG;
    }
    incr = req.mode != 'D' && req.mode != '-';
    if (err == NULL && req.mode != 0 && req.mode != 'I' && req.mode != '+'
        && incr)
    {
        err = "CLIENT_ERROR invalid mode for ma M token";
    }
    if (err != NULL) {
        return meta_error(cc, err);
    }

    line.len = 0;
    created = 0;
    cas = 0;
    it = cache_item_get(c, req.key, req.nkey);
    olen = it != NULL ? it->nbytes : 0;
    dead = it != NULL ? it->exptime : 0;   /* the item the update replaces */

    if (it != NULL && olen == 0) {
        /* memcached refuses an empty value before it compares the CAS */
        rc = OB_DECLINED;

    } else if (it == NULL && (req.opts & META_O_VIVIFY)) {
        /* made here rather than through cache_store_incr's miss, so that
         * the miss is not counted, as in memcached */
        value = req.initial;
        n = snprintf(num, sizeof(num), "%llu", (unsigned long long) value);
        it = meta_vivify(c, &req, num, (size_t) n);
        if (it == NULL) {
            cache_reply(cc, "SERVER_ERROR Out of memory allocating new item",
                        0);
            return OB_OK;
        }
        created = 1;
        cas = it->cas;
        rc = OB_OK;

    } else {
        rc = cache_store_incr(c, req.key, req.nkey, incr, req.delta, req.cas,
                              &value, &cas);
    }

    if (!created) {
        switch (rc) {
        case OB_OK:
            it = cache_item_find(c, req.key, req.nkey, NULL);
            break;
        case OB_DECLINED:
            cache_reply(cc, "CLIENT_ERROR cannot increment or decrement "
                        "non-numeric value", 0);
            return OB_OK;
        case CACHE_NOT_FOUND:
        case CACHE_EXISTS:
            meta_put(&line, rc == CACHE_EXISTS ? "EX" : "NF", 2);
            err = meta_put_echo(&line, &req, NULL);
            if (err != NULL) {
                cache_reply(cc, err, 0);
            } else {
                meta_send(cc, &line);
            }
            return OB_OK;
        default:
            cache_reply(cc, "SERVER_ERROR out of memory", 0);
            return OB_OK;
        }
        n = snprintf(num, sizeof(num), "%llu", (unsigned long long) value);
    }
    exptime = it == NULL || (!created && (size_t) n > olen)
              ? &dead : &it->exptime;

    if (req.opts & META_O_VALUE) {
        meta_put(&line, "VA ", 3);
        meta_put_u64(&line, (uint64_t) n);
    } else {
        meta_put(&line, "HD", 2);
    }

    for (i = req.first; i < req.ntokens; i++) {
        t = &req.tokens[i];
        switch (t->data[0]) {
        case 'c':
            meta_put_flag(&line, 'c', cas);
            break;
        case 't':
            meta_put_ttl(&line, c, *exptime);
            break;
        case 'T':
            *exptime = req.exptime;
            break;
        case 'N':
            if (created) {
                it->exptime = req.vivify_exptime;
            }
            break;
        case 'O':
            /* after the update, as in memcached: the value has changed */
            if (t->len > META_OPAQUE_MAX) {
                cache_reply(cc, META_ERR_OPAQUE, 0);
                return OB_OK;
            }
            meta_put_token(&line, t);
            break;
        case 'k':
            meta_put_key(&line, req.key, req.nkey,
                         (req.opts & META_O_BASE64) != 0);
            break;
        default:
            break;
        }
    }

    if ((req.opts & META_O_QUIET) && !created) {
        return OB_OK;
    }
    if (req.opts & META_O_VALUE) {
        meta_put(&line, "\r\n", 2);
        meta_put(&line, num, (size_t) n);
    }
    return meta_send(cc, &line);
}


/* ---- me, mn ------------------------------------------------------------- */

/*
 * memcached's ITEM_ntotal for the same item: a 48-byte header, the CAS,
 * the key with its NUL, the flags unless 0, the value with its "\r\n".
 * me prints this rather than our (smaller) header's total so that its
 * line is memcached's byte for byte.
 */
static size_t
meta_mc_size(const cache_t *c, const cache_item_t *it)
{
    return 48 + (c->cas_enabled ? 8 : 0) + it->nkey + 1
           + (cache_item_flags(it) != 0 ? 4 : 0) + it->nbytes + 2;
}


/*
 * The slab class memcached 1.6.18 would keep an item of `size` bytes
 * (meta_mc_size) in: its classes start at 96 bytes (a 48-byte header plus
 * -n 48), grow by -f (core.slab_growth_factor) and are 8-byte aligned,
 * up to its 512 KiB chunk limit.  me prints this rather than our arena's
 * class, whose sizes differ (small classes for other tenants), so that its
 * line stays memcached's.
 */
static unsigned
meta_mc_class(const cache_t *c, size_t size)
{
    double    factor, sz;
    size_t    chunk;
    unsigned  id;

    factor = 1.25;
    if (c->cycle != NULL && c->cycle->conf != NULL) {
        factor = ob_conf_double(ob_conf_section(c->cycle->conf, "core"),
                                "slab_growth_factor");
    }

    sz = 96;
    for (id = 1; ; id++) {
        chunk = (size_t) sz;
        if (chunk % 8 != 0) {
            chunk += 8 - chunk % 8;
        }
        if (chunk >= size || chunk >= 512 * 1024 / factor || id >= 63) {
            return id;
        }
        sz = (double) chunk * factor;
    }
}


/*
 * me <key> [b]: "ME <key> exp= la= cas= fetch= cls= size=", or EN.  b is
 * looked for as the third token only, and a key that does not decode is
 * a format error here.  The item is not bumped.  exp is memcached's
 * (now - exptime): the seconds left, negated.
 */
static int
meta_cmd_me(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    cache_t       *c = cc->cache;
    meta_line_t    line;
    cache_item_t  *it;
    const char    *key;
    size_t         nkey;
    char           bin[CACHE_KEY_MAX], tail[128];
    long           n;
    int            len;

    if (ntokens < 2 || tokens[1].len > CACHE_KEY_MAX) {
        return meta_error(cc, META_ERR_FORMAT);
    }
    key = (const char *) tokens[1].data;
    nkey = tokens[1].len;
    if (ntokens >= 3 && tokens[2].len == 1 && tokens[2].data[0] == 'b') {
        n = cache_proto_b64_decode(key, nkey, bin, sizeof(bin));
        if (n <= 0) {
            return meta_error(cc, META_ERR_FORMAT);
        }
        key = bin;
        nkey = (size_t) n;
    }

    c->stats.cmd_meta++;
    it = cache_item_get(c, key, nkey);
    if (it == NULL) {
        cache_reply(cc, "EN", 0);
        return OB_OK;
    }

    line.len = 0;
    meta_put(&line, "ME ", 3);
    meta_put_keytext(&line, CACHE_ITEM_key(it), it->nkey,
                     (it->it_flags & CACHE_ITEM_KEY_BINARY) != 0);
    len = snprintf(tail, sizeof(tail),
                   " exp=%lld la=%u cas=%llu fetch=%s cls=%u size=%zu",
                   it->exptime == 0
                   ? -1LL : (long long) c->now - (long long) it->exptime,
                   (unsigned) (c->now - it->time),
                   (unsigned long long) it->cas,
                   (it->it_flags & CACHE_ITEM_FETCHED) ? "yes" : "no",
                   meta_mc_class(c, meta_mc_size(c, it)),
                   meta_mc_size(c, it));
    meta_put(&line, tail, (size_t) len);
    return meta_send(cc, &line);
}


/* mn: "MN", whatever follows; it marks the end of a pipeline of q
 * commands, all of whose replies are written before it. */
static int
meta_cmd_mn(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    (void) cc, (void) tokens, (void) ntokens;
    cache_reply(cc, "MN", 0);
    return OB_OK;
}


/* Arity as in cache_cmd_text.c's table: mg ms md ma need a key ("ERROR"
 * without one); me and mn check their own tokens (me answers a missing
 * key with a format error, not ERROR). */
const cache_cmd_t cache_meta_commands[] = {
    CACHE_CMD("mg", 2, -1, meta_cmd_mg),
    CACHE_CMD("ms", 2, -1, meta_cmd_ms),
    CACHE_CMD("md", 2, -1, meta_cmd_md),
    CACHE_CMD("ma", 2, -1, meta_cmd_ma),
    CACHE_CMD("me", 1, -1, meta_cmd_me),
    CACHE_CMD("mn", 1, -1, meta_cmd_mn),
    CACHE_CMD(NULL, 0, 0, NULL)
};
