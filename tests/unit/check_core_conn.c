/*
 * check_core_conn.c: the reactor's listeners, connections and buffer limits,
 * driven over real loopback sockets.
 *
 * A line-echo protocol stands in for a module: each "\n"-terminated line is
 * echoed, "QUIT" answers "BYE" and closes after the reply, "BIG n" answers n
 * bytes.  The test is both client and server in one thread: it writes on
 * blocking client sockets, then runs the event loop for a few milliseconds
 * (pump) so that the server side reads, parses and writes.
 */
#include "check_suites.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "ob_conf.h"
#include "ob_conn.h"
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
    return s;
}
