/*
 * mq_confirm.c: publisher confirms and transactions on a channel.
 *
 * Confirms: after confirm.select every publish gets the next sequence
 * number; once routed it is confirmed (basic.ack, or basic.nack when a
 * reject-publish queue refused it) at the end of the read that carried
 * it, or, when it went to the message log, once the log is on disk up to
 * the position it had after this publish.  Confirms leave in sequence
 * order, and a run of acks goes out as one basic.ack with multiple=1.
 *
 * Transactions: after tx.select publishes and settlements are held until
 * tx.commit (routed and applied then; commit-ok waits for the log like a
 * confirm) or dropped by tx.rollback (held deliveries become unacked
 * again).  A channel is in one mode or the other, as in RabbitMQ.
 */
#include "mq_conn_int.h"

#include <stdlib.h>
#include <string.h>


int
mq_confirm_select(mq_channel_t *ch, const mq_method_t *m)
{
    mq_chan_t *cp = MQ_CHAN(ch);

    if (ch->tx) {
        return mq_channel_error(ch, MQ_PRECONDITION_FAILED, m->id,
                                "cannot switch from tx to confirm mode");
    }
    if (!ch->confirm) {
        ch->confirm = 1;
        mq_list_push_back(&MQ_SESSION(ch->conn)->confirm_chans,
                          &cp->confirm_link);
    }
    if (m->a[MQ_CONFIRM_SELECT_NO_WAIT].n) {
        return OB_OK;
    }
    return mq_send_method(ch->conn, ch->id, MQ_M_CONFIRM_SELECT_OK);
}


void
mq_confirm_published(mq_channel_t *ch, int nack, int logged)
{
    mq_chan_t            *cp = MQ_CHAN(ch);
    mq_pending_confirm_t *a, *pc;
    size_t                cap, i;

    if (cp->confirm_n == cp->confirm_cap) {
        cap = cp->confirm_cap != 0 ? cp->confirm_cap * 2 : 64;
        a = malloc(cap * sizeof(*a));
        if (a == NULL) {
            mq_conn_error(ch->conn, MQ_RESOURCE_ERROR, MQ_M_BASIC_PUBLISH,
                          "out of memory");
            return;
        }
        for (i = 0; i < cp->confirm_n; i++) {
            a[i] = cp->confirms[(cp->confirm_head + i) % cp->confirm_cap];
        }
        free(cp->confirms);
        cp->confirms = a;
        cp->confirm_cap = cap;
        cp->confirm_head = 0;
    }
    pc = &cp->confirms[(cp->confirm_head + cp->confirm_n) % cp->confirm_cap];
    pc->seq = ++ch->publish_seq;
    pc->pos = logged ? mq_log_appended(ch->conn->mq) : 0;
    pc->nack = nack;
    cp->confirm_n++;
}


static void
mq_confirm_send_run(mq_channel_t *ch, uint64_t first, uint64_t last)
{
    if (last == 0) {
        return;
    }
    ch->conn->mq->stats.confirmed += last - first + 1;
    mq_send_method(ch->conn, ch->id, MQ_M_BASIC_ACK, last, last != first);
}


/* Sends the confirms that are due, in order. */
void
mq_confirm_flush(mq_channel_t *ch)
{
    mq_chan_t            *cp = MQ_CHAN(ch);
    mq_pending_confirm_t *pc;
    uint64_t              first = 0, last = 0, synced = 0;
    int                   have_synced = 0;

    while (cp->confirm_n > 0) {
        pc = &cp->confirms[cp->confirm_head];
        if (pc->pos != 0) {
            if (!have_synced) {
                synced = mq_log_synced(ch->conn->mq);
                have_synced = 1;
            }
            if (pc->pos > synced) {
                break;
            }
        }
        if (pc->nack) {
            mq_confirm_send_run(ch, first, last);
            first = last = 0;
            mq_send_method(ch->conn, ch->id, MQ_M_BASIC_NACK, pc->seq, 0, 0);
        } else {
            if (first == 0) {
                first = pc->seq;
            }
            last = pc->seq;
        }
        cp->confirm_head = (cp->confirm_head + 1) % cp->confirm_cap;
        cp->confirm_n--;
    }
    mq_confirm_send_run(ch, first, last);
}


/* A commit that waited for the log. */
static void
mq_tx_flush(mq_channel_t *ch)
{
    mq_chan_t *cp = MQ_CHAN(ch);

    if (cp->tx_commit_waiting
        && mq_log_synced(ch->conn->mq) >= cp->tx_commit_pos)
    {
        cp->tx_commit_waiting = 0;
        mq_send_method(ch->conn, ch->id, MQ_M_TX_COMMIT_OK);
    }
}


void
mq_confirm_flush_conn(mq_conn_t *conn)
{
    mq_session_t *s = MQ_SESSION(conn);
    mq_link_t    *l;
    mq_chan_t    *cp;

    for (l = s->confirm_chans.next; l != &s->confirm_chans; l = l->next) {
        cp = MQ_ENTRY(l, mq_chan_t, confirm_link);
        if (cp->ch.confirm) {
            mq_confirm_flush(&cp->ch);
        } else {
            mq_tx_flush(&cp->ch);
        }
    }
}


void
mq_confirm_synced(mq_t *mq, uint64_t pos)
{
    mq_link_t *l;
    mq_conn_t *conn;

    (void) pos;
    for (l = mq->conns.next; l != &mq->conns; l = l->next) {
        conn = MQ_ENTRY(l, mq_conn_t, link);
        if (!mq_list_empty(&MQ_SESSION(conn)->confirm_chans)) {
            mq_confirm_flush_conn(conn);
            ob_conn_flush(conn->c);
        }
    }
}


int
mq_tx_select(mq_channel_t *ch, const mq_method_t *m)
{
    if (ch->confirm) {
        return mq_channel_error(ch, MQ_PRECONDITION_FAILED, m->id,
                                "cannot switch from confirm to tx mode");
    }
    ch->tx = 1;
    return mq_send_method(ch->conn, ch->id, MQ_M_TX_SELECT_OK);
}


int
mq_tx_hold_ack(mq_channel_t *ch, uint64_t tag, int how)
{
    mq_chan_t *cp = MQ_CHAN(ch);
    uint64_t  *tags;
    uint8_t   *ops;
    size_t     cap;

    if (cp->tx_nacks == cp->tx_acks_cap) {
        cap = cp->tx_acks_cap != 0 ? cp->tx_acks_cap * 2 : 16;
        tags = realloc(cp->tx_acks, cap * sizeof(*tags));
        if (tags == NULL) {
            return OB_ERR;
        }
        cp->tx_acks = tags;
        ops = realloc(cp->tx_ops, cap);
        if (ops == NULL) {
            return OB_ERR;
        }
        cp->tx_ops = ops;
        cp->tx_acks_cap = cap;
    }
    cp->tx_acks[cp->tx_nacks] = tag;
    cp->tx_ops[cp->tx_nacks++] = (uint8_t) how;
    return OB_OK;
}


/* Ends the transaction's buffers: settles (commit) or releases
 * (rollback) the held deliveries, drops what was not published. */
static void
mq_tx_end(mq_channel_t *ch, int commit)
{
    mq_chan_t   *cp = MQ_CHAN(ch);
    mq_qentry_t *e;
    size_t       i;

    for (i = 0; i < cp->tx_nacks; i++) {
        e = mq_basic_held(ch, cp->tx_acks[i]);
        if (e == NULL) {
            continue;
        }
        if (commit) {
            mq_basic_settle(ch, e, cp->tx_ops[i]);
        } else {
            e->flags &= ~(uint32_t) MQ_QE_TX_HELD;
        }
    }
    cp->tx_nacks = 0;
    for (i = 0; i < cp->tx_npubs; i++) {
        mq_msg_unref(cp->tx_pubs[i].msg);
    }
    cp->tx_npubs = 0;
    mq_basic_ring_advance(ch);
    mq_basic_requeue_flush(ch);
}


int
mq_tx_commit(mq_channel_t *ch, const mq_method_t *m)
{
    mq_chan_t *cp = MQ_CHAN(ch);
    size_t     i;
    int        nacked = 0, logged = 0;

    if (!ch->tx) {
        return mq_channel_error(ch, MQ_PRECONDITION_FAILED, m->id,
                                "channel is not transactional");
    }
    for (i = 0; i < cp->tx_npubs; i++) {
        if (mq_basic_route(ch, cp->tx_pubs[i].msg, cp->tx_pubs[i].mandatory,
                           &nacked) == OB_ERR)
        {
            mq_tx_end(ch, 0);
            return OB_ERR;
        }
        logged |= (cp->tx_pubs[i].msg->flags & MQ_MSG_LOGGED) != 0;
    }
    mq_tx_end(ch, 1);
    mq_basic_redispatch(ch);
    if (logged) {
        cp->tx_commit_pos = mq_log_appended(ch->conn->mq);
        cp->tx_commit_waiting = 1;
        if (cp->confirm_link.next == &cp->confirm_link) {
            mq_list_push_back(&MQ_SESSION(ch->conn)->confirm_chans,
                              &cp->confirm_link);
        }
        return OB_OK;
    }
    return mq_send_method(ch->conn, ch->id, MQ_M_TX_COMMIT_OK);
}


int
mq_tx_rollback(mq_channel_t *ch, const mq_method_t *m)
{
    if (!ch->tx) {
        return mq_channel_error(ch, MQ_PRECONDITION_FAILED, m->id,
                                "channel is not transactional");
    }
    mq_tx_end(ch, 0);
    return mq_send_method(ch->conn, ch->id, MQ_M_TX_ROLLBACK_OK);
}


void
mq_confirm_channel_gone(mq_channel_t *ch)
{
    mq_chan_t *cp = MQ_CHAN(ch);

    mq_tx_end(ch, 0);
    mq_list_remove(&cp->confirm_link);
    free(cp->confirms);
    free(cp->tx_pubs);
    free(cp->tx_acks);
    free(cp->tx_ops);
    cp->confirms = NULL;
    cp->tx_pubs = NULL;
    cp->tx_acks = NULL;
    cp->tx_ops = NULL;
}
