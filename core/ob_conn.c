/*
 * ob_conn.c: client connections on libevent bufferevents, and their limits.
 *
 * A connection's life, as the reactor drives it:
 *
 *   ACCEPTED  -> READING        [ob_conn_accept: session_new]
 *   READING   -> READING        [ob_conn_read_cb: proto->on_read consumes]
 *   READING   -> PAUSED         [output above output_soft, or the module asks]
 *   PAUSED    -> READING        [ob_conn_write_cb: output drained to half]
 *   any       -> FLUSHING       [on_read returned OB_DONE, ob_conn_close(c, 1)]
 *   FLUSHING  -> CLOSING        [ob_conn_write_cb: output empty]
 *   any       -> CLOSING        [OB_ERR, EOF, error, idle timeout, a limit]
 *   CLOSING   -> freed          [ob_conn_reap: on_close, bufferevent_free]
 *
 * A callback never frees the connection it runs for: it marks it CLOSING
 * and activates the cycle's reap event, which frees every marked connection
 * after the current callbacks have returned (redis's freeClientAsync).
 *
 * Byte counters are exact: a callback on each evbuffer counts what libevent
 * read from the socket into the input and what it drained from the output
 * onto the socket.
 */
#include "ob_conn.h"
#include "ob_conn_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "ob_cycle.h"


static void ob_conn_read_cb(struct bufferevent *bev, void *arg);
static void ob_conn_write_cb(struct bufferevent *bev, void *arg);
static void ob_conn_event_cb(struct bufferevent *bev, short what, void *arg);


/* Counts bytes moving through a connection's buffers into the cycle. */
static void
ob_conn_count_in(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                 void *arg)
{
    ob_conn_t *c = arg;

    (void) buf;
    c->cycle->stats.bytes_in += info->n_added;
}


static void
ob_conn_count_out(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                  void *arg)
{
    ob_conn_t *c = arg;

    (void) buf;
    c->cycle->stats.bytes_out += info->n_deleted;
}


/*
 * Takes an accepted socket for listener `ls`.  Over max_connections the
 * socket gets the protocol's rejection line (as memcached sends "ERROR Too
 * many open connections") and is closed here, before any state is made,
 * so a flood of connections costs the others nothing.
 */
void
ob_conn_accept(ob_listener_t *ls, evutil_socket_t fd, const char *peer)
{
    ob_cycle_t         *cy = ls->cycle;
    const ob_proto_t   *p = ls->proto;
    ob_conn_t          *c;
    struct timeval      tv;
    size_t              max_input;

    if (cy->stats.conns_current >= cy->max_connections) {
        cy->stats.conns_rejected++;
        if (p->reject_reply != NULL) {
            /* Best effort: the socket is fresh, its buffer is empty. */
            (void) send(fd, p->reject_reply, strlen(p->reject_reply),
                        MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        evutil_closesocket(fd);
        ob_log_debug(&cy->log, "%s: refused %s: max_connections (%llu) "
                     "reached", p->name, peer,
                     (unsigned long long) cy->max_connections);
        return;
    }

    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        evutil_closesocket(fd);
        return;
    }
    c->cycle = cy;
    c->proto = p;
    c->id = ++cy->next_conn_id;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);

    evutil_make_socket_nonblocking(fd);
    c->bev = bufferevent_socket_new(cy->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        evutil_closesocket(fd);
        free(c);
        return;
    }

    c->next = cy->conns;
    if (cy->conns != NULL) {
        cy->conns->prev = c;
    }
    cy->conns = c;
    cy->stats.conns_current++;
    cy->stats.conns_total++;

    evbuffer_add_cb(bufferevent_get_input(c->bev), ob_conn_count_in, c);
    evbuffer_add_cb(bufferevent_get_output(c->bev), ob_conn_count_out, c);

    /* libevent stops reading once the input holds max_input bytes; the
     * read callback then sees a full buffer and closes the connection. */
    max_input = cy->max_input;
    if (p->max_input != 0 && p->max_input < max_input) {
        max_input = p->max_input;
    }
    c->max_input = max_input;
    bufferevent_setwatermark(c->bev, EV_READ, 0, max_input);
    bufferevent_setwatermark(c->bev, EV_WRITE, cy->output_soft / 2, 0);
    bufferevent_setcb(c->bev, ob_conn_read_cb, ob_conn_write_cb,
                      ob_conn_event_cb, c);

    if (cy->idle_timeout > 0) {
        tv.tv_sec = cy->idle_timeout;
        tv.tv_usec = 0;
        bufferevent_set_timeouts(c->bev, &tv, NULL);
    }

    c->session = p->session_new(c, ls->ctx);
    if (c->session == NULL) {
        ob_conn_close(c, 0);
        return;
    }
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}


void
ob_conn_close(ob_conn_t *c, int flush)
{
    struct evbuffer *out;

    if (c->state == OB_CONN_CLOSING) {
        return;
    }
    bufferevent_disable(c->bev, EV_READ);
    out = bufferevent_get_output(c->bev);

    if (flush && evbuffer_get_length(out) > 0) {
        /* The write callback fires when the output is empty. */
        c->state = OB_CONN_FLUSHING;
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
        return;
    }

    c->state = OB_CONN_CLOSING;
    event_active(c->cycle->reap_ev, EV_READ, 0);
}


/* Frees one connection: the module's session first, then the socket. */
static void
ob_conn_free(ob_conn_t *c)
{
    ob_cycle_t *cy = c->cycle;

    if (c->session != NULL && c->proto->on_close != NULL) {
        c->proto->on_close(c->session, c);
    }
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        cy->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    cy->stats.conns_current--;
    bufferevent_free(c->bev);
    free(c);
}


void
ob_conn_reap(ob_cycle_t *cy)
{
    ob_conn_t *c, *next;

    for (c = cy->conns; c != NULL; c = next) {
        next = c->next;
        if (c->state == OB_CONN_CLOSING) {
            ob_conn_free(c);
        }
    }
}


void
ob_conn_close_all(ob_cycle_t *cy)
{
    while (cy->conns != NULL) {
        ob_conn_free(cy->conns);
    }
}


/*
 * Hands the buffered input to the protocol and then applies the limits.
 * Also called from the write callback when a paused connection resumes,
 * since requests may have waited in the input buffer meanwhile.
 */
static void
ob_conn_process(ob_conn_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct evbuffer *out = bufferevent_get_output(c->bev);
    ob_cycle_t      *cy = c->cycle;
    size_t           outlen;
    int              rc;

    if (c->state != OB_CONN_READING || evbuffer_get_length(in) == 0) {
        return;
    }

    rc = c->proto->on_read(c->session, c, in);
    if (rc == OB_DONE) {
        ob_conn_close(c, 1);
        return;
    }
    if (rc != OB_OK) {
        ob_conn_close(c, 0);
        return;
    }
    if (c->state != OB_CONN_READING) {
        return;                         /* the module closed it */
    }

    if (evbuffer_get_length(in) >= c->max_input) {
        ob_log_warning(&cy->log, "%s: closing %s (conn %llu): input buffer "
                       "limit of %zu bytes reached", c->proto->name, c->peer,
                       (unsigned long long) c->id, c->max_input);
        ob_conn_close(c, 0);
        return;
    }

    outlen = evbuffer_get_length(out);
    if (cy->output_hard != 0 && outlen > cy->output_hard) {
        ob_log_warning(&cy->log, "%s: closing %s (conn %llu): %zu bytes of "
                       "replies pending, over output_buffer_hard",
                       c->proto->name, c->peer, (unsigned long long) c->id,
                       outlen);
        ob_conn_close(c, 0);
        return;
    }
    if (cy->output_soft != 0 && outlen > cy->output_soft) {
        c->out_paused = 1;
        bufferevent_disable(c->bev, EV_READ);
    }
}


static void
ob_conn_read_cb(struct bufferevent *bev, void *arg)
{
    (void) bev;
    ob_conn_process(arg);
}


/* Called when the output has drained below the write low watermark. */
static void
ob_conn_write_cb(struct bufferevent *bev, void *arg)
{
    ob_conn_t *c = arg;

    if (c->state == OB_CONN_FLUSHING) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
            ob_conn_close(c, 0);
        }
        return;
    }

    if (c->out_paused && c->state == OB_CONN_READING) {
        c->out_paused = 0;
        if (!c->module_paused) {
            bufferevent_enable(bev, EV_READ);
            ob_conn_process(c);
        }
    }
}


static void
ob_conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    ob_conn_t *c = arg;

    (void) bev;
    if (what & BEV_EVENT_TIMEOUT) {
        ob_log_info(&c->cycle->log, "%s: closing idle connection %s "
                    "(conn %llu)", c->proto->name, c->peer,
                    (unsigned long long) c->id);
    } else if ((what & BEV_EVENT_ERROR) && errno != ECONNRESET) {
        ob_log_debug(&c->cycle->log, "%s: connection %s: %s",
                     c->proto->name, c->peer, strerror(errno));
    }
    /* EOF, error or timeout: the peer can no longer be served. */
    ob_conn_close(c, 0);
}


void
ob_conn_pause_read(ob_conn_t *c, int pause)
{
    if (c->state != OB_CONN_READING) {
        return;
    }
    c->module_paused = pause != 0;
    if (pause) {
        bufferevent_disable(c->bev, EV_READ);
    } else if (!c->out_paused) {
        bufferevent_enable(c->bev, EV_READ);
        /* Requests may be waiting in the buffer; run them from the loop,
         * not from inside the module's own call. */
        bufferevent_trigger(c->bev, EV_READ,
                            BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
    }
}


struct evbuffer *
ob_conn_output(ob_conn_t *c)
{
    return bufferevent_get_output(c->bev);
}


uint64_t
ob_conn_id(const ob_conn_t *c)
{
    return c->id;
}


const char *
ob_conn_peer(const ob_conn_t *c)
{
    return c->peer;
}


struct ob_cycle_s *
ob_conn_cycle(const ob_conn_t *c)
{
    return c->cycle;
}
