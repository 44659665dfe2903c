/*
 * ob_conn.c: client connections on plain libevent events and evbuffers,
 * and their limits.
 *
 * A connection's life, as the reactor drives it:
 *
 *   ACCEPTED  -> READING        [ob_conn_accept: session_new]
 *   READING   -> READING        [ob_conn_read_cb: read, proto->on_read, write]
 *   READING   -> PAUSED         [output above output_soft, or the module asks]
 *   PAUSED    -> READING        [ob_conn_write_cb: output drained to half]
 *   any       -> FLUSHING       [on_read returned OB_DONE, ob_conn_close(c, 1)]
 *   FLUSHING  -> CLOSING        [ob_conn_write_cb: output empty]
 *   any       -> CLOSING        [OB_ERR, EOF, error, idle timeout, a limit]
 *   CLOSING   -> freed          [ob_conn_reap: on_close, close(fd)]
 *
 * Why not bufferevents: a bufferevent re-arms its write event for every
 * reply and asks the kernel how much there is to read before each read, so
 * one small request cost five system calls.  Here a request costs what it
 * costs memcached: one read, and one write attempted at once after the
 * requests are handled.  The write event is armed only when the socket
 * could not take everything; the read event stays armed (it is persistent)
 * and also carries the idle timeout, which libevent restarts whenever the
 * socket becomes readable.
 *
 * A callback never frees the connection it runs for: it marks it CLOSING
 * and activates the cycle's reap event, which frees every marked
 * connection after the current callbacks have returned (redis's
 * freeClientAsync).
 */
#include "ob_conn.h"
#include "ob_conn_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "ob_cycle.h"

/* A read or write that failed only for now. */
#define OB_CONN_RETRIABLE(e) ((e) == EAGAIN || (e) == EWOULDBLOCK || (e) == EINTR)

/* Bytes asked of the kernel per read. */
#define OB_CONN_READ_CHUNK  (16 * 1024)


static void ob_conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void ob_conn_write_cb(evutil_socket_t fd, short what, void *arg);


/* Arms or disarms the read event (with the idle timeout). */
static void
ob_conn_set_reading(ob_conn_t *c, int on)
{
    struct timeval tv;

    if (on && !c->reading) {
        tv.tv_sec = c->cycle->idle_timeout;
        tv.tv_usec = 0;
        event_add(c->rev, c->cycle->idle_timeout > 0 ? &tv : NULL);
        c->reading = 1;
    } else if (!on && c->reading) {
        event_del(c->rev);
        c->reading = 0;
    }
}


static void
ob_conn_set_writing(ob_conn_t *c, int on)
{
    if (on && !c->writing) {
        event_add(c->wev, NULL);
        c->writing = 1;
    } else if (!on && c->writing) {
        event_del(c->wev);
        c->writing = 0;
    }
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
    c->fd = fd;
    c->id = ++cy->next_conn_id;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    evutil_make_socket_nonblocking(fd);
    evutil_make_socket_closeonexec(fd);

    c->in = evbuffer_new();
    c->out = evbuffer_new();
    c->rev = event_new(cy->base, fd, EV_READ | EV_PERSIST, ob_conn_read_cb, c);
    c->wev = event_new(cy->base, fd, EV_WRITE | EV_PERSIST, ob_conn_write_cb,
                       c);
    if (c->in == NULL || c->out == NULL || c->rev == NULL || c->wev == NULL) {
        if (c->in != NULL) evbuffer_free(c->in);
        if (c->out != NULL) evbuffer_free(c->out);
        if (c->rev != NULL) event_free(c->rev);
        if (c->wev != NULL) event_free(c->wev);
        evutil_closesocket(fd);
        free(c);
        return;
    }

    max_input = cy->max_input;
    if (p->max_input != 0 && p->max_input < max_input) {
        max_input = p->max_input;
    }
    c->max_input = max_input;

    c->next = cy->conns;
    if (cy->conns != NULL) {
        cy->conns->prev = c;
    }
    cy->conns = c;
    cy->stats.conns_current++;
    cy->stats.conns_total++;

    c->session = p->session_new(c, ls->ctx);
    if (c->session == NULL) {
        ob_conn_close(c, 0);
        return;
    }
    ob_conn_set_reading(c, 1);
}


void
ob_conn_close(ob_conn_t *c, int flush)
{
    if (c->state == OB_CONN_CLOSING) {
        return;
    }
    ob_conn_set_reading(c, 0);

    if (flush && evbuffer_get_length(c->out) > 0) {
        /* The write callback closes once the output is written. */
        c->state = OB_CONN_FLUSHING;
        ob_conn_set_writing(c, 1);
        return;
    }

    c->state = OB_CONN_CLOSING;
    ob_conn_set_writing(c, 0);
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
    event_free(c->rev);
    event_free(c->wev);
    evbuffer_free(c->in);
    evbuffer_free(c->out);
    evutil_closesocket(c->fd);
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
 * Writes what the socket takes now.  Whatever is left arms the write
 * event; then the output limits apply: above output_buffer_hard the
 * connection is closed, above output_buffer_soft it is not read until
 * the output drains to half.  Returns OB_ERR if the connection was closed.
 */
static int
ob_conn_write_now(ob_conn_t *c)
{
    ob_cycle_t *cy = c->cycle;
    size_t      left;
    int         n;

    if (evbuffer_get_length(c->out) > 0) {
        n = evbuffer_write(c->out, c->fd);
        if (n > 0) {
            cy->stats.bytes_out += (uint64_t) n;
        } else if (n < 0 && !OB_CONN_RETRIABLE(errno)) {
            ob_log_debug(&cy->log, "%s: connection %s: write: %s",
                         c->proto->name, c->peer, strerror(errno));
            ob_conn_close(c, 0);
            return OB_ERR;
        }
    }

    left = evbuffer_get_length(c->out);
    ob_conn_set_writing(c, left > 0);
    if (left == 0) {
        return OB_OK;
    }

    if (cy->output_hard != 0 && left > cy->output_hard) {
        ob_log_warning(&cy->log, "%s: closing %s (conn %llu): %zu bytes of "
                       "replies pending, over output_buffer_hard",
                       c->proto->name, c->peer, (unsigned long long) c->id,
                       left);
        ob_conn_close(c, 0);
        return OB_ERR;
    }
    if (cy->output_soft != 0 && left > cy->output_soft && !c->out_paused) {
        c->out_paused = 1;
        ob_conn_set_reading(c, 0);
    }
    return OB_OK;
}


/* Writes what it can, then finishes a FLUSHING connection whose output
 * is all written.  Returns OB_OK while the connection lives on. */
static int
ob_conn_write_and_settle(ob_conn_t *c)
{
    if (ob_conn_write_now(c) != OB_OK) {
        return OB_ERR;
    }
    if (c->state == OB_CONN_FLUSHING) {
        if (evbuffer_get_length(c->out) == 0) {
            ob_conn_close(c, 0);
        }
        return OB_ERR;
    }
    return OB_OK;
}


/*
 * Hands the buffered input to the protocol, then writes the replies.
 * Also runs when a paused connection resumes, since requests may have
 * waited in the input buffer meanwhile.
 */
static void
ob_conn_process(ob_conn_t *c)
{
    int rc;

    if (c->state != OB_CONN_READING || c->out_paused || c->module_paused) {
        return;
    }

    if (evbuffer_get_length(c->in) > 0) {
        rc = c->proto->on_read(c->session, c, c->in);
        if (rc == OB_DONE) {
            ob_conn_close(c, 1);
        } else if (rc != OB_OK) {
            ob_conn_close(c, 0);
        }
    }
    if (c->state == OB_CONN_CLOSING) {
        return;                         /* nothing more will be written */
    }
    if (ob_conn_write_and_settle(c) != OB_OK) {
        return;
    }

    if (evbuffer_get_length(c->in) >= c->max_input) {
        ob_log_warning(&c->cycle->log, "%s: closing %s (conn %llu): input "
                       "buffer limit of %zu bytes reached", c->proto->name,
                       c->peer, (unsigned long long) c->id, c->max_input);
        ob_conn_close(c, 0);
    }
}


static void
ob_conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    ob_conn_t             *c = arg;
    struct evbuffer_iovec  vec[2];
    size_t                 room;
    ssize_t                n;
    int                    nvec;

    if (what & EV_TIMEOUT) {
        ob_log_info(&c->cycle->log, "%s: closing idle connection %s "
                    "(conn %llu)", c->proto->name, c->peer,
                    (unsigned long long) c->id);
        ob_conn_close(c, 0);
        return;
    }

    /* Never read past the input limit: what is there gets parsed first. */
    room = c->max_input - OB_MIN(c->max_input, evbuffer_get_length(c->in));
    room = OB_MIN(room, (size_t) OB_CONN_READ_CHUNK);
    if (room > 0) {
        nvec = evbuffer_reserve_space(c->in, (ev_ssize_t) room, vec, 2);
        if (nvec <= 0) {
            ob_conn_close(c, 0);
            return;
        }
        n = readv(fd, (struct iovec *) vec, nvec);
        if (n == 0) {
            ob_conn_close(c, 0);        /* the peer closed */
            return;
        }
        if (n < 0) {
            if (!OB_CONN_RETRIABLE(errno)) {
                if (errno != ECONNRESET) {
                    ob_log_debug(&c->cycle->log, "%s: connection %s: read: "
                                 "%s", c->proto->name, c->peer,
                                 strerror(errno));
                }
                ob_conn_close(c, 0);
                return;
            }
            n = 0;
        }
        /* Commit exactly what was read, across the reserved vectors. */
        if (n <= (ssize_t) vec[0].iov_len) {
            vec[0].iov_len = (size_t) n;
            nvec = 1;
        } else {
            vec[1].iov_len = (size_t) n - vec[0].iov_len;
        }
        evbuffer_commit_space(c->in, vec, n > 0 ? nvec : 0);
        c->cycle->stats.bytes_in += (uint64_t) n;
    }

    ob_conn_process(c);
}


/* The socket can take more output. */
static void
ob_conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
    ob_conn_t *c = arg;

    (void) fd;
    (void) what;
    if (ob_conn_write_and_settle(c) != OB_OK) {
        return;
    }

    if (c->out_paused
        && evbuffer_get_length(c->out) <= c->cycle->output_soft / 2)
    {
        c->out_paused = 0;
        if (!c->module_paused) {
            ob_conn_set_reading(c, 1);
            ob_conn_process(c);
        }
    }
}


void
ob_conn_flush(ob_conn_t *c)
{
    if (c->state != OB_CONN_CLOSING) {
        (void) ob_conn_write_and_settle(c);
    }
}


void
ob_conn_pause_read(ob_conn_t *c, int pause)
{
    if (c->state != OB_CONN_READING) {
        return;
    }
    c->module_paused = pause != 0;
    if (pause) {
        ob_conn_set_reading(c, 0);
    } else if (!c->out_paused) {
        ob_conn_set_reading(c, 1);
        /* Requests may be waiting in the buffer; run them from the loop,
         * not from inside the module's own call. */
        event_active(c->rev, EV_READ, 0);
    }
}


struct evbuffer *
ob_conn_output(ob_conn_t *c)
{
    return c->out;
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
