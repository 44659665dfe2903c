/*
 * ob_conn_int.h: the connection and listener structs, private to core/.
 * Modules see only the opaque types and the functions in ob_conn.h.
 */
#ifndef OB_CONN_INT_H
#define OB_CONN_INT_H

#include <stdint.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include "ob_conn.h"

typedef enum {
    OB_CONN_READING = 0,     /* normal: reading, parsing, replying */
    OB_CONN_FLUSHING,        /* no more reading; freed once the output is written */
    OB_CONN_CLOSING          /* waiting for the reap event to free it */
} ob_conn_state_t;

struct ob_conn_s {
    struct ob_cycle_s   *cycle;
    const ob_proto_t    *proto;
    void                *session;       /* the module's, from session_new */
    evutil_socket_t      fd;
    struct event        *rev;           /* readable, or idle for idle_timeout */
    struct event        *wev;           /* writable: only while output is pending */
    struct evbuffer     *in;            /* bytes read, not yet consumed */
    struct evbuffer     *out;           /* replies not yet written */
    uint64_t             id;            /* unique in this process, from 1 */
    ob_conn_state_t      state;
    unsigned             reading:1;     /* rev is added */
    unsigned             writing:1;     /* wev is added */
    unsigned             out_paused:1;  /* reading stopped: output above soft limit */
    unsigned             module_paused:1; /* reading stopped by ob_conn_pause_read */
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
    struct event          *resume_ev;   /* re-enables accept after EMFILE */
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

/* Takes an accepted socket (ob_listen.c -> ob_conn.c). */
void ob_conn_accept(ob_listener_t *ls, evutil_socket_t fd, const char *peer);

#endif /* OB_CONN_INT_H */
