/*
 * ob_conn_int.h: the connection and listener structs, private to core/.
 * Modules see only the opaque types and the functions in ob_conn.h.
 */
#ifndef OB_CONN_INT_H
#define OB_CONN_INT_H

#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include "ob_conn.h"

typedef enum {
    OB_CONN_CONNECTING = 0,  /* outbound: waiting for connect() to finish */
    OB_CONN_READING,         /* normal: reading, parsing, replying */
    OB_CONN_FLUSHING,        /* no more reading; freed once the output is written */
    OB_CONN_CLOSING          /* waiting for the reap event to free it */
} ob_conn_state_t;

/*
 * Every socket operation of a connection goes through one of these, so
 * that TLS (bufferevent_openssl's work, done by hand) is added in one
 * place.  The plain one is ob_conn_io_plain.  Results follow the system
 * calls: bytes, 0 on EOF (read), -1 with errno set (EAGAIN: try later).
 */
typedef struct ob_conn_io_s {
    const char *name;                                     /* "plain", "tls" */
    ssize_t   (*read)(ob_conn_t *c, struct iovec *iov, int iovcnt);
    /* Writes from the front of `out` and drains what was written. */
    ssize_t   (*write)(ob_conn_t *c, struct evbuffer *out);
    /* Releases the transport's state and closes the socket. */
    void      (*close)(ob_conn_t *c);
} ob_conn_io_t;

extern const ob_conn_io_t ob_conn_io_plain;

struct ob_conn_s {
    struct ob_cycle_s   *cycle;
    const ob_proto_t    *proto;
    void                *session;       /* the module's, from session_new */
    const ob_conn_io_t  *io;            /* socket operations (plain, TLS) */
    void                *io_data;       /* the transport's own state */
    evutil_socket_t      fd;
    struct event        *rev;           /* readable (persistent) */
    struct event        *wev;           /* writable: only while output is pending */
    struct event        *tev;           /* idle timer; also the connect timeout */
    struct event        *yev;           /* runs on_read again after OB_BUSY */
    struct evbuffer     *in;            /* bytes read, not yet consumed */
    struct evbuffer     *out;           /* replies not yet written */
    size_t               out_ref;       /* bytes of `out` held by reference */
    size_t               drain_mark;    /* on_drain threshold, 0 off */
    struct timeval       progress;      /* last request consumed or byte written */
    uint64_t             id;            /* unique in this process, from 1 */
    ob_conn_state_t      state;
    unsigned             reading:1;     /* rev is added */
    unsigned             writing:1;     /* wev is added */
    unsigned             out_paused:1;  /* output above soft: not read nor handled */
    unsigned             module_paused:1; /* reading stopped by ob_conn_pause_read */
    unsigned             module_stopped:1; /* socket not read: ob_conn_stop_read */
    unsigned             yielded:1;     /* on_read returned OB_BUSY: call it again */
    unsigned             above_mark:1;  /* output went above drain_mark */
    unsigned             in_drain:1;    /* inside on_drain (no recursion) */
    unsigned             outbound:1;    /* made by ob_conn_connect */
    unsigned             held:1;        /* ob_conn_hold_output: not written */
    size_t               max_input;     /* the smaller of core's and the proto's */
    char                 peer[64];      /* "127.0.0.1:51234", "[::1]:5000", "unix" */
    ob_conn_t           *prev, *next;   /* in cycle->conns */
};

struct ob_listener_s {
    struct ob_cycle_s     *cycle;
    const ob_proto_t      *proto;
    void                  *ctx;         /* the module's, passed to session_new */
    struct evconnlistener *evl;
    char                   name[128];   /* "127.0.0.1:11211" or the unix path */
    int                    is_unix;
    unsigned               accepted;    /* since the last yield (accept cap) */
    unsigned               capped:1;    /* disabled until the next loop pass */
    ob_listener_t         *next;        /* in cycle->listeners */
};

/* Called by ob_listen_bind_all with each bound, listening socket; `label`
 * is "addr:port", `port` the port actually bound.  Takes the socket. */
typedef int (*ob_bound_pt)(evutil_socket_t fd, const char *label, int port,
                           void *arg, ob_err_t *err);

/* Binds every address of a core.listen-style list ("127.0.0.1,::1") at
 * `port`, IPv6 sockets IPv6-only, and hands each socket to `bound`.  Shared
 * by the protocol listeners and the admin HTTP listener. */
int ob_listen_bind_all(const char *addrs, int port, ob_bound_pt bound,
                       void *arg, ob_err_t *err);

/*
 * Puts an evconnlistener under the process-wide accept guard: an error
 * callback that, on EMFILE/ENFILE (or any accept error), pauses accepting
 * on EVERY guarded listener, frees the spare descriptor to accept-and-close
 * what waits in the backlog (libuv's trick), logs at most one line a
 * second, counts listen_disabled_num, and re-enables the listeners after a
 * short pause or as soon as a connection closes.  Also used by the admin
 * HTTP listener (evhttp_bound_socket_get_listener).  The listener must be
 * unguarded before it is freed.
 */
int  ob_listen_guard(struct ob_cycle_s *cy, struct evconnlistener *evl);
void ob_listen_unguard(struct ob_cycle_s *cy, struct evconnlistener *evl);

/* A connection closed: a paused guard resumes accepting now. */
void ob_listen_conn_closed(struct ob_cycle_s *cy);

/* Frees the guard's state (spare descriptor, timer); ob_cycle_fini. */
void ob_listen_guard_free(struct ob_cycle_s *cy);

/* Takes an accepted socket (ob_listen.c -> ob_conn.c). */
void ob_conn_accept(ob_listener_t *ls, evutil_socket_t fd, const char *peer);

/* Totals over every open connection, for /stats. */
void ob_conn_totals(struct ob_cycle_s *cy, uint64_t *in /* OUT */,
                    uint64_t *out /* OUT */, uint64_t *ref /* OUT */);

/*
 * Graceful shutdown: every connection stops reading and is closed once its
 * output is written (one that yielded first answers the requests it has
 * already received, so no reply is cut short); after `timeout` seconds (or when none is left) the
 * loop exits and ob_cycle_fini frees the rest.  Returns OB_OK when the loop
 * should keep running to drain, OB_DONE when there was nothing to drain.
 */
int  ob_conn_drain_all(struct ob_cycle_s *cy, int timeout);

#endif /* OB_CONN_INT_H */
