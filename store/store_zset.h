/*
 * store_zset.h: the sorted set value, in Redis 7.0's two encodings:
 *
 *   "listpack"  member, score, member, score ... sorted by score then by
 *               member bytes, while the set holds at most
 *               STORE_ZSET_LP_ENTRIES members of at most STORE_ZSET_LP_VALUE
 *               bytes each (zset-max-listpack-entries / -value);
 *   "skiplist"  a skiplist with spans (ranks in O(log n)) whose nodes also
 *               sit in an ob_hash keyed by member (ZSCORE in O(1)).  One
 *               arena allocation per member: the node is both.
 *
 * o->v.ptr is the listpack (uint8_t *) or the store_zsl_t.  A set turns
 * into a skiplist when it outgrows the limits and never back, except for
 * the results the store commands build (store_zset_shrink), as Redis.
 *
 * The functions below take the object and hide the encoding, so that the
 * command files never look inside:
 *
 *   store_obj_t *o = store_zset_new(a, owner, 1, 3);
 *   store_zset_add(a, owner, o, 1.5, "one", 3, 0, &out, &score);
 *   store_zset_it_rank(&it, o, 0, 0);
 *   while (store_zset_it_valid(&it)) { it.ele, it.len, it.score; next }
 */
#ifndef STORE_ZSET_H
#define STORE_ZSET_H

#include <stddef.h>
#include <stdint.h>
#include "ob_core.h"
#include "ob_arena.h"
#include "ob_hash.h"
#include "store_object.h"
#include "store_listpack.h"
#include "store_reply.h"

#define STORE_ZSET_LP_ENTRIES  128     /* zset-max-listpack-entries */
#define STORE_ZSET_LP_VALUE    64      /* zset-max-listpack-value */
#define STORE_ZSL_MAXLEVEL     32      /* Redis's ZSKIPLIST_MAXLEVEL */

typedef struct store_zsl_node_s store_zsl_node_t;

struct store_zsl_node_s {
    ob_hash_link_t     hlink;       /* in the member hash */
    double             score;
    store_zsl_node_t  *backward;    /* level 0's previous (NULL: first) */
    uint32_t           len;         /* member bytes, after lv[level] */
    uint32_t           level;       /* 1..STORE_ZSL_MAXLEVEL */
    struct {
        store_zsl_node_t *forward;
        size_t            span;     /* nodes skipped by forward */
    } lv[];
};

/* The member's bytes of a node. */
#define STORE_ZSL_ELE(n)  ((uint8_t *) &(n)->lv[(n)->level])

typedef struct store_zsl_s {
    ob_hash_t          h;           /* member -> node */
    store_zsl_node_t  *header;      /* STORE_ZSL_MAXLEVEL levels, no member */
    store_zsl_node_t  *tail;
    size_t             length;
    int                level;       /* highest level in use */
    size_t             bytes;       /* arena bytes of this struct and nodes */
} store_zsl_t;

/* A score range: ZRANGEBYSCORE's min and max, "(" making them exclusive. */
typedef struct store_zrange_s {
    double  min, max;
    int     minex, maxex;
} store_zrange_t;

/* A lex range: "[a", "(a", "-" (inf = -1) and "+" (inf = 1). */
typedef struct store_zlex_s {
    const uint8_t *min, *max;       /* borrowed from the arguments */
    size_t         minlen, maxlen;
    int            mininf, maxinf;  /* -1 "-", 1 "+", 0 a string */
    int            minex, maxex;
} store_zlex_t;

/* store_zset_add's in_flags (Redis's ZADD_IN_*) and out_flags. */
#define STORE_ZADD_INCR     0x01
#define STORE_ZADD_NX       0x02
#define STORE_ZADD_XX       0x04
#define STORE_ZADD_GT       0x08
#define STORE_ZADD_LT       0x10

#define STORE_ZADD_NAN      0x01    /* the result was NaN: nothing done */
#define STORE_ZADD_ADDED    0x02
#define STORE_ZADD_UPDATED  0x04
#define STORE_ZADD_NOP      0x08

/*
 * A new, empty sorted set object: a listpack when `size_hint` members of
 * up to `maxlen` bytes fit Redis's limits, else a skiplist.  NULL on OOM.
 * new: store_obj_free after store_zset_free.
 */
store_obj_t *store_zset_new(ob_arena_t *a, int owner, size_t size_hint,
                            size_t maxlen);

size_t store_zset_len(const store_obj_t *o);

/* 1 and *score when ele is a member, else 0. */
int store_zset_score(const store_obj_t *o, const void *ele, size_t len,
                     double *score /* OUT */);

/*
 * Redis's zsetAdd: adds ele with `score`, or updates it (in_flags
 * STORE_ZADD_*: INCR adds score to the current one).  *out_flags tells
 * what happened; *newscore (may be NULL) the member's score after it.
 * OB_OK, or OB_ERR when the arena refused (the set is unchanged) or the
 * result is NaN (*out_flags has STORE_ZADD_NAN).
 */
int store_zset_add(ob_arena_t *a, int owner, store_obj_t *o, double score,
                   const void *ele, size_t len, int in_flags,
                   int *out_flags /* OUT */, double *newscore /* OUT */);

/* Removes ele: 1 removed, 0 not a member, OB_ERR when the arena refused
 * the smaller listpack (unchanged). */
int store_zset_del(ob_arena_t *a, int owner, store_obj_t *o, const void *ele,
                   size_t len);

/* The 0-based rank of ele (from the highest score when rev), -1 when not
 * a member; *score (may be NULL) its score. */
long long store_zset_rank(const store_obj_t *o, const void *ele, size_t len,
                          int rev, double *score /* OUT */);

/* Removals by range; ranks are 0-based, inclusive, already clamped
 * (start <= end < len).  Return how many members went, or -1 when the
 * arena refused the smaller listpack (nothing removed). */
long long store_zset_del_rank(ob_arena_t *a, int owner, store_obj_t *o,
                              size_t start, size_t end);
long long store_zset_del_score(ob_arena_t *a, int owner, store_obj_t *o,
                               const store_zrange_t *r);
long long store_zset_del_lex(ob_arena_t *a, int owner, store_obj_t *o,
                             const store_zlex_t *r);

/* Counts in a range (ZCOUNT, ZLEXCOUNT): O(log n) for a skiplist. */
size_t store_zset_count_score(const store_obj_t *o, const store_zrange_t *r);
size_t store_zset_count_lex(const store_obj_t *o, const store_zlex_t *r);

/* Range tests. */
int store_zset_score_gte_min(double v, const store_zrange_t *r);
int store_zset_score_lte_max(double v, const store_zrange_t *r);
int store_zset_lex_gte_min(const void *s, size_t len, const store_zlex_t *r);
int store_zset_lex_lte_max(const void *s, size_t len, const store_zlex_t *r);
/* 1 when no member can be in the range (min > max, or equal and one
 * side exclusive). */
int store_zset_range_empty(const store_zrange_t *r);
int store_zset_lex_empty(const store_zlex_t *r);

/*
 * Walking in order (rev: from the highest).  Each positioning function
 * puts the iterator on the first member of its kind, in the direction;
 * store_zset_it_valid says whether there is one, and fills ele, len and
 * score (ele borrowed from the set, or it's buf for an integer member:
 * valid until the set changes or the iterator moves).
 */
typedef struct store_zset_it_s {
    const store_obj_t *o;
    int                rev;
    store_lp_pos_t     pos;       /* listpack: the member's entry, 0 none */
    store_zsl_node_t  *node;      /* skiplist: NULL none */
    const uint8_t     *ele;
    size_t             len;
    double             score;
    char               buf[STORE_LP_INTBUF];
} store_zset_it_t;

/* At rank `rank` counted in the direction (0: the first). */
void store_zset_it_rank(store_zset_it_t *it, const store_obj_t *o,
                        size_t rank, int rev);
/* At the first member >= r's min (rev: the last <= r's max). */
void store_zset_it_score(store_zset_it_t *it, const store_obj_t *o,
                         const store_zrange_t *r, int rev);
void store_zset_it_lex(store_zset_it_t *it, const store_obj_t *o,
                       const store_zlex_t *r, int rev);
int  store_zset_it_valid(store_zset_it_t *it);
void store_zset_it_next(store_zset_it_t *it);

/* Turns a skiplist set that fits the listpack limits back into a listpack
 * (the sets ZUNIONSTORE, ZRANGESTORE ... build, as Redis's
 * zsetConvertToListpackIfNeeded).  Keeps the skiplist on OOM. */
void store_zset_shrink(ob_arena_t *a, int owner, store_obj_t *o);

/* Turns a listpack set into a skiplist.  OB_ERR on OOM (unchanged). */
int store_zset_to_skiplist(ob_arena_t *a, int owner, store_obj_t *o);

/* Formats a score as the listpack stores it (Redis's d2string: an
 * integer when it is one, else %.17g).  Returns the length. */
size_t store_zset_d2s(double d, char *buf /* [STORE_REPLY_DOUBLE_MAX] */);


/* ---- shared by the command files (store_cmd_zset.c, store_cmd_zsetop.c) -- */

struct store_client_s;

/* A member list's array header and one member: RESP2 flat m, s pairs,
 * RESP3 [m, s] arrays when withscores. */
void store_zset_reply_begin(struct store_client_s *c, size_t n,
                            int withscores);
void store_zset_reply_elem(store_reply_t *r, const void *ele, size_t len,
                           double score, int withscores);

/* ZRANGEBYSCORE's and ZRANGEBYLEX's bounds (Redis's zslParseRange and
 * zslParseLexRange).  OB_ERR: not valid (the caller replies). */
int store_zset_parse_range(const ob_str_t *min, const ob_str_t *max,
                           store_zrange_t *r /* OUT */);
int store_zset_parse_lex(const ob_str_t *min, const ob_str_t *max,
                         store_zlex_t *r /* OUT */);

/* The whole-set commands' handlers (store_cmd_zsetop.c). */
void store_cmd_zunionstore(struct store_client_s *c);
void store_cmd_zinterstore(struct store_client_s *c);
void store_cmd_zdiffstore(struct store_client_s *c);
void store_cmd_zunion(struct store_client_s *c);
void store_cmd_zinter(struct store_client_s *c);
void store_cmd_zdiff(struct store_client_s *c);
void store_cmd_zintercard(struct store_client_s *c);
void store_cmd_zrandmember(struct store_client_s *c);
void store_cmd_zscan(struct store_client_s *c);

#endif /* STORE_ZSET_H */
