/*
 * store_repl_backlog.c: the replication backlog's ring buffer (see the
 * header).  Redis 7.0 keeps its backlog as a list of shared reply blocks
 * that replicas reference; a plain ring of repl-backlog-size bytes is
 * enough here because every replica has its own output buffer, and it
 * makes the memory a fixed, documented amount (malloc'd, not the
 * arena's: it is a persistence buffer, bounded by the configuration).
 */
#include "store_repl_backlog.h"

#include <stdlib.h>
#include <string.h>


store_backlog_t *
store_backlog_new(size_t size, long long next)
{
    store_backlog_t *b;

    if (size == 0) {
        size = 1;
    }
    b = calloc(1, sizeof(*b));
    if (b == NULL) {
        return NULL;
    }
    b->buf = malloc(size);
    if (b->buf == NULL) {
        free(b);
        return NULL;
    }
    b->size = size;
    b->start = next;
    return b;
}


void
store_backlog_free(store_backlog_t *b)
{
    if (b == NULL) {
        return;
    }
    free(b->buf);
    free(b);
}


void
store_backlog_feed(store_backlog_t *b, const void *p, size_t len)
{
    const char  *s = p;
    size_t       n, grown;

    /* Only the last `size` bytes of a long append can survive. */
    if (len > b->size) {
        b->start += (long long) (b->histlen + len - b->size);
        s += len - b->size;
        memcpy(b->buf, s, b->size);
        b->idx = 0;
        b->histlen = b->size;
        return;
    }
    grown = b->histlen + len;
    while (len > 0) {
        n = b->size - b->idx;
        if (n > len) {
            n = len;
        }
        memcpy(b->buf + b->idx, s, n);
        b->idx = (b->idx + n) % b->size;
        s += n;
        len -= n;
    }
    if (grown > b->size) {
        b->start += (long long) (grown - b->size);
        grown = b->size;
    }
    b->histlen = grown;
}


int
store_backlog_has(const store_backlog_t *b, long long from)
{
    return b != NULL && from >= b->start
           && from <= b->start + (long long) b->histlen;
}


long long
store_backlog_copy(const store_backlog_t *b, long long from,
                   store_backlog_out_pt out, void *arg)
{
    size_t  skip, len, pos, n;

    if (!store_backlog_has(b, from)) {
        return -1;
    }
    skip = (size_t) (from - b->start);
    len = b->histlen - skip;
    /* The oldest byte sits histlen bytes behind idx, around the ring. */
    pos = (b->idx + b->size - b->histlen + skip) % b->size;
    n = b->size - pos;
    if (n > len) {
        n = len;
    }
    if (n > 0 && out(arg, b->buf + pos, n) != 0) {
        return -1;
    }
    if (len > n && out(arg, b->buf, len - n) != 0) {
        return -1;
    }
    return (long long) len;
}
