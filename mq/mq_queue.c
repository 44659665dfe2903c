/*
 * mq_queue.c: STUB until the entities land: vhosts only.
 */
#include "mq_int.h"

#include <stdlib.h>
#include <string.h>

mq_vhost_t *
mq_vhost_new(mq_t *mq, const char *name)
{
    mq_vhost_t *vh = calloc(1, sizeof(*vh)), **tail;

    if (vh == NULL) {
        return NULL;
    }
    vh->mq = mq;
    snprintf(vh->name, sizeof(vh->name), "%s", name);
    for (tail = &mq->vhosts; *tail != NULL; tail = &(*tail)->next) {
    }
    *tail = vh;
    return vh;
}

void mq_vhost_free(mq_vhost_t *vh) { free(vh); }

mq_vhost_t *
mq_vhost_find(mq_t *mq, const char *name, size_t len)
{
    mq_vhost_t *vh;

    for (vh = mq->vhosts; vh != NULL; vh = vh->next) {
        if (strlen(vh->name) == len && memcmp(vh->name, name, len) == 0) {
            return vh;
        }
    }
    return NULL;
}

void mq_vhost_tick(mq_vhost_t *vh, int64_t now, int64_t mono)
{ (void) vh; (void) now; (void) mono; }
