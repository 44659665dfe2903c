/*
 * ob_conn.h: listeners and client connections, the part of the reactor that
 * a protocol module sees.
 *
 * A module describes its wire protocol with one ob_proto_t and asks the core
 * to listen for it.  The core owns the sockets, the buffers and their
 * limits; the module only ever sees bytes:
 *
 *   accept -> session_new -> on_read (each time bytes arrive) -> on_close
 *
 * on_read gets the connection's input buffer, consumes (drains) every
 * complete request it finds, leaves a partial one in place, and appends
 * replies to ob_conn_output().  It never reads or writes the socket and
 * never frees the connection: to end it, it returns OB_DONE (close once
 * the replies are written) or OB_ERR (close now), or calls ob_conn_close().
 * The core frees connections only after callbacks return.
 *
 * Limits, all from the core section of the configuration:
 *   - max_connections: a connection over it is sent proto->reject_reply and
 *     closed at once; the others are not affected.
 *   - max_input_buffer (or proto->max_input when smaller): a connection
 *     whose unparsed input reaches it is closed.
 *   - output_buffer_soft: above it the connection is not read until its
 *     replies drain to half of it; output_buffer_hard: above it, closed.
 *   - idle_timeout: a connection that sends nothing for that long is closed.
 */
#ifndef OB_CONN_H
#define OB_CONN_H

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

    /* Consumes complete requests from `in`.  Returns OB_OK, OB_DONE (close
     * after the output is written) or OB_ERR (close now). */
    int   (*on_read)(void *session, ob_conn_t *c, struct evbuffer *in);

    /* The connection is going away (peer closed, limit hit, shutdown):
     * free the session.  The output can no longer be written. */
    void  (*on_close)(void *session, ob_conn_t *c);
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

/* The buffer replies are appended to.  borrowed. */
struct evbuffer *ob_conn_output(ob_conn_t *c);

/* Starts writing what was appended to the output outside on_read (a reply
 * that a timer or another connection produced).  After on_read the core
 * does this itself. */
void ob_conn_flush(ob_conn_t *c);

/* Ends the connection: at once, or after the pending output is written
 * (flush != 0).  Safe to call from anywhere; the free is deferred. */
void ob_conn_close(ob_conn_t *c, int flush);

/* Stops or resumes reading from the connection (e.g. a client blocked on
 * a list pop, or an AMQP connection under flow control). */
void ob_conn_pause_read(ob_conn_t *c, int pause);

uint64_t                ob_conn_id(const ob_conn_t *c);
const char             *ob_conn_peer(const ob_conn_t *c);   /* "127.0.0.1:51234" or "unix" */
struct ob_cycle_s      *ob_conn_cycle(const ob_conn_t *c);

#endif /* OB_CONN_H */
