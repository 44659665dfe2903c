/*
 * cache_int.h: what the cache module's own files share.  Nothing outside
 * cache/ includes this; other modules use cache.h.
 *
 * The pieces and their files:
 *
 *   cache_module.c     descriptor, config section, init/start/stop, /stats,
 *                      the connection session and on_read (framing)
 *   cache_proto.c      pure parsing: line framing, tokenizer, numbers,
 *                      base64 (no I/O, no allocation)
 *   cache_items.c      the item store: hash table, items in the arena,
 *                      a CLOCK per size class, expiry, CAS, eviction, flush
 *   cache_store.c      store semantics shared by text and meta commands
 *                      (set/add/replace/append/prepend/cas, incr/decr)
 *   cache_cmd_text.c   the text protocol's commands
 *   cache_cmd_meta.c   the meta protocol's commands (mg ms md ma mn me)
 *   cache_cmd_stats.c  stats, stats items|slabs|settings|reset
 *   cache_api.c        the in-process API of cache.h
 *
 * Time: the store keeps times as seconds since the module started
 * ("rel time", memcached's rel_time_t), in 32 bits, so an item header stays
 * small.  cache_clock_update() refreshes c->now once per batch of input.
 */
#ifndef OB_CACHE_INT_H
#define OB_CACHE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <event2/buffer.h>
#include "cache.h"
#include "ob_arena.h"
#include "ob_conn.h"
#include "ob_cmd.h"
#include "ob_core.h"
#include "ob_hash.h"

#define CACHE_KEY_MAX          250          /* memcached's KEY_MAX_LENGTH */
#define CACHE_LINE_MAX         2048         /* a line without \n beyond this closes the connection (except get/gets) */
#define CACHE_MAX_TOKENS       24           /* memcached's MAX_TOKENS */
#define CACHE_REALTIME_MAXDELTA (60 * 60 * 24 * 30)  /* exptimes above are unix times */
#define CACHE_PROTO_VERSION    "1.6.18"     /* the memcached version whose protocol we speak */
#define CACHE_OPAQUE_MAX       31           /* meta O token, without the O */

typedef uint32_t cache_rel_time_t;

/* ---- items --------------------------------------------------------------- */

#define CACHE_ITEM_LINKED   0x01    /* in the hash table */
#define CACHE_ITEM_FETCHED  0x02    /* read at least once since stored */
#define CACHE_ITEM_STALE    0x04    /* invalidated by meta md/ms with I */
#define CACHE_ITEM_TOKEN    0x08    /* a meta win (W) was handed out */
#define CACHE_ITEM_KEY_BINARY 0x10  /* stored through meta's b flag: show the key base64-encoded */
#define CACHE_ITEM_HAS_FLAGS 0x20   /* 4 bytes of client flags follow the key */
#define CACHE_ITEM_ACTIVE   0x40    /* hit since the CLOCK hand last passed it */
#define CACHE_ITEM_REFS     0x80    /* referenced: its count is in c->refs */

/*
 * One item, in one arena chunk: this 30-byte header, then the key (nkey
 * bytes, no NUL), then the client's flags (4 bytes, unaligned) only when
 * they are not 0 (CACHE_ITEM_HAS_FLAGS), then the value (nbytes bytes,
 * WITHOUT the "\r\n" of the protocol: replies add it, uploads check it).
 * For 14-byte keys and 100-byte values that is 144 bytes, an arena class
 * of its own (8-byte steps up to 192).
 *
 * What memcached keeps per item and this header does not:
 *   - LRU links: eviction is a CLOCK over the arena's chunks of the class
 *     (ob_arena_walk): a hit sets ACTIVE, the hand clears it (a second
 *     chance) and evicts the first inactive item it meets;
 *   - the reference count: few items are ever referenced (values of 1 KiB
 *     or more in replies in flight, uploads), so counts live in c->refs,
 *     keyed by item, and REFS says an item has one;
 *   - the class id: the arena class of CACHE_ITEM_asize (cache_item_clsid).
 * cas stays at offset 0 of the 8-aligned chunk (the arena's free-list
 * word overwrites the first 8 bytes of a free chunk, and it_flags of a
 * freed item never has LINKED: the hand tells free chunks by that).
 */
typedef struct cache_item_s {
    uint64_t             cas;
    ob_hash_link_t       hlink;         /* hash chain (c->hash) */
    cache_rel_time_t     time;          /* last access (rel time) */
    cache_rel_time_t     exptime;       /* 0 never; else rel time it expires at */
    uint32_t             nbytes;        /* value length, without "\r\n" */
    uint8_t              nkey;          /* key length, 1..250 */
    uint8_t              it_flags;      /* CACHE_ITEM_* */
    char                 data[];        /* key, [flags], then value */
} cache_item_t;

#define CACHE_ITEM_HDR  offsetof(cache_item_t, data)

/* The header size the -I limit counts (cache_item_is_too_large): the 56
 * bytes items took before, so that the largest value accepted stayed. */
#define CACHE_ITEM_SIZE_CHECK  56

/*
 * The arena bytes an item is allocated (and freed) with: its total, but at
 * least c->item_min (core.slab_min_chunk, 96 by default), as memcached's
 * smallest chunk; with a small budget, rounded up to memcached's series
 * below 192 (see c->asize_by_8).
 */
#define CACHE_ITEM_asize(c, total)                                          \
    ((size_t) (total) <= CACHE_CLS_SMALL                                    \
     ? (size_t) (c)->asize_by_8[((size_t) (total) + 7) / 8] : (size_t) (total))
#define CACHE_ITEM_key(it)    ((it)->data)
#define CACHE_ITEM_flagsz(it) (((it)->it_flags & CACHE_ITEM_HAS_FLAGS) ? 4 : 0)
#define CACHE_ITEM_value(it)  ((it)->data + (it)->nkey + CACHE_ITEM_flagsz(it))
#define CACHE_ITEM_total(it)  (CACHE_ITEM_HDR + (it)->nkey \
                               + CACHE_ITEM_flagsz(it) + (it)->nbytes)

/* The client's 32-bit flags. */
static inline uint32_t
cache_item_flags(const cache_item_t *it)
{
    uint32_t  f;

    if (!(it->it_flags & CACHE_ITEM_HAS_FLAGS)) {
        return 0;
    }
    memcpy(&f, it->data + it->nkey, 4);
    return f;
}

/* ---- statistics ---------------------------------------------------------- */

/* Per-class figures for `stats items` and `stats slabs`. */
typedef struct cache_class_stats_s {
    uint64_t number;                    /* items linked now */
    uint64_t mem_requested;             /* their total bytes (CACHE_ITEM_total) */
    uint64_t evicted, evicted_nonzero, evicted_unfetched, evicted_time;
    uint64_t outofmemory, reclaimed, expired_unfetched, crawler_reclaimed;
    uint64_t get_hits, cmd_set, delete_hits, incr_hits, decr_hits;
    uint64_t cas_hits, cas_badval, touch_hits;
} cache_class_stats_t;

/* The counters behind `stats`, named as memcached names them. */
typedef struct cache_stats_s {
    uint64_t cmd_get, cmd_set, cmd_flush, cmd_touch, cmd_meta;
    uint64_t get_hits, get_misses, get_expired, get_flushed;
    uint64_t delete_hits, delete_misses, incr_hits, incr_misses;
    uint64_t decr_hits, decr_misses, cas_hits, cas_misses, cas_badval;
    uint64_t touch_hits, touch_misses;
    uint64_t store_too_large, store_no_memory;
    uint64_t total_items, curr_items, bytes;
    uint64_t evictions, reclaimed, expired_unfetched, evicted_unfetched;
    uint64_t slabs_moved, slab_reassign_rescues, slab_reassign_evictions_nomem;
    uint64_t slab_reassign_busy_items, slab_reassign_busy_deletes;
    uint64_t evicted_active, crawler_reclaimed, crawler_items_checked;
    uint64_t curr_connections, total_connections;
    uint64_t conn_yields;       /* on_read stopped at reqs_per_event */
    uint64_t bytes_read, bytes_written;
    cache_class_stats_t classes[OB_ARENA_MAX_CLASSES + 1]; /* index = class id */
} cache_stats_t;

/* ---- the page mover (cache_items.c) --------------------------------------- */

#define CACHE_AUTOMOVE_WINDOW  30           /* memcached's slab_automove_window */
#define CACHE_NCLASS           (OB_ARENA_MAX_CLASSES + 1)

/* memcached's slab_automove=1 state: one sample per class per second. */
typedef struct cache_mover_s {
    int       automove;                     /* slabs automove 0|1|2 (default 1) */
    double    ratio;                        /* slabs automove ratio (0.8) */
    int       pending;                      /* a move is scheduled */
    int       src, dst;                     /* ... from class src (-1: any) to dst */
    uint64_t  last_evicted[CACHE_NCLASS];
    uint64_t  last_oom[CACHE_NCLASS];
    uint64_t  last_pages[CACHE_NCLASS];
    uint64_t  age[CACHE_NCLASS][CACHE_AUTOMOVE_WINDOW];
    uint8_t   evicted[CACHE_NCLASS][CACHE_AUTOMOVE_WINDOW];
    uint8_t   dirty[CACHE_NCLASS][CACHE_AUTOMOVE_WINDOW];
    unsigned  pos;                          /* the slot written next */
    unsigned  samples;                      /* taken so far, up to the window */
    unsigned  any_next;                     /* round robin of `reassign -1` */
} cache_mover_t;

/* ---- the module's state --------------------------------------------------- */

#define CACHE_CLS_SMALL  4096           /* cls_by_8 covers items up to this */

/* One referenced item and its count (see cache_item_ref). */
typedef struct cache_ref_slot_s {
    cache_item_t  *it;                  /* NULL: an empty slot */
    uint32_t       count;
} cache_ref_slot_t;

struct cache_s {
    struct ob_cycle_s  *cycle;          /* borrowed */
    ob_arena_t         *arena;          /* borrowed: cy->arena */
    int                 owner;          /* our arena owner id */
    size_t              item_min;       /* an item takes at least this many
                                           arena bytes: core.slab_min_chunk */
    unsigned            class_base;     /* arena class id of item_min, less 1 */

    /* configuration */
    int                 port;
    const char         *unix_socket;    /* borrowed from the conf, or NULL */
    size_t              max_item_size;  /* -I */
    int                 cas_enabled;    /* memcached -C turns it off */
    int                 flush_enabled;  /* memcached -F turns it off */
    int                 evictions_enabled; /* memcached -M turns it off */
    int                 verbosity;

    /* the store (cache_items.c) */
    ob_hash_t           hash;           /* items by key; its bucket arrays are
                                           malloc'd, outside the budget, as in
                                           memcached (stats: hash_bytes) */
    uint32_t            asize_by_8[CACHE_CLS_SMALL / 8 + 1];
                                        /* CACHE_ITEM_asize of an item of up
                                           to CACHE_CLS_SMALL bytes, by size
                                           / 8 rounded up.  Under 256 pages
                                           in the budget the sizes up to 192
                                           go by memcached's series (96, 120,
                                           152, 192 at -f 1.25) rather than
                                           the arena's 8-byte classes: each
                                           class holds at least a page, and
                                           with few pages, many classes of
                                           few items would cost the large
                                           items too many of them */
    uint8_t             cls_by_8[CACHE_CLS_SMALL / 8 + 1];
                                        /* arena class of an item of up to
                                           CACHE_CLS_SMALL bytes, by size / 8
                                           rounded up: cache_item_clsid
                                           without a search */
    cache_ref_slot_t   *refs;           /* malloc'd: reference counts of the
                                           items with CACHE_ITEM_REFS, open
                                           addressing; NULL while none */
    size_t              refs_cap;       /* slots (a power of 2), or 0 */
    size_t              refs_used;
    uint64_t            cas_next;       /* one counter for the server */
    cache_rel_time_t    oldest_live;    /* flush_all: once now reaches it, items last stored or
                                           read at or before it are invalid; 0 none */
    uint64_t            oldest_cas;     /* flush_all now: items with a smaller CAS are invalid; 0 none */
    time_t              process_started;/* unix time of rel time 0 */
    cache_rel_time_t    now;            /* current rel time */
    unsigned            crawl_class;    /* where the crawler resumes (its
                                           place in the class is the arena
                                           walk's hand) */
    size_t              crawl_done;     /* chunks walked in crawl_class */

    cache_stats_t       stats;
    cache_mover_t       mover;          /* slabs reassign / automove */
    struct event       *clock_ev;       /* 1 s: clock, crawler, automover */
    ob_proto_t          proto;          /* our wire protocol */
    ob_cmd_table_t      cmds;           /* text and meta commands, by name */
    struct cache_cmd_s *cmd_entries;    /* malloc'd: both tables, joined */
};

/*
 * memcached's class ids.  The cache's items start at the arena class of
 * item_min (see CACHE_ITEM_asize); the ids clients see (meta `me`,
 * `stats items`, `stats slabs`, `slabs reassign`) count from there, so
 * that they are memcached's (1 for 96-byte chunks).  0 stays 0 (large
 * blocks in `stats items`, the pool in `slabs reassign`).  The other way,
 * an id a client gives; callers check the range (1..nclasses - base).
 */
static inline unsigned
cache_class_id_show(const cache_t *c, unsigned arena_id)
{
    return arena_id > c->class_base ? arena_id - c->class_base : 0;
}


static inline unsigned
cache_class_id_arena(const cache_t *c, unsigned shown_id)
{
    return shown_id == 0 ? 0 : shown_id + c->class_base;
}

/* ---- cache_items.c: the store --------------------------------------------- */

/* Sets up the hash table and registers the eviction hook.  OB_ERR with err. */
int  cache_items_init(cache_t *c, ob_err_t *err);
/* Frees every item and the table. */
void cache_items_fini(cache_t *c);

/* Puts `repl` (a copy of linked item `old`, same key) in old's place in the
 * hash table, for the page mover; the counters are the
 * caller's.  OB_OK, or OB_DECLINED if old is not in the table. */
int  cache_hash_replace(cache_t *c, cache_item_t *old, cache_item_t *repl);

/* Refreshes c->now from the system clock. */
void cache_clock_update(cache_t *c);

/* memcached's realtime(): a client exptime into a rel time.  0 stays 0
 * (never); up to 30 days is relative to now; above that an absolute unix
 * time (in the past: already expired); negative: already expired. */
cache_rel_time_t cache_exptime_rel(const cache_t *c, int64_t exptime);

/* The inverse for meta `t`: seconds left, or -1 for never. */
int64_t cache_item_ttl(const cache_t *c, const cache_item_t *it);

/* Why a lookup found nothing, for get_expired / get_flushed. */
typedef enum {
    CACHE_MISS_ABSENT = 0,
    CACHE_MISS_EXPIRED,
    CACHE_MISS_FLUSHED
} cache_miss_t;

/*
 * Looks a key up.  Returns the live item (borrowed: valid until the next
 * cache_item_alloc, link or unlink: an alloc may evict it, so allocate
 * first and look up after), or NULL; an expired or flushed item met on the way is
 * unlinked and freed, and *why (if not NULL) says which.  Does not bump
 * the item (ACTIVE) or set FETCHED: the caller does, after deciding it is
 * a hit.
 */
cache_item_t *cache_item_find(cache_t *c, const char *key, size_t nkey,
                              cache_miss_t *why /* OUT */);

/* cache_item_find plus memcached's do_item_get accounting: a lookup that
 * meets an expired or flushed item counts get_expired or get_flushed,
 * whatever the command.  borrowed, as cache_item_find. */
cache_item_t *cache_item_get(cache_t *c, const char *key, size_t nkey);

/* Whether an item with this key length and value length (without "\r\n")
 * is over max_item_size: cache_item_alloc's own test, for commands that
 * must decide before their data block has arrived. */
int cache_item_is_too_large(const cache_t *c, size_t nkey, size_t nbytes);

/* Marks a hit: FETCHED and ACTIVE (the CLOCK's second chance), time = now. */
void cache_item_bump(cache_t *c, cache_item_t *it);

/*
 * Allocates an unlinked item for `key` with room for a value of `nbytes`
 * (without "\r\n"), with the client's flags.  May evict.  Returns NULL with *why set to
 * CACHE_TOO_LARGE (total over max_item_size) or CACHE_NO_MEMORY.
 * new: link it with cache_item_link or free it with cache_item_free.
 */
cache_item_t *cache_item_alloc(cache_t *c, const char *key, size_t nkey,
                               uint32_t flags, cache_rel_time_t exptime,
                               size_t nbytes, int *why /* OUT */);

/* A finished upload whose page was given up meanwhile moves to a live
 * page before it is linked.  Returns the item to use: `it` or its copy. */
cache_item_t *cache_item_settle(cache_t *c, cache_item_t *it);

/* Frees an unlinked item; one still referenced is freed by its last
 * cache_item_release instead. */
void cache_item_free(cache_t *c, cache_item_t *it);

/* Links `it` (giving it a new CAS), replacing `old` (a linked item with the
 * same key, or NULL), which is unlinked and freed (or, while referenced,
 * freed by its last release). */
void cache_item_link(cache_t *c, cache_item_t *it, cache_item_t *old);

/* Unlinks a linked item and frees it (or, while referenced, leaves it to
 * its last release). */
void cache_item_unlink(cache_t *c, cache_item_t *it);

/*
 * References: a pending reply that points into an item (zero-copy) holds
 * one.  A referenced item may be unlinked (replaced, deleted, expired,
 * flushed) but is never freed, moved or evicted: cache_item_release frees
 * it when the last reference goes and it is no longer linked.  The counts
 * are in c->refs (an item has CACHE_ITEM_REFS while it has one), not in
 * the header.  At most CACHE_ITEM_REF_MAX references per item, and
 * cache_item_ref fails when the table cannot grow: callers copy instead.
 *
 * Lifetime: replies are released when written or when their connection is
 * freed; the core frees every connection (ob_conn_close_all) after the
 * modules' stop and before their fini, so every release runs while the
 * cache and the arena still exist.
 */
#define CACHE_ITEM_REF_MAX  60000
int  cache_item_ref(cache_t *c, cache_item_t *it);   /* OB_ERR: no room */
uint32_t cache_item_ref_count(const cache_t *c, const cache_item_t *it);
/* Whether it has references (pending replies). */
#define cache_item_is_referenced(it)  ((it)->it_flags & CACHE_ITEM_REFS)
/* The arena class of an item (0: a large block). */
unsigned cache_item_clsid(const cache_t *c, const cache_item_t *it);
void cache_item_release(cache_t *c, cache_item_t *it);

/* A fresh CAS value (for in-place changes: incr, touch-less updates). */
uint64_t cache_next_cas(cache_t *c);

/* flush_all: with delay 0 (or negative) every item now is invalid at once;
 * with a delay, the items that exist when it runs out.  O(1): flushed items
 * are found dead by lookups, the crawler and eviction, as in memcached
 * (settings.oldest_live and oldest_cas), so a flush never stalls the
 * reactor however many items there are. */
void cache_items_flush(cache_t *c, int64_t delay);

/* Walks up to `max` chunks of the classes, from their CLOCK hands, and
 * reclaims the dead items (memcached's LRU crawler).  Returns how many
 * were reclaimed. */
size_t cache_items_crawl(cache_t *c, size_t max);

/* Seconds since the items the CLOCK hand of arena class id would evict
 * next were used (`stats items` age, the automover's age); 0 if empty. */
uint64_t cache_items_class_age(cache_t *c, unsigned id);

/* ---- cache_store.c: semantics shared by text and meta -------------------- */

typedef enum {
    CACHE_OP_SET = 0, CACHE_OP_ADD, CACHE_OP_REPLACE,
    CACHE_OP_APPEND, CACHE_OP_PREPEND, CACHE_OP_CAS
} cache_op_t;

/*
 * memcached's do_store_item: stores the filled, unlinked item `it` under
 * `op` (cas_in is compared for CACHE_OP_CAS, and for others when non-zero,
 * as meta's C flag does).  Returns OB_OK (stored; *cas_out gets the new
 * CAS), CACHE_NOT_STORED, CACHE_EXISTS, CACHE_NOT_FOUND, or
 * CACHE_NO_MEMORY (append/prepend could not allocate the joined item).
 * Takes `it` in every case: it is linked or freed.  Counts cmd_set and
 * the cas_* statistics.
 */
int cache_store_item(cache_t *c, cache_item_t *it, cache_op_t op,
                     uint64_t cas_in, uint64_t *cas_out /* OUT */);

/*
 * incr/decr by `delta`: OB_OK with the new value in *value (and its
 * decimal text written into the item, in place and space-padded when it
 * fits, as memcached does), CACHE_NOT_FOUND, CACHE_EXISTS (cas_in given and
 * different), OB_DECLINED (the value is not a number), or CACHE_NO_MEMORY.
 * *cas_out (may be NULL) gets the item's new CAS.  Counts incr_/decr_*.
 */
int cache_store_incr(cache_t *c, const char *key, size_t nkey, int incr,
                     uint64_t delta, uint64_t cas_in, uint64_t *value /* OUT */,
                     uint64_t *cas_out /* OUT */);

/* ---- cache_proto.c: pure parsing ----------------------------------------- */

/*
 * Finds the first line in buf[0..len).  On OB_OK *line_len is the line
 * without its "\n" and without one "\r" before it, and *consumed the bytes
 * up to and including the "\n".  OB_AGAIN: no "\n" yet.  OB_PROTO_ERR: no
 * "\n" within CACHE_LINE_MAX bytes and the line is not a get/gets (whose
 * key lists may be longer): the caller closes the connection, as memcached
 * does.
 */
int cache_proto_line(const uint8_t *buf, size_t len, size_t *line_len /* OUT */,
                     size_t *consumed /* OUT */);

/*
 * The limit half of cache_proto_line, for a caller that searches for the
 * "\n" itself and resumes the search as input arrives: `len` bytes came
 * without a "\n", `head` holds the first `nhead` of them (at least
 * CACHE_LINE_HEAD, or all of them).  OB_AGAIN: the line may still grow;
 * OB_PROTO_ERR: close the connection (over CACHE_LINE_MAX, not get/gets).
 */
#define CACHE_LINE_HEAD  (100 + 5 + 1)  /* 100 spaces, "gets " */
int cache_proto_line_may_grow(const uint8_t *head, size_t nhead, size_t len);

/*
 * The decimal reader behind every unsigned number of the protocol, and of
 * incr/decr's stored value: memcached's safe_strtoull on [p, p + n).
 * Returns OB_OK, or OB_ERR when the text is not such a number.
 */
int cache_proto_u64_text(const char *p, size_t n, uint64_t *out /* OUT */);

/* 1 when token t is exactly the string s (a sub-command, a keyword). */
int cache_token_is(const ob_str_t *t, const char *s);

/*
 * Splits a line on spaces (only 0x20, repeated spaces ignored), as
 * memcached's tokenize_command.  Fills at most `max` tokens; if the line
 * has more, the last token holds the rest of the line (starting at its
 * first non-space byte).  Returns the number of tokens.
 */
size_t cache_proto_tokenize(const char *line, size_t len, ob_str_t *tokens,
                            size_t max);

/* Numbers as memcached's safe_strto* read them: the whole token must be the
 * number.  Return OB_OK, or OB_ERR (*out untouched). */
int cache_proto_u64(const ob_str_t *t, uint64_t *out /* OUT */);
int cache_proto_u32(const ob_str_t *t, uint32_t *out /* OUT */);   /* flags: a u64 truncated to 32 bits, no sign */
int cache_proto_i32(const ob_str_t *t, int32_t *out /* OUT */);    /* exptime, bytes */
int cache_proto_i64(const ob_str_t *t, int64_t *out /* OUT */);

/* Writes v in decimal into buf (at least 20 bytes, no NUL); returns the
 * length.  For reply lines on the hot path, without printf. */
size_t cache_proto_u64_format(uint64_t v, char *buf);

/* Base64 (RFC 4648, with padding) for meta's b flag.  Return the output
 * length, or -1 on bad input or when out (outlen bytes) is too small. */
long cache_proto_b64_decode(const char *in, size_t len, char *out, size_t outlen);
long cache_proto_b64_encode(const char *in, size_t len, char *out, size_t outlen);

/* ---- the connection and the commands -------------------------------------- */

typedef struct cache_conn_s cache_conn_t;

/*
 * Called when the data block of a storage command has all been read into
 * `it` (unlinked, no longer referenced by the upload): `bad` when it did
 * not end in "\r\n"
 * (memcached's "bad data chunk"; the item is the callee's to free).  The
 * command's tokens are still in cc->tokens.  Takes `it`: links or frees it.
 * Returns OB_OK, or OB_ERR when a reply could not be appended.
 */
typedef int (*cache_upload_pt)(cache_conn_t *cc, cache_item_t *it, int bad);

/*
 * One client connection of the cache protocol.  Between two requests every
 * field below `line` is idle; a request that cannot finish within one call
 * keeps its state here, and cache_on_read resumes it before reading the
 * next line:
 *
 *   swallow  a refused data block still being discarded
 *   upload   a data block being copied into its item as it arrives (the
 *            item was allocated when the line came, as memcached does, so
 *            that pending input is in the budget and never buffered whole)
 *   mget     a multiget whose replies are emitted a key at a time, up to
 *            the output's soft limit, then resumed (memcached's yielding)
 *
 * The line of the request stays in `line` (and its tokens in `tokens`)
 * until the request is over: it is copied out of the input once.
 */
struct cache_conn_s {
    cache_t          *cache;
    ob_conn_t        *conn;
    int               out_err;      /* an append failed: the connection is
                                       closing, its output discarded */

    /* framing: how far the input was searched for "\n", so that a long
     * line arriving in pieces is scanned once, not from its start on
     * every read; long_ok once a line past CACHE_LINE_MAX is known to be
     * a get/gets */
    size_t            searched;
    int               long_ok;

    char             *line;         /* the current request's line, copied */
    size_t            line_cap;
    ob_str_t          tokens[CACHE_MAX_TOKENS];   /* into line */
    size_t            ntokens;

    size_t            swallow;      /* bytes of a refused block to discard */

    cache_item_t     *upload;       /* the item being filled (unlinked: the
                                       CLOCK and the mover pass it over) */
    size_t            upload_got;   /* bytes of it->nbytes + 2 read so far */
    char              upload_crlf[2]; /* the block's last 2 bytes */
    cache_upload_pt   upload_done;
    cache_op_t        upload_op;    /* for the text commands' completion */
    uint64_t          upload_cas;
    int               upload_noreply;

    int               mget_active;  /* a multiget is being answered */
    size_t            mget_pos;     /* offset in line of the next key */
    size_t            mget_end;     /* offset in line where the keys end */
    int               mget_cas;     /* gets/gats: CAS in VALUE lines */
    int               mget_touch;   /* gat/gats: set each hit's exptime */
    cache_rel_time_t  mget_exptime;
};

/*
 * A command handler.  `tokens` are the line's tokens (tokens[0] is the
 * command name), in cc->tokens, pointing into cc->line; the line has
 * already been drained from the input.  Replies go through cache_out,
 * cache_out_item and cache_reply.  Returns:
 *   OB_OK     done, or continued in cc (an upload or a multiget started)
 *   OB_DONE   close the connection after the replies are written (quit)
 *   OB_ERR    close the connection now (an append failed)
 */
typedef int (*cache_cmd_pt)(cache_conn_t *cc, ob_str_t *tokens,
                            size_t ntokens);

/*
 * A command: core's ob_cmd_t (name, arity counting the name, flags) first,
 * so that one ob_cmd_table looks every command up by hash and checks its
 * arity; a request with the wrong number of tokens is answered "ERROR"
 * before any handler runs, as memcached answers a miscounted line.
 */
typedef struct cache_cmd_s {
    ob_cmd_t      base;
    cache_cmd_pt  handler;
} cache_cmd_t;

#define CACHE_CMD(name, arity_min, arity_max, handler) \
    { { (name), (arity_min), (arity_max), 0 }, (handler) }

/* The tables of cache_cmd_text.c and cache_cmd_meta.c, ended by a NULL name. */
extern const cache_cmd_t cache_text_commands[];
extern const cache_cmd_t cache_meta_commands[];

/*
 * Starts reading a data block (it->nbytes of value into `it`, then the
 * "\r\n" checked, not stored), `it` held (a reference) until done(cc, it, bad) runs.  If
 * the connection closes first, the half-filled item is freed.
 */
void cache_conn_upload(cache_conn_t *cc, cache_item_t *it,
                       cache_upload_pt done);

/* Arranges for the next `nbytes` + 2 bytes of input to be discarded (a
 * refused data block: too large, no memory, bad flags). */
void cache_conn_swallow(cache_conn_t *cc, size_t nbytes);

/* Appends bytes to the output (copied).  OB_OK, or OB_ERR (cc->out_err
 * set; the connection is closing and nothing more is appended). */
int cache_out(cache_conn_t *cc, const void *data, size_t len);

/* Appends a hit's value (it->nbytes bytes) and "\r\n": large
 * values by reference (the item is held until written), small ones
 * copied.  OB_OK or OB_ERR as cache_out. */
int cache_out_value(cache_conn_t *cc, cache_item_t *it);

/* Appends "<text>\r\n" unless `noreply`.  OB_OK or OB_ERR as cache_out. */
int cache_reply(cache_conn_t *cc, const char *text, int noreply);

/* Multiget (cache_cmd_text.c): emits replies for the keys from
 * cc->mget_pos on until they are done (END; OB_OK) or the output is full
 * (OB_BUSY: call again).  OB_ERR when an append failed. */
int cache_mget_resume(cache_conn_t *cc);

/* The stats commands (cache_cmd_stats.c), called by the text table. */
int cache_cmd_stats(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens);

/* slabs reassign / slabs automove (cache_cmd_slabs.c). */
int cache_cmd_slabs(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens);

/* ---- cache_items.c: the page mover ---------------------------------------- */

/* What the cache may hold (memcached's limit_maxbytes): its arena owner
 * limit (cache_memlimit) if one is set below the budget, else the whole
 * budget, which it shares with the other modules. */
size_t cache_mem_limit(const cache_t *c);

/* Pages the cache holds in arena class id (0 for an unknown class). */
size_t cache_slabs_pages(const cache_t *c, unsigned id);

/* memcached's slabs_reassign_pick_any: the next class (arena id) after
 * the last one picked, in turn, that holds more than one page and is not
 * dst; -1 for none.  The mover's src and dst are arena ids. */
int cache_slabs_pick_any(cache_t *c, int dst);

/* Once a second: runs a scheduled `slabs reassign`, then (automove 1)
 * memcached's automover rule; may schedule the next move. */
void cache_slabs_tick(cache_t *c);

#endif /* OB_CACHE_INT_H */
