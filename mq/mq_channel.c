/*
 * mq_channel.c: a channel of a connection: open, flow, close in both
 * directions, channel-level errors, the assembly of basic.publish's
 * content (method, then header, then body frames up to the announced
 * size), and the dispatch of methods to their class's handlers through
 * one table indexed by method.
 */
#include "mq_conn_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


mq_channel_t *
mq_channel_new(mq_conn_t *conn, uint16_t id)
{
    mq_chan_t    *cp = calloc(1, sizeof(*cp));
    mq_channel_t *ch;

    if (cp == NULL) {
        return NULL;
    }
    ch = &cp->ch;
    ch->conn = conn;
    ch->id = id;
    ch->state = MQ_CH_OPEN;
    ch->next_tag = 1;
    ch->base_tag = 1;
    ch->flow_active = 1;
    mq_list_init(&ch->consumers);
    mq_list_init(&cp->confirm_link);
    conn->channels[id] = ch;
    conn->nchannels++;
    conn->mq->stats.channels_total++;
    return ch;
}


/* Frees the channel: its consumers go, its unacked deliveries are
 * requeued (redelivered), its uncommitted tx and confirms are dropped. */
void
mq_channel_free(mq_channel_t *ch, int requeue)
{
    mq_conn_t *conn = ch->conn;

    (void) requeue;
    if (ch->pending != NULL) {
        mq_msg_unref(ch->pending);
        ch->pending = NULL;
    }
    mq_confirm_channel_gone(ch);
    mq_basic_channel_gone(ch);
    conn->channels[ch->id] = NULL;
    conn->nchannels--;
    free(ch->unacked);
    free(MQ_CHAN(ch));
}


/* Codes RabbitMQ treats as hard errors: they close the connection. */
static int
mq_code_is_hard(unsigned code)
{
    return code == MQ_CONNECTION_FORCED || code == MQ_INVALID_PATH
           || (code >= 500 && code != MQ_ACCESS_REFUSED);
}


int
mq_channel_error(mq_channel_t *ch, unsigned code, mq_method_id_t cause,
                 const char *fmt, ...)
{
    char      text[256];
    ob_str_t  t;
    size_t    n;
    va_list   ap;

    va_start(ap, fmt);
    n = mq_reply_text(text, sizeof(text), code, fmt, ap);
    va_end(ap);
    if (mq_code_is_hard(code)) {
        return mq_conn_error(ch->conn, code, (int) cause, "%s", text + n);
    }
    if (ch->state == MQ_CH_CLOSING) {
        return OB_ERR;
    }
    if (ch->pending != NULL) {
        mq_msg_unref(ch->pending);
        ch->pending = NULL;
    }
    ch->content_state = 0;
    t.data = (const uint8_t *) text;
    t.len = strlen(text);
    mq_send_method(ch->conn, ch->id, MQ_M_CHANNEL_CLOSE, code, &t,
                   (unsigned) mq_methods[cause].class_id,
                   (unsigned) mq_methods[cause].method_id);
    ch->state = MQ_CH_CLOSING;
    return OB_ERR;
}


static int
mq_channel_open_again(mq_channel_t *ch, const mq_method_t *m)
{
    return mq_conn_error(ch->conn, MQ_CHANNEL_ERROR, (int) m->id,
                         "second 'channel.open' seen");
}


static int
mq_channel_flow(mq_channel_t *ch, const mq_method_t *m)
{
    int active = m->a[MQ_FLOW_ACTIVE].n != 0;

    /* RabbitMQ 3.10 refuses to stop deliveries this way. */
    if (!active) {
        return mq_conn_error(ch->conn, MQ_NOT_IMPLEMENTED, (int) m->id,
                             "active=false");
    }
    ch->flow_active = active;
    mq_send_method(ch->conn, ch->id, MQ_M_CHANNEL_FLOW_OK, active);
    if (active) {
        mq_basic_redispatch(ch);
    }
    return OB_OK;
}


static int
mq_channel_close(mq_channel_t *ch, const mq_method_t *m)
{
    mq_conn_t *conn = ch->conn;
    uint16_t   id = ch->id;

    (void) m;
    mq_channel_free(ch, 1);
    return mq_send_method(conn, id, MQ_M_CHANNEL_CLOSE_OK);
}


static int
mq_channel_close_ok(mq_channel_t *ch, const mq_method_t *m)
{
    (void) m;
    if (ch->state == MQ_CH_CLOSING) {
        mq_channel_free(ch, 1);
    }
    return OB_OK;
}


static int
mq_access_request(mq_channel_t *ch, const mq_method_t *m)
{
    (void) m;
    return mq_send_method(ch->conn, ch->id, MQ_M_ACCESS_REQUEST_OK, 1u);
}


/* The methods a client may send on a channel, by method; NULL: none. */
static const mq_method_handler_pt mq_channel_handlers[MQ_M_COUNT] = {
    [MQ_M_CHANNEL_OPEN]       = mq_channel_open_again,
    [MQ_M_CHANNEL_FLOW]       = mq_channel_flow,
    [MQ_M_CHANNEL_CLOSE]      = mq_channel_close,
    [MQ_M_CHANNEL_CLOSE_OK]   = mq_channel_close_ok,
    [MQ_M_ACCESS_REQUEST]     = mq_access_request,
    [MQ_M_EXCHANGE_DECLARE]   = mq_exchange_method,
    [MQ_M_EXCHANGE_DELETE]    = mq_exchange_method,
    [MQ_M_EXCHANGE_BIND]      = mq_exchange_method,
    [MQ_M_EXCHANGE_UNBIND]    = mq_exchange_method,
    [MQ_M_QUEUE_DECLARE]      = mq_queue_method,
    [MQ_M_QUEUE_BIND]         = mq_queue_method,
    [MQ_M_QUEUE_PURGE]        = mq_queue_method,
    [MQ_M_QUEUE_DELETE]       = mq_queue_method,
    [MQ_M_QUEUE_UNBIND]       = mq_queue_method,
    [MQ_M_BASIC_QOS]          = mq_basic_qos,
    [MQ_M_BASIC_CONSUME]      = mq_basic_consume,
    [MQ_M_BASIC_CANCEL]       = mq_basic_cancel,
    [MQ_M_BASIC_PUBLISH]      = mq_basic_publish,
    [MQ_M_BASIC_GET]          = mq_basic_get,
    [MQ_M_BASIC_ACK]          = mq_basic_ack,
    [MQ_M_BASIC_REJECT]       = mq_basic_reject,
    [MQ_M_BASIC_NACK]         = mq_basic_nack,
    [MQ_M_BASIC_RECOVER]      = mq_basic_recover,
    [MQ_M_BASIC_RECOVER_ASYNC] = mq_basic_recover,
    [MQ_M_CONFIRM_SELECT]     = mq_confirm_select,
    [MQ_M_TX_SELECT]          = mq_tx_select,
    [MQ_M_TX_COMMIT]          = mq_tx_commit,
    [MQ_M_TX_ROLLBACK]        = mq_tx_rollback,
};


static int
mq_channel_method(mq_channel_t *ch, const mq_frame_t *f)
{
    mq_method_t         m;
    mq_wire_err_t       err;
    mq_method_handler_pt h;

    if (mq_method_decode(f->payload, f->size, &m, &err) != OB_OK) {
        return mq_conn_decode_error(ch->conn, f, &err);
    }
    if (ch->state == MQ_CH_CLOSING) {
        if (m.id == MQ_M_CHANNEL_CLOSE || m.id == MQ_M_CHANNEL_CLOSE_OK) {
            return mq_channel_handlers[m.id](ch, &m);
        }
        return OB_OK;
    }
    if (ch->content_state != 0) {
        return mq_conn_error(ch->conn, MQ_UNEXPECTED_FRAME,
                             MQ_M_BASIC_PUBLISH, ch->content_state == 1
                             ? "expected content header for class 60, got "
                               "non content header frame instead"
                             : "expected content body, got non content "
                               "body frame instead");
    }
    h = mq_channel_handlers[m.id];
    if (h == NULL) {
        return mq_conn_error(ch->conn, MQ_COMMAND_INVALID, (int) m.id,
                             "unimplemented method");
    }
    return h(ch, &m);
}


/* The content is complete: publish it. */
static int
mq_channel_content_done(mq_channel_t *ch)
{
    mq_msg_t *msg = ch->pending;

    ch->pending = NULL;
    ch->content_state = 0;
    return mq_basic_publish_done(ch, msg, ch->pending_mandatory);
}


static int
mq_channel_header(mq_channel_t *ch, const mq_frame_t *f)
{
    mq_chan_t     *cp = MQ_CHAN(ch);
    mq_t          *mq = ch->conn->mq;
    mq_wire_err_t  err;
    uint64_t       size;
    ob_str_t       props, x, k;

    if (mq_content_header_parse(f->payload, f->size, &size, &props, &err)
        != OB_OK)
    {
        return mq_conn_error(ch->conn, err.code, MQ_M_BASIC_PUBLISH, "%s",
                             strchr(err.text, '-') != NULL
                             ? strchr(err.text, '-') + 2 : err.text);
    }
    if (size > mq->max_message_size) {
        ch->content_state = 0;
        return mq_channel_error(ch, MQ_PRECONDITION_FAILED,
                                MQ_M_BASIC_PUBLISH, "message size %llu is "
                                "larger than configured max size %llu",
                                (unsigned long long) size,
                                (unsigned long long) mq->max_message_size);
    }
    x.data = (const uint8_t *) cp->pub_exchange;
    x.len = cp->pub_exchange_len;
    k.data = (const uint8_t *) cp->pub_key;
    k.len = cp->pub_key_len;
    ch->pending = mq_msg_new(mq, x, k, props, size);
    if (ch->pending == NULL) {
        /* No room: the memory alarm goes off now rather than at the next
         * tick, and the header is read again once there is room. */
        mq_flow_check(mq);
        return OB_AGAIN;
    }
    if (size == 0) {
        return mq_channel_content_done(ch);
    }
    ch->content_state = 2;
    return OB_OK;
}


static int
mq_channel_body(mq_channel_t *ch, const mq_frame_t *f)
{
    mq_msg_t *msg = ch->pending;

    if (f->size > msg->body_len - msg->body_have) {
        return mq_conn_error(ch->conn, MQ_UNEXPECTED_FRAME,
                             MQ_M_BASIC_PUBLISH, "content body frame of %u "
                             "bytes exceeds the %llu bytes announced",
                             (unsigned) f->size,
                             (unsigned long long) msg->body_len);
    }
    memcpy(mq_msg_body(msg) + msg->body_have, f->payload, f->size);
    msg->body_have += f->size;
    if (msg->body_have == msg->body_len) {
        return mq_channel_content_done(ch);
    }
    return OB_OK;
}


int
mq_channel_frame(mq_channel_t *ch, const mq_frame_t *f)
{
    if (f->type == MQ_FRAME_METHOD) {
        return mq_channel_method(ch, f);
    }
    if (ch->state == MQ_CH_CLOSING) {
        return OB_OK;
    }
    if (f->type == MQ_FRAME_HEADER && ch->content_state == 1) {
        return mq_channel_header(ch, f);
    }
    if (f->type == MQ_FRAME_BODY && ch->content_state == 2) {
        return mq_channel_body(ch, f);
    }
    if (ch->content_state == 1) {
        return mq_conn_error(ch->conn, MQ_UNEXPECTED_FRAME,
                             MQ_M_BASIC_PUBLISH, "expected content header "
                             "for class 60, got non content header frame "
                             "instead");
    }
    if (ch->content_state == 2) {
        return mq_conn_error(ch->conn, MQ_UNEXPECTED_FRAME,
                             MQ_M_BASIC_PUBLISH, "expected content body, got "
                             "non content body frame instead");
    }
    return mq_conn_error(ch->conn, MQ_UNEXPECTED_FRAME, -1,
                         "expected method frame, got non method frame "
                         "instead");
}
