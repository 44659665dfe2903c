/*
 * ob_hash.h: an intrusive chained hash table that grows (and shrinks) a few
 * buckets at a time, as Redis's dict does, so that no single operation pays
 * for a whole rehash.
 *
 * Entries embed an ob_hash_link_t; the table never allocates per entry, only
 * its bucket arrays (malloc'd, outside the arena budget: see ob_hash.c).
 * The table does not own entries: removing one only unlinks it.
 *
 * Usage:
 *
 *   typedef struct { ob_hash_link_t hlink; size_t nkey; char key[]; } item_t;
 *
 *   static const ob_hash_type_t item_type = {
 *       .hash_key = item_hash_key,          XXH3 of (key, nkey)
 *       .hash_entry = item_hash_entry,      the same, from the entry
 *       .entry_is_key = item_is_key         compare
 *   };
 *
 *   ob_hash_init(&h, &item_type, ctx, &(ob_hash_conf_t) { .power_init = 16,
 *                .load_factor = 4.0 });
 *   ob_hash_insert(&h, &it->hlink);
 *   link = ob_hash_find(&h, "k", 1);
 *   it = OB_HASH_ENTRY(link, item_t, hlink);
 */
#ifndef OB_HASH_H
#define OB_HASH_H

#include <stddef.h>
#include <stdint.h>
#include "ob_core.h"

struct event_base;
struct event;

typedef struct ob_hash_link_s {
    struct ob_hash_link_s *next;        /* chain; NULL ends it */
} ob_hash_link_t;

/* The entry that embeds `link` as member `member` of `type`. */
#define OB_HASH_ENTRY(link, type, member) \
    ((type *) (void *) ((char *) (link) - offsetof(type, member)))

/* What the table knows of its entries.  Callbacks must not touch the
 * table.  hash_entry(e) must equal hash_key(e's key): the table rehashes
 * entries with it (nothing per entry is stored). */
typedef struct ob_hash_type_s {
    uint64_t (*hash_key)(const void *key, size_t nkey, void *ctx);
    uint64_t (*hash_entry)(const ob_hash_link_t *e, void *ctx);
    int      (*entry_is_key)(const ob_hash_link_t *e, const void *key,
                             size_t nkey, void *ctx);   /* 1: same key */
} ob_hash_type_t;

typedef struct ob_hash_conf_s {
    unsigned  power_init;     /* first table: 2^power_init buckets (0: 4) */
    unsigned  power_max;      /* never grows past 2^power_max (0: 40) */
    double    load_factor;    /* grows when count > buckets * this (0: 1.0) */
    double    shrink_fill;    /* shrinks when count < buckets * this
                                 (0: never shrinks); e.g. 0.1 as Redis */
} ob_hash_conf_t;

typedef struct ob_hash_stats_s {
    size_t    count;          /* entries */
    size_t    buckets;        /* of the table in use (the new one while
                                 rehashing) */
    unsigned  power;          /* log2(buckets) */
    size_t    bytes;          /* bucket arrays now, both while rehashing */
    int       rehashing;      /* 1 while two tables exist */
    uint64_t  expansions;     /* resizes started (grow or shrink) */
    uint64_t  grow_failures;  /* resizes skipped: malloc failed */
} ob_hash_stats_t;

/*
 * The table.  Its fields are private (ob_hash.c); it is public so that a
 * module can embed it and need no allocation for it.
 *
 * While rehashing, t[0] is the old table and t[1] the new one; buckets of
 * t[0] below rehashidx are empty (moved).  Otherwise only t[0] is used.
 */
typedef struct ob_hash_s {
    ob_hash_link_t       **t[2];
    size_t                 size[2];       /* buckets, a power of two (0: none) */
    size_t                 used[2];       /* entries in each */
    size_t                 rehashidx;     /* next t[0] bucket to move */
    unsigned               pause;         /* > 0: no rehash steps, no resize */
    unsigned               power_min, power_max;
    double                 load_factor, shrink_fill;
    const ob_hash_type_t  *type;
    void                  *ctx;           /* passed to the callbacks */
    uint64_t               expansions, grow_failures;
    struct event          *timer;         /* active rehash (optional) */
    int                    timer_ms;      /* slice per tick */
    long                   timer_period_ms;
} ob_hash_t;

/* Sets up an empty table with 2^power_init buckets.  OB_ERR on malloc
 * failure or a bad conf. */
int  ob_hash_init(ob_hash_t *h, const ob_hash_type_t *type, void *ctx,
                  const ob_hash_conf_t *conf);

/* Frees the bucket arrays and the timer (not the entries). */
void ob_hash_fini(ob_hash_t *h);

/* Adds e (its key must not be in the table: callers find first).  Never
 * fails: if growing cannot get memory, chains just get longer. */
void ob_hash_insert(ob_hash_t *h, ob_hash_link_t *e);

/* The entry with this key, or NULL.  borrowed. */
ob_hash_link_t *ob_hash_find(ob_hash_t *h, const void *key, size_t nkey);

/* Unlinks e (which must be in the table).  OB_OK, or OB_DECLINED if it is
 * not there. */
int  ob_hash_delete(ob_hash_t *h, ob_hash_link_t *e);

/* Puts `repl` where `old` is (same key: the page mover copies an entry to
 * another chunk).  No rehash step is taken, so a caller walking a chain or
 * scanning sees nothing move.  OB_OK, or OB_DECLINED if old is not there. */
int  ob_hash_replace(ob_hash_t *h, ob_hash_link_t *old, ob_hash_link_t *repl);

size_t ob_hash_count(const ob_hash_t *h);
int    ob_hash_is_rehashing(const ob_hash_t *h);
void   ob_hash_stats(const ob_hash_t *h, ob_hash_stats_t *st /* OUT */);

/* Moves up to n non-empty buckets (visiting at most 10n empty ones).
 * Returns 1 while more remains to do, 0 when no rehash is running. */
int  ob_hash_rehash(ob_hash_t *h, size_t n);

/* Rehashes in steps of 100 buckets for about `ms` milliseconds.  For a
 * timer; returns the buckets moved. */
size_t ob_hash_rehash_ms(ob_hash_t *h, int ms);

/* Arms an optional timer on `base` that, while a rehash runs, gives it a
 * slice of `slice_ms` every `period_ms` (Redis: 1 ms every 100 ms), so an
 * idle table finishes too.  The event exists only while rehashing.
 * OB_ERR if the event cannot be created. */
int  ob_hash_timer_set(ob_hash_t *h, struct event_base *base, long period_ms,
                       int slice_ms);

/* While paused (a counter: calls nest) no rehash step runs and no resize
 * starts, so an iterator can walk the chains while entries are deleted or
 * inserted (an insert may then land behind it). */
void ob_hash_pause(ob_hash_t *h);
void ob_hash_resume(ob_hash_t *h);

/*
 * SCAN, with Redis's reverse-binary cursor.  Start with cursor 0; each call
 * returns the next cursor, 0 when the whole table has been visited.  Every
 * entry present from the first call to the last is given to fn at least
 * once, even if the table grows or shrinks meanwhile (some may come twice).
 * One call stops after `count` entries or `max_buckets` bucket steps
 * (a step is one bucket of the smaller table and its extensions in the
 * larger one), whichever comes first; at least one step is taken.
 * fn may delete the entry it is given (rehashing is paused around it).
 */
typedef void (*ob_hash_scan_pt)(ob_hash_link_t *e, void *arg);

uint64_t ob_hash_scan(ob_hash_t *h, uint64_t cursor, size_t count,
                      size_t max_buckets, ob_hash_scan_pt fn, void *arg);

#endif /* OB_HASH_H */
