/*
 * store_db.h: the store's databases (SELECT 0..N-1): a keyspace of
 * binary-safe keys to value objects, and an expires table, with Redis 7.0's
 * semantics for lazy and active expiry, RENAME, MOVE, SWAPDB, RANDOMKEY and
 * SCAN.  No sockets and no commands here: the command layer calls these.
 *
 * Every key, entry and value lives in the core arena under the owner id
 * given at creation; an allocation the arena refuses makes the call return
 * OB_ERR with nothing changed (the command layer answers -OOM).  The hash
 * tables' bucket arrays are malloc'd by ob_hash (outside the budget).
 *
 * Time is the caller's: every call that may expire takes now_ms (absolute
 * Unix milliseconds), so tests need no clock.
 *
 *   store_dbs_t *s = store_dbs_new(&(store_dbs_conf_t) { .arena = a,
 *                                  .owner = owner, .ndb = 16 });
 *   store_db_t  *db = store_dbs_db(s, 0);
 *   store_db_set(db, "k", 1, store_obj_string_new(a, owner, "v", 1), 0,
 *                now_ms);
 *   o = store_db_lookup_read(db, "k", 1, now_ms, 0);
 */
#ifndef STORE_DB_H
#define STORE_DB_H

#include <stddef.h>
#include <stdint.h>
#include "ob_core.h"
#include "ob_arena.h"
#include "ob_hash.h"
#include "store_object.h"

#define STORE_DB_DEFAULT_N        16
#define STORE_SCAN_DEFAULT_COUNT  10
/* activeExpireCycle's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP and its 25% */
#define STORE_EXPIRE_SAMPLE       20
#define STORE_EXPIRE_STALE_PCT    25
/* RANDOMKEY's tries before it gives up on a keyspace of expired keys */
#define STORE_RANDOM_TRIES        100

/* One key: the keyspace's entry, the key's bytes after it. */
typedef struct store_entry_s {
    ob_hash_link_t  hlink;
    store_obj_t    *val;
    uint32_t        nkey;
    uint32_t        flags;       /* STORE_ENTRY_* */
    char            key[];
} store_entry_t;

#define STORE_ENTRY_VOLATILE  0x1    /* has an entry in the expires table */

/* Why a key went (the deletion callback's `why`). */
typedef enum {
    STORE_DEL_EXPLICIT = 0,      /* DEL, UNLINK, an emptied aggregate ... */
    STORE_DEL_EXPIRED,           /* lazy or active expiry: propagate DEL */
    STORE_DEL_EVICTED            /* the maxmemory policy */
} store_del_why_t;

/*
 * Called once per key deleted through store_db_delete_entry (every
 * deletion but FLUSHDB/FLUSHALL, which propagate as themselves), before
 * the entry is freed: key and val are still readable.  Must not touch the
 * databases.
 */
typedef void (*store_del_pt)(void *ctx, int dbid, const store_entry_t *e,
                             store_del_why_t why);

/* Called when store_db_set adds a key that was not there (after it is
 * linked); must not touch the databases. */
typedef void (*store_add_pt)(void *ctx, int dbid, const store_entry_t *e);

/* Per-key visitor of SCAN: e is borrowed for the call. */
typedef void (*store_scan_pt)(void *arg, const store_entry_t *e);

typedef struct store_dbs_s  store_dbs_t;

typedef struct store_kspace_s {
    ob_hash_t   keys;            /* store_entry_t by key */
    ob_hash_t   expires;         /* store_expire_t by key (store_db.c) */
} store_kspace_t;

typedef struct store_db_s {
    store_kspace_t  *ks;         /* a pointer so SWAPDB swaps two */
    store_dbs_t     *dbs;
    int              id;
    uint64_t         expire_cursor;  /* the active cycle's place */
} store_db_t;

typedef struct store_dbs_conf_s {
    ob_arena_t      *arena;
    int              owner;
    int              ndb;        /* 0: STORE_DB_DEFAULT_N */
    store_del_pt     on_del;     /* optional */
    void            *on_del_ctx;
    store_add_pt     on_add;     /* optional: a key was added (Redis's
                                    dbAdd, the "new" keyspace event) */
    uint64_t         seed;       /* RANDOMKEY's generator (0: a fixed one) */
} store_dbs_conf_t;

typedef struct store_expire_stats_s {
    size_t      sampled;         /* keys with a TTL looked at */
    size_t      expired;         /* of them, deleted */
    uint64_t    elapsed_us;
    int         timed_out;       /* stopped by the budget */
} store_expire_stats_t;

struct store_dbs_s {
    ob_arena_t      *arena;
    int              owner;
    int              ndb;
    store_db_t      *db;         /* malloc'd: ndb of them */
    int              replica;    /* reads do not delete expired keys */
    store_del_pt     on_del;
    void            *on_del_ctx;
    store_add_pt     on_add;         /* shares on_del_ctx */
    uint64_t         rng;
    int              expire_db;  /* where the next active cycle starts */
    uint64_t         expired_keys;   /* INFO stats expired_keys */
    int              lfu;        /* an LFU maxmemory policy: accesses
                                    count in the objects' LFU data */
    store_lfu_conf_t lfu_conf;
};

/* The databases, empty.  NULL on malloc failure or a bad conf.  new:
 * store_dbs_free. */
store_dbs_t *store_dbs_new(const store_dbs_conf_t *conf);

/* Frees every key, value and table. */
void store_dbs_free(store_dbs_t *s);

/* Database `id`, or NULL when out of range.  borrowed. */
store_db_t *store_dbs_db(store_dbs_t *s, int id);

/* Access tracking: LFU counters (on) or the LRU clock (off), as the
 * maxmemory policy wants. */
void store_dbs_set_lfu(store_dbs_t *s, int on, const store_lfu_conf_t *conf);

/* Replica mode: lookups for read report expired keys missing but leave
 * them (the master's DEL removes them); writes still delete. */
void store_dbs_set_replica(store_dbs_t *s, int on);

/* ---- lookups: expired keys are missing ------------------------------- */

#define STORE_LOOKUP_NOTOUCH  0x1    /* leave the LRU clock (TYPE, OBJECT) */

/* The live value of key, or NULL; an expired key is deleted unless in
 * replica mode.  borrowed. */
store_obj_t *store_db_lookup_read(store_db_t *db, const void *key,
                                  size_t nkey, int64_t now_ms, int flags);

/* The same for a command about to write: an expired key is always
 * deleted.  borrowed. */
store_obj_t *store_db_lookup_write(store_db_t *db, const void *key,
                                   size_t nkey, int64_t now_ms, int flags);

/* The live entry of key, or NULL, with lookup_read's expiry.  borrowed. */
store_entry_t *store_db_find(store_db_t *db, const void *key, size_t nkey,
                             int64_t now_ms);

/* 1 when key exists and has not expired (EXISTS), else 0. */
int store_db_key_is_live(store_db_t *db, const void *key, size_t nkey,
                         int64_t now_ms);

/* ---- writes ------------------------------------------------------------ */

#define STORE_SET_KEEPTTL  0x1       /* keep the old TTL (SET ... KEEPTTL) */

/*
 * Binds key to val, replacing (and freeing) an old value.  An old TTL is
 * dropped (SET) unless flags has STORE_SET_KEEPTTL.  On OB_OK the db owns
 * val; OB_ERR (out of memory for a new key's entry): nothing changed and
 * val is still the caller's.
 */
int store_db_set(store_db_t *db, const void *key, size_t nkey,
                 store_obj_t *val, int flags, int64_t now_ms);

/* Deletes key (DEL).  OB_OK deleted; OB_DECLINED absent or expired (an
 * expired one is deleted as expired). */
int store_db_delete(store_db_t *db, const void *key, size_t nkey,
                    int64_t now_ms);

/* The one way keys leave a database (but flushes): calls on_del, unlinks,
 * frees the key, its TTL and its value. */
void store_db_delete_entry(store_db_t *db, store_entry_t *e,
                           store_del_why_t why);

/* ---- expiry -------------------------------------------------------------- */

/* Sets key's expiry to the absolute `when_ms`.  OB_OK; OB_DECLINED no
 * (live) key; OB_ERR out of memory (no TTL was set).  A time in the past
 * is stored: the key is then expired (EXPIRE's "delete at once" is the
 * command's choice). */
int store_db_expire_set(store_db_t *db, const void *key, size_t nkey,
                        int64_t when_ms, int64_t now_ms);

/* The absolute expiry of a live key, or -1 with none, -2 with no key. */
int64_t store_db_expire_get(store_db_t *db, const void *key, size_t nkey,
                            int64_t now_ms);

/* The absolute expiry of an entry in hand (a SCAN visitor's, for
 * persistence), or -1 with none; expired or not. */
int64_t store_db_entry_expire(store_db_t *db, const store_entry_t *e);

/* PERSIST: OB_OK removed a TTL; OB_DECLINED no key or no TTL. */
int store_db_persist(store_db_t *db, const void *key, size_t nkey,
                     int64_t now_ms);

/* PTTL / TTL: -2 no key, -1 no expiry, else what remains (TTL rounds
 * to the nearest second, as Redis does). */
int64_t store_db_pttl(store_db_t *db, const void *key, size_t nkey,
                      int64_t now_ms);
int64_t store_db_ttl(store_db_t *db, const void *key, size_t nkey,
                     int64_t now_ms);

/*
 * One bounded active expiry pass (Redis's activeExpireCycle in spirit):
 * over the databases from where the last pass stopped, samples up to
 * STORE_EXPIRE_SAMPLE keys with a TTL (walking the expires table with a
 * SCAN cursor, so every key is met in turn), deletes the expired ones and
 * samples the same database again while more than STORE_EXPIRE_STALE_PCT
 * percent of a sample had expired; stops when the time budget is spent
 * (checked every sample).  Returns the keys it expired; st (optional)
 * gets the details.
 */
size_t store_dbs_active_expire(store_dbs_t *s, int64_t now_ms,
                               uint64_t budget_us,
                               store_expire_stats_t *st /* OUT */);

/* ---- the keyspace as a whole --------------------------------------------- */

/* Keys (DBSIZE: expired keys not yet deleted count, as in Redis). */
size_t store_db_size(const store_db_t *db);
/* Keys with a TTL. */
size_t store_db_expires_count(const store_db_t *db);

/* FLUSHDB / FLUSHALL: frees every key (no on_del calls). */
void store_db_flush(store_db_t *db);
void store_dbs_flushall(store_dbs_t *s);

/*
 * RENAME src dst (RENAMENX with nx): the value and its TTL move to dst,
 * replacing dst's value and TTL.  OB_OK; OB_DECLINED src missing ("no such
 * key"); OB_BUSY nx and dst exists (also RENAMENX k k); OB_ERR out of
 * memory, nothing changed.  src == dst: OB_OK when it exists.
 */
int store_db_rename(store_db_t *db, const void *src, size_t nsrc,
                    const void *dst, size_t ndst, int nx, int64_t now_ms);

/*
 * MOVE key from db `from` to db `to` with its TTL (the entry itself moves:
 * no allocation).  OB_OK; OB_DECLINED key missing in from; OB_BUSY key
 * exists in to; OB_ERR from == to (the command's "source and destination
 * objects are the same") or a bad index.
 */
int store_dbs_move(store_dbs_t *s, int from, int to, const void *key,
                   size_t nkey, int64_t now_ms);

/* SWAPDB a b: OB_OK, OB_ERR on a bad index. */
int store_dbs_swap(store_dbs_t *s, int a, int b);

/* RANDOMKEY: a live entry, or NULL when the db is empty (or, after
 * STORE_RANDOM_TRIES expired picks, in replica mode: the last one picked,
 * as Redis answers there).  Expired picks are deleted but in replica mode.
 * borrowed. */
store_entry_t *store_db_random(store_db_t *db, int64_t now_ms);

/*
 * One SCAN call: visits about `count` keys (0: STORE_SCAN_DEFAULT_COUNT)
 * stepping at most count * 10 buckets, then filters them (expired ones
 * are dropped, and deleted but in replica mode; then MATCH when `match`
 * is not NULL; then TYPE when type >= 0) and gives the rest to fn.
 * Returns the next cursor, 0 at the end.  Every key present from the first
 * call to the last is given at least once, across growth and shrinking
 * (duplicates are possible).  fn must not change the databases.
 */
uint64_t store_db_scan(store_db_t *db, uint64_t cursor, size_t count,
                       const char *match, size_t nmatch, int type,
                       int64_t now_ms, store_scan_pt fn, void *arg);

#endif /* STORE_DB_H */
