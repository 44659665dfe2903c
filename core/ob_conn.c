/*
 * ob_conn.c: client connections on plain libevent events and evbuffers,
 * and their limits.
 *
 * A connection's life, as the reactor drives it:
 *
 *   ACCEPTED   -> READING     [ob_conn_accept: session_new]
 *   (connect)  -> CONNECTING  [ob_conn_connect: session_new]
 *   CONNECTING -> READING     [ob_conn_write_cb: SO_ERROR 0, on_connect]
 *   CONNECTING -> CLOSING     [connect failed or timed out, on_connect(err)]
 *   READING    -> READING     [ob_conn_read_cb: read, proto->on_read, write]
 *   READING    -> YIELDED     [on_read returned OB_BUSY: not read; yev]
 *   YIELDED    -> READING     [ob_conn_yield_cb: on_read again, next pass]
 *   READING    -> PAUSED      [output above output_soft, or the module asks]
 *   PAUSED     -> READING     [ob_conn_write_cb: output drained to half]
 *   any        -> FLUSHING    [on_read returned OB_DONE, ob_conn_close(c, 1),
 *                              graceful shutdown (a yielded connection
 *                              first answers what it has received)]
 *   FLUSHING   -> CLOSING     [ob_conn_write_cb: output empty]
 *   any        -> CLOSING     [OB_ERR, EOF, error, idle timeout, a limit,
 *                              a failed append]
 *   CLOSING    -> freed       [ob_conn_reap: output released, on_close,
 *                              io->close]
 *
 * (YIELDED and PAUSED are flags on READING, not states: a connection can
 * be both.)  The socket is read only in READING with neither flag, so a
 * client cannot make us buffer more while we hold its replies.
 *
 * Why not bufferevents: a bufferevent re-arms its write event for every
 * reply and asks the kernel how much there is to read before each read, so
 * one small request cost five system calls.  Here a request costs what it
 * costs memcached: one read, and one write attempted at once after the
 * requests are handled.  The write event is armed only when the socket
 * could not take everything; the read event stays armed (persistent).
 *
 * Idle time is a separate timer (tev), not the read event's timeout, for
 * two reasons: a paused connection is not being read but must keep its
 * deadline, and libevent restarts a read timeout on every readable byte,
 * which a slow-loris client (one byte a second of a request that never
 * ends) uses to live forever.  The timer is armed once for idle_timeout;
 * progress (a request consumed, output bytes written) only stamps
 * c->progress with the loop's cached time, and when the timer fires it
 * either closes the connection or re-arms for what is left: no timer
 * operation per request.
 *
 * Output is one evbuffer holding copied chains (ob_conn_add) and reference
 * chains (ob_conn_add_ref, evbuffer_add_reference) whose cleanup callback
 * releases the module's reference; out_ref counts the referenced bytes
 * until their chain is freed (written in full, or the connection freed).
 * A partly written reference chain still counts in full, so the copied
 * figure (length - out_ref, floored at 0) may read low by the written part
 * of one chain: the hard limit is never hit early, only slightly late.
 *
 * A callback never frees the connection it runs for: it marks it CLOSING
 * and activates the cycle's reap event, which frees every marked
 * connection after the current callbacks have returned (redis's
 * freeClientAsync).
 */
#include "ob_conn.h"
#include "ob_conn_int.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

/* One ob_conn_add_ref: what its chain's cleanup must release. */
typedef struct ob_conn_ref_s {
    ob_conn_t          *conn;
    ob_conn_release_pt  release;
    void               *arg;
    size_t              len;
} ob_conn_ref_t;


static void ob_conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void ob_conn_write_cb(evutil_socket_t fd, short what, void *arg);
static void ob_conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void ob_conn_yield_cb(evutil_socket_t fd, short what, void *arg);
static void ob_conn_process(ob_conn_t *c);


/* The plain transport: the socket itself. */

static ssize_t
ob_conn_plain_read(ob_conn_t *c, struct iovec *iov, int iovcnt)
{
    return readv(c->fd, iov, iovcnt);
}


static ssize_t
ob_conn_plain_write(ob_conn_t *c, struct evbuffer *out)
{
    return evbuffer_write(out, c->fd);
}


static void
ob_conn_plain_close(ob_conn_t *c)
{
    evutil_closesocket(c->fd);
}


const ob_conn_io_t ob_conn_io_plain = {
    "plain", ob_conn_plain_read, ob_conn_plain_write, ob_conn_plain_close
};


/* Copied bytes pending: what output_buffer_hard bounds. */
static size_t
ob_conn_out_copied(const ob_conn_t *c)
{
    size_t len = evbuffer_get_length(c->out);

    return len > c->out_ref ? len - c->out_ref : 0;
}


static void
ob_conn_progress(ob_conn_t *c)
{
    event_base_gettimeofday_cached(c->cycle->base, &c->progress);
}


/* Arms the idle timer for `sec` seconds and `usec` microseconds. */
static int
ob_conn_timer_arm(ob_conn_t *c, long sec, long usec)
{
    struct timeval tv;

    tv.tv_sec = sec;
    tv.tv_usec = usec;
    return event_add(c->tev, &tv) == 0 ? OB_OK : OB_ERR;
}


/* Marks the connection CLOSING after a failure of ours (an event that
 * cannot be added, an append that failed): nothing half-built goes out. */
static void
ob_conn_fail(ob_conn_t *c, const char *what)
{
    ob_log_warning(&c->cycle->log, "%s: closing %s (conn %llu): %s",
                   c->proto->name, c->peer, (unsigned long long) c->id, what);
    ob_conn_close(c, 0);
}


/* Arms or disarms the read event. */
static void
ob_conn_set_reading(ob_conn_t *c, int on)
{
    if (on && !c->reading) {
        if (event_add(c->rev, NULL) != 0) {
            ob_conn_fail(c, "cannot add the read event");
            return;
        }
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
        if (event_add(c->wev, NULL) != 0) {
            ob_conn_fail(c, "cannot add the write event");
            return;
        }
        c->writing = 1;
    } else if (!on && c->writing) {
        event_del(c->wev);
        c->writing = 0;
    }
}


/* Reads only in READING with no reason to hold the client back, and not
 * once shutdown has begun.  A connection the module paused is still read
 * (into its input, up to the input limit) so that a peer that goes away
 * is noticed at once, as Redis notices a blocked client's disconnect; its
 * requests wait in the input until the module resumes it. */
static void
ob_conn_update_reading(ob_conn_t *c)
{
    ob_conn_set_reading(c, c->state == OB_CONN_READING && !c->out_paused
                           && !c->yielded && !c->module_stopped
                           && !c->cycle->draining);
}


/* Runs ob_conn_process on a later loop pass.  A zero timeout, not
 * event_active: an active event would run in this same pass, before the
 * kernel is polled again, so a client with a long pipeline could keep the
 * loop to itself. */
static void
ob_conn_schedule(ob_conn_t *c)
{
    struct timeval zero = { 0, 0 };

    if (event_add(c->yev, &zero) != 0) {
        ob_conn_fail(c, "cannot add the yield event");
    }
}


/* Makes a connection around socket `fd` and links it into the cycle;
 * NULL when out of memory (the socket is then closed). */
static ob_conn_t *
ob_conn_new(ob_cycle_t *cy, const ob_proto_t *p, evutil_socket_t fd,
            const char *peer)
{
    ob_conn_t *c;
    size_t     max_input;

    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        evutil_closesocket(fd);
        return NULL;
    }
    c->cycle = cy;
    c->proto = p;
    c->io = &ob_conn_io_plain;
    c->fd = fd;
    c->state = OB_CONN_READING;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);

    c->in = evbuffer_new();
    c->out = evbuffer_new();
    c->rev = event_new(cy->base, fd, EV_READ | EV_PERSIST, ob_conn_read_cb, c);
    c->wev = event_new(cy->base, fd, EV_WRITE | EV_PERSIST, ob_conn_write_cb,
                       c);
    c->tev = evtimer_new(cy->base, ob_conn_timer_cb, c);
    c->yev = evtimer_new(cy->base, ob_conn_yield_cb, c);
    if (c->in == NULL || c->out == NULL || c->rev == NULL || c->wev == NULL
        || c->tev == NULL || c->yev == NULL)
    {
        if (c->in != NULL) evbuffer_free(c->in);
        if (c->out != NULL) evbuffer_free(c->out);
        if (c->rev != NULL) event_free(c->rev);
        if (c->wev != NULL) event_free(c->wev);
        if (c->tev != NULL) event_free(c->tev);
        if (c->yev != NULL) event_free(c->yev);
        evutil_closesocket(fd);
        free(c);
        return NULL;
    }

    max_input = cy->max_input;
    if (p->max_input != 0 && p->max_input < max_input) {
        max_input = p->max_input;
    }
    c->max_input = max_input;
    c->id = ++cy->next_conn_id;
    ob_conn_progress(c);

    c->next = cy->conns;
    if (cy->conns != NULL) {
        cy->conns->prev = c;
    }
    cy->conns = c;
    cy->stats.conns_current++;
    return c;
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

    /* A blocking socket would stall the whole reactor on one client. */
    if (evutil_make_socket_nonblocking(fd) != 0
        || evutil_make_socket_closeonexec(fd) != 0)
    {
        ob_log_warning(&cy->log, "%s: refused %s: cannot make the socket "
                       "non-blocking", p->name, peer);
        evutil_closesocket(fd);
        return;
    }

    c = ob_conn_new(cy, p, fd, peer);
    if (c == NULL) {
        ob_log_warning(&cy->log, "%s: refused %s: out of memory", p->name,
                       peer);
        return;
    }
    cy->stats.conns_total++;

    if (cy->idle_timeout > 0
        && ob_conn_timer_arm(c, cy->idle_timeout, 0) != OB_OK)
    {
        ob_conn_fail(c, "cannot add the idle timer");
        return;
    }
    c->session = p->session_new(c, ls->ctx);
    if (c->session == NULL) {
        ob_conn_close(c, 0);
        return;
    }
    ob_conn_update_reading(c);
}


void
ob_conn_close(ob_conn_t *c, int flush)
{
    if (c->state == OB_CONN_CLOSING) {
        return;
    }
    c->yielded = 0;
    ob_conn_set_reading(c, 0);
    event_del(c->yev);

    if (flush && c->state != OB_CONN_CONNECTING
        && evbuffer_get_length(c->out) > 0)
    {
        /* The write callback closes once the output is written. */
        c->state = OB_CONN_FLUSHING;
        ob_conn_set_writing(c, 1);
        if (c->state == OB_CONN_FLUSHING) {
            return;
        }
    }

    c->state = OB_CONN_CLOSING;
    ob_conn_set_writing(c, 0);
    event_del(c->tev);
    event_active(c->cycle->reap_ev, EV_READ, 0);
}


/*
 * Frees one connection.  The output goes first, so that every reference
 * is released while the module's session still exists; then the session,
 * then the socket.
 */
static void
ob_conn_free(ob_conn_t *c)
{
    ob_cycle_t *cy = c->cycle;

    event_free(c->rev);
    event_free(c->wev);
    event_free(c->tev);
    event_free(c->yev);
    evbuffer_free(c->out);
    c->out = NULL;
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
    evbuffer_free(c->in);
    c->io->close(c);
    free(c);
}


void
ob_conn_reap(ob_cycle_t *cy)
{
    ob_conn_t *c, *next;
    int        freed = 0;

    for (c = cy->conns; c != NULL; c = next) {
        next = c->next;
        if (c->state == OB_CONN_CLOSING) {
            ob_conn_free(c);
            freed = 1;
        }
    }
    if (freed) {
        /* A descriptor came back: accepting may resume. */
        ob_listen_conn_closed(cy);
    }
    if (cy->draining && cy->conns == NULL) {
        event_base_loopexit(cy->base, NULL);
    }
}


void
ob_conn_close_all(ob_cycle_t *cy)
{
    while (cy->conns != NULL) {
        ob_conn_free(cy->conns);
    }
    if (cy->drain_ev != NULL) {
        event_free(cy->drain_ev);
        cy->drain_ev = NULL;
    }
}


/* Notes that the output went above the drain mark. */
static void
ob_conn_note_output(ob_conn_t *c)
{
    if (c->drain_mark != 0 && evbuffer_get_length(c->out) > c->drain_mark) {
        c->above_mark = 1;
    }
}


/*
 * Writes what the socket takes now.  Whatever is left arms the write
 * event; then the output limits apply: copied bytes above
 * output_buffer_hard close the connection; all bytes above
 * output_buffer_soft stop its reading and handling until the output
 * drains to half.  Returns OB_ERR if the connection was closed.
 */
static int
ob_conn_write_now(ob_conn_t *c)
{
    ob_cycle_t *cy = c->cycle;
    size_t      left;
    ssize_t     n;

    if (c->state == OB_CONN_CONNECTING) {
        return OB_OK;                   /* written once connected */
    }
    if (c->held && c->state != OB_CONN_CLOSING) {
        return OB_OK;                   /* written when released */
    }
    if (evbuffer_get_length(c->out) > 0) {
        n = c->io->write(c, c->out);
        if (n > 0) {
            cy->stats.bytes_out += (uint64_t) n;
            ob_conn_progress(c);
        } else if (n < 0 && !OB_CONN_RETRIABLE(errno)) {
            ob_log_debug(&cy->log, "%s: connection %s: write: %s",
                         c->proto->name, c->peer, strerror(errno));
            ob_conn_close(c, 0);
            return OB_ERR;
        }
    }

    left = evbuffer_get_length(c->out);
    ob_conn_set_writing(c, left > 0);
    if (c->state == OB_CONN_CLOSING) {
        return OB_ERR;
    }
    if (left == 0) {
        return OB_OK;
    }

    if (cy->output_hard != 0 && ob_conn_out_copied(c) > cy->output_hard) {
        ob_log_warning(&cy->log, "%s: closing %s (conn %llu): %zu bytes of "
                       "replies pending, over output_buffer_hard",
                       c->proto->name, c->peer, (unsigned long long) c->id,
                       ob_conn_out_copied(c));
        ob_conn_close(c, 0);
        return OB_ERR;
    }
    if (cy->output_soft != 0 && left > cy->output_soft && !c->out_paused) {
        c->out_paused = 1;
        ob_conn_update_reading(c);
    }
    return OB_OK;
}


/* Writes what it can, then finishes a FLUSHING connection whose output
 * is all written.  Returns OB_OK while the connection lives on (and is
 * not flushing). */
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
 * Calls on_drain when the output has fallen to the mark after being above
 * it.  Output that on_drain adds is written at once; if that leaves the
 * output above the mark and then below it again without a write event to
 * notice, the check runs again on the next loop pass.
 */
static void
ob_conn_check_drain(ob_conn_t *c)
{
    if (!c->above_mark || c->in_drain || c->proto->on_drain == NULL
        || (c->state != OB_CONN_READING && c->state != OB_CONN_FLUSHING)
        || evbuffer_get_length(c->out) > c->drain_mark)
    {
        return;
    }
    c->above_mark = 0;
    c->in_drain = 1;
    c->proto->on_drain(c->session, c);
    c->in_drain = 0;
    if (c->state == OB_CONN_CLOSING) {
        return;
    }
    ob_conn_note_output(c);
    if (ob_conn_write_and_settle(c) != OB_OK) {
        return;
    }
    if (c->above_mark && evbuffer_get_length(c->out) <= c->drain_mark) {
        ob_conn_schedule(c);
    }
}


/*
 * Hands the buffered input to the protocol, then writes the replies.
 * Also runs when a paused connection resumes and after a yield, since
 * requests may wait in the input buffer with no new byte to come.
 */
static void
ob_conn_process(ob_conn_t *c)
{
    size_t before;
    int    rc;

    if (c->state != OB_CONN_READING || c->out_paused || c->module_paused) {
        return;
    }

    before = evbuffer_get_length(c->in);
    if (before > 0 || c->yielded) {
        c->yielded = 0;
        rc = c->proto->on_read(c->session, c, c->in);
        if (evbuffer_get_length(c->in) < before) {
            ob_conn_progress(c);
        }
        if (rc == OB_BUSY) {
            c->yielded = c->state == OB_CONN_READING;
            if (c->yielded) {
                c->cycle->stats.conn_yields++;
            }
        } else if (rc == OB_DONE) {
            ob_conn_close(c, 1);
        } else if (rc != OB_OK) {
            ob_conn_close(c, 0);
        }
    }
    if (c->state == OB_CONN_CLOSING) {
        return;                         /* nothing more will be written */
    }
    ob_conn_note_output(c);
    if (ob_conn_write_and_settle(c) != OB_OK) {
        return;
    }

    if (c->yielded) {
        /* Over soft, the write callback resumes it at half. */
        if (!c->out_paused) {
            ob_conn_schedule(c);
        }
    } else if (c->cycle->draining) {
        /* Shutting down: every request received is answered; now the
         * replies go out and the connection ends. */
        ob_conn_close(c, 1);
        return;
    } else if (evbuffer_get_length(c->in) >= c->max_input) {
        ob_log_warning(&c->cycle->log, "%s: closing %s (conn %llu): input "
                       "buffer limit of %zu bytes reached", c->proto->name,
                       c->peer, (unsigned long long) c->id, c->max_input);
        ob_conn_close(c, 0);
        return;
    }
    ob_conn_update_reading(c);
    if (c->state != OB_CONN_CLOSING) {
        ob_conn_check_drain(c);
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

    (void) fd;
    (void) what;
    if (c->state != OB_CONN_READING || c->out_paused || c->yielded
        || c->module_stopped)
    {
        ob_conn_update_reading(c);      /* not ours to read now */
        return;
    }

    /* Never read past the input limit: what is there gets parsed first. */
    room = c->max_input - OB_MIN(c->max_input, evbuffer_get_length(c->in));
    room = OB_MIN(room, (size_t) OB_CONN_READ_CHUNK);
    if (room > 0) {
        nvec = evbuffer_reserve_space(c->in, (ev_ssize_t) room, vec, 2);
        if (nvec <= 0) {
            ob_conn_fail(c, "out of memory for input");
            return;
        }
        n = c->io->read(c, (struct iovec *) vec, nvec);
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
        if (evbuffer_commit_space(c->in, vec, n > 0 ? nvec : 0) != 0) {
            ob_conn_fail(c, "cannot commit input");
            return;
        }
        c->cycle->stats.bytes_in += (uint64_t) n;
    }

    if (c->module_paused) {
        /* Held by the module: the input waits, within its limit. */
        if (evbuffer_get_length(c->in) >= c->max_input) {
            ob_log_warning(&c->cycle->log, "%s: closing %s (conn %llu): "
                           "input buffer limit of %zu bytes reached while "
                           "paused", c->proto->name, c->peer,
                           (unsigned long long) c->id, c->max_input);
            ob_conn_close(c, 0);
        }
        return;
    }
    ob_conn_process(c);
}


/* An outbound connect finished (the socket became writable). */
static void
ob_conn_connected(ob_conn_t *c)
{
    ob_cycle_t *cy = c->cycle;
    int         error = 0;
    socklen_t   len = sizeof(error);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) {
        error = errno;
    }
    event_del(c->tev);
    if (error != 0) {
        ob_log_info(&cy->log, "%s: connect to %s: %s", c->proto->name,
                    c->peer, strerror(error));
        if (c->proto->on_connect != NULL) {
            c->proto->on_connect(c->session, c, error);
        }
        ob_conn_close(c, 0);
        return;
    }

    c->state = OB_CONN_READING;
    ob_conn_progress(c);
    if (cy->idle_timeout > 0
        && ob_conn_timer_arm(c, cy->idle_timeout, 0) != OB_OK)
    {
        ob_conn_fail(c, "cannot add the idle timer");
        return;
    }
    if (c->proto->on_connect != NULL) {
        c->proto->on_connect(c->session, c, 0);
    }
    if (c->state != OB_CONN_READING) {
        return;
    }
    ob_conn_process(c);                 /* writes what was queued */
    if (c->state == OB_CONN_READING && !c->writing) {
        ob_conn_update_reading(c);
    }
}


/* The socket can take more output. */
static void
ob_conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
    ob_conn_t *c = arg;

    (void) fd;
    (void) what;
    if (c->state == OB_CONN_CONNECTING) {
        ob_conn_connected(c);
        return;
    }
    if (ob_conn_write_and_settle(c) != OB_OK) {
        if (c->state == OB_CONN_FLUSHING) {
            ob_conn_check_drain(c);
        }
        return;
    }

    if (c->out_paused
        && evbuffer_get_length(c->out) <= c->cycle->output_soft / 2)
    {
        c->out_paused = 0;
        ob_conn_update_reading(c);
        ob_conn_process(c);
        return;
    }
    ob_conn_check_drain(c);
}


/* Idle timeout, or the connect timeout of an outbound connection. */
static void
ob_conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    ob_conn_t      *c = arg;
    ob_cycle_t     *cy = c->cycle;
    struct timeval  now, idle;
    long            left_us;

    (void) fd;
    (void) what;
    if (c->state == OB_CONN_CONNECTING) {
        ob_log_info(&cy->log, "%s: connect to %s: timed out",
                    c->proto->name, c->peer);
        if (c->proto->on_connect != NULL) {
            c->proto->on_connect(c->session, c, ETIMEDOUT);
        }
        ob_conn_close(c, 0);
        return;
    }
    if (cy->idle_timeout <= 0 || c->state == OB_CONN_CLOSING) {
        return;
    }

    event_base_gettimeofday_cached(cy->base, &now);
    timersub(&now, &c->progress, &idle);
    left_us = (long) cy->idle_timeout * 1000000L
              - ((long) idle.tv_sec * 1000000L + (long) idle.tv_usec);
    if (left_us > 0) {
        /* Progress since the timer was armed: wait for the rest. */
        if (ob_conn_timer_arm(c, left_us / 1000000L, left_us % 1000000L)
            != OB_OK)
        {
            ob_conn_fail(c, "cannot add the idle timer");
        }
        return;
    }
    ob_log_info(&cy->log, "%s: closing idle connection %s (conn %llu)",
                c->proto->name, c->peer, (unsigned long long) c->id);
    ob_conn_close(c, 0);
}


static void
ob_conn_yield_cb(evutil_socket_t fd, short what, void *arg)
{
    ob_conn_t *c = arg;

    (void) fd;
    (void) what;
    ob_conn_process(c);
    if (c->state != OB_CONN_CLOSING) {
        ob_conn_check_drain(c);
    }
}


void
ob_conn_flush(ob_conn_t *c)
{
    if (c->state == OB_CONN_CLOSING) {
        return;
    }
    ob_conn_note_output(c);
    if (ob_conn_write_and_settle(c) == OB_OK && !c->in_drain) {
        ob_conn_check_drain(c);
    }
}


void
ob_conn_hold_output(ob_conn_t *c, int hold)
{
    if (hold) {
        c->held = 1;
        return;
    }
    if (!c->held) {
        return;
    }
    c->held = 0;
    ob_conn_flush(c);
}


void
ob_conn_pause_read(ob_conn_t *c, int pause)
{
    if (c->state != OB_CONN_READING) {
        return;
    }
    c->module_paused = pause != 0;
    ob_conn_update_reading(c);
    if (!pause && !c->out_paused && c->state == OB_CONN_READING) {
        /* Requests may be waiting in the buffer; run them from the loop,
         * not from inside the module's own call. */
        ob_conn_schedule(c);
    }
}


void
ob_conn_stop_read(ob_conn_t *c, int stop)
{
    if (c->state != OB_CONN_READING || c->module_stopped == (stop != 0)) {
        return;
    }
    c->module_stopped = stop != 0;
    ob_conn_update_reading(c);
    if (!stop && !c->out_paused && !c->module_paused) {
        /* What arrived before the stop may hold whole requests. */
        ob_conn_schedule(c);
    }
}


/* The cleanup of a reference chain: its bytes are written or dropped. */
static void
ob_conn_ref_done(const void *data, size_t len, void *extra)
{
    ob_conn_ref_t *r = extra;

    (void) data;
    (void) len;
    r->conn->out_ref -= r->len;
    r->release(r->arg);
    free(r);
}


/* Drops all pending output (releasing references) and closes: an append
 * failed, and a reply cut in the middle must never reach the client. */
static int
ob_conn_add_failed(ob_conn_t *c, const char *why)
{
    if (c->out != NULL) {
        evbuffer_drain(c->out, evbuffer_get_length(c->out));
    }
    if (c->state != OB_CONN_CLOSING) {
        ob_conn_fail(c, why);
    }
    return OB_ERR;
}


/* Would `len` more copied bytes cross output_buffer_hard? */
static int
ob_conn_is_over_hard(const ob_conn_t *c, size_t len)
{
    size_t hard = c->cycle->output_hard;

    return hard != 0 && ob_conn_out_copied(c) + len > hard;
}


int
ob_conn_add(ob_conn_t *c, const void *data, size_t len)
{
    if (c->state == OB_CONN_CLOSING) {
        return ob_conn_add_failed(c, "output after close");
    }
    if (ob_conn_is_over_hard(c, len)) {
        return ob_conn_add_failed(c, "replies would cross "
                                     "output_buffer_hard");
    }
    if (evbuffer_add(c->out, data, len) != 0) {
        return ob_conn_add_failed(c, "out of memory for replies");
    }
    ob_conn_note_output(c);
    return OB_OK;
}


int
ob_conn_add_ref(ob_conn_t *c, const void *data, size_t len,
                ob_conn_release_pt release, void *arg)
{
    ob_conn_ref_t *r;

    if (c->state == OB_CONN_CLOSING) {
        return ob_conn_add_failed(c, "output after close");
    }
    if (len == 0) {
        release(arg);                   /* nothing to wait for */
        return OB_OK;
    }
    r = malloc(sizeof(*r));
    if (r == NULL) {
        return ob_conn_add_failed(c, "out of memory for replies");
    }
    r->conn = c;
    r->release = release;
    r->arg = arg;
    r->len = len;
    /* On failure libevent does not call the cleanup: ours to free. */
    if (evbuffer_add_reference(c->out, data, len, ob_conn_ref_done, r) != 0) {
        free(r);
        return ob_conn_add_failed(c, "out of memory for replies");
    }
    c->out_ref += len;
    ob_conn_note_output(c);
    return OB_OK;
}


int
ob_conn_is_output_full(const ob_conn_t *c)
{
    size_t soft = c->cycle->output_soft;

    return soft != 0 && evbuffer_get_length(c->out) > soft;
}


unsigned
ob_conn_reqs_per_event(const ob_conn_t *c)
{
    return c->cycle->reqs_per_event;
}


void
ob_conn_set_drain_mark(ob_conn_t *c, size_t bytes)
{
    c->drain_mark = bytes;
    c->above_mark = 0;
    ob_conn_note_output(c);
}


size_t
ob_conn_output_pending(const ob_conn_t *c)
{
    return evbuffer_get_length(c->out);
}


size_t
ob_conn_output_referenced(const ob_conn_t *c)
{
    return c->out_ref;
}


ob_conn_t *
ob_conn_connect(ob_cycle_t *cy, const ob_proto_t *proto, void *ctx,
                const char *host, int port, int timeout_ms, ob_err_t *err)
{
    struct addrinfo  hints, *res;
    char             portstr[16], peer[64];
    evutil_socket_t  fd;
    ob_conn_t       *c;
    int              rc, one = 1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%d", port);
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        ob_err_set(err, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return NULL;
    }
    fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0) {
        ob_err_set(err, "%s:%d: socket: %s", host, port, strerror(errno));
        freeaddrinfo(res);
        return NULL;
    }
    if (evutil_make_socket_nonblocking(fd) != 0
        || evutil_make_socket_closeonexec(fd) != 0)
    {
        ob_err_set(err, "%s:%d: cannot make the socket non-blocking", host,
                   port);
        evutil_closesocket(fd);
        freeaddrinfo(res);
        return NULL;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    rc = connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc != 0 && errno != EINPROGRESS) {
        ob_err_set(err, "connect to %s:%d: %s", host, port, strerror(errno));
        evutil_closesocket(fd);
        return NULL;
    }

    snprintf(peer, sizeof(peer), "%s:%d", host, port);
    c = ob_conn_new(cy, proto, fd, peer);
    if (c == NULL) {
        ob_err_set(err, "connect to %s: out of memory", peer);
        return NULL;
    }
    c->outbound = 1;
    c->state = OB_CONN_CONNECTING;
    c->session = proto->session_new(c, ctx);
    if (c->session == NULL) {
        ob_conn_close(c, 0);
        ob_err_set(err, "connect to %s: refused by %s", peer, proto->name);
        return NULL;
    }
    /* Writable means connected, or failed: SO_ERROR tells which. */
    ob_conn_set_writing(c, 1);
    if (c->state == OB_CONN_CONNECTING && timeout_ms > 0
        && ob_conn_timer_arm(c, timeout_ms / 1000,
                             (timeout_ms % 1000) * 1000L) != OB_OK)
    {
        ob_conn_fail(c, "cannot add the connect timer");
    }
    if (c->state == OB_CONN_CLOSING) {
        ob_err_set(err, "connect to %s: cannot add events", peer);
        return NULL;
    }
    return c;
}


void
ob_conn_totals(ob_cycle_t *cy, uint64_t *in, uint64_t *out, uint64_t *ref)
{
    const ob_conn_t *c;

    *in = *out = *ref = 0;
    for (c = cy->conns; c != NULL; c = c->next) {
        *in += evbuffer_get_length(c->in);
        *out += evbuffer_get_length(c->out);
        *ref += c->out_ref;
    }
}


static void
ob_conn_drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    ob_cycle_t *cy = arg;
    ob_conn_t  *c;
    unsigned    left = 0;

    (void) fd;
    (void) what;
    for (c = cy->conns; c != NULL; c = c->next) {
        left++;
    }
    ob_log_notice(&cy->log, "shutdown: %u connection(s) still had output "
                  "after %d s (core.shutdown_timeout); dropping it", left,
                  cy->shutdown_timeout);
    event_base_loopexit(cy->base, NULL);
}


int
ob_conn_drain_all(ob_cycle_t *cy, int timeout)
{
    struct timeval  tv;
    ob_conn_t      *c;

    cy->draining = 1;
    for (c = cy->conns; c != NULL; c = c->next) {
        if (c->state == OB_CONN_READING && c->yielded && !c->module_paused) {
            /* In the middle of its received requests (a multiget half
             * answered): it finishes them, unread, then closes
             * (ob_conn_process), so no reply is cut short. */
            ob_conn_update_reading(c);
            continue;
        }
        ob_conn_close(c, 1);
    }
    if (cy->conns == NULL || timeout <= 0) {
        return OB_DONE;
    }
    /* Connections with nothing to write are CLOSING: the reap that frees
     * them also ends the loop once none is left. */
    if (cy->drain_ev == NULL) {
        cy->drain_ev = evtimer_new(cy->base, ob_conn_drain_timeout_cb, cy);
    }
    tv.tv_sec = timeout;
    tv.tv_usec = 0;
    if (cy->drain_ev == NULL || event_add(cy->drain_ev, &tv) != 0) {
        return OB_DONE;
    }
    return OB_OK;
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
