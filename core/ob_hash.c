/*
 * ob_hash.c: a chained hash table with incremental rehash (after Redis's
 * dict.c, reference core-sharing.md section 4), for the cache's items and,
 * next, the store's keyspace.
 *
 * Design:
 *
 *   - Two tables while resizing.  t[0] is the old one, t[1] the new one;
 *     rehashidx is the next bucket of t[0] to move.  Inserts go to t[1];
 *     finds and deletes look in both.  When t[0] is empty it is freed and
 *     t[1] becomes t[0].
 *   - Work per operation is bounded.  Every insert, find and delete first
 *     moves one non-empty bucket of t[0] (visiting at most 10 empty ones),
 *     so a table of any size is rehashed in steps of a few microseconds
 *     instead of one stop-the-world pass (2.6 s at 2^22 -> 2^23 buckets).
 *     Each insert moves at least one old bucket, and the next resize needs
 *     load_factor * old buckets more inserts, so a rehash always ends
 *     before the next one would start; if it has not (a long pause), the
 *     resize is simply deferred and chains grow a little meanwhile.
 *   - An optional timer (ob_hash_timer_set) rehashes an idle table: a
 *     slice of a millisecond every 100 ms, as Redis's serverCron.
 *   - Pausing (a counter) stops steps and resizes, so that an iterator that
 *     holds a chain position stays valid.  SCAN pauses around each call
 *     of its callback.
 *   - Memory: the bucket arrays are malloc'd, outside the arena budget, as
 *     memcached's primary hash table is; ob_hash_stats reports their bytes
 *     (both arrays while rehashing: 1.5x the new size for a doubling) so
 *     /stats shows them.  If an array cannot be allocated the resize is
 *     skipped (counted in grow_failures) and the table stays correct with
 *     longer chains.
 *   - Nothing is stored per entry but the link: rehashing recomputes each
 *     entry's hash through the type's hash_entry callback.
 *
 * SCAN's guarantee comes from the order of its cursor: it counts with the
 * bits reversed, so it finishes every bucket with a given low-bit suffix
 * before it moves to the next suffix.  A bucket b of a table of 2^n splits,
 * in a table of 2^(n+1), into the buckets ending in b, which the cursor
 * then visits in turn; and buckets merge into one that the cursor has not
 * yet passed or has fully passed.  So an entry present all along is seen.
 */
#include "ob_hash.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#define OB_HASH_EMPTY_VISITS   10     /* empty buckets per moved bucket */
#define OB_HASH_MS_STEP        100    /* buckets per step of rehash_ms */
#define OB_HASH_POWER_LIMIT    48


static unsigned
ob_hash_power_of(size_t size)
{
    unsigned p = 0;

    while (((size_t) 1 << p) < size) {
        p++;
    }
    return p;
}


/* Reverses the bits of v (the SCAN cursor counts in this order). */
static uint64_t
ob_hash_rev(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
    v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
    v = ((v >> 16) & 0x0000FFFF0000FFFFULL)
        | ((v & 0x0000FFFF0000FFFFULL) << 16);
    return (v >> 32) | (v << 32);
}


static void
ob_hash_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    ob_hash_t *h = arg;

    (void) fd;
    (void) what;
    ob_hash_rehash_ms(h, h->timer_ms);
    if (!ob_hash_is_rehashing(h)) {
        event_del(h->timer);
    }
}


static void
ob_hash_timer_arm(ob_hash_t *h)
{
    struct timeval tv;

    if (h->timer == NULL || event_pending(h->timer, EV_TIMEOUT, NULL)) {
        return;
    }
    tv.tv_sec = h->timer_period_ms / 1000;
    tv.tv_usec = (h->timer_period_ms % 1000) * 1000;
    /* A failure only means the idle table rehashes on use alone. */
    (void) event_add(h->timer, &tv);
}


int
ob_hash_init(ob_hash_t *h, const ob_hash_type_t *type, void *ctx,
             const ob_hash_conf_t *conf)
{
    memset(h, 0, sizeof(*h));
    h->type = type;
    h->ctx = ctx;
    h->power_min = conf->power_init ? conf->power_init : 2;
    h->power_max = conf->power_max ? conf->power_max : 40;
    h->load_factor = conf->load_factor > 0 ? conf->load_factor : 1.0;
    h->shrink_fill = conf->shrink_fill;

    if (h->power_max > OB_HASH_POWER_LIMIT || h->power_min > h->power_max
        || (h->shrink_fill > 0 && h->shrink_fill * 2 >= h->load_factor))
    {
        return OB_ERR;
    }

    h->size[0] = (size_t) 1 << h->power_min;
    h->t[0] = calloc(h->size[0], sizeof(ob_hash_link_t *));
    if (h->t[0] == NULL) {
        return OB_ERR;
    }
    return OB_OK;
}


void
ob_hash_fini(ob_hash_t *h)
{
    if (h->timer != NULL) {
        event_free(h->timer);
        h->timer = NULL;
    }
    free(h->t[0]);
    free(h->t[1]);
    h->t[0] = h->t[1] = NULL;
    h->size[0] = h->size[1] = 0;
    h->used[0] = h->used[1] = 0;
}


int
ob_hash_is_rehashing(const ob_hash_t *h)
{
    return h->t[1] != NULL;
}


size_t
ob_hash_count(const ob_hash_t *h)
{
    return h->used[0] + h->used[1];
}


/* Starts a rehash into a table of 2^power buckets. */
static void
ob_hash_resize(ob_hash_t *h, unsigned power)
{
    ob_hash_link_t **nt;

    nt = calloc((size_t) 1 << power, sizeof(ob_hash_link_t *));
    if (nt == NULL) {
        h->grow_failures++;
        return;
    }
    h->t[1] = nt;
    h->size[1] = (size_t) 1 << power;
    h->used[1] = 0;
    h->rehashidx = 0;
    h->expansions++;
    ob_hash_timer_arm(h);
}


/* Moves up to n non-empty buckets; returns how many buckets it moved. */
static size_t
ob_hash_step(ob_hash_t *h, size_t n)
{
    ob_hash_link_t  *e, *next;
    size_t           empty, moved, mask, b;

    if (h->t[1] == NULL || h->pause > 0) {
        return 0;
    }

    empty = n * OB_HASH_EMPTY_VISITS;
    moved = 0;
    mask = h->size[1] - 1;

    while (moved < n && h->used[0] > 0) {
        /* used[0] > 0: a non-empty bucket lies at or after rehashidx */
        while (h->t[0][h->rehashidx] == NULL) {
            h->rehashidx++;
            if (--empty == 0) {
                return moved;
            }
        }
        for (e = h->t[0][h->rehashidx]; e != NULL; e = next) {
            next = e->next;
            b = (size_t) h->type->hash_entry(e, h->ctx) & mask;
            e->next = h->t[1][b];
            h->t[1][b] = e;
            h->used[0]--;
            h->used[1]++;
        }
        h->t[0][h->rehashidx] = NULL;
        h->rehashidx++;
        moved++;
    }

    if (h->used[0] == 0) {
        free(h->t[0]);
        h->t[0] = h->t[1];
        h->size[0] = h->size[1];
        h->used[0] = h->used[1];
        h->t[1] = NULL;
        h->size[1] = 0;
        h->used[1] = 0;
        h->rehashidx = 0;
    }
    return moved;
}


int
ob_hash_rehash(ob_hash_t *h, size_t n)
{
    ob_hash_step(h, n);
    return ob_hash_is_rehashing(h);
}


static long long
ob_hash_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


size_t
ob_hash_rehash_ms(ob_hash_t *h, int ms)
{
    long long  start = ob_hash_now_us();
    size_t     moved = 0;

    while (ob_hash_is_rehashing(h) && h->pause == 0) {
        moved += ob_hash_step(h, OB_HASH_MS_STEP);
        if (ob_hash_now_us() - start >= (long long) ms * 1000) {
            break;
        }
    }
    return moved;
}


int
ob_hash_timer_set(ob_hash_t *h, struct event_base *base, long period_ms,
                  int slice_ms)
{
    if (h->timer != NULL) {
        event_free(h->timer);
    }
    h->timer = event_new(base, -1, EV_PERSIST, ob_hash_timer_cb, h);
    if (h->timer == NULL) {
        return OB_ERR;
    }
    h->timer_period_ms = period_ms > 0 ? period_ms : 100;
    h->timer_ms = slice_ms > 0 ? slice_ms : 1;
    if (ob_hash_is_rehashing(h)) {
        ob_hash_timer_arm(h);
    }
    return OB_OK;
}


/* Grows when over the load factor, unless a rehash runs or we are paused. */
static void
ob_hash_grow_if_needed(ob_hash_t *h)
{
    size_t    count;
    unsigned  p;

    if (h->t[1] != NULL || h->pause > 0) {
        return;
    }
    count = h->used[0] + 1;             /* with the entry being added */
    if ((double) count <= (double) h->size[0] * h->load_factor) {
        return;
    }
    p = ob_hash_power_of(h->size[0]) + 1;
    if (p > h->power_max) {
        return;
    }
    /* After a long pause the table may be more than twice too small. */
    while (p < h->power_max
           && (double) ((size_t) 1 << p) * h->load_factor < (double) count)
    {
        p++;
    }
    ob_hash_resize(h, p);
}


/* Shrinks when under shrink_fill, to a size that leaves room to grow. */
static void
ob_hash_shrink_if_needed(ob_hash_t *h)
{
    size_t    count;
    unsigned  p, cur;

    if (h->shrink_fill <= 0 || h->t[1] != NULL || h->pause > 0) {
        return;
    }
    count = h->used[0];
    if ((double) count >= (double) h->size[0] * h->shrink_fill) {
        return;
    }
    cur = ob_hash_power_of(h->size[0]);
    p = h->power_min;
    while ((double) ((size_t) 1 << p) * h->load_factor < (double) count * 2) {
        p++;
    }
    if (p < cur) {
        ob_hash_resize(h, p);
    }
}


void
ob_hash_insert(ob_hash_t *h, ob_hash_link_t *e)
{
    uint64_t  hv;
    size_t    b;
    int       i;

    ob_hash_step(h, 1);
    ob_hash_grow_if_needed(h);

    i = h->t[1] != NULL ? 1 : 0;
    hv = h->type->hash_entry(e, h->ctx);
    b = (size_t) hv & (h->size[i] - 1);
    e->next = h->t[i][b];
    h->t[i][b] = e;
    h->used[i]++;
}


ob_hash_link_t *
ob_hash_find(ob_hash_t *h, const void *key, size_t nkey)
{
    ob_hash_link_t  *e;
    uint64_t         hv;
    int              i;

    ob_hash_step(h, 1);

    hv = h->type->hash_key(key, nkey, h->ctx);
    for (i = 0; i < 2 && h->t[i] != NULL; i++) {
        for (e = h->t[i][hv & (h->size[i] - 1)]; e != NULL; e = e->next) {
            if (h->type->entry_is_key(e, key, nkey, h->ctx)) {
                return e;
            }
        }
    }
    return NULL;
}


/* The slot that points at e, and its table, or NULL. */
static ob_hash_link_t **
ob_hash_slot_of(ob_hash_t *h, const ob_hash_link_t *e, int *table /* OUT */)
{
    ob_hash_link_t **pp;
    uint64_t         hv;
    int              i;

    hv = h->type->hash_entry(e, h->ctx);
    for (i = 0; i < 2 && h->t[i] != NULL; i++) {
        for (pp = &h->t[i][hv & (h->size[i] - 1)]; *pp != NULL;
             pp = &(*pp)->next)
        {
            if (*pp == e) {
                *table = i;
                return pp;
            }
        }
    }
    return NULL;
}


int
ob_hash_delete(ob_hash_t *h, ob_hash_link_t *e)
{
    ob_hash_link_t **pp;
    int              i;

    ob_hash_step(h, 1);

    pp = ob_hash_slot_of(h, e, &i);
    if (pp == NULL) {
        return OB_DECLINED;
    }
    *pp = e->next;
    e->next = NULL;
    h->used[i]--;

    ob_hash_shrink_if_needed(h);
    return OB_OK;
}


int
ob_hash_replace(ob_hash_t *h, ob_hash_link_t *old, ob_hash_link_t *repl)
{
    ob_hash_link_t **pp;
    int              i;

    pp = ob_hash_slot_of(h, old, &i);
    if (pp == NULL) {
        return OB_DECLINED;
    }
    repl->next = old->next;
    *pp = repl;
    old->next = NULL;
    return OB_OK;
}


void
ob_hash_pause(ob_hash_t *h)
{
    h->pause++;
}


void
ob_hash_resume(ob_hash_t *h)
{
    if (h->pause > 0) {
        h->pause--;
    }
}


void
ob_hash_stats(const ob_hash_t *h, ob_hash_stats_t *st)
{
    int i = h->t[1] != NULL ? 1 : 0;

    st->count = ob_hash_count(h);
    st->buckets = h->size[i];
    st->power = ob_hash_power_of(h->size[i]);
    st->bytes = (h->size[0] + h->size[1]) * sizeof(ob_hash_link_t *);
    st->rehashing = i;
    st->expansions = h->expansions;
    st->grow_failures = h->grow_failures;
}


/* Gives every entry of one chain to fn; returns how many. */
static size_t
ob_hash_scan_bucket(ob_hash_link_t *e, ob_hash_scan_pt fn, void *arg)
{
    ob_hash_link_t *next;
    size_t          n = 0;

    for (; e != NULL; e = next) {
        next = e->next;            /* fn may unlink e */
        fn(e, arg);
        n++;
    }
    return n;
}


uint64_t
ob_hash_scan(ob_hash_t *h, uint64_t cursor, size_t count,
             size_t max_buckets, ob_hash_scan_pt fn, void *arg)
{
    ob_hash_link_t **small, **large;
    uint64_t         v = cursor, m0, m1;
    size_t           seen = 0, steps = 0;

    if (ob_hash_count(h) == 0) {
        return 0;
    }

    ob_hash_pause(h);

    do {
        if (h->t[1] == NULL) {
            m0 = h->size[0] - 1;
            seen += ob_hash_scan_bucket(h->t[0][v & m0], fn, arg);
            /* Set the bits above the mask so the reversed increment
             * carries into the masked ones. */
            v |= ~m0;
            v = ob_hash_rev(ob_hash_rev(v) + 1);

        } else {
            if (h->size[0] <= h->size[1]) {
                small = h->t[0];
                large = h->t[1];
                m0 = h->size[0] - 1;
                m1 = h->size[1] - 1;
            } else {
                small = h->t[1];
                large = h->t[0];
                m0 = h->size[1] - 1;
                m1 = h->size[0] - 1;
            }
            seen += ob_hash_scan_bucket(small[v & m0], fn, arg);
            /* Then every bucket of the larger table that ends in v & m0. */
            do {
                seen += ob_hash_scan_bucket(large[v & m1], fn, arg);
                v |= ~m1;
                v = ob_hash_rev(ob_hash_rev(v) + 1);
            } while (v & (m0 ^ m1));
        }
        steps++;
    } while (v != 0 && seen < count && steps < max_buckets);

    ob_hash_resume(h);
    return v;
}
