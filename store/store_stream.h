/*
 * store_stream.h: the stream type (XADD and friends): entries keyed by
 * 128-bit IDs (ms-seq) in increasing order, and consumer groups with
 * their pending entries lists.
 *
 * Entries are packed in arena blocks ("nodes") that end where Redis's
 * listpacks would (stream-node-max-bytes 4096 of listpack encoding,
 * stream-node-max-entries 100), so that approximate trimming matches;
 * an index of the nodes, ordered by their first ID, is searched by
 * bisection, so that a range starts in O(log n) and an append is O(1)
 * amortized.  A deleted entry stays in its node, flagged, until the
 * node empties (Redis does the same); trimming drops whole nodes from
 * the head.
 *
 * Consumer groups keep their PEL in an ordered map of IDs (a skiplist
 * in the arena); each consumer keeps its own map of the same NACKs.
 *
 *   store_stream_t *s = store_stream_new(a, owner);
 *   store_sid_t     id = { 0, 0 };
 *   store_stream_append(s, &id, fv, 2)     fv: field, value (ob_str_t)
 *   store_stream_iter_t it;
 *   store_stream_iter_start(s, &it, &min, &max, 0);
 *   while (store_stream_iter_next(&it, &e)) { e.id, e.nfields ... }
 *   store_stream_destroy(s);
 */
#ifndef STORE_STREAM_H
#define STORE_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include "ob_core.h"
#include "ob_arena.h"

#define STORE_STREAM_NODE_BYTES    4096
#define STORE_STREAM_NODE_ENTRIES  100
/* Redis's SCG_INVALID_ENTRIES_READ: a group's read counter unknown. */
#define STORE_STREAM_ENTRIES_INVALID  (-1LL)

typedef struct store_sid_s {
    uint64_t  ms;
    uint64_t  seq;
} store_sid_t;

typedef struct store_snode_s   store_snode_t;
typedef struct store_smap_s    store_smap_t;
typedef struct store_sgroup_s  store_sgroup_t;
typedef struct store_sconsumer_s store_sconsumer_t;

/* A pending entry: delivered to `consumer`, not acknowledged yet. */
typedef struct store_snack_s {
    int64_t             delivery_time;   /* Unix ms of the last delivery */
    uint64_t            delivery_count;
    store_sconsumer_t  *consumer;        /* borrowed: the owner's PEL */
} store_snack_t;

struct store_sconsumer_s {
    char          *name;          /* arena bytes, not NUL-ended */
    size_t         nname;
    int64_t        seen_time;     /* Unix ms of the last interaction */
    store_smap_t  *pel;           /* id -> store_snack_t (shared with the
                                     group's: the group's map owns them) */
};

struct store_sgroup_s {
    char                *name;
    size_t               nname;
    store_sid_t          last_id;        /* last delivered */
    long long            entries_read;   /* or STORE_STREAM_ENTRIES_INVALID */
    store_smap_t        *pel;            /* id -> store_snack_t (owned) */
    store_sconsumer_t  **consumers;      /* sorted by name */
    size_t               nconsumers;
    size_t               ccap;
};

typedef struct store_stream_s {
    ob_arena_t        *a;
    int                owner;
    store_snode_t    **nodes;        /* nodes[head .. head + nn) are live */
    size_t             head;
    size_t             nn;
    size_t             ncap;
    uint64_t           length;       /* live entries */
    store_sid_t        last_id;      /* the top ID ever added (or XSETID) */
    store_sid_t        first_id;     /* the first live entry (0-0 if none) */
    store_sid_t        max_deleted;  /* max ID deleted by XDEL (or XSETID) */
    uint64_t           entries_added;
    store_sgroup_t   **groups;       /* sorted by name */
    size_t             ngroups;
    size_t             gcap;
} store_stream_t;

/* One entry as an iterator yields it: its fields and values are packed
 * (read them with store_sentry_pairs / store_spairs_next).  An entry
 * whose fields are its node's first entry's ("master fields", Redis's
 * SAMEFIELDS) stores its values only. */
typedef struct store_sentry_s {
    store_sid_t     id;
    size_t          nfields;         /* field-value pairs */
    const uint8_t  *fields;          /* borrowed: the master fields, or
                                        NULL: p holds field, value, ... */
    const uint8_t  *p;               /* borrowed: the first value/field */
} store_sentry_t;

typedef struct store_spairs_s {
    const uint8_t  *f;
    const uint8_t  *v;
} store_spairs_t;

typedef struct store_stream_iter_s {
    const store_stream_t *s;
    size_t          node;            /* index into nodes (absolute) */
    size_t          pos;             /* offset in the node's data */
    int             rev;
    int             done;
    store_sid_t     min;
    store_sid_t     max;
    /* where the last entry lies, for store_stream_iter_delete */
    size_t          last_node;
    size_t          last_pos;
} store_stream_iter_t;


/* ---- IDs ---------------------------------------------------------------- */

int  store_sid_cmp(const store_sid_t *a, const store_sid_t *b);
/* a + 1 / a - 1; OB_ERR when it would wrap (the max / the 0-0 ID). */
int  store_sid_incr(store_sid_t *id);
int  store_sid_decr(store_sid_t *id);
/* "ms-seq" into buf (at least STORE_SID_MAX bytes); returns the length. */
#define STORE_SID_MAX  42
size_t store_sid_format(const store_sid_t *id, char *buf);
/*
 * Parses "ms", "ms-seq" (strict decimal, uint64); with `missing_seq` the
 * sequence when absent (0 for a start, UINT64_MAX for an end).  With
 * seq_given (may be NULL): 1 when "-seq" was there.  OB_OK / OB_ERR.
 */
int  store_sid_parse(const void *p, size_t len, uint64_t missing_seq,
                     store_sid_t *id /* OUT */, int *seq_given /* OUT */);


/* ---- the stream --------------------------------------------------------- */

store_stream_t *store_stream_new(ob_arena_t *a, int owner);   /* new */
void            store_stream_destroy(store_stream_t *s);
store_stream_t *store_stream_copy(const store_stream_t *s);   /* new */
size_t          store_stream_bytes(const store_stream_t *s);

/*
 * Appends an entry of nfv/2 field-value pairs (fv[0] field, fv[1] value
 * ...; the command's arguments as they are) with the ID *id, which must
 * be greater than the top ID (the caller checked).  OB_ERR: out of
 * memory, nothing changed.
 */
int store_stream_append(store_stream_t *s, const store_sid_t *id,
                        const ob_str_t *fv, size_t nfv);

/* Walks an entry's pairs: store_sentry_pairs, then nfields times
 * store_spairs_next (borrowed bytes). */
void store_sentry_pairs(const store_sentry_t *e, store_spairs_t *it /* OUT */);
void store_spairs_next(store_spairs_t *it, const uint8_t **f, size_t *flen,
                       const uint8_t **v, size_t *vlen);

/* Iterates entries with min <= id <= max, forward (rev 0) or back. */
void store_stream_iter_start(const store_stream_t *s, store_stream_iter_t *it,
                             const store_sid_t *min, const store_sid_t *max,
                             int rev);
int  store_stream_iter_next(store_stream_iter_t *it,
                            store_sentry_t *e /* OUT */);

/* 1 and *e when an entry has exactly this ID. */
int  store_stream_lookup(const store_stream_t *s, const store_sid_t *id,
                         store_sentry_t *e /* OUT */);

/* Deletes the entry with this ID (XDEL): 1 deleted, 0 absent. */
int  store_stream_delete(store_stream_t *s, const store_sid_t *id);

/* The first (last = 0) or last live entry's ID; 0 when empty. */
int  store_stream_edge(const store_stream_t *s, int last,
                       store_sid_t *id /* OUT */);

/*
 * Trims the head (XTRIM, XADD's MAXLEN / MINID): by MAXLEN keeps `maxlen`
 * entries, by MINID drops entries below `minid`.  approx (~) drops only
 * whole nodes; `limit` caps the entries removed (0: none, approx only).
 * Returns the entries removed.
 */
#define STORE_STREAM_TRIM_MAXLEN  1
#define STORE_STREAM_TRIM_MINID   2
uint64_t store_stream_trim(store_stream_t *s, int strategy, uint64_t maxlen,
                           const store_sid_t *minid, int approx,
                           long long limit);

/* The nodes' count (XINFO STREAM's radix-tree-keys). */
size_t store_stream_nodes(const store_stream_t *s);

/*
 * Walking one node as it is stored, deleted entries included.  The
 * iterator above shows live entries only; but Redis's RDB file holds
 * each node as its listpack, whose tombstones (of XDEL and XTRIM) count
 * against stream-node-max-entries and -bytes, so a file without them
 * would make a loader close its nodes elsewhere.  The RDB writer
 * (store_rdb_stream.c) therefore reads each node through this walker,
 * which gives what that listpack holds, in the same order: the master ID
 * and fields, the live and deleted counts, then every entry with its
 * flags.  The node layout stays private to store_stream.c.
 *
 *   store_snode_walk_t  w;
 *   store_snode_walk_start(s, k, &w);      k: 0 .. store_stream_nodes(s) - 1
 *   w.master, w.live, w.deleted, w.nfields
 *   for (i = 0; i < w.nfields; i++) store_snode_walk_field(&w, &f, &len);
 *   while (store_snode_walk_next(&w, &e, &flags)) { flags, e.id ... }
 *
 * The flags have the values of Redis's STREAM_ITEM_FLAG_*.
 */
#define STORE_SENTRY_DELETED     0x01    /* a tombstone */
#define STORE_SENTRY_SAMEFIELDS  0x02    /* its fields are the master fields
                                            (e.fields != NULL) */

typedef struct store_snode_walk_s {
    store_sid_t           master;    /* the node's first entry's ID, ever:
                                        Redis's listpack key, and the base
                                        of its entries' ID differences */
    size_t                live;      /* entries not deleted */
    size_t                deleted;   /* tombstones */
    size_t                nfields;   /* master fields (the first entry's) */
    /* private: the node, its next master field, its next entry */
    const store_snode_t  *n;
    const uint8_t        *field;
    size_t                pos;
} store_snode_walk_t;

/* Starts on node k of the index (0 is the head, the oldest); k must be
 * below store_stream_nodes(s).  Borrowed: no change to s until done. */
void store_snode_walk_start(const store_stream_t *s, size_t k,
                            store_snode_walk_t *w /* OUT */);
/* The next master field (call it w->nfields times; borrowed bytes). */
void store_snode_walk_field(store_snode_walk_t *w, const uint8_t **f,
                            size_t *flen);
/* The next entry in ID order, deleted or not, as the iterator would give
 * it (read its pairs with store_sentry_pairs), and its STORE_SENTRY_*
 * flags; 0 past the node's last entry. */
int  store_snode_walk_next(store_snode_walk_t *w, store_sentry_t *e /* OUT */,
                           unsigned *flags /* OUT */);

/* ---- consumer groups ---------------------------------------------------- */

store_sgroup_t *store_stream_group_find(const store_stream_t *s,
                                        const void *name, size_t len);
/* NULL: OOM or it exists (check first). */
store_sgroup_t *store_stream_group_create(store_stream_t *s, const void *name,
                                          size_t len, const store_sid_t *id,
                                          long long entries_read);
void store_stream_group_destroy(store_stream_t *s, store_sgroup_t *g);

store_sconsumer_t *store_sgroup_consumer_find(const store_sgroup_t *g,
                                              const void *name, size_t len);
/* New consumer (must not exist), NULL on OOM. */
store_sconsumer_t *store_sgroup_consumer_create(store_stream_t *s,
                                                store_sgroup_t *g,
                                                const void *name, size_t len,
                                                int64_t now_ms);
/* Deletes a consumer and its pending entries; returns how many there
 * were. */
size_t store_sgroup_consumer_delete(store_stream_t *s, store_sgroup_t *g,
                                    store_sconsumer_t *c);

/* A NACK for id delivered to c (must not be pending); NULL on OOM. */
store_snack_t *store_sgroup_pel_add(store_stream_t *s, store_sgroup_t *g,
                                    store_sconsumer_t *c,
                                    const store_sid_t *id, int64_t now_ms);
store_snack_t *store_sgroup_pel_find(const store_sgroup_t *g,
                                     const store_sid_t *id);
/* Moves a pending entry to consumer c (XCLAIM); OB_ERR on OOM. */
int store_sgroup_pel_move(store_stream_t *s, store_sgroup_t *g,
                          const store_sid_t *id, store_snack_t *n,
                          store_sconsumer_t *c);
/* Acknowledges (removes) a pending entry: 1 removed, 0 absent. */
int store_sgroup_pel_ack(store_stream_t *s, store_sgroup_t *g,
                         const store_sid_t *id);
size_t store_sgroup_pel_count(const store_sgroup_t *g);
size_t store_sconsumer_pel_count(const store_sconsumer_t *c);

/* Frees a group (consumers, PEL, NACKs) that is no longer listed, and the
 * bytes a group holds (store_stream_bytes). */
void   store_sgroup_free(store_stream_t *s, store_sgroup_t *g);
size_t store_sgroup_bytes(const store_stream_t *s, const store_sgroup_t *g);

/* ---- ordered maps of IDs (PELs) ----------------------------------------- */

typedef struct store_smap_iter_s {
    const store_smap_t *m;
    void               *node;
} store_smap_iter_t;

/* Positions at the first id >= start; next yields id and value. */
void store_smap_seek(const store_smap_t *m, const store_sid_t *start,
                     store_smap_iter_t *it /* OUT */);
int  store_smap_next(store_smap_iter_t *it, store_sid_t *id /* OUT */,
                     void **val /* OUT */);
size_t store_smap_count(const store_smap_t *m);
int  store_smap_last(const store_smap_t *m, store_sid_t *id /* OUT */);

/* 128-bit lag and read-counter rules (Redis 7.0): */
long long store_stream_estimate_read(const store_stream_t *s,
                                     const store_sid_t *id);
int  store_stream_range_has_tombstones(const store_stream_t *s,
                                       const store_sid_t *start,
                                       const store_sid_t *end);

#endif /* STORE_STREAM_H */
