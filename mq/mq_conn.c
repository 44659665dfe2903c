/*
 * mq_conn.c: STUB until the connection layer lands (refuses connections).
 */
#include "mq_int.h"

static void *
mq_session_new(ob_conn_t *c, void *ctx)
{
    (void) c; (void) ctx;
    return NULL;
}

static int
mq_on_read(void *s, ob_conn_t *c, struct evbuffer *in)
{
    (void) s; (void) c; (void) in;
    return OB_ERR;
}

static void
mq_on_close(void *s, ob_conn_t *c)
{
    (void) s; (void) c;
}

const ob_proto_t mq_proto = {
    .name = "amqp", .session_new = mq_session_new, .on_read = mq_on_read,
    .on_close = mq_on_close
};

int mq_consumer_can_take(const mq_consumer_t *cons) { (void) cons; return 0; }
int mq_consumer_deliver(mq_consumer_t *cons, mq_qentry_t *e)
{ (void) cons; (void) e; return OB_ERR; }
void mq_consumer_cancelled(mq_consumer_t *cons) { (void) cons; }
void mq_confirm_synced(mq_t *mq, uint64_t pos) { (void) mq; (void) pos; }
void mq_conn_set_alarm(mq_t *mq, int on) { (void) mq; (void) on; }
void mq_conn_tick(mq_conn_t *conn, int64_t now) { (void) conn; (void) now; }
void mq_conn_close_all(mq_t *mq, const char *r) { (void) mq; (void) r; }
