/*
 * check_core_conn.c: the reactor's listeners, connections and buffer limits,
 * driven over real loopback sockets.
 *
 * A line-echo protocol stands in for a module: each "\n"-terminated line is
 * echoed, "QUIT" answers "BYE" and closes after the reply, "BIG n" answers n
 * bytes.  The test is both client and server in one thread: it writes on
 * blocking client sockets, then runs the event loop for a few milliseconds
 * (pump) so that the server side reads, parses and writes.
 *
 * A second protocol ("tp") follows the module contract of ob_conn.h to the
 * letter: at most reqs_per_event lines per on_read, stop when the output
 * is full, return OB_BUSY; "REF n" replies n bytes by reference (counting
 * releases), "BIG n" n copied bytes.  It checks yielding, references,
 * limits, the idle timer, on_drain, outbound connects, the I/O vtable and
 * the graceful drain at shutdown.
 */
#include "check_suites.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "ob_conf.h"
#include "ob_conn.h"
#include "ob_conn_int.h"
#include "ob_cycle.h"

typedef struct echo_stats_s {
    int sessions;
    int closes;
} echo_stats_t;

static ob_conf_t    conf;
static ob_cycle_t   cy;
static echo_stats_t echo;
static int          port;


static void *
echo_session_new(ob_conn_t *c, void *ctx)
{
    (void) c;
    ((echo_stats_t *) ctx)->sessions++;
    return ctx;
}


static void
echo_on_close(void *sess, ob_conn_t *c)
{
    (void) c;
    ((echo_stats_t *) sess)->closes++;
}


static int
echo_on_read(void *sess, ob_conn_t *c, struct evbuffer *in)
{
    struct evbuffer *out = ob_conn_output(c);
    char            *line;
    size_t           len;
    long             n;

    (void) sess;
    while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
        if (strcmp(line, "QUIT") == 0) {
            free(line);
            evbuffer_add(out, "BYE\n", 4);
            return OB_DONE;
        }
        if (strncmp(line, "BIG ", 4) == 0) {
            n = strtol(line + 4, NULL, 10);
            char *big = malloc((size_t) n);
            memset(big, 'x', (size_t) n);
            evbuffer_add(out, big, (size_t) n);
            free(big);
        } else {
            evbuffer_add(out, line, len);
            evbuffer_add(out, "\n", 1);
        }
        free(line);
    }
    return OB_OK;
}


static const ob_proto_t echo_proto = {
    .name = "echo",
    .reject_reply = "ERROR Too many open connections\r\n",
    .session_new = echo_session_new,
    .on_read = echo_on_read,
    .on_close = echo_on_close
};

/* What the "tp" protocol saw. */
typedef struct tp_stats_s {
    int        reads;         /* on_read calls */
    int        lines;         /* requests handled */
    int        me_at;         /* lines handled when "me" was */
    int        released;      /* add_ref releases */
    int        drains;        /* on_drain calls */
    int        closes;
    int        connected;     /* on_connect calls */
    int        connect_error; /* last on_connect's error */
    size_t     got;           /* bytes an outbound connection received */
    ob_conn_t *conn;          /* the last connection made */
    char      *refbuf;        /* what REF replies point into */
    size_t     drain_mark;    /* set on each new session */
    const ob_conn_io_t *io;   /* installed on each new session */
} tp_stats_t;

static tp_stats_t tp;


static void *
tp_session_new(ob_conn_t *c, void *ctx)
{
    tp.conn = c;
    if (tp.drain_mark != 0) {
        ob_conn_set_drain_mark(c, tp.drain_mark);
    }
    if (tp.io != NULL) {
        c->io = tp.io;
    }
    return ctx;
}


static void
tp_on_close(void *sess, ob_conn_t *c)
{
    (void) sess;
    (void) c;
    tp.closes++;
}


static void
tp_release(void *arg)
{
    ck_assert_ptr_eq(arg, &tp);
    tp.released++;
}


static int
tp_on_read(void *sess, ob_conn_t *c, struct evbuffer *in)
{
    char     *line, *big;
    size_t    len;
    long      n;
    unsigned  handled = 0;
    int       rc;

    (void) sess;
    tp.reads++;
    for (;;) {
        if (handled == ob_conn_reqs_per_event(c) || ob_conn_is_output_full(c)) {
            return OB_BUSY;
        }
        line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
        if (line == NULL) {
            return OB_OK;
        }
        handled++;
        tp.lines++;
        if (strcmp(line, "me") == 0) {
            tp.me_at = tp.lines;
        }
        if (strncmp(line, "REF ", 4) == 0) {
            n = strtol(line + 4, NULL, 10);
            rc = ob_conn_add_ref(c, tp.refbuf, (size_t) n, tp_release, &tp);
        } else if (strncmp(line, "BIG ", 4) == 0) {
            n = strtol(line + 4, NULL, 10);
            big = malloc((size_t) n);
            memset(big, 'x', (size_t) n);
            rc = ob_conn_add(c, big, (size_t) n);
            free(big);
        } else {
            rc = ob_conn_add(c, line, len);
            if (rc == OB_OK) {
                rc = ob_conn_add(c, "\n", 1);
            }
        }
        free(line);
        if (rc != OB_OK) {
            return OB_ERR;
        }
    }
}


static void
tp_on_drain(void *sess, ob_conn_t *c)
{
    (void) sess;
    (void) c;
    tp.drains++;
}


/* The outbound side: counts what comes back. */
static int
tp_client_on_read(void *sess, ob_conn_t *c, struct evbuffer *in)
{
    (void) sess;
    (void) c;
    tp.got += evbuffer_get_length(in);
    evbuffer_drain(in, evbuffer_get_length(in));
    return OB_OK;
}


static void
tp_on_connect(void *sess, ob_conn_t *c, int error)
{
    (void) sess;
    (void) c;
    tp.connected++;
    tp.connect_error = error;
}


static const ob_proto_t tp_proto = {
    .name = "tp",
    .session_new = tp_session_new,
    .on_read = tp_on_read,
    .on_close = tp_on_close,
    .on_drain = tp_on_drain
};

static const ob_proto_t tp_client_proto = {
    .name = "tp-client",
    .session_new = tp_session_new,
    .on_read = tp_client_on_read,
    .on_close = tp_on_close,
    .on_connect = tp_on_connect
};

static const ob_module_t *const no_modules[] = { NULL };


/* Runs the reactor for `ms` milliseconds. */
static void
pump(int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

    event_base_loopexit(cy.base, &tv);
    event_base_dispatch(cy.base);
}


/* Builds the cycle with core overrides given as "key=value" pairs. */
static void
start_with(const char *const *overrides)
{
    const ob_conf_section_t *sections[1] = { &ob_conf_core_section };
    ob_err_t                 err;
    char                     key[128];
    const char              *eq;
    size_t                   i;

    memset(&echo, 0, sizeof(echo));
    ck_assert_int_eq(ob_conf_init(&conf, sections, 1, &err), OB_OK);
    ck_assert_int_eq(ob_conf_set_text(&conf, "core.http_port", "0", &err),
                     OB_OK);
    ck_assert_int_eq(ob_conf_set_text(&conf, "core.log_level", "error", &err),
                     OB_OK);
    for (i = 0; overrides != NULL && overrides[i] != NULL; i++) {
        eq = strchr(overrides[i], '=');
        snprintf(key, sizeof(key), "core.%.*s", (int) (eq - overrides[i]),
                 overrides[i]);
        ck_assert_msg(ob_conf_set_text(&conf, key, eq + 1, &err) == OB_OK,
                      "%s", err.msg);
    }
    ck_assert_msg(ob_cycle_init(&cy, &conf, no_modules, &err) == OB_OK, "%s",
                  err.msg);
    ck_assert_msg(ob_cycle_start(&cy, &err) == OB_OK, "%s", err.msg);
    port = 0;
    ck_assert_msg(ob_listen_tcp(&cy, &echo_proto, &echo, "127.0.0.1", 0,
                                &port, &err) == OB_OK, "%s", err.msg);
    ck_assert_int_gt(port, 0);
}


static void
stop(void)
{
    ob_cycle_fini(&cy);
    ob_conf_free(&conf);
    free(tp.refbuf);
    tp.refbuf = NULL;
}


/* start_with, plus a "tp" listener; its port is returned. */
static int
start_tp(const char *const *overrides)
{
    ob_err_t err;
    int      p = 0;

    start_with(overrides);
    memset(&tp, 0, sizeof(tp));
    tp.refbuf = malloc(64 << 20);
    memset(tp.refbuf, 'r', 64 << 20);
    ck_assert_msg(ob_listen_tcp(&cy, &tp_proto, &tp, "127.0.0.1", 0, &p,
                                &err) == OB_OK, "%s", err.msg);
    return p;
}


/* Reads (pumping the server meanwhile) until `want` bytes came or `ms`
 * passed; returns the count. */
static size_t
client_drain(int fd, size_t want, int ms)
{
    char   *buf = malloc(1 << 20);
    size_t  got = 0;
    ssize_t n;
    int     i;

    for (i = 0; i < ms && got < want; ) {
        n = recv(fd, buf, 1 << 20, MSG_DONTWAIT);
        if (n > 0) {
            got += (size_t) n;
        } else {
            pump(1);
            i++;
        }
    }
    free(buf);
    return got;
}


static long
ms_since(const struct timeval *t0)
{
    struct timeval now;

    gettimeofday(&now, NULL);
    return (now.tv_sec - t0->tv_sec) * 1000
           + (now.tv_usec - t0->tv_usec) / 1000;
}


static int
client_connect(int family, const char *addr, int p)
{
    struct sockaddr_storage ss;
    socklen_t               len;
    struct timeval          tv = { 2, 0 };
    int                     fd;

    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *) &ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t) p);
        inet_pton(AF_INET, addr, &in->sin_addr);
        len = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t) p);
        inet_pton(AF_INET6, addr, &in6->sin6_addr);
        len = sizeof(*in6);
    }
    fd = socket(family, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *) &ss, len), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}


static void
client_send(int fd, const char *s)
{
    ck_assert_int_eq(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t) strlen(s));
}


/* Reads what is there now (after a pump) into buf; returns the count, 0 on
 * EOF, -1 when nothing is there yet. */
static ssize_t
client_recv_now(int fd, char *buf, size_t len)
{
    ssize_t n = recv(fd, buf, len - 1, MSG_DONTWAIT);

    if (n >= 0) {
        buf[n] = '\0';
    }
    return n;
}


/* True once the server has closed the connection (EOF or reset). */
static int
client_closed(int fd)
{
    char    buf[4096];
    ssize_t n;

    for (;;) {
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            return 1;
        }
        if (n < 0) {
            return 0;
        }
    }
}


/* A port free a moment ago (bound, then closed). */
static int
free_tcp_port(void)
{
    struct sockaddr_in in;
    socklen_t          len = sizeof(in);
    int                fd, p;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *) &in, sizeof(in)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &in, &len), 0);
    p = ntohs(in.sin_port);
    close(fd);
    return p;
}


START_TEST(test_echo_and_counters)
{
    char buf[256];
    int  fd;

    start_with(NULL);
    fd = client_connect(AF_INET, "127.0.0.1", port);
    client_send(fd, "hello\n");
    pump(50);
    ck_assert_int_eq(client_recv_now(fd, buf, sizeof(buf)), 6);
    ck_assert_str_eq(buf, "hello\n");
    ck_assert_int_eq(echo.sessions, 1);
    ck_assert_uint_eq(cy.stats.conns_current, 1);
    ck_assert_uint_eq(cy.stats.conns_total, 1);
    ck_assert_uint_eq(cy.stats.bytes_in, 6);
    ck_assert_uint_eq(cy.stats.bytes_out, 6);

    close(fd);
    pump(50);
    ck_assert_int_eq(echo.closes, 1);
    ck_assert_uint_eq(cy.stats.conns_current, 0);
    stop();
}
END_TEST


START_TEST(test_partial_and_pipelined)
{
    char buf[256];
    int  fd;

    start_with(NULL);
    fd = client_connect(AF_INET, "127.0.0.1", port);
    client_send(fd, "one\ntw");
    pump(30);
    ck_assert_int_eq(client_recv_now(fd, buf, sizeof(buf)), 4);
    ck_assert_str_eq(buf, "one\n");
    client_send(fd, "o\nthree\n");
    pump(30);
    ck_assert_int_eq(client_recv_now(fd, buf, sizeof(buf)), 10);
    ck_assert_str_eq(buf, "two\nthree\n");
    close(fd);
    stop();
}
END_TEST


START_TEST(test_close_after_reply)
{
    char buf[256];
    int  fd;

    start_with(NULL);
    fd = client_connect(AF_INET, "127.0.0.1", port);
    client_send(fd, "QUIT\nnot-read\n");
    pump(50);
    ck_assert_int_eq(client_recv_now(fd, buf, sizeof(buf)), 4);
    ck_assert_str_eq(buf, "BYE\n");
    ck_assert(client_closed(fd));
    ck_assert_int_eq(echo.closes, 1);
    ck_assert_uint_eq(cy.stats.conns_current, 0);
    close(fd);
    stop();
}
END_TEST


START_TEST(test_max_connections)
{
    static const char *const o[] = { "max_connections=2", NULL };
    char buf[256];
    int  a, b, c, d;

    start_with(o);
    a = client_connect(AF_INET, "127.0.0.1", port);
    b = client_connect(AF_INET, "127.0.0.1", port);
    pump(30);
    c = client_connect(AF_INET, "127.0.0.1", port);
    pump(30);

    /* The third gets the protocol's error and is closed ... */
    ck_assert_int_gt(client_recv_now(c, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "ERROR Too many open connections\r\n");
    ck_assert(client_closed(c));
    ck_assert_uint_eq(cy.stats.conns_rejected, 1);

    /* ... and the first two are served as before. */
    client_send(a, "a\n");
    client_send(b, "b\n");
    pump(30);
    ck_assert_int_eq(client_recv_now(a, buf, sizeof(buf)), 2);
    ck_assert_int_eq(client_recv_now(b, buf, sizeof(buf)), 2);

    /* A slot that frees up is usable again. */
    close(a);
    pump(30);
    d = client_connect(AF_INET, "127.0.0.1", port);
    client_send(d, "d\n");
    pump(30);
    ck_assert_int_eq(client_recv_now(d, buf, sizeof(buf)), 2);
    ck_assert_str_eq(buf, "d\n");
    ck_assert_uint_eq(cy.stats.conns_total, 3);
    close(b);
    close(c);
    close(d);
    stop();
}
END_TEST


START_TEST(test_input_limit)
{
    static const char *const o[] = { "max_input_buffer=4096", NULL };
    char  buf[256];
    char *junk;
    int   bad, good;

    start_with(o);
    good = client_connect(AF_INET, "127.0.0.1", port);
    bad = client_connect(AF_INET, "127.0.0.1", port);

    /* A line that never ends: the connection is cut off at the limit. */
    junk = malloc(10000);
    memset(junk, 'y', 10000);
    (void) send(bad, junk, 10000, MSG_NOSIGNAL);
    free(junk);
    pump(100);
    ck_assert(client_closed(bad));

    client_send(good, "still here\n");
    pump(30);
    ck_assert_int_eq(client_recv_now(good, buf, sizeof(buf)), 11);
    ck_assert_str_eq(buf, "still here\n");
    close(bad);
    close(good);
    stop();
}
END_TEST


START_TEST(test_output_hard_limit)
{
    static const char *const o[] = { "output_buffer_hard=65536", NULL };
    char buf[256];
    int  fd, other;

    start_with(o);
    fd = client_connect(AF_INET, "127.0.0.1", port);
    other = client_connect(AF_INET, "127.0.0.1", port);
    /* More than the kernel's socket buffers take: what stays pending in
     * onebox is over the hard limit. */
    client_send(fd, "BIG 67108864\n");
    pump(50);
    ck_assert(client_closed(fd));
    client_send(other, "ok\n");
    pump(30);
    ck_assert_int_eq(client_recv_now(other, buf, sizeof(buf)), 3);
    close(fd);
    close(other);
    stop();
}
END_TEST


/* A client that does not read its replies is not read either, until it
 * catches up; then the request that waited is served. */
START_TEST(test_output_soft_limit_pauses)
{
    static const char *const o[] = { "output_buffer_soft=65536",
                                     "output_buffer_hard=0", NULL };
    const size_t big = 64 * 1024 * 1024;
    char        *buf, tail[6] = { 0 };
    size_t       got = 0, keep;
    ssize_t      n;
    int          fd, i;

    start_with(o);
    fd = client_connect(AF_INET, "127.0.0.1", port);
    client_send(fd, "BIG 67108864\n");
    pump(50);
    client_send(fd, "after\n");
    pump(50);
    /* The connection is paused: "after" waits in the kernel's buffer. */
    ck_assert_uint_eq(cy.stats.bytes_in, 13);

    buf = malloc(1 << 20);
    for (i = 0; i < 20000 && got < big + 6; i++) {
        n = recv(fd, buf, 1 << 20, MSG_DONTWAIT);
        if (n > 0) {
            got += (size_t) n;
            /* Keep the last six bytes seen, across reads. */
            keep = OB_MIN((size_t) n, sizeof(tail));
            memmove(tail, tail + keep, sizeof(tail) - keep);
            memcpy(tail + sizeof(tail) - keep, buf + n - keep, keep);
        } else {
            pump(1);
        }
    }
    free(buf);
    ck_assert_uint_eq(got, big + 6);
    ck_assert(memcmp(tail, "after\n", 6) == 0);
    ck_assert_uint_eq(cy.stats.bytes_in, 19);
    close(fd);
    stop();
}
END_TEST


START_TEST(test_idle_timeout)
{
    static const char *const o[] = { "idle_timeout=1", NULL };
    int idle, busy, i;
    char buf[64];

    start_with(o);
    idle = client_connect(AF_INET, "127.0.0.1", port);
    busy = client_connect(AF_INET, "127.0.0.1", port);
    for (i = 0; i < 6; i++) {
        client_send(busy, "x\n");
        pump(300);
        ck_assert_int_eq(client_recv_now(busy, buf, sizeof(buf)), 2);
    }
    ck_assert(client_closed(idle));
    ck_assert(!client_closed(busy));
    close(idle);
    close(busy);
    stop();
}
END_TEST


START_TEST(test_unix_socket)
{
    struct sockaddr_un sun;
    char               dir[] = "/tmp/ob_unix_XXXXXX", path[64], buf[64];
    struct stat        st;
    ob_err_t           err;
    int                fd;

    start_with(NULL);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/echo.sock", dir);
    ck_assert_msg(ob_listen_unix(&cy, &echo_proto, &echo, path, 0700, &err)
                  == OB_OK, "%s", err.msg);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *) &sun, sizeof(sun)), 0);
    client_send(fd, "unix\n");
    pump(30);
    ck_assert_int_eq(client_recv_now(fd, buf, sizeof(buf)), 5);
    close(fd);
    stop();
    /* Closing the listener removes the socket file. */
    ck_assert_int_ne(stat(path, &st), 0);
    rmdir(dir);
}
END_TEST


START_TEST(test_ipv4_and_ipv6)
{
    ob_err_t err;
    char     buf[64];
    int      p6 = 0, fd4, fd6, probe;

    /* Skip where the machine has no IPv6 loopback. */
    probe = socket(AF_INET6, SOCK_STREAM, 0);
    if (probe < 0) {
        return;
    }
    close(probe);

    start_with(NULL);
    ck_assert_msg(ob_listen_tcp(&cy, &echo_proto, &echo, "127.0.0.1,[::1]", 0,
                                &p6, &err) == OB_OK, "%s", err.msg);
    /* Port 0 picks one per socket; connect to each. */
    fd4 = client_connect(AF_INET, "127.0.0.1", p6);
    client_send(fd4, "v4\n");
    pump(30);
    ck_assert_int_eq(client_recv_now(fd4, buf, sizeof(buf)), 3);
    close(fd4);
    stop();

    /* Both families on one fixed port: IPv6 sockets are IPv6-only, so the
     * second bind does not collide with the first. */
    start_with(NULL);
    /* Another process may hold a port near ours: try a few. */
    for (p6 = port + 1; p6 < port + 50; p6++) {
        if (ob_listen_tcp(&cy, &echo_proto, &echo, "127.0.0.1,::1", p6,
                          NULL, &err) == OB_OK)
        {
            break;
        }
        ob_listen_close_all(&cy);
    }
    ck_assert_msg(p6 < port + 50, "%s", err.msg);
    fd4 = client_connect(AF_INET, "127.0.0.1", p6);
    fd6 = client_connect(AF_INET6, "::1", p6);
    client_send(fd4, "v4\n");
    client_send(fd6, "v6\n");
    pump(30);
    ck_assert_int_eq(client_recv_now(fd4, buf, sizeof(buf)), 3);
    ck_assert_str_eq(buf, "v4\n");
    ck_assert_int_eq(client_recv_now(fd6, buf, sizeof(buf)), 3);
    ck_assert_str_eq(buf, "v6\n");
    close(fd4);
    close(fd6);
    stop();
}
END_TEST


START_TEST(test_bind_conflict_is_an_error)
{
    ob_err_t err;

    start_with(NULL);
    ck_assert_int_eq(ob_listen_tcp(&cy, &echo_proto, &echo, "127.0.0.1", port,
                                   NULL, &err), OB_ERR);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot bind 127.0.0.1:"));
    ck_assert_int_eq(ob_listen_tcp(&cy, &echo_proto, &echo, "no.such.host.",
                                   0, NULL, &err), OB_ERR);
    ck_assert_ptr_nonnull(strstr(err.msg, "no.such.host."));
    stop();
}
END_TEST


/* Ten pipelined requests arrive in one read; with reqs_per_event 3 the
 * module yields, and the core calls it again without any new byte until
 * all ten are answered. */
START_TEST(test_yield_recalled_without_input)
{
    static const char *const o[] = { "reqs_per_event=3", NULL };
    char buf[256];
    int  fd, p;

    p = start_tp(o);
    fd = client_connect(AF_INET, "127.0.0.1", p);
    client_send(fd, "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n");
    pump(100);
    ck_assert_int_eq(client_recv_now(fd, buf, sizeof(buf)), 20);
    ck_assert_str_eq(buf, "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n");
    ck_assert_int_eq(tp.lines, 10);
    ck_assert_int_ge(tp.reads, 4);                 /* 3+3+3+1 */
    ck_assert_uint_eq(cy.stats.bytes_in, 20);      /* one read */
    ck_assert_uint_ge(cy.stats.conn_yields, 3);
    close(fd);
    stop();
}
END_TEST


/* A yielded connection lets the others in first: a request from another
 * client is handled long before a hog's 60,000 pipelined ones are. */
START_TEST(test_yield_is_fair)
{
    static const char *const o[] = { "reqs_per_event=1", NULL };
    const size_t nreq = 60000;
    char        *many;
    size_t       i, off = 0;
    ssize_t      n;
    int          hog, other, p;

    p = start_tp(o);
    hog = client_connect(AF_INET, "127.0.0.1", p);
    other = client_connect(AF_INET, "127.0.0.1", p);
    many = malloc(nreq * 2);
    for (i = 0; i < nreq; i++) {
        memcpy(many + 2 * i, "x\n", 2);
    }
    while (off < nreq * 2) {
        n = send(hog, many + off, nreq * 2 - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t) n;
        } else {
            pump(1);
        }
    }
    client_send(other, "me\n");
    ck_assert_uint_eq(client_drain(other, 3, 5000), 3);
    ck_assert_uint_eq(client_drain(hog, nreq * 2, 20000), nreq * 2);
    ck_assert_int_gt(tp.me_at, 0);
    ck_assert_int_lt(tp.me_at, (int) nreq);
    free(many);
    close(hog);
    close(other);
    stop();
}
END_TEST


START_TEST(test_add_ref_released_once_on_write)
{
    char buf[64];
    int  fd, p;

    p = start_tp(NULL);
    fd = client_connect(AF_INET, "127.0.0.1", p);
    client_send(fd, "REF 5\nREF 7\n");
    pump(50);
    ck_assert_int_eq(client_recv_now(fd, buf, sizeof(buf)), 12);
    ck_assert_str_eq(buf, "rrrrrrrrrrrr");
    ck_assert_int_eq(tp.released, 2);
    ck_assert_uint_eq(ob_conn_output_referenced(tp.conn), 0);
    close(fd);
    pump(30);
    ck_assert_int_eq(tp.released, 2);              /* not again on close */
    ck_assert_int_eq(tp.closes, 1);
    stop();
}
END_TEST


START_TEST(test_add_ref_released_on_close)
{
    static const char *const o[] = { "output_buffer_soft=0", NULL };
    int fd, p;

    p = start_tp(o);
    fd = client_connect(AF_INET, "127.0.0.1", p);
    /* 32 MB by reference to a client that does not read: most of it stays
     * pending, still referenced. */
    client_send(fd, "REF 33554432\n");
    pump(50);
    ck_assert_int_eq(tp.released, 0);
    ck_assert_uint_gt(ob_conn_output_referenced(tp.conn), 0);
    ck_assert_uint_gt(ob_conn_output_pending(tp.conn), 1 << 20);
    close(fd);
    pump(50);
    ck_assert_int_eq(tp.released, 1);
    ck_assert_int_eq(tp.closes, 1);
    ck_assert_uint_eq(cy.stats.conns_current, 0);

    /* And when the whole cycle goes down with the reference pending. */
    fd = client_connect(AF_INET, "127.0.0.1", p);
    client_send(fd, "REF 33554432\n");
    pump(50);
    ck_assert_int_eq(tp.released, 1);
    stop();
    ck_assert_int_eq(tp.released, 2);
    close(fd);
}
END_TEST


/* output_buffer_hard bounds copies: 64 MB by reference passes, then 64 MB
 * copied closes the connection at once, sending nothing of it. */
START_TEST(test_hard_limit_counts_copies_only)
{
    static const char *const o[] = { "output_buffer_hard=65536",
                                     "output_buffer_soft=0", NULL };
    int fd, p;

    p = start_tp(o);
    fd = client_connect(AF_INET, "127.0.0.1", p);
    client_send(fd, "REF 67108864\n");
    pump(30);
    ck_assert_uint_eq(cy.stats.conns_current, 1);
    ck_assert_uint_eq(client_drain(fd, 67108864, 5000), 67108864);
    ck_assert_int_eq(tp.released, 1);

    client_send(fd, "BIG 67108864\n");
    pump(50);
    ck_assert(client_closed(fd));
    ck_assert_uint_lt(cy.stats.bytes_out, 67108864 + 65536);
    close(fd);
    stop();
}
END_TEST


/* Over the soft limit the module stops early (OB_BUSY) and the rest of
 * the pipeline waits, unread, until the client catches up. */
START_TEST(test_soft_limit_stops_the_batch)
{
    static const char *const o[] = { "output_buffer_soft=1048576",
                                     "output_buffer_hard=0", NULL };
    char   req[16 * 12 + 1];
    size_t i;
    int    fd, p;

    p = start_tp(o);
    fd = client_connect(AF_INET, "127.0.0.1", p);
    req[0] = '\0';
    for (i = 0; i < 16; i++) {
        strcat(req, "REF 4194304\n");
    }
    client_send(fd, req);
    pump(50);
    ck_assert_int_lt(tp.lines, 4);          /* stopped over 1 MB pending */
    ck_assert_uint_eq(client_drain(fd, 16 * 4194304, 10000), 16 * 4194304);
    ck_assert_int_eq(tp.lines, 16);
    ck_assert_int_eq(tp.released, 16);
    close(fd);
    stop();
}
END_TEST


/* A client that stops reading is paused and still closed at
 * idle_timeout; the one that keeps talking is not. */
START_TEST(test_idle_timer_survives_pause)
{
    static const char *const o[] = { "idle_timeout=1",
                                     "output_buffer_soft=65536",
                                     "output_buffer_hard=0", NULL };
    char    buf[64];
    int     stuck, busy, p, i, wait;
    ssize_t n;

    p = start_tp(o);
    stuck = client_connect(AF_INET, "127.0.0.1", p);
    busy = client_connect(AF_INET, "127.0.0.1", p);
    client_send(stuck, "BIG 67108864\n");
    for (i = 0; i < 8; i++) {
        client_send(busy, "x\n");
        pump(300);
        /* a loaded machine may need longer than one slice to answer */
        for (n = client_recv_now(busy, buf, sizeof(buf)), wait = 0;
             n < 0 && wait < 30; wait++)
        {
            pump(100);
            n = client_recv_now(busy, buf, sizeof(buf));
        }
        ck_assert_int_eq(n, 2);
    }
    ck_assert(client_closed(stuck));
    ck_assert(!client_closed(busy));
    close(stuck);
    close(busy);
    stop();
}
END_TEST


/* Slow-loris: one byte every 200 ms of a line that never ends is not
 * progress; the connection goes at idle_timeout, not never. */
START_TEST(test_idle_timer_slow_drip)
{
    static const char *const o[] = { "idle_timeout=1", NULL };
    struct timeval t0;
    int            fd, p, i;

    p = start_tp(o);
    fd = client_connect(AF_INET, "127.0.0.1", p);
    gettimeofday(&t0, NULL);
    for (i = 0; i < 20 && !client_closed(fd); i++) {
        (void) send(fd, "y", 1, MSG_NOSIGNAL);
        pump(200);
    }
    ck_assert(client_closed(fd));
    ck_assert_int_lt(ms_since(&t0), 2500);
    ck_assert_int_eq(tp.closes, 1);
    close(fd);
    stop();
}
END_TEST


START_TEST(test_on_drain)
{
    static const char *const o[] = { "output_buffer_soft=0", NULL };
    int fd, p;

    p = start_tp(o);
    tp.drain_mark = 4096;
    fd = client_connect(AF_INET, "127.0.0.1", p);
    client_send(fd, "small\n");
    pump(30);
    ck_assert_int_eq(tp.drains, 0);       /* never above the mark */
    ck_assert_uint_eq(client_drain(fd, 6, 100), 6);

    client_send(fd, "BIG 16777216\n");
    pump(50);
    ck_assert_int_eq(tp.drains, 0);       /* above it, client not reading */
    ck_assert_uint_eq(client_drain(fd, 16777216, 5000), 16777216);
    pump(20);
    ck_assert_int_eq(tp.drains, 1);
    close(fd);
    stop();
}
END_TEST


/* An outbound connection to our own echo listener: output queued before
 * the connect completes is sent after it; the reply comes back through
 * on_read.  A refused connect is reported, then closed. */
START_TEST(test_connect)
{
    ob_conn_t *c;
    ob_err_t   err;
    int        dead;

    start_tp(NULL);
    c = ob_conn_connect(&cy, &tp_client_proto, &tp, "127.0.0.1", port, 2000,
                        &err);
    ck_assert_msg(c != NULL, "%s", err.msg);
    ck_assert_int_eq(ob_conn_add(c, "ping\n", 5), OB_OK);
    pump(100);
    ck_assert_int_eq(tp.connected, 1);
    ck_assert_int_eq(tp.connect_error, 0);
    ck_assert_uint_eq(tp.got, 5);
    ck_assert_int_eq(echo.sessions, 1);
    ob_conn_close(c, 1);
    pump(30);
    ck_assert_int_eq(tp.closes, 1);

    /* A port nobody listens on: take one and close it. */
    dead = free_tcp_port();
    c = ob_conn_connect(&cy, &tp_client_proto, &tp, "127.0.0.1", dead, 2000,
                        &err);
    if (c != NULL) {
        pump(100);
        ck_assert_int_eq(tp.connected, 2);
        ck_assert_int_eq(tp.connect_error, ECONNREFUSED);
        ck_assert_int_eq(tp.closes, 2);
    }
    ck_assert_uint_eq(cy.stats.conns_current, 0);
    stop();
}
END_TEST


/* Every socket operation goes through the connection's I/O functions. */
static int io_reads, io_writes, io_closes;

static ssize_t
count_read(ob_conn_t *c, struct iovec *iov, int iovcnt)
{
    io_reads++;
    return ob_conn_io_plain.read(c, iov, iovcnt);
}


static ssize_t
count_write(ob_conn_t *c, struct evbuffer *out)
{
    io_writes++;
    return ob_conn_io_plain.write(c, out);
}


static void
count_close(ob_conn_t *c)
{
    io_closes++;
    ob_conn_io_plain.close(c);
}


static const ob_conn_io_t count_io = {
    "count", count_read, count_write, count_close
};


START_TEST(test_io_vtable)
{
    char buf[64];
    int  fd, p;

    p = start_tp(NULL);
    tp.io = &count_io;
    io_reads = io_writes = io_closes = 0;
    fd = client_connect(AF_INET, "127.0.0.1", p);
    client_send(fd, "via io\n");
    pump(50);
    ck_assert_int_eq(client_recv_now(fd, buf, sizeof(buf)), 7);
    close(fd);
    pump(50);
    ck_assert_int_ge(io_reads, 2);         /* the request, then EOF */
    ck_assert_int_eq(io_writes, 1);
    ck_assert_int_eq(io_closes, 1);
    stop();
}
END_TEST


/* SIGTERM's path: listeners close, connections stop reading, pending
 * output is still written, then the loop ends by itself. */
START_TEST(test_shutdown_drains_output)
{
    static const char *const o[] = { "shutdown_timeout=10",
                                     "output_buffer_soft=1048576",
                                     "output_buffer_hard=0", NULL };
    struct timeval t0;
    int            fd, p;

    p = start_tp(o);
    fd = client_connect(AF_INET, "127.0.0.1", p);
    /* The first reply fills the output; the two requests after it are
     * received but not yet answered when the signal comes. */
    client_send(fd, "BIG 8388608\nab\ncd\n");
    pump(30);
    ck_assert_uint_gt(ob_conn_output_pending(tp.conn), 0);
    ck_assert_int_eq(tp.lines, 1);
    ob_cycle_shutdown_begin(&cy);
    ck_assert_ptr_null(cy.listeners);
    ck_assert_uint_eq(client_drain(fd, 8388608 + 6, 5000), 8388608 + 6);
    ck_assert_int_eq(tp.lines, 3);
    gettimeofday(&t0, NULL);
    event_base_dispatch(cy.base);          /* returns once all is written */
    ck_assert_int_lt(ms_since(&t0), 1000);
    ck_assert_uint_eq(cy.stats.conns_current, 0);
    close(fd);
    stop();
}
END_TEST


/* A client that never reads holds the shutdown for shutdown_timeout, no
 * longer; its references are released when it is freed. */
START_TEST(test_shutdown_timeout)
{
    static const char *const o[] = { "shutdown_timeout=1",
                                     "output_buffer_soft=0", NULL };
    struct timeval t0;
    int            fd, p;

    p = start_tp(o);
    fd = client_connect(AF_INET, "127.0.0.1", p);
    client_send(fd, "REF 33554432\n");
    pump(30);
    gettimeofday(&t0, NULL);
    ob_cycle_shutdown_begin(&cy);
    event_base_dispatch(cy.base);
    ck_assert_int_ge(ms_since(&t0), 900);
    ck_assert_int_lt(ms_since(&t0), 3000);
    ck_assert_int_eq(tp.released, 0);
    stop();
    ck_assert_int_eq(tp.released, 1);
    close(fd);
}
END_TEST


/* /stats figures for connection buffers. */
START_TEST(test_stats_pending)
{
    static const char *const o[] = { "output_buffer_soft=0", NULL };
    json_t *doc, *conns;
    int     fd, p;

    p = start_tp(o);
    fd = client_connect(AF_INET, "127.0.0.1", p);
    client_send(fd, "REF 33554432\npartial");
    pump(50);
    doc = ob_cycle_stats_json(&cy);
    conns = json_object_get(doc, "connections");
    ck_assert_int_eq(json_integer_value(json_object_get(conns,
                     "pending_in_bytes")), 7);
    ck_assert_int_gt(json_integer_value(json_object_get(conns,
                     "referenced_out_bytes")), 0);
    /* Counted until the chain is freed, even when partly written. */
    ck_assert_int_eq(json_integer_value(json_object_get(conns,
                     "referenced_out_bytes")), 33554432);
    ck_assert_int_gt(json_integer_value(json_object_get(conns,
                     "pending_out_bytes")), 0);
    ck_assert_ptr_nonnull(json_object_get(conns, "listen_disabled_num"));
    json_decref(doc);
    close(fd);
    stop();
}
END_TEST


/* A listener that is not ours (as the admin HTTP one): its accepts. */
static int foreign_accepts;

static void
foreign_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
                  struct sockaddr *sa, int socklen, void *arg)
{
    (void) evl;
    (void) sa;
    (void) socklen;
    (void) arg;
    foreign_accepts++;
    close(fd);
}


/*
 * Out of descriptors: the guard (reached from a foreign listener's error
 * callback) closes what waits in the backlog, pauses accepting, counts it
 * once, and accepts again once descriptors are back.  (CK_FORK: the lower
 * descriptor limit dies with this test's process.)
 */
START_TEST(test_emfile_guard)
{
    struct sockaddr_in     in;
    socklen_t              len = sizeof(in);
    struct evconnlistener *evl;
    struct rlimit          rl;
    int                    lfd, lport, waiting[3], fill[64], nfill = 0;
    int                    i, probe, late;

    start_with(NULL);
    foreign_accepts = 0;
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *) &in, sizeof(in)), 0);
    ck_assert_int_eq(listen(lfd, 16), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *) &in, &len), 0);
    lport = ntohs(in.sin_port);
    evutil_make_socket_nonblocking(lfd);
    evl = evconnlistener_new(cy.base, foreign_accept_cb, NULL,
                             LEV_OPT_CLOSE_ON_FREE, 0, lfd);
    ck_assert_ptr_nonnull(evl);
    ck_assert_int_eq(ob_listen_guard(&cy, evl), OB_OK);

    /* Three clients wait in the backlog; then no descriptor is left. */
    for (i = 0; i < 3; i++) {
        waiting[i] = client_connect(AF_INET, "127.0.0.1", lport);
    }
    probe = open("/dev/null", O_RDONLY);
    ck_assert_int_ge(probe, 0);
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = (rlim_t) probe + 40;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    while (nfill < 64 && (fill[nfill] = dup(probe)) >= 0) {
        nfill++;
    }
    ck_assert_int_eq(errno, EMFILE);

    pump(50);
    ck_assert_int_eq(foreign_accepts, 0);
    ck_assert_uint_eq(cy.stats.listen_disabled_num, 1);
    for (i = 0; i < 3; i++) {
        ck_assert(client_closed(waiting[i]));       /* shed, not left hanging */
        close(waiting[i]);
    }

    /* Descriptors back: after the pause, accepting works again. */
    for (i = 0; i < nfill; i++) {
        close(fill[i]);
    }
    close(probe);
    pump(200);
    late = client_connect(AF_INET, "127.0.0.1", lport);
    pump(50);
    ck_assert_int_eq(foreign_accepts, 1);
    ck_assert_uint_eq(cy.stats.listen_disabled_num, 1);
    close(late);

    ob_listen_unguard(&cy, evl);
    evconnlistener_free(evl);
    stop();
}
END_TEST


Suite *
ob_conn_suite(void)
{
    Suite *s = suite_create("core_conn");
    TCase *tc = tcase_create("conn");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_echo_and_counters);
    tcase_add_test(tc, test_partial_and_pipelined);
    tcase_add_test(tc, test_close_after_reply);
    tcase_add_test(tc, test_max_connections);
    tcase_add_test(tc, test_input_limit);
    tcase_add_test(tc, test_output_hard_limit);
    tcase_add_test(tc, test_output_soft_limit_pauses);
    tcase_add_test(tc, test_idle_timeout);
    tcase_add_test(tc, test_unix_socket);
    tcase_add_test(tc, test_ipv4_and_ipv6);
    tcase_add_test(tc, test_bind_conflict_is_an_error);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_yield_recalled_without_input);
    tcase_add_test(tc, test_yield_is_fair);
    tcase_add_test(tc, test_add_ref_released_once_on_write);
    tcase_add_test(tc, test_add_ref_released_on_close);
    tcase_add_test(tc, test_hard_limit_counts_copies_only);
    tcase_add_test(tc, test_soft_limit_stops_the_batch);
    tcase_add_test(tc, test_idle_timer_survives_pause);
    tcase_add_test(tc, test_idle_timer_slow_drip);
    tcase_add_test(tc, test_on_drain);
    tcase_add_test(tc, test_connect);
    tcase_add_test(tc, test_io_vtable);
    tcase_add_test(tc, test_shutdown_drains_output);
    tcase_add_test(tc, test_shutdown_timeout);
    tcase_add_test(tc, test_stats_pending);
    tcase_add_test(tc, test_emfile_guard);
    suite_add_tcase(s, tc);
    return s;
}
