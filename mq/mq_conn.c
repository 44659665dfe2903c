/*
 * mq_conn.c: an AMQP 0-9-1 connection (the listener's ob_proto_t): the
 * protocol header, framing straight from the input buffer (each frame
 * pulled up alone), the dispatch of frames to channel 0 (mq_handshake.c)
 * or a channel (mq_channel.c), sending methods, connection-level errors,
 * heartbeats, the memory alarm's connection.blocked, and the end of a
 * connection.  See mq_conn_int.h for the state diagram.
 */
#include "mq_conn_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "ob_cycle.h"
#include "ob_log.h"

#define MQ_SEND_BUF  4096

/* What one on_read call may parse besides reqs_per_event methods. */
#define MQ_READ_BYTES_PER_EVENT  (256 * 1024)

/* A code no reply carries: closes the socket without connection.close. */
#define MQ_NOT_IMPLEMENTED_SILENT  0x10000


/* Writes the output that other connections' work (deliveries of their
 * publishes, confirms after a log sync) appended: once per loop pass,
 * however many messages arrived meanwhile. */
static void
mq_conn_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    mq_session_t *s = arg;

    (void) fd;
    (void) what;
    s->flush_pending = 0;
    if (!s->dead) {
        ob_conn_flush(s->conn.c);
    }
}


/* Appends bytes to the connection's output and notes the time for the
 * heartbeat.  Outside the connection's own on_read (whose output the
 * core writes when it returns) a flush is scheduled. */
int
mq_conn_send(mq_conn_t *conn, const void *data, size_t len)
{
    mq_session_t *s = MQ_SESSION(conn);

    if (s->dead) {
        return OB_ERR;
    }
    conn->last_send_mono = mq_mono_ms();
    if (ob_conn_add(conn->c, data, len) != OB_OK) {
        s->dead = 1;
        return OB_ERR;
    }
    if (!s->in_read && !s->flush_pending && s->flush_ev != NULL) {
        s->flush_pending = 1;
        event_active(s->flush_ev, EV_TIMEOUT, 0);
    }
    return OB_OK;
}


int
mq_send_method(mq_conn_t *conn, uint16_t channel, mq_method_id_t id, ...)
{
    uint8_t  buf[MQ_SEND_BUF];
    size_t   n;
    va_list  ap;

    va_start(ap, id);
    n = mq_frame_vmethod(buf, sizeof(buf), channel, id, ap);
    va_end(ap);
    if (n == 0) {
        return OB_ERR;
    }
    return mq_conn_send(conn, buf, n);
}


/* Sends connection.close with a complete reply text and waits for
 * close-ok (or the timeout). */
static int
mq_conn_close_text(mq_conn_t *conn, unsigned code, int cause,
                   const char *text)
{
    ob_str_t  t = { strlen(text), (const uint8_t *) text };
    unsigned  cls = 0, mth = 0;

    if (conn->state >= MQ_CONN_CLOSING) {
        return OB_ERR;
    }
    /* RabbitMQ does not trust a client that fails the handshake before
     * tune-ok: it closes the socket without a word, and so do we (a
     * refused login is the exception, see mq_on_start_ok); an unknown
     * method breaks its reader the same way. */
    if ((conn->state < MQ_CONN_OPEN && code != MQ_ACCESS_REFUSED)
        || code == MQ_NOT_IMPLEMENTED_SILENT)
    {
        ob_log_notice(&conn->mq->cy->log, "mq: %s: closing: %s",
                      ob_conn_peer(conn->c), text);
        conn->state = MQ_CONN_CLOSED;
        return OB_ERR;
    }
    if (t.len > 255) {
        t.len = 255;
    }
    if (cause >= 0 && cause < MQ_M_COUNT) {
        cls = mq_methods[cause].class_id;
        mth = mq_methods[cause].method_id;
    }
    mq_send_method(conn, 0, MQ_M_CONNECTION_CLOSE, code, &t, cls, mth);
    conn->state = MQ_CONN_CLOSING;
    MQ_SESSION(conn)->closing_since = mq_mono_ms();
    return OB_ERR;
}


/* The reply text's "NAME - " prefix is the code's name, as RabbitMQ
 * writes it; a code without a name gets "ERROR". */
size_t
mq_reply_text(char *text, size_t size, unsigned code, const char *fmt,
              va_list ap)
{
    const char *name = mq_reply_name(code);
    int         n;

    n = snprintf(text, size, "%s - ", name != NULL ? name : "ERROR");
    vsnprintf(text + n, size - (size_t) n, fmt, ap);
    return (size_t) n;
}


int
mq_conn_error(mq_conn_t *conn, unsigned code, int cause, const char *fmt, ...)
{
    char     text[256];
    va_list  ap;

    va_start(ap, fmt);
    mq_reply_text(text, sizeof(text), code, fmt, ap);
    va_end(ap);
    return mq_conn_close_text(conn, code, cause, text);
}


/* A method frame that does not decode: arguments RabbitMQ's decoder
 * cannot read are 501 "cannot decode <<args>>" (the codec's text) with
 * the method's ids; an unknown method closes the socket as RabbitMQ's
 * reader does. */
int
mq_conn_decode_error(mq_conn_t *conn, const mq_frame_t *f,
                     const mq_wire_err_t *err)
{
    int  id;

    if (err->code == MQ_NOT_IMPLEMENTED) {
        return mq_conn_close_text(conn, MQ_NOT_IMPLEMENTED_SILENT, -1,
                                  err->text);
    }
    id = f->size >= 4 ? mq_method_lookup(mq_get16(f->payload),
                                         mq_get16(f->payload + 2)) : -1;
    return mq_conn_close_text(conn, err->code, id, err->text);
}


static void *
mq_session_new(ob_conn_t *c, void *ctx)
{
    mq_t         *mq = ctx;
    mq_session_t *s = calloc(1, sizeof(*s));
    mq_conn_t    *conn;

    if (s == NULL) {
        return NULL;
    }
    conn = &s->conn;
    conn->channels = calloc((size_t) mq->channel_max + 1,
                            sizeof(mq_channel_t *));
    if (conn->channels == NULL) {
        free(s);
        return NULL;
    }
    conn->mq = mq;
    conn->c = c;
    conn->state = MQ_CONN_HEADER;
    conn->channel_max = mq->channel_max;
    conn->frame_max = mq->frame_max;
    conn->last_recv_mono = conn->last_send_mono = mq_mono_ms();
    s->started_mono = conn->last_recv_mono;
    conn->connected_at = mq_now_ms();
    mq_list_init(&s->confirm_chans);
    s->flush_ev = event_new(mq->cy->base, -1, 0, mq_conn_flush_cb, s);
    if (s->flush_ev == NULL) {
        free(conn->channels);
        free(s);
        return NULL;
    }
    mq_list_push_back(&mq->conns, &conn->link);
    mq->stats.conns_total++;
    return s;
}


/* A frame on a channel (not 0) of a running connection. */
static int
mq_conn_channel_frame(mq_conn_t *conn, const mq_frame_t *f)
{
    mq_channel_t  *ch = NULL;
    mq_method_t    m;
    mq_wire_err_t  err;

    if (f->channel <= conn->channel_max) {
        ch = conn->channels[f->channel];
    }
    if (ch != NULL) {
        return mq_channel_frame(ch, f);
    }
    if (f->type != MQ_FRAME_METHOD) {
        return mq_conn_error(conn, MQ_CHANNEL_ERROR, -1,
                             "expected 'channel.open'");
    }
    if (mq_method_decode(f->payload, f->size, &m, &err) != OB_OK) {
        return mq_conn_decode_error(conn, f, &err);
    }
    if (m.id != MQ_M_CHANNEL_OPEN) {
        return mq_conn_error(conn, MQ_CHANNEL_ERROR, (int) m.id,
                             "expected 'channel.open'");
    }
    if (f->channel > conn->channel_max
        || conn->nchannels >= conn->channel_max)
    {
        return mq_conn_error(conn, MQ_NOT_ALLOWED, -1, "number of channels "
                             "opened (%u) has reached the negotiated "
                             "channel_max (%u)", conn->nchannels,
                             (unsigned) conn->channel_max);
    }
    if (mq_channel_new(conn, f->channel) == NULL) {
        return mq_conn_error(conn, MQ_RESOURCE_ERROR, (int) m.id,
                             "out of memory");
    }
    return mq_send_method(conn, f->channel, MQ_M_CHANNEL_OPEN_OK, NULL);
}


/* One complete frame. */
static int
mq_conn_frame(mq_conn_t *conn, const mq_frame_t *f)
{
    if (f->type == MQ_FRAME_HEARTBEAT) {
        return OB_OK;
    }
    if (f->channel == 0) {
        if (f->type != MQ_FRAME_METHOD) {
            if (conn->state >= MQ_CONN_CLOSING) {
                return OB_OK;
            }
            return mq_conn_error(conn, MQ_UNEXPECTED_FRAME, -1,
                                 "expected method frame, got non method "
                                 "frame instead");
        }
        return mq_conn_method(conn, f);
    }
    if (conn->state >= MQ_CONN_CLOSING) {
        return OB_OK;
    }
    if (conn->state != MQ_CONN_RUNNING) {
        return mq_conn_error(conn, MQ_COMMAND_INVALID, -1,
                             "frame on channel %u before connection.open",
                             (unsigned) f->channel);
    }
    return mq_conn_channel_frame(conn, f);
}


/* The protocol header: OB_OK (start sent), OB_AGAIN, or OB_DONE (ours
 * was written back). */
static int
mq_conn_header(mq_conn_t *conn, struct evbuffer *in)
{
    uint8_t  hdr[MQ_PROTOCOL_HEADER_LEN];
    size_t   len = evbuffer_get_length(in);
    int      rc;

    if (len > sizeof(hdr)) {
        len = sizeof(hdr);
    }
    evbuffer_copyout(in, hdr, len);
    rc = mq_protocol_header_check(hdr, len);
    if (rc == OB_AGAIN) {
        return OB_AGAIN;
    }
    if (rc != OB_OK) {
        mq_conn_send(conn, MQ_PROTOCOL_HEADER, MQ_PROTOCOL_HEADER_LEN);
        evbuffer_drain(in, evbuffer_get_length(in));
        conn->state = MQ_CONN_CLOSED;
        return OB_DONE;
    }
    evbuffer_drain(in, MQ_PROTOCOL_HEADER_LEN);
    conn->state = MQ_CONN_START;
    MQ_SESSION(conn)->header_done = 1;
    return mq_send_start(conn) == OB_OK ? OB_OK : OB_ERR;
}


/* A publisher under the memory alarm stops being read, its socket
 * included, so TCP pushes back (RabbitMQ blocks a connection when it
 * publishes while the alarm is on). */
static void
mq_conn_block(mq_conn_t *conn)
{
    ob_str_t reason = { 13, (const uint8_t *) "low on memory" };

    conn->publish_paused = 1;
    ob_conn_stop_read(conn->c, 1);
    if (conn->cap_blocked && !conn->blocked_sent) {
        conn->blocked_sent = 1;
        mq_send_method(conn, 0, MQ_M_CONNECTION_BLOCKED, &reason);
    }
}


static int
mq_on_read(void *session, ob_conn_t *c, struct evbuffer *in)
{
    mq_session_t  *s = session;
    mq_conn_t     *conn = &s->conn;
    mq_frame_t     f;
    mq_wire_err_t  err;
    uint8_t        hdr[7];
    size_t         len, need, consumed;
    unsigned       n = 0, max = ob_conn_reqs_per_event(c);
    size_t         bytes = 0;
    const uint8_t *p;
    uint32_t       fmax;
    int            rc = OB_OK, too_large;

    (void) c;
    conn->last_recv_mono = mq_mono_ms();
    if (conn->state == MQ_CONN_HEADER) {
        rc = mq_conn_header(conn, in);
        if (rc != OB_OK) {
            return rc == OB_AGAIN ? OB_OK : rc;
        }
    }
    s->in_read = 1;
    for ( ;; ) {
        if (conn->state == MQ_CONN_CLOSED || s->dead) {
            rc = OB_DONE;
            break;
        }
        if (conn->publish_paused) {
            break;
        }
        /* A request is a method (a publish's content frames belong to
         * it); the bytes bound what its content may cost in one go. */
        if (n >= max || bytes >= MQ_READ_BYTES_PER_EVENT
            || ob_conn_is_output_full(conn->c))
        {
            rc = OB_BUSY;
            break;
        }
        len = evbuffer_get_length(in);
        if (len < 7) {
            break;
        }
        evbuffer_copyout(in, hdr, 7);
        need = 8 + (size_t) mq_get32(hdr + 3);
        fmax = conn->frame_max != 0 ? conn->frame_max : conn->mq->frame_max;
        /* RabbitMQ bounds the payload by frame_max (so a frame may be
         * 8 octets longer): the codec judges an oversized one from its
         * 7-byte header alone, with RabbitMQ's frame_too_large text. */
        too_large = need - MQ_FRAME_OVERHEAD > fmax;
        if (too_large || len >= need) {
            p = too_large ? hdr : evbuffer_pullup(in, (ev_ssize_t) need);
            rc = mq_frame_parse(p, too_large ? 7 : need, fmax, &f,
                                &consumed, &err);
            if (rc == OB_PROTO_ERR) {
                mq_conn_close_text(conn, err.code, -1, err.text);
                s->dead = 1;
                s->in_read = 0;
                ob_conn_close(conn->c, 1);
                return OB_OK;
            }
            if (rc != OB_OK) {
                rc = OB_OK;
                break;
            }
        } else {
            break;
        }
        rc = mq_conn_frame(conn, &f);
        if (rc == OB_AGAIN) {
            /* No room for the message now: the frame waits, unread, and
             * the connection is blocked until the tick finds room. */
            mq_conn_block(conn);
            rc = OB_OK;
            break;
        }
        evbuffer_drain(in, consumed);
        n += f.type == MQ_FRAME_METHOD;
        bytes += consumed;
        if (rc == OB_DONE) {
            conn->state = MQ_CONN_CLOSED;
        }
        rc = OB_OK;
        if (conn->mq->alarm && conn->state == MQ_CONN_RUNNING
            && (f.type == MQ_FRAME_HEADER || f.type == MQ_FRAME_BODY))
        {
            mq_conn_block(conn);
        }
    }
    if (conn->blocked_sent && !conn->publish_paused && !conn->mq->alarm) {
        conn->blocked_sent = 0;
        mq_send_method(conn, 0, MQ_M_CONNECTION_UNBLOCKED);
    }
    mq_confirm_flush_conn(conn);
    s->in_read = 0;
    return rc;
}


static void
mq_on_close(void *session, ob_conn_t *c)
{
    mq_session_t *s = session;
    mq_conn_t    *conn = &s->conn;
    unsigned      i;

    (void) c;
    s->dead = 1;
    conn->state = MQ_CONN_CLOSED;
    event_free(s->flush_ev);
    s->flush_ev = NULL;
    for (i = 1; i <= conn->channel_max && conn->nchannels > 0; i++) {
        if (conn->channels[i] != NULL) {
            mq_channel_free(conn->channels[i], 1);
        }
    }
    mq_queue_owner_gone(conn);
    mq_list_remove(&conn->link);
    free(conn->channels);
    free(conn->client_props);
    free(s->route);
    free(s);
}


/* The output drained below the mark set when it was full: consumers
 * resume. */
static void
mq_on_drain(void *session, ob_conn_t *c)
{
    mq_session_t *s = session;
    mq_conn_t    *conn = &s->conn;
    unsigned      i;

    ob_conn_set_drain_mark(c, 0);
    for (i = 1; i <= conn->channel_max; i++) {
        if (conn->channels[i] != NULL) {
            mq_basic_redispatch(conn->channels[i]);
        }
    }
}


void
mq_conn_tick(mq_conn_t *conn, int64_t now)
{
    mq_session_t *s = MQ_SESSION(conn);
    int64_t       hb = (int64_t) conn->heartbeat * 1000;

    if (s->dead) {
        return;
    }
    if (conn->state == MQ_CONN_CLOSING
        && now - s->closing_since > MQ_CLOSE_TIMEOUT_MS)
    {
        s->dead = 1;
        ob_conn_close(conn->c, 0);
        return;
    }
    if (conn->state < MQ_CONN_RUNNING
        && now - s->started_mono > MQ_HANDSHAKE_TIMEOUT_MS)
    {
        ob_log_notice(&conn->mq->cy->log, "mq: %s: handshake timeout",
                      ob_conn_peer(conn->c));
        s->dead = 1;
        ob_conn_close(conn->c, 0);
        return;
    }
    /* Blocked for want of room without the alarm: try again (the frame
     * that found no room is read again); connection.unblocked follows
     * once a publish goes through. */
    if (conn->publish_paused && !conn->mq->alarm) {
        conn->publish_paused = 0;
        ob_conn_stop_read(conn->c, 0);
    }
    mq_confirm_flush_conn(conn);
    if (hb == 0 || conn->state < MQ_CONN_OPEN) {
        return;
    }
    /* Paused readers do not count as silent: the alarm stopped them. */
    if (now - conn->last_recv_mono > 2 * hb && !conn->publish_paused) {
        ob_log_notice(&conn->mq->cy->log, "mq: %s: missed heartbeats from "
                      "client, timeout: %us", ob_conn_peer(conn->c),
                      (unsigned) conn->heartbeat);
        s->dead = 1;
        ob_conn_close(conn->c, 0);
        return;
    }
    if (now - conn->last_send_mono >= hb / 2) {
        mq_conn_send(conn, mq_frame_heartbeat, 8);
        ob_conn_flush(conn->c);
    }
}


void
mq_conn_set_alarm(mq_t *mq, int on)
{
    mq_link_t *l;
    mq_conn_t *conn;

    if (on) {
        return;     /* publishers block when they next publish */
    }
    for (l = mq->conns.next; l != &mq->conns; l = l->next) {
        conn = MQ_ENTRY(l, mq_conn_t, link);
        if (conn->publish_paused) {
            conn->publish_paused = 0;
            ob_conn_stop_read(conn->c, 0);
        }
        if (conn->blocked_sent) {
            conn->blocked_sent = 0;
            mq_send_method(conn, 0, MQ_M_CONNECTION_UNBLOCKED);
            ob_conn_flush(conn->c);
        }
    }
}


void
mq_conn_close_all(mq_t *mq, const char *reason)
{
    mq_link_t *l;
    mq_conn_t *conn;

    for (l = mq->conns.next; l != &mq->conns; l = l->next) {
        conn = MQ_ENTRY(l, mq_conn_t, link);
        if (conn->state > MQ_CONN_HEADER && conn->state < MQ_CONN_CLOSING) {
            mq_conn_close_text(conn, MQ_CONNECTION_FORCED, -1, reason);
        }
        ob_conn_close(conn->c, 1);
    }
}


/* The input a connection may hold unparsed: the largest frame that
 * mq.frame_max allows (16 MiB) with room to spare.  (A publisher blocked
 * by the memory alarm is not read at all: ob_conn_stop_read.) */
#define MQ_MAX_INPUT  (17 * 1024 * 1024)

const ob_proto_t mq_proto = {
    .name = "amqp",
    .max_input = MQ_MAX_INPUT,
    .session_new = mq_session_new,
    .on_read = mq_on_read,
    .on_close = mq_on_close,
    .on_drain = mq_on_drain
};
