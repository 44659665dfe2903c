/*
 * cache_cmd_slabs.c: memcached's `slabs reassign <src> <dst>` and
 * `slabs automove 0|1|2` / `slabs automove ratio <f>`, with the replies
 * and the order of checks of memcached 1.6.18 (proto_text.c's
 * process_slabs_command and process_slabs_automove_command, slabs.c's
 * slabs_reassign):
 *
 *   reassign: numbers (CLIENT_ERROR bad command line format), a move
 *   already scheduled (BUSY), src == dst (SAME, before the range check),
 *   -1 for "any class with a spare page", the range 0..largest class
 *   (BADCLASS), a source with fewer than 2 pages (NOSPARE), else OK.
 *
 * As in memcached, OK means the move is scheduled: the cache's clock runs
 * it on its next tick (cache_slabs_tick), through the arena's page mover
 * (ob_arena_page_move), which moves or evicts the page's items.  Class
 * ids are memcached's, as `stats slabs` shows them (cache_class_id_show:
 * the arena's small classes below core.slab_min_chunk are not the
 * cache's).  Class 0 is the arena's pool of free pages, shared by every
 * module.
 */
#include "cache_int.h"

#include <stdlib.h>
#include <string.h>


/* The reply of memcached's slabs_reassign(src, dst), checks in its order.
 * src and dst are the ids clients see (cache_class_id_show). */
static const char *
cache_slabs_reassign(cache_t *c, int32_t src, int32_t dst)
{
    ob_arena_stats_t  ast;
    uint32_t          n;
    int               any;
    size_t            spare;

    if (c->mover.pending) {
        return "BUSY currently processing reassign request";
    }

    if (src == dst) {
        return "SAME src and dst class are identical";
    }

    ob_arena_stats(c->arena, &ast);
    n = ast.nclasses > c->class_base ? ast.nclasses - c->class_base : 0;

    if (src == -1 && dst >= 0 && (uint32_t) dst <= n) {
        /* memcached's slabs_reassign_pick_any */
        any = cache_slabs_pick_any(c,
                  (int) cache_class_id_arena(c, (unsigned) dst));
        if (any > 0) {
            src = (int32_t) cache_class_id_show(c, (unsigned) any);
        }
    }

    if (src < 0 || (uint32_t) src > n || dst < 0 || (uint32_t) dst > n) {
        return "BADCLASS invalid src or dst class id";
    }

    spare = src == 0
            ? ast.pool_pages
            : cache_slabs_pages(c, cache_class_id_arena(c, (unsigned) src));
    if (spare < 2) {
        return "NOSPARE source class has no spare pages";
    }

    c->mover.pending = 1;
    c->mover.src = (int) cache_class_id_arena(c, (unsigned) src);
    c->mover.dst = (int) cache_class_id_arena(c, (unsigned) dst);

    return "OK";
}


/* `slabs automove ...`: memcached's reply for each form. */
static const char *
cache_slabs_automove(cache_t *c, ob_str_t *tokens, size_t ntokens)
{
    char       buf[64], *end;
    double     ratio;
    uint32_t   level;

    if (cache_token_is(&tokens[2], "ratio")) {
        if (ntokens < 4 || tokens[3].len == 0 || tokens[3].len >= sizeof(buf)) {
            return "ERROR";
        }
        memcpy(buf, tokens[3].data, tokens[3].len);
        buf[tokens[3].len] = '\0';
        ratio = strtod(buf, &end);
        if (end == buf || *end != '\0') {
            return "ERROR";
        }
        c->mover.ratio = ratio;
        return "OK";
    }

    if (cache_proto_u32(&tokens[2], &level) != OB_OK) {
        return "CLIENT_ERROR bad command line format";
    }

    if (level > 2) {
        return "ERROR";
    }

    c->mover.automove = (int) level;
    if (level != 1) {
        /* a later automove 1 starts a fresh window */
        c->mover.samples = 0;
        memset(c->mover.evicted, 0, sizeof(c->mover.evicted));
        memset(c->mover.dirty, 0, sizeof(c->mover.dirty));
    }

    return "OK";
}


int
cache_cmd_slabs(cache_conn_t *cc, ob_str_t *tokens, size_t ntokens)
{
    int32_t  src, dst;

    /* memcached counts a terminal token: its ntokens == 5 is our 4 */
    if (ntokens == 4 && cache_token_is(&tokens[1], "reassign")) {
        if (cache_proto_i32(&tokens[2], &src) != OB_OK
            || cache_proto_i32(&tokens[3], &dst) != OB_OK)
        {
            return cache_reply(cc, "CLIENT_ERROR bad command line format", 0);
        }
        return cache_reply(cc, cache_slabs_reassign(cc->cache, src, dst), 0);
    }

    if (ntokens >= 3 && cache_token_is(&tokens[1], "automove")) {
        return cache_reply(cc, cache_slabs_automove(cc->cache, tokens, ntokens),
                           0);
    }

    return cache_reply(cc, "ERROR", 0);
}
