/*
 * ob_listen.c: listening sockets (TCP over IPv4 and IPv6, unix sockets)
 * and the accept path.
 *
 * Sockets are made here rather than by evconnlistener_new_bind so that an
 * IPv6 socket can be IPV6_V6ONLY: "127.0.0.1,::1" then binds two sockets on
 * the same port without the second failing, as memcached's -l list does.
 *
 * When accept() fails for lack of descriptors (EMFILE, ENFILE), libevent
 * would call us in a tight loop while the pending connection stays queued;
 * the listener is instead disabled for a short while and re-enabled by a
 * timer, as memcached's accept_new_conns(false) does.
 */
#include "ob_conn.h"
#include "ob_conn_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "ob_cycle.h"

#define OB_LISTEN_BACKLOG     1024
#define OB_LISTEN_PAUSE_MS    100


/* Writes "addr:port" (IPv6 in brackets) for logs and stats. */
static void
ob_listen_format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        snprintf(buf, len, "unix");
    }
}


static void
ob_listen_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
                    struct sockaddr *sa, int socklen, void *arg)
{
    ob_listener_t *ls = arg;
    char           peer[64];
    int            one = 1;

    (void) evl;
    (void) socklen;
    if (!ls->is_unix) {
        /* Replies are small and latency matters more than packet count. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    ob_listen_format_addr(sa, peer, sizeof(peer));
    ob_conn_accept(ls, fd, peer);
}


static void
ob_listen_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    ob_listener_t *ls = arg;

    (void) fd;
    (void) what;
    evconnlistener_enable(ls->evl);
}


static void
ob_listen_error_cb(struct evconnlistener *evl, void *arg)
{
    ob_listener_t *ls = arg;
    int            err = EVUTIL_SOCKET_ERROR();
    struct timeval tv = { 0, OB_LISTEN_PAUSE_MS * 1000 };

    ob_log_warning(&ls->cycle->log, "%s: accept on %s: %s; pausing accepts "
                   "for %d ms", ls->proto->name, ls->name, strerror(err),
                   OB_LISTEN_PAUSE_MS);
    evconnlistener_disable(evl);
    evtimer_add(ls->resume_ev, &tv);
}


/* Wraps a bound socket in a listener and links it into the cycle. */
static int
ob_listen_add(ob_cycle_t *cy, const ob_proto_t *proto, void *ctx,
              evutil_socket_t fd, const char *name, int is_unix, ob_err_t *err)
{
    ob_listener_t *ls;

    ls = calloc(1, sizeof(*ls));
    if (ls == NULL) {
        evutil_closesocket(fd);
        return ob_err_set(err, "%s: out of memory", name);
    }
    ls->cycle = cy;
    ls->proto = proto;
    ls->ctx = ctx;
    ls->is_unix = is_unix;
    snprintf(ls->name, sizeof(ls->name), "%s", name);

    /* Backlog 0: the socket is already listening. */
    ls->evl = evconnlistener_new(cy->base, ob_listen_accept_cb, ls,
                                 LEV_OPT_CLOSE_ON_FREE, 0, fd);
    ls->resume_ev = evtimer_new(cy->base, ob_listen_resume_cb, ls);
    if (ls->evl == NULL || ls->resume_ev == NULL) {
        if (ls->evl != NULL) {
            evconnlistener_free(ls->evl);
        } else {
            evutil_closesocket(fd);
        }
        if (ls->resume_ev != NULL) {
            event_free(ls->resume_ev);
        }
        free(ls);
        return ob_err_set(err, "%s: cannot listen", name);
    }
    evconnlistener_set_error_cb(ls->evl, ob_listen_error_cb);

    ls->next = cy->listeners;
    cy->listeners = ls;
    ob_log_notice(&cy->log, "%s: listening on %s", proto->name, name);
    return OB_OK;
}


/* Binds and listens on one resolved address; returns the socket, or -1
 * with err set. */
static evutil_socket_t
ob_listen_bind_addr(const struct addrinfo *ai, const char *label,
                    ob_err_t *err)
{
    evutil_socket_t fd;
    int             one = 1;

    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
        ob_err_set(err, "%s: socket: %s", label,
                 strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0
        || listen(fd, OB_LISTEN_BACKLOG) != 0)
    {
        ob_err_set(err, "cannot bind %s: %s", label,
                 strerror(errno));
        evutil_closesocket(fd);
        return -1;
    }
    evutil_make_socket_nonblocking(fd);
    evutil_make_socket_closeonexec(fd);
    return fd;
}


int
ob_listen_bind_all(const char *addrs, int port, ob_bound_pt bound, void *arg,
                   ob_err_t *err)
{
    char                     list[512], *host, *save = NULL;
    char                     portstr[16], label[192];
    struct addrinfo          hints, *res, *ai;
    struct sockaddr_storage  ss;
    socklen_t                sslen;
    evutil_socket_t          fd;
    size_t                   hlen;
    int                      rc, nbound = 0, actual;

    if (snprintf(list, sizeof(list), "%s", addrs) >= (int) sizeof(list)) {
        return ob_err_set(err, "listen address list too long");
    }
    snprintf(portstr, sizeof(portstr), "%d", port);

    for (host = strtok_r(list, ", ", &save); host != NULL;
         host = strtok_r(NULL, ", ", &save))
    {
        /* "[::1]" is accepted as well as "::1". */
        hlen = strlen(host);
        if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
            host[hlen - 1] = '\0';
            host++;
        }

        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        rc = getaddrinfo(host, portstr, &hints, &res);
        if (rc != 0) {
            return ob_err_set(err, "cannot resolve listen "
                     "address '%s': %s", host, gai_strerror(rc));
        }

        for (ai = res; ai != NULL; ai = ai->ai_next) {
            ob_listen_format_addr(ai->ai_addr, label, sizeof(label));
            fd = ob_listen_bind_addr(ai, label, err);
            if (fd < 0) {
                freeaddrinfo(res);
                return OB_ERR;
            }

            /* With port 0 the kernel picked one: report the real one. */
            actual = port;
            sslen = sizeof(ss);
            if (getsockname(fd, (struct sockaddr *) &ss, &sslen) == 0) {
                ob_listen_format_addr((struct sockaddr *) &ss, label,
                                      sizeof(label));
                actual = ntohs(ss.ss_family == AF_INET
                    ? ((struct sockaddr_in *) &ss)->sin_port
                    : ((struct sockaddr_in6 *) &ss)->sin6_port);
            }
            nbound++;
            if (bound(fd, label, actual, arg, err) != OB_OK) {
                freeaddrinfo(res);
                return OB_ERR;
            }
        }
        freeaddrinfo(res);
    }

    if (nbound == 0) {
        return ob_err_set(err, "no listen address given");
    }
    return OB_OK;
}


/* What ob_listen_tcp hands to ob_listen_bind_all for each socket. */
typedef struct ob_listen_tcp_ctx_s {
    ob_cycle_t        *cycle;
    const ob_proto_t  *proto;
    void              *ctx;
    int               *bound_port;
} ob_listen_tcp_ctx_t;


static int
ob_listen_tcp_bound(evutil_socket_t fd, const char *label, int port,
                    void *arg, ob_err_t *err)
{
    ob_listen_tcp_ctx_t *t = arg;

    if (t->bound_port != NULL) {
        *t->bound_port = port;
        t->bound_port = NULL;          /* the first address's port */
    }
    return ob_listen_add(t->cycle, t->proto, t->ctx, fd, label, 0, err);
}


int
ob_listen_tcp(ob_cycle_t *cy, const ob_proto_t *proto, void *ctx,
              const char *addrs, int port, int *bound_port, ob_err_t *err)
{
    ob_listen_tcp_ctx_t t = { cy, proto, ctx, bound_port };

    return ob_listen_bind_all(addrs, port, ob_listen_tcp_bound, &t, err);
}


int
ob_listen_unix(ob_cycle_t *cy, const ob_proto_t *proto, void *ctx,
               const char *path, int mode, ob_err_t *err)
{
    struct sockaddr_un sun;
    evutil_socket_t    fd;
    struct stat        st;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        return ob_err_set(err, "unix socket path too long: %s",
                 path);
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);

    /* A socket file left by a killed server would make bind fail. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(path);
    }

    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        return ob_err_set(err, "%s: socket: %s", path,
                 strerror(errno));
    }
    if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) != 0
        || listen(fd, OB_LISTEN_BACKLOG) != 0)
    {
        ob_err_set(err, "cannot bind %s: %s", path,
                 strerror(errno));
        evutil_closesocket(fd);
        return OB_ERR;
    }
    evutil_make_socket_nonblocking(fd);
    evutil_make_socket_closeonexec(fd);
    if (chmod(path, (mode_t) mode) != 0) {
        ob_err_set(err, "chmod %s: %s", path,
                 strerror(errno));
        evutil_closesocket(fd);
        unlink(path);
        return OB_ERR;
    }
    return ob_listen_add(cy, proto, ctx, fd, path, 1, err);
}


static void
ob_listen_free(ob_listener_t *ls)
{
    evconnlistener_free(ls->evl);
    event_free(ls->resume_ev);
    if (ls->is_unix) {
        unlink(ls->name);
    }
    free(ls);
}


void
ob_listen_close_ctx(ob_cycle_t *cy, void *ctx)
{
    ob_listener_t **pp = &cy->listeners, *ls;

    while ((ls = *pp) != NULL) {
        if (ls->ctx == ctx) {
            *pp = ls->next;
            ob_listen_free(ls);
        } else {
            pp = &ls->next;
        }
    }
}


void
ob_listen_close_all(ob_cycle_t *cy)
{
    ob_listener_t *ls;

    while ((ls = cy->listeners) != NULL) {
        cy->listeners = ls->next;
        ob_listen_free(ls);
    }
}
