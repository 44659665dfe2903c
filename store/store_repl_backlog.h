/*
 * store_repl_backlog.h: the replication backlog, a ring of the last
 * `size` bytes of the replication stream, addressed by stream offset
 * (Redis's repl_backlog).  A replica that reconnects with PSYNC <id> <n>
 * is served from here when byte n is still in the ring.
 *
 * Offsets are Redis's: the stream's first byte is offset 1 after an
 * offset of 0, so a backlog created when master_repl_offset is M starts
 * at M + 1 and, after `histlen` bytes, covers [start, start + histlen).
 * Pure memory: no store_t, so the unit tests drive it alone.
 */
#ifndef STORE_REPL_BACKLOG_H
#define STORE_REPL_BACKLOG_H

#include <stddef.h>

typedef struct store_backlog_s {
    char       *buf;          /* size bytes, malloc'd */
    size_t      size;
    size_t      idx;          /* where the next byte goes */
    size_t      histlen;      /* valid bytes, at most size */
    long long   start;        /* stream offset of the oldest valid byte */
} store_backlog_t;

/* A ring of `size` bytes whose next byte is stream offset `next`
 * (master_repl_offset + 1).  new: store_backlog_free.  NULL on malloc
 * failure. */
store_backlog_t *store_backlog_new(size_t size, long long next);
void             store_backlog_free(store_backlog_t *b);

/* Appends len bytes; the oldest fall out once the ring is full. */
void store_backlog_feed(store_backlog_t *b, const void *p, size_t len);

/* 1 when the bytes from offset `from` to the end are all in the ring
 * (from == the end is valid: nothing to send). */
int  store_backlog_has(const store_backlog_t *b, long long from);

typedef int (*store_backlog_out_pt)(void *arg, const void *p, size_t len);

/* Hands out the bytes from offset `from` to the end, in at most two
 * pieces (the ring wraps); returns how many, or -1 when out() failed or
 * `from` is not in the ring. */
long long store_backlog_copy(const store_backlog_t *b, long long from,
                             store_backlog_out_pt out, void *arg);

#endif /* STORE_REPL_BACKLOG_H */
