/*
 * ob_wakeup.c: completions from helper threads, run on the reactor thread
 * (see ob_wakeup.h).
 *
 * A mutex-protected FIFO of intrusive items, and an eventfd the reactor
 * watches.  A poster writes the eventfd only when it makes the queue
 * non-empty: one wakeup per batch, however many jobs finish meanwhile.
 *
 * Ordering that keeps a post from being lost: the reactor first reads
 * (resets) the eventfd, then takes the whole queue.  A post that lands
 * after the take finds the queue empty and writes again, so the next
 * iteration sees it; a post that lands before the take is taken with it.
 * (Taking first and reading second could swallow the write of a post made
 * in between, leaving it queued with no wakeup.)
 */
#include "ob_wakeup.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>


struct ob_wakeup_s {
    pthread_mutex_t    lock;
    ob_wakeup_item_t  *head, *tail;   /* FIFO, under lock */
    int                fd;            /* eventfd, non-blocking */
    struct event      *ev;
};


static void
ob_wakeup_cb(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ob_wakeup_run(arg);
}


ob_wakeup_t *
ob_wakeup_new(struct event_base *base, ob_err_t *err)
{
    ob_wakeup_t *w;

    w = calloc(1, sizeof(*w));
    if (w == NULL) {
        ob_err_set(err, "wakeup: out of memory");
        return NULL;
    }
    w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->fd < 0) {
        ob_err_set(err, "wakeup: eventfd: %s", strerror(errno));
        free(w);
        return NULL;
    }
    if (pthread_mutex_init(&w->lock, NULL) != 0) {
        ob_err_set(err, "wakeup: cannot create a mutex");
        close(w->fd);
        free(w);
        return NULL;
    }
    w->ev = event_new(base, w->fd, EV_READ | EV_PERSIST, ob_wakeup_cb, w);
    if (w->ev == NULL || event_add(w->ev, NULL) != 0) {
        ob_err_set(err, "wakeup: cannot watch the eventfd");
        if (w->ev != NULL) {
            event_free(w->ev);
        }
        pthread_mutex_destroy(&w->lock);
        close(w->fd);
        free(w);
        return NULL;
    }
    return w;
}


void
ob_wakeup_free(ob_wakeup_t *w)
{
    if (w == NULL) {
        return;
    }
    ob_wakeup_run(w);
    event_free(w->ev);
    pthread_mutex_destroy(&w->lock);
    close(w->fd);
    free(w);
}


void
ob_wakeup_post(ob_wakeup_t *w, ob_wakeup_item_t *item)
{
    uint64_t  one = 1;
    int       was_empty;

    item->next = NULL;
    pthread_mutex_lock(&w->lock);
    was_empty = w->head == NULL;
    if (was_empty) {
        w->head = item;
    } else {
        w->tail->next = item;
    }
    w->tail = item;
    pthread_mutex_unlock(&w->lock);

    if (was_empty) {
        /* Fails only with EAGAIN at a counter near 2^64: the reactor is
         * already due to wake, which is all we want. */
        (void) !write(w->fd, &one, sizeof(one));
    }
}


size_t
ob_wakeup_run(ob_wakeup_t *w)
{
    ob_wakeup_item_t  *item, *next;
    uint64_t           count;
    size_t             n = 0;

    /* Reset the eventfd before taking the queue (see the top comment). */
    (void) !read(w->fd, &count, sizeof(count));

    pthread_mutex_lock(&w->lock);
    item = w->head;
    w->head = w->tail = NULL;
    pthread_mutex_unlock(&w->lock);

    for (; item != NULL; item = next) {
        next = item->next;            /* fn may free the item's job */
        item->fn(item);
        n++;
    }
    return n;
}
