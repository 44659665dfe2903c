/*
 * ob_listen.c: listening sockets (TCP over IPv4 and IPv6, unix sockets)
 * and the accept path.
 *
 * Sockets are made here rather than by evconnlistener_new_bind so that an
 * IPv6 socket can be IPV6_V6ONLY: "127.0.0.1,::1" then binds two sockets on
 * the same port without the second failing, as memcached's -l list does.
 *
 * The accept guard.  When accept() fails for lack of descriptors (EMFILE,
 * ENFILE), libevent's listener stays enabled and level-triggered, so it
 * would call us on every loop pass while the connection waits in the
 * backlog: a 100% CPU spin that also logged a line per pass.  Instead:
 *
 *   accept error -> spare descriptor closed, the backlog accepted and
 *                   closed at once (libuv's trick: clients see a fast close
 *                   rather than a hang), spare reopened
 *                -> EVERY guarded listener disabled (nginx), counted in
 *                   listen_disabled_num (memcached), one log line a second
 *                   at most
 *   100 ms later, or as soon as a connection is freed -> all re-enabled
 *
 * libevent's accept loop is also uncapped: a listener that accepted
 * OB_LISTEN_ACCEPT_CAP connections is disabled until the next loop pass,
 * so a connection flood cannot hold the reactor (Redis caps at 1000 per
 * call, memcached at 1).
 *
 * The guard serves the admin HTTP listener as well (ob_listen_guard), whose
 * callbacks carry evhttp's pointer rather than ours; its error callback
 * finds the cycle through the guard's anchor event (see
 * ob_listen_guard_find), since there are no globals to find it in.
 */
#include "ob_conn.h"
#include "ob_conn_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "ob_cycle.h"

#define OB_LISTEN_BACKLOG     1024
#define OB_LISTEN_PAUSE_MS    100    /* accepting paused after an error */
#define OB_LISTEN_ACCEPT_CAP  64     /* accepts per listener per loop pass */
#define OB_LISTEN_SHED_MAX    256    /* backlog closed per EMFILE, at most */
#define OB_LISTEN_GUARD_MAX   64     /* guarded listeners */

typedef struct ob_listen_guard_s {
    ob_cycle_t            *cycle;
    struct evconnlistener *evl[OB_LISTEN_GUARD_MAX];
    size_t                 n;
    int                    spare_fd;    /* /dev/null, given up on EMFILE */
    int                    paused;      /* every listener disabled */
    struct event          *resume_ev;   /* ends the pause */
    struct event          *cap_ev;      /* re-enables capped listeners */
    struct event          *anchor_ev;   /* how a foreign callback finds us */
    time_t                 last_log;
    uint64_t               unlogged;    /* errors since the last log line */
    uint64_t               shed;        /* backlog connections closed */
} ob_listen_guard_t;

static void ob_listen_resume(ob_cycle_t *cy);


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
    ob_listener_t     *ls = arg;
    ob_listen_guard_t *g = ls->cycle->lguard;
    struct timeval     zero = { 0, 0 };
    char               peer[64];
    int                one = 1;

    (void) socklen;
    if (!ls->is_unix) {
        /* Replies are small and latency matters more than packet count. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    ob_listen_format_addr(sa, peer, sizeof(peer));
    ob_conn_accept(ls, fd, peer);

    /* libevent stops its accept loop when the callback disables it. */
    if (++ls->accepted >= OB_LISTEN_ACCEPT_CAP && g != NULL) {
        ls->accepted = 0;
        ls->capped = 1;
        evconnlistener_disable(evl);
        if (event_add(g->cap_ev, &zero) != 0) {
            ls->capped = 0;
            evconnlistener_enable(evl);
        }
    }
}


/* Next loop pass after a listener hit its accept cap. */
static void
ob_listen_cap_cb(evutil_socket_t fd, short what, void *arg)
{
    ob_cycle_t    *cy = arg;
    ob_listener_t *ls;

    (void) fd;
    (void) what;
    for (ls = cy->listeners; ls != NULL; ls = ls->next) {
        if (ls->capped) {
            ls->capped = 0;
            if (cy->lguard == NULL || !cy->lguard->paused) {
                evconnlistener_enable(ls->evl);
            }
        }
    }
}


static void
ob_listen_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ob_listen_resume(arg);
}


/* Never fires in practice (a day); re-armed if it does.  It only has to be
 * pending so that event_base_foreach_event sees it. */
static void
ob_listen_anchor_cb(evutil_socket_t fd, short what, void *arg)
{
    ob_listen_guard_t *g = ((ob_cycle_t *) arg)->lguard;
    struct timeval     day = { 86400, 0 };

    (void) fd;
    (void) what;
    (void) event_add(g->anchor_ev, &day);
}


static int
ob_listen_find_anchor(const struct event_base *base, const struct event *ev,
                      void *arg)
{
    (void) base;
    if (event_get_callback(ev) == ob_listen_anchor_cb) {
        *(ob_cycle_t **) arg = event_get_callback_arg(ev);
        return 1;
    }
    return 0;
}


/* The cycle of a listener whose callback argument is not ours (evhttp's);
 * NULL if none is guarding that base.  borrowed. */
static ob_cycle_t *
ob_listen_guard_find(struct evconnlistener *evl)
{
    ob_cycle_t *cy = NULL;

    event_base_foreach_event(evconnlistener_get_base(evl),
                             ob_listen_find_anchor, &cy);
    return cy;
}


/* Re-enables every guarded listener (the pause is over). */
static void
ob_listen_resume(ob_cycle_t *cy)
{
    ob_listen_guard_t *g = cy->lguard;
    size_t             i;

    if (g == NULL || !g->paused) {
        return;
    }
    g->paused = 0;
    event_del(g->resume_ev);
    for (i = 0; i < g->n; i++) {
        evconnlistener_enable(g->evl[i]);
    }
}


void
ob_listen_conn_closed(ob_cycle_t *cy)
{
    ob_listen_resume(cy);
}


/*
 * An accept on `evl` failed with `err`.  Closes what waits in its backlog
 * when descriptors ran out, pauses every guarded listener, and logs at
 * most once a second.
 */
static void
ob_listen_accept_failed(ob_cycle_t *cy, struct evconnlistener *evl,
                        const char *name, int err)
{
    ob_listen_guard_t *g = cy->lguard;
    struct timeval     tv = { 0, OB_LISTEN_PAUSE_MS * 1000 };
    evutil_socket_t    lfd, fd;
    time_t             now;
    size_t             i;
    unsigned           shed = 0;

    if (g == NULL) {
        evconnlistener_disable(evl);    /* better deaf than spinning */
        return;
    }

    if ((err == EMFILE || err == ENFILE) && g->spare_fd >= 0) {
        /* One descriptor back lets us take each waiting connection and
         * close it: its client gets an immediate close, not a hang. */
        close(g->spare_fd);
        g->spare_fd = -1;
        lfd = evconnlistener_get_fd(evl);
        while (shed < OB_LISTEN_SHED_MAX
               && (fd = accept(lfd, NULL, NULL)) >= 0)
        {
            close(fd);
            shed++;
        }
        g->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        g->shed += shed;
    }

    if (!g->paused) {
        g->paused = 1;
        cy->stats.listen_disabled_num++;
        for (i = 0; i < g->n; i++) {
            evconnlistener_disable(g->evl[i]);
        }
        if (evtimer_add(g->resume_ev, &tv) != 0) {
            /* Without the timer, a closing connection still resumes. */
            ob_log_error(&cy->log, "cannot add the accept resume timer");
        }
    }
    evconnlistener_disable(evl);        /* in case it is not guarded */

    g->unlogged++;
    now = time(NULL);
    if (now != g->last_log) {
        ob_log_warning(&cy->log, "accept on %s: %s; accepting paused for "
                       "%d ms or until a connection closes (%llu error(s) "
                       "since the last message, %llu waiting connection(s) "
                       "closed so far; see max_connections and ulimit -n)",
                       name, strerror(err), OB_LISTEN_PAUSE_MS,
                       (unsigned long long) g->unlogged,
                       (unsigned long long) g->shed);
        g->last_log = now;
        g->unlogged = 0;
    }
}


/* Error callback of our own listeners: `arg` is the ob_listener_t. */
static void
ob_listen_error_cb(struct evconnlistener *evl, void *arg)
{
    ob_listener_t *ls = arg;

    ob_listen_accept_failed(ls->cycle, evl, ls->name, EVUTIL_SOCKET_ERROR());
}


/* Error callback of a foreign listener (the admin HTTP one). */
static void
ob_listen_foreign_error_cb(struct evconnlistener *evl, void *arg)
{
    int         err = EVUTIL_SOCKET_ERROR();
    ob_cycle_t *cy;

    (void) arg;
    cy = ob_listen_guard_find(evl);
    if (cy == NULL) {
        evconnlistener_disable(evl);
        return;
    }
    ob_listen_accept_failed(cy, evl, "the admin HTTP port", err);
}


/* Makes the guard's state on first use. */
static int
ob_listen_guard_init(ob_cycle_t *cy)
{
    ob_listen_guard_t *g;
    struct timeval     day = { 86400, 0 };

    if (cy->lguard != NULL) {
        return OB_OK;
    }
    g = calloc(1, sizeof(*g));
    if (g == NULL) {
        return OB_ERR;
    }
    g->cycle = cy;
    g->resume_ev = evtimer_new(cy->base, ob_listen_resume_cb, cy);
    g->cap_ev = evtimer_new(cy->base, ob_listen_cap_cb, cy);
    g->anchor_ev = evtimer_new(cy->base, ob_listen_anchor_cb, cy);
    g->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    cy->lguard = g;
    if (g->resume_ev == NULL || g->cap_ev == NULL || g->anchor_ev == NULL
        || g->spare_fd < 0 || event_add(g->anchor_ev, &day) != 0)
    {
        ob_listen_guard_free(cy);
        return OB_ERR;
    }
    return OB_OK;
}


/* Adds evl to the set the guard pauses; the error callback is the
 * caller's to set. */
static int
ob_listen_guard_add(ob_cycle_t *cy, struct evconnlistener *evl)
{
    ob_listen_guard_t *g;

    if (ob_listen_guard_init(cy) != OB_OK) {
        return OB_ERR;
    }
    g = cy->lguard;
    if (g->n == OB_LISTEN_GUARD_MAX) {
        return OB_ERR;
    }
    g->evl[g->n++] = evl;
    if (g->paused) {
        evconnlistener_disable(evl);
    }
    return OB_OK;
}


int
ob_listen_guard(ob_cycle_t *cy, struct evconnlistener *evl)
{
    if (ob_listen_guard_add(cy, evl) != OB_OK) {
        return OB_ERR;
    }
    evconnlistener_set_error_cb(evl, ob_listen_foreign_error_cb);
    return OB_OK;
}


void
ob_listen_unguard(ob_cycle_t *cy, struct evconnlistener *evl)
{
    ob_listen_guard_t *g = cy->lguard;
    size_t             i;

    if (g == NULL) {
        return;
    }
    for (i = 0; i < g->n; i++) {
        if (g->evl[i] == evl) {
            g->evl[i] = g->evl[--g->n];
            return;
        }
    }
}


void
ob_listen_guard_free(ob_cycle_t *cy)
{
    ob_listen_guard_t *g = cy->lguard;

    if (g == NULL) {
        return;
    }
    if (g->resume_ev != NULL) event_free(g->resume_ev);
    if (g->cap_ev != NULL) event_free(g->cap_ev);
    if (g->anchor_ev != NULL) event_free(g->anchor_ev);
    if (g->spare_fd >= 0) close(g->spare_fd);
    free(g);
    cy->lguard = NULL;
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
    if (ls->evl == NULL || ob_listen_guard_add(cy, ls->evl) != OB_OK) {
        if (ls->evl != NULL) {
            evconnlistener_free(ls->evl);
        } else {
            evutil_closesocket(fd);
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
    /* A blocking listener would hang the reactor in accept(). */
    if (evutil_make_socket_nonblocking(fd) != 0
        || evutil_make_socket_closeonexec(fd) != 0)
    {
        ob_err_set(err, "%s: cannot make the socket non-blocking", label);
        evutil_closesocket(fd);
        return -1;
    }
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
    char               tmp[sizeof(sun.sun_path)];

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        return ob_err_set(err, "unix socket path too long: %s",
                 path);
    }

    /* The socket is made under a temporary name and renamed into place
     * once it listens with its final permissions: a client that waits
     * for the path to appear never meets a socket that refuses it.  A
     * path too long for the suffix is bound directly. */
    if (snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long) getpid())
        >= (int) sizeof(tmp))
    {
        snprintf(tmp, sizeof(tmp), "%s", path);
    }
    memcpy(sun.sun_path, tmp, strlen(tmp) + 1);

    /* A socket file left by a killed server would make bind fail. */
    if (lstat(tmp, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(tmp);
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
    if (evutil_make_socket_nonblocking(fd) != 0
        || evutil_make_socket_closeonexec(fd) != 0
        || chmod(tmp, (mode_t) mode) != 0)
    {
        ob_err_set(err, "cannot bind %s: %s", path, strerror(errno));
        evutil_closesocket(fd);
        unlink(tmp);
        return OB_ERR;
    }
    if (strcmp(tmp, path) != 0) {
        /* rename() would replace anything; bind() replaced nothing. */
        if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
            ob_err_set(err, "cannot bind %s: %s", path, strerror(EEXIST));
            evutil_closesocket(fd);
            unlink(tmp);
            return OB_ERR;
        }
        if (rename(tmp, path) != 0) {
            ob_err_set(err, "cannot bind %s: %s", path, strerror(errno));
            evutil_closesocket(fd);
            unlink(tmp);
            return OB_ERR;
        }
    }
    return ob_listen_add(cy, proto, ctx, fd, path, 1, err);
}


static void
ob_listen_free(ob_listener_t *ls)
{
    ob_listen_unguard(ls->cycle, ls->evl);
    evconnlistener_free(ls->evl);
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
