/*
 * ob_conn.h: listeners and client connections, the part of the reactor that
 * a protocol module sees.
 *
 * A module describes its wire protocol with one ob_proto_t and asks the core
 * to listen for it (or to connect out, ob_conn_connect).  The core owns the
 * sockets, the buffers and their limits; the module only ever sees bytes:
 *
 *   accept -> session_new -> on_read (each time bytes arrive) -> on_close
 *
 * on_read gets the connection's input buffer, consumes (drains) complete
 * requests, leaves a partial one in place, and appends replies with
 * ob_conn_add / ob_conn_add_ref (or to ob_conn_output()).  It never reads or
 * writes the socket and never frees the connection: to end it, it returns
 * OB_DONE (close once the replies are written) or OB_ERR (close now), or
 * calls ob_conn_close().  The core frees connections only after callbacks
 * return.
 *
 * Work per event is bounded by the module, with the core's help (memcached's
 * reqs_per_event and conn_yields): on_read handles at most
 * ob_conn_reqs_per_event() requests, and stops as soon as
 * ob_conn_is_output_full(); it then returns OB_BUSY.  The core writes the
 * output and calls on_read again on a later loop pass (after other
 * connections had their turn), or, if the output stays above the soft
 * limit, once it has drained to half of it; it does so even if no new byte
 * arrives.  While a connection has yielded or is over the soft limit, its
 * socket is not read.
 *
 * Limits, all from the core section of the configuration:
 *   - max_connections: a connection over it is sent proto->reject_reply and
 *     closed at once; the others are not affected.
 *   - max_input_buffer (or proto->max_input when smaller): a connection
 *     whose unparsed input reaches it (and whose module has consumed what
 *     it could, i.e. returned OB_OK) is closed.
 *   - output_buffer_soft: pending output (copied and referenced) above it
 *     stops the connection's reading and handling until it drains to half.
 *   - output_buffer_hard: COPIED pending output above it closes the
 *     connection.  Referenced bytes (ob_conn_add_ref) point into memory the
 *     module owns and already counts (cache items), so they are bounded by
 *     the soft limit and the module's budget, not here.
 *   - idle_timeout: a connection that makes no progress for that long is
 *     closed.  Progress is a request consumed or output bytes written; a
 *     byte that arrives without completing anything is not progress, so a
 *     slow-loris client is closed on time.
 */
#ifndef OB_CONN_H
#define OB_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <event2/buffer.h>
#include "ob_core.h"

struct ob_cycle_s;

typedef struct ob_conn_s     ob_conn_t;
typedef struct ob_listener_s ob_listener_t;

typedef struct ob_proto_s {
    const char *name;            /* "memcache", "resp", "amqp": for logs */
    const char *reject_reply;    /* sent over max_connections, or NULL */
    size_t      max_input;       /* 0: core.max_input_buffer */

    /* Creates the per-connection session; `ctx` is what the module passed
     * to ob_listen_*.  NULL refuses the connection (it is closed). */
    void *(*session_new)(ob_conn_t *c, void *ctx);

    /* Consumes complete requests from `in`.  Returns OB_OK (every complete
     * request handled), OB_BUSY (yielded: output full or reqs_per_event
     * reached; call again even without new input), OB_DONE (close after
     * the output is written) or OB_ERR (close now). */
    int   (*on_read)(void *session, ob_conn_t *c, struct evbuffer *in);

    /* The connection is going away (peer closed, limit hit, shutdown):
     * free the session.  The output can no longer be written; referenced
     * output has already been released. */
    void  (*on_close)(void *session, ob_conn_t *c);

    /* Optional: the pending output fell to or below the mark set with
     * ob_conn_set_drain_mark after having been above it (AMQP prefetch,
     * replica streams, slow subscribers resume producing here). */
    void  (*on_drain)(void *session, ob_conn_t *c);

    /* Optional, outbound connections only (ob_conn_connect): the connect
     * finished.  error is 0 on success, else an errno value, after which
     * the connection is closed (on_close follows). */
    void  (*on_connect)(void *session, ob_conn_t *c, int error);
} ob_proto_t;

/*
 * Listens on every address of `addrs` (comma-separated, IPv4 or IPv6, as in
 * core.listen) at `port` for `proto`.  IPv6 sockets are IPv6-only, so
 * "0.0.0.0,::" binds both families.  Port 0 picks a free port: *bound_port
 * (if not NULL) gets the port of the first address.  Returns OB_ERR with err
 * naming the address when any bind fails.
 */
int ob_listen_tcp(struct ob_cycle_s *cy, const ob_proto_t *proto, void *ctx,
                  const char *addrs, int port, int *bound_port /* OUT */,
                  ob_err_t *err);

/* Listens on a unix socket at `path` (a stale socket file is replaced),
 * with permissions `mode` (e.g. 0700). */
int ob_listen_unix(struct ob_cycle_s *cy, const ob_proto_t *proto, void *ctx,
                   const char *path, int mode, ob_err_t *err);

/* Closes every listener that was opened with `ctx` (a module's stop). */
void ob_listen_close_ctx(struct ob_cycle_s *cy, void *ctx);

/* The buffer replies are appended to.  borrowed.  Prefer ob_conn_add*,
 * which check the limits and the result of every append. */
struct evbuffer *ob_conn_output(ob_conn_t *c);

typedef void (*ob_conn_release_pt)(void *arg);

/*
 * Appends `len` bytes at `data` to the output WITHOUT copying.  release(arg)
 * is called exactly once: when those bytes have been written, or when the
 * connection is freed (before on_close).  Referenced bytes count toward the
 * soft limit (stop reading/handling) but not toward output_buffer_hard,
 * which bounds copied memory.  OB_ERR: nothing was appended, release was
 * NOT called (the caller still holds its reference), and the connection is
 * already closing: its pending output is discarded, so a partial reply is
 * never sent.
 */
int ob_conn_add_ref(ob_conn_t *c, const void *data, size_t len,
                    ob_conn_release_pt release, void *arg);

/* Copies len bytes to the output; OB_ERR as above (connection closing,
 * output discarded): over output_buffer_hard, out of memory, or the
 * connection was already closing. */
int ob_conn_add(ob_conn_t *c, const void *data, size_t len);

/* 1 when pending output (copied + referenced) is above output_buffer_soft:
 * a module stops handling requests and returns OB_BUSY from on_read. */
int ob_conn_is_output_full(const ob_conn_t *c);

/* core.reqs_per_event (memcached's -R, at least 1): requests a module
 * handles per on_read call before it yields with OB_BUSY. */
unsigned ob_conn_reqs_per_event(const ob_conn_t *c);

/* Calls proto->on_drain once the pending output falls to or below `bytes`
 * after having been above it; 0 turns it off. */
void ob_conn_set_drain_mark(ob_conn_t *c, size_t bytes);

/* Pending output bytes (copied + referenced), and the referenced part. */
size_t ob_conn_output_pending(const ob_conn_t *c);
size_t ob_conn_output_referenced(const ob_conn_t *c);

/*
 * Connects to host:port (numeric address, or a name resolved with
 * getaddrinfo, which may block: resolve names outside the hot path) without
 * blocking.  session_new(c, ctx) is called at once, so replies can be
 * queued before the connect completes; proto->on_connect then reports the
 * outcome.  The connection has the same buffers and limits as an accepted
 * one (idle_timeout included) and counts in conns_current, but not against
 * max_connections.  timeout_ms bounds the connect (0: none).  Returns the
 * connection (borrowed: the core frees it), or NULL with err set when the
 * connect failed at once.
 */
ob_conn_t *ob_conn_connect(struct ob_cycle_s *cy, const ob_proto_t *proto,
                           void *ctx, const char *host, int port,
                           int timeout_ms, ob_err_t *err);

/* Starts writing what was appended to the output outside on_read (a reply
 * that a timer or another connection produced).  After on_read the core
 * does this itself. */
void ob_conn_flush(ob_conn_t *c);

/*
 * Holds the connection's output: replies are appended as usual but nothing
 * is written to the socket until the hold is released (hold 0), which
 * writes at once.  Redis's group commit: the store holds the replies of
 * writes until the append-only file has them on disk, then releases every
 * held connection together.  The output limits still apply to what
 * accumulates; a held connection that closes discards its output.
 */
void ob_conn_hold_output(ob_conn_t *c, int hold);

/* Ends the connection: at once, or after the pending output is written
 * (flush != 0; an outbound connection still connecting closes at once).
 * Safe to call from anywhere; the free is deferred. */
void ob_conn_close(ob_conn_t *c, int flush);

/* Stops or resumes handing the connection's input to the module (e.g. a
 * client blocked on a list pop, or an AMQP connection under flow control).
 * While paused the socket is still read into the input buffer, up to the
 * input limit (over it the connection is closed), so that a peer that
 * closes is noticed; resuming hands the module what waited meanwhile. */
void ob_conn_pause_read(ob_conn_t *c, int pause);

/* Stops or resumes reading the SOCKET itself: unlike ob_conn_pause_read
 * nothing more is read into the input, so the peer meets TCP's
 * back-pressure and costs no memory however much it sends (RabbitMQ's
 * blocked publisher).  A peer that closes meanwhile is noticed once
 * reading resumes.  Resuming hands the module what was already in the
 * input. */
void ob_conn_stop_read(ob_conn_t *c, int stop);

uint64_t                ob_conn_id(const ob_conn_t *c);
const char             *ob_conn_peer(const ob_conn_t *c);   /* "127.0.0.1:51234" or "unix" */
struct ob_cycle_s      *ob_conn_cycle(const ob_conn_t *c);

#endif /* OB_CONN_H */
