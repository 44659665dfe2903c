/*
 * store_stream_group.c: consumer groups of a stream (see store_stream.h):
 * the groups and each group's consumers in arrays sorted by name (Redis
 * keeps them in a rax, so XINFO lists them in byte order), and the PELs.
 *
 * PELs.  An ordered map of IDs (store_smap_t): a skiplist, each node one
 * arena chunk sized by its level, with p = 1/4 and a per-map xorshift
 * state, so that XPENDING, XAUTOCLAIM and XREADGROUP's history seek in
 * O(log n).  A pending entry's NACK is in its group's map (which owns it)
 * and in its consumer's map.
 */
#include "store_stream.h"

#include <string.h>

#include "store_int.h"

#define SMAP_MAXLEVEL  24

typedef struct smap_node_s  smap_node_t;

struct smap_node_s {
    store_sid_t   id;
    void         *val;
    unsigned      level;
    smap_node_t  *next[];
};

struct store_smap_s {
    size_t        count;
    unsigned      level;
    uint64_t      rnd;
    smap_node_t   head;       /* followed by its SMAP_MAXLEVEL pointers */
};

#define SMAP_SIZE  (sizeof(store_smap_t) + SMAP_MAXLEVEL * sizeof(void *))


/* ---- ordered maps of IDs ------------------------------------------------ */

static store_smap_t *
smap_new(store_stream_t *s)
{
    store_smap_t  *m = ob_arena_alloc(s->a, s->owner, SMAP_SIZE);

    if (m == NULL) {
        return NULL;
    }
    memset(m, 0, SMAP_SIZE);
    m->level = 1;
    m->rnd = 0x9e3779b97f4a7c15ULL ^ (uintptr_t) m;
    m->head.level = SMAP_MAXLEVEL;
    return m;
}


static size_t
smap_node_size(unsigned level)
{
    return sizeof(smap_node_t) + level * sizeof(smap_node_t *);
}


static void
smap_free(store_stream_t *s, store_smap_t *m, int free_vals)
{
    smap_node_t  *x, *next;

    if (m == NULL) {
        return;
    }
    for (x = m->head.next[0]; x != NULL; x = next) {
        next = x->next[0];
        if (free_vals) {
            ob_arena_free(s->a, s->owner, x->val, sizeof(store_snack_t));
        }
        ob_arena_free(s->a, s->owner, x, smap_node_size(x->level));
    }
    ob_arena_free(s->a, s->owner, m, SMAP_SIZE);
}


static unsigned
smap_random_level(store_smap_t *m)
{
    unsigned  level = 1;
    uint64_t  x = m->rnd;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    m->rnd = x;
    while (level < SMAP_MAXLEVEL && (x & 3) == 0) {
        level++;
        x >>= 2;
    }
    return level;
}


/* update[i]: the last node at level i whose id < id. */
static smap_node_t *
smap_search(const store_smap_t *m, const store_sid_t *id,
            smap_node_t **update)
{
    smap_node_t  *x = (smap_node_t *) &m->head;
    int           i;

    for (i = (int) m->level - 1; i >= 0; i--) {
        while (x->next[i] != NULL && store_sid_cmp(&x->next[i]->id, id) < 0) {
            x = x->next[i];
        }
        if (update != NULL) {
            update[i] = x;
        }
    }
    return x->next[0];
}


static void *
smap_find(const store_smap_t *m, const store_sid_t *id)
{
    smap_node_t  *x = smap_search(m, id, NULL);

    if (x != NULL && store_sid_cmp(&x->id, id) == 0) {
        return x->val;
    }
    return NULL;
}


static int
smap_insert(store_stream_t *s, store_smap_t *m, const store_sid_t *id,
            void *val)
{
    smap_node_t  *update[SMAP_MAXLEVEL], *x;
    unsigned      level, i;

    (void) smap_search(m, id, update);
    level = smap_random_level(m);
    x = ob_arena_alloc(s->a, s->owner, smap_node_size(level));
    if (x == NULL) {
        return OB_ERR;
    }
    if (level > m->level) {
        for (i = m->level; i < level; i++) {
            update[i] = &m->head;
        }
        m->level = level;
    }
    x->id = *id;
    x->val = val;
    x->level = level;
    for (i = 0; i < level; i++) {
        x->next[i] = update[i]->next[i];
        update[i]->next[i] = x;
    }
    m->count++;
    return OB_OK;
}


static void *
smap_delete(store_stream_t *s, store_smap_t *m, const store_sid_t *id)
{
    smap_node_t  *update[SMAP_MAXLEVEL], *x;
    void         *val;
    unsigned      i;

    x = smap_search(m, id, update);
    if (x == NULL || store_sid_cmp(&x->id, id) != 0) {
        return NULL;
    }
    for (i = 0; i < m->level; i++) {
        if (update[i]->next[i] != x) {
            break;
        }
        update[i]->next[i] = x->next[i];
    }
    while (m->level > 1 && m->head.next[m->level - 1] == NULL) {
        m->level--;
    }
    val = x->val;
    ob_arena_free(s->a, s->owner, x, smap_node_size(x->level));
    m->count--;
    return val;
}


void
store_smap_seek(const store_smap_t *m, const store_sid_t *start,
                store_smap_iter_t *it)
{
    it->m = m;
    it->node = smap_search(m, start, NULL);
}


int
store_smap_next(store_smap_iter_t *it, store_sid_t *id, void **val)
{
    smap_node_t  *x = it->node;

    if (x == NULL) {
        return 0;
    }
    *id = x->id;
    *val = x->val;
    it->node = x->next[0];
    return 1;
}


size_t
store_smap_count(const store_smap_t *m)
{
    return m->count;
}


int
store_smap_last(const store_smap_t *m, store_sid_t *id)
{
    const smap_node_t  *x = &m->head;
    int                 i;

    if (m->count == 0) {
        return 0;
    }
    for (i = (int) m->level - 1; i >= 0; i--) {
        while (x->next[i] != NULL) {
            x = x->next[i];
        }
    }
    *id = x->id;
    return 1;
}


/* ---- freeing ------------------------------------------------------------ */

static void
consumer_free(store_stream_t *s, store_sconsumer_t *c)
{
    smap_free(s, c->pel, 0);
    if (c->nname > 0) {
        ob_arena_free(s->a, s->owner, c->name, c->nname);
    }
    ob_arena_free(s->a, s->owner, c, sizeof(*c));
}


void
store_sgroup_free(store_stream_t *s, store_sgroup_t *g)
{
    size_t  i;

    for (i = 0; i < g->nconsumers; i++) {
        consumer_free(s, g->consumers[i]);
    }
    if (g->ccap > 0) {
        ob_arena_free(s->a, s->owner, g->consumers,
                      g->ccap * sizeof(g->consumers[0]));
    }
    smap_free(s, g->pel, 1);
    if (g->nname > 0) {
        ob_arena_free(s->a, s->owner, g->name, g->nname);
    }
    ob_arena_free(s->a, s->owner, g, sizeof(*g));
}


/* ---- consumer groups ---------------------------------------------------- */

static int
name_cmp(const char *a, size_t na, const char *b, size_t nb)
{
    size_t  n = na < nb ? na : nb;
    int     rc = n > 0 ? memcmp(a, b, n) : 0;

    if (rc != 0) {
        return rc;
    }
    return na < nb ? -1 : (na > nb ? 1 : 0);
}


/* Groups and consumers both begin with their name, so that one
 * bisection serves their sorted arrays (Redis keeps both in a rax, which
 * lists them in byte order: XINFO GROUPS and CONSUMERS show that order). */
typedef struct named_s {
    char    *name;
    size_t   nname;
} named_t;


static size_t
named_bsearch(void *const *arr, size_t count, const void *name, size_t len,
              int *found /* OUT */)
{
    size_t  lo = 0, hi = count;

    *found = 0;
    while (lo < hi) {
        size_t          mid = lo + (hi - lo) / 2;
        const named_t  *x = arr[mid];
        int             c = name_cmp(x->name, x->nname, name, len);

        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}


static int
copy_name(store_stream_t *s, const void *name, size_t len, char **out)
{
    *out = NULL;
    if (len == 0) {
        return OB_OK;
    }
    *out = ob_arena_alloc(s->a, s->owner, len);
    if (*out == NULL) {
        return OB_ERR;
    }
    memcpy(*out, name, len);
    return OB_OK;
}


/* Room for one more pointer in a growable array. */
static int
ptrs_reserve(store_stream_t *s, void ***arr, size_t n, size_t *cap)
{
    size_t   ncap;
    void   **p;

    if (n < *cap) {
        return OB_OK;
    }
    ncap = *cap == 0 ? 4 : *cap * 2;
    if (*cap == 0) {
        p = ob_arena_alloc(s->a, s->owner, ncap * sizeof(void *));
    } else {
        p = ob_arena_realloc(s->a, s->owner, *arr, *cap * sizeof(void *),
                             ncap * sizeof(void *));
    }
    if (p == NULL) {
        return OB_ERR;
    }
    *arr = p;
    *cap = ncap;
    return OB_OK;
}


store_sgroup_t *
store_stream_group_find(const store_stream_t *s, const void *name, size_t len)
{
    int     found;
    size_t  i = named_bsearch((void *const *) s->groups, s->ngroups, name,
                              len, &found);

    return found ? s->groups[i] : NULL;
}


store_sgroup_t *
store_stream_group_create(store_stream_t *s, const void *name, size_t len,
                          const store_sid_t *id, long long entries_read)
{
    store_sgroup_t  *g;
    int              found;
    size_t           i = named_bsearch((void *const *) s->groups,
                                       s->ngroups, name, len, &found);

    if (found) {
        return NULL;
    }
    if (ptrs_reserve(s, (void ***) &s->groups, s->ngroups, &s->gcap)
        != OB_OK)
    {
        return NULL;
    }
    g = ob_arena_alloc(s->a, s->owner, sizeof(*g));
    if (g == NULL) {
        return NULL;
    }
    memset(g, 0, sizeof(*g));
    g->pel = smap_new(s);
    if (g->pel == NULL || copy_name(s, name, len, &g->name) != OB_OK) {
        if (g->pel != NULL) {
            smap_free(s, g->pel, 1);
        }
        ob_arena_free(s->a, s->owner, g, sizeof(*g));
        return NULL;
    }
    g->nname = len;
    g->last_id = *id;
    g->entries_read = entries_read;
    memmove(&s->groups[i + 1], &s->groups[i],
            (s->ngroups - i) * sizeof(s->groups[0]));
    s->groups[i] = g;
    s->ngroups++;
    return g;
}


void
store_stream_group_destroy(store_stream_t *s, store_sgroup_t *g)
{
    size_t  i;

    for (i = 0; i < s->ngroups; i++) {
        if (s->groups[i] == g) {
            memmove(&s->groups[i], &s->groups[i + 1],
                    (s->ngroups - i - 1) * sizeof(s->groups[0]));
            s->ngroups--;
            break;
        }
    }
    store_sgroup_free(s, g);
}


store_sconsumer_t *
store_sgroup_consumer_find(const store_sgroup_t *g, const void *name,
                           size_t len)
{
    int     found;
    size_t  i = named_bsearch((void *const *) g->consumers, g->nconsumers,
                              name, len, &found);

    return found ? g->consumers[i] : NULL;
}


store_sconsumer_t *
store_sgroup_consumer_create(store_stream_t *s, store_sgroup_t *g,
                             const void *name, size_t len, int64_t now_ms)
{
    store_sconsumer_t  *c;
    int                 found;
    size_t              i = named_bsearch((void *const *) g->consumers,
                                          g->nconsumers, name, len, &found);

    if (found) {
        return NULL;
    }
    if (ptrs_reserve(s, (void ***) &g->consumers, g->nconsumers, &g->ccap)
        != OB_OK)
    {
        return NULL;
    }
    c = ob_arena_alloc(s->a, s->owner, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    memset(c, 0, sizeof(*c));
    c->pel = smap_new(s);
    if (c->pel == NULL || copy_name(s, name, len, &c->name) != OB_OK) {
        if (c->pel != NULL) {
            smap_free(s, c->pel, 0);
        }
        ob_arena_free(s->a, s->owner, c, sizeof(*c));
        return NULL;
    }
    c->nname = len;
    c->seen_time = now_ms;
    memmove(&g->consumers[i + 1], &g->consumers[i],
            (g->nconsumers - i) * sizeof(g->consumers[0]));
    g->consumers[i] = c;
    g->nconsumers++;
    return c;
}


size_t
store_sgroup_consumer_delete(store_stream_t *s, store_sgroup_t *g,
                             store_sconsumer_t *c)
{
    store_smap_iter_t  it;
    store_sid_t        id, zero = { 0, 0 };
    void              *val;
    size_t             n = c->pel->count, i;

    store_smap_seek(c->pel, &zero, &it);
    while (store_smap_next(&it, &id, &val)) {
        val = smap_delete(s, g->pel, &id);
        if (val != NULL) {
            ob_arena_free(s->a, s->owner, val, sizeof(store_snack_t));
        }
    }
    for (i = 0; i < g->nconsumers; i++) {
        if (g->consumers[i] == c) {
            memmove(&g->consumers[i], &g->consumers[i + 1],
                    (g->nconsumers - i - 1) * sizeof(g->consumers[0]));
            g->nconsumers--;
            break;
        }
    }
    consumer_free(s, c);
    return n;
}


store_snack_t *
store_sgroup_pel_add(store_stream_t *s, store_sgroup_t *g,
                     store_sconsumer_t *c, const store_sid_t *id,
                     int64_t now_ms)
{
    store_snack_t  *n = ob_arena_alloc(s->a, s->owner, sizeof(*n));

    if (n == NULL) {
        return NULL;
    }
    n->delivery_time = now_ms;
    n->delivery_count = 1;
    n->consumer = c;
    if (smap_insert(s, g->pel, id, n) != OB_OK) {
        ob_arena_free(s->a, s->owner, n, sizeof(*n));
        return NULL;
    }
    if (smap_insert(s, c->pel, id, n) != OB_OK) {
        (void) smap_delete(s, g->pel, id);
        ob_arena_free(s->a, s->owner, n, sizeof(*n));
        return NULL;
    }
    return n;
}


store_snack_t *
store_sgroup_pel_find(const store_sgroup_t *g, const store_sid_t *id)
{
    return smap_find(g->pel, id);
}


int
store_sgroup_pel_move(store_stream_t *s, store_sgroup_t *g,
                      const store_sid_t *id, store_snack_t *n,
                      store_sconsumer_t *c)
{
    (void) g;
    if (n->consumer == c) {
        return OB_OK;
    }
    if (smap_insert(s, c->pel, id, n) != OB_OK) {
        return OB_ERR;
    }
    (void) smap_delete(s, n->consumer->pel, id);
    n->consumer = c;
    return OB_OK;
}


int
store_sgroup_pel_ack(store_stream_t *s, store_sgroup_t *g,
                     const store_sid_t *id)
{
    store_snack_t  *n = smap_delete(s, g->pel, id);

    if (n == NULL) {
        return 0;
    }
    (void) smap_delete(s, n->consumer->pel, id);
    ob_arena_free(s->a, s->owner, n, sizeof(*n));
    return 1;
}


size_t
store_sgroup_pel_count(const store_sgroup_t *g)
{
    return g->pel->count;
}


size_t
store_sconsumer_pel_count(const store_sconsumer_t *c)
{
    return c->pel->count;
}


/* ---- accounting --------------------------------------------------------- */

static size_t
smap_mem(const store_stream_t *s, const store_smap_t *m, int vals)
{
    const smap_node_t  *x;
    size_t              sum = ob_arena_chunk_size(s->a, SMAP_SIZE);

    for (x = m->head.next[0]; x != NULL; x = x->next[0]) {
        sum += ob_arena_chunk_size(s->a, smap_node_size(x->level));
        if (vals) {
            sum += ob_arena_chunk_size(s->a, sizeof(store_snack_t));
        }
    }
    return sum;
}


size_t
store_sgroup_bytes(const store_stream_t *s, const store_sgroup_t *g)
{
    size_t  sum, j;

    sum = ob_arena_chunk_size(s->a, sizeof(*g)) + smap_mem(s, g->pel, 1);
    if (g->nname > 0) {
        sum += ob_arena_chunk_size(s->a, g->nname);
    }
    if (g->ccap > 0) {
        sum += ob_arena_chunk_size(s->a, g->ccap * sizeof(void *));
    }
    for (j = 0; j < g->nconsumers; j++) {
        const store_sconsumer_t  *c = g->consumers[j];

        sum += ob_arena_chunk_size(s->a, sizeof(*c)) + smap_mem(s, c->pel, 0);
        if (c->nname > 0) {
            sum += ob_arena_chunk_size(s->a, c->nname);
        }
    }
    return sum;
}
