/*
 * mq_http.c: STUB until the management API lands.
 */
#include "mq_int.h"

int mq_http_start(mq_t *mq, ob_err_t *err) { (void) mq; (void) err; return OB_OK; }

void
mq_stats(void *state, json_t *out)
{
    mq_t *mq = state;

    json_object_set_new(out, "port", json_integer(mq->port));
}
