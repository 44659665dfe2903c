/*
 * ob_wakeup.h: hands work done on a helper thread (fsync, a snapshot, a
 * SQLite query) back to the reactor thread, through an eventfd (as
 * memcached's thread notify pipe).
 *
 * The helper posts a completion; the reactor runs its callback on the
 * loop's thread, in posting order, on its next iteration.  The completion
 * is intrusive: the caller embeds an ob_wakeup_item_t in its own job
 * struct, so posting never allocates and never fails.
 *
 *   typedef struct { ob_wakeup_item_t done; int result; ... } job_t;
 *
 *   static void job_done(ob_wakeup_item_t *item) {       reactor thread
 *       job_t *j = OB_WAKEUP_ENTRY(item, job_t, done); ...
 *   }
 *
 *   helper thread:   j->result = fsync(fd);
 *                    j->done.fn = job_done;
 *                    ob_wakeup_post(w, &j->done);
 */
#ifndef OB_WAKEUP_H
#define OB_WAKEUP_H

#include <stddef.h>
#include "ob_core.h"

struct event_base;

typedef struct ob_wakeup_item_s ob_wakeup_item_t;

/* Runs on the reactor thread; owns `item` again (may free its job). */
typedef void (*ob_wakeup_pt)(ob_wakeup_item_t *item);

struct ob_wakeup_item_s {
    ob_wakeup_item_t  *next;   /* the queue's; set by ob_wakeup_post */
    ob_wakeup_pt       fn;     /* set by the poster */
};

#define OB_WAKEUP_ENTRY(item, type, member) \
    ((type *) (void *) ((char *) (item) - offsetof(type, member)))

typedef struct ob_wakeup_s ob_wakeup_t;

/* An eventfd watched by `base`.  new: free with ob_wakeup_free.  NULL with
 * err set if the eventfd, the mutex or the event cannot be created. */
ob_wakeup_t *ob_wakeup_new(struct event_base *base, ob_err_t *err);

/* Runs what is still queued (so no job is lost: stop and join the helper
 * threads first), then frees.  Reactor thread. */
void ob_wakeup_free(ob_wakeup_t *w);

/* Queues item (item->fn set) and wakes the reactor.  Any thread; the
 * caller gives up item until its fn runs. */
void ob_wakeup_post(ob_wakeup_t *w, ob_wakeup_item_t *item);

/* Runs the queued callbacks now (the event does this; for tests and for a
 * loop driven by hand).  Reactor thread.  Returns how many ran. */
size_t ob_wakeup_run(ob_wakeup_t *w);

#endif /* OB_WAKEUP_H */
