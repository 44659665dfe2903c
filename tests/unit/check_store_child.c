/*
 * check_store_child.c: the forked child (store/store_child.c): one at a
 * time, reaped by the cron with its exit status and its copy-on-write
 * size, killed on purpose with done(ok 0), and a done hook that may start
 * the next child.  A bare store_t is enough: the child part only needs
 * the cycle's logger.
 */
#include "check_suites.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store_srv.h"
#include "store/store_persist.h"

typedef struct {
    int     calls;
    int     ok;
    size_t  cow;
    int     restart;            /* the done hook starts one more child */
} t_done_t;

static ob_cycle_t  t_cy;
static store_t     t_st;


static void
t_setup(void)
{
    ob_err_t err;

    memset(&t_cy, 0, sizeof(t_cy));
    memset(&t_st, 0, sizeof(t_st));
    ck_assert_int_eq(ob_log_open(&t_cy.log, OB_LOG_ERROR, NULL, &err), OB_OK);
    t_st.cy = &t_cy;
    ck_assert_int_eq(store_child_init(&t_st, &err), OB_OK);
}


static void
t_teardown(void)
{
    store_child_fini(&t_st);
    ck_assert_ptr_null(t_st.child);
}


/* Writes 4 MiB the parent had before the fork: the kernel copies those
 * pages for the child, which then holds them privately. */
static char *volatile t_shared;

static int
t_fn_dirty(store_t *st, void *arg)
{
    (void) st;
    (void) arg;
    memset(t_shared, 2, 4 << 20);
    return t_shared[12345] == 2 ? 0 : 1;
}


static int
t_fn_fail(store_t *st, void *arg)
{
    (void) st;
    (void) arg;
    return 1;
}


static int
t_fn_sleep(store_t *st, void *arg)
{
    (void) st;
    (void) arg;
    sleep(30);
    return 0;
}


static int
t_fn_quick(store_t *st, void *arg)
{
    (void) st;
    (void) arg;
    return 0;
}


static void
t_done(store_t *st, int ok, size_t cow, void *arg)
{
    t_done_t *d = arg;
    ob_err_t  err;

    d->calls++;
    d->ok = ok;
    d->cow = cow;
    /* The child is already forgotten when done runs. */
    ck_assert_int_eq(store_child_running(st), STORE_CHILD_NONE);
    if (d->restart) {
        d->restart = 0;
        ck_assert_int_eq(store_child_start(st, STORE_CHILD_RDB, t_fn_quick,
                                           t_done, d, &err), OB_OK);
    }
}


/* Runs the cron until `d` saw `calls` done calls (5 s at most). */
static void
t_wait(t_done_t *d, int calls)
{
    int i;

    for (i = 0; i < 500 && d->calls < calls; i++) {
        store_child_cron(&t_st);
        usleep(10000);
    }
    ck_assert_int_eq(d->calls, calls);
}


START_TEST(test_child_reaped_with_cow)
{
    t_done_t  d = { 0 };
    ob_err_t  err;

    t_shared = malloc(4 << 20);
    ck_assert_ptr_nonnull(t_shared);
    memset(t_shared, 1, 4 << 20);
    ck_assert_int_eq(store_child_running(&t_st), STORE_CHILD_NONE);
    ck_assert_int_eq(store_child_pid(&t_st), -1);
    ck_assert_int_eq(store_child_start(&t_st, STORE_CHILD_RDB, t_fn_dirty,
                                       t_done, &d, &err), OB_OK);
    ck_assert_int_eq(store_child_running(&t_st), STORE_CHILD_RDB);
    ck_assert_int_gt(store_child_pid(&t_st), 0);
    ck_assert_uint_eq(store_child_total_forks(&t_st), 1);
    ck_assert_uint_gt(store_child_latest_fork_usec(&t_st), 0);
    t_wait(&d, 1);
    ck_assert_int_eq(d.ok, 1);
    ck_assert_uint_ge(d.cow, 4u << 20);
    ck_assert_int_eq(store_child_running(&t_st), STORE_CHILD_NONE);
    ck_assert_int_eq(store_child_pid(&t_st), -1);
    ck_assert_int_eq(t_shared[0], 1);   /* the parent's copy is its own */
    free(t_shared);
}
END_TEST


START_TEST(test_child_failure)
{
    t_done_t  d = { 0 };
    ob_err_t  err;

    ck_assert_int_eq(store_child_start(&t_st, STORE_CHILD_AOF, t_fn_fail,
                                       t_done, &d, &err), OB_OK);
    ck_assert_int_eq(store_child_running(&t_st), STORE_CHILD_AOF);
    t_wait(&d, 1);
    ck_assert_int_eq(d.ok, 0);
    ck_assert_uint_eq(d.cow, 0);        /* only a child that succeeded */
}
END_TEST


START_TEST(test_child_busy_and_kill)
{
    t_done_t  d = { 0 }, other = { 0 };
    ob_err_t  err;

    ck_assert_int_eq(store_child_start(&t_st, STORE_CHILD_RDB, t_fn_sleep,
                                       t_done, &d, &err), OB_OK);
    ck_assert_int_eq(store_child_start(&t_st, STORE_CHILD_AOF, t_fn_quick,
                                       t_done, &other, &err), OB_BUSY);
    store_child_cron(&t_st);            /* still running: nothing */
    ck_assert_int_eq(d.calls, 0);
    store_child_kill(&t_st);
    ck_assert_int_eq(d.calls, 1);
    ck_assert_int_eq(d.ok, 0);
    ck_assert_int_eq(store_child_running(&t_st), STORE_CHILD_NONE);
    ck_assert_int_eq(other.calls, 0);
    store_child_kill(&t_st);            /* none: nothing */
    ck_assert_int_eq(d.calls, 1);
}
END_TEST


START_TEST(test_child_done_starts_the_next)
{
    t_done_t  d = { .restart = 1 };
    ob_err_t  err;

    ck_assert_int_eq(store_child_start(&t_st, STORE_CHILD_RDB, t_fn_quick,
                                       t_done, &d, &err), OB_OK);
    t_wait(&d, 2);
    ck_assert_int_eq(d.ok, 1);
    ck_assert_uint_eq(store_child_total_forks(&t_st), 2);
}
END_TEST


START_TEST(test_child_fini_kills_without_done)
{
    t_done_t  d = { 0 };
    ob_err_t  err;
    pid_t     pid;

    ck_assert_int_eq(store_child_start(&t_st, STORE_CHILD_RDB, t_fn_sleep,
                                       t_done, &d, &err), OB_OK);
    pid = store_child_pid(&t_st);
    store_child_fini(&t_st);
    ck_assert_int_eq(d.calls, 0);
    ck_assert_int_eq(kill(pid, 0), -1);  /* reaped: gone */
    ck_assert_int_eq(store_child_init(&t_st, &err), OB_OK);
}
END_TEST


/* The child closes its copies of listening sockets, not other sockets. */
static int  t_listen_fd, t_plain_fd;

static int
t_fn_fds(store_t *st, void *arg)
{
    (void) st;
    (void) arg;
    return fcntl(t_listen_fd, F_GETFD) == -1
           && fcntl(t_plain_fd, F_GETFD) != -1 ? 0 : 1;
}


START_TEST(test_child_closes_listeners)
{
    struct sockaddr_in  sin;
    t_done_t            d = { 0 };
    ob_err_t            err;

    t_listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    t_plain_fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(t_listen_fd, 0);
    ck_assert_int_ge(t_plain_fd, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(t_listen_fd, (struct sockaddr *) &sin,
                          sizeof(sin)), 0);
    ck_assert_int_eq(listen(t_listen_fd, 4), 0);
    ck_assert_int_eq(store_child_start(&t_st, STORE_CHILD_RDB, t_fn_fds,
                                       t_done, &d, &err), OB_OK);
    t_wait(&d, 1);
    ck_assert_int_eq(d.ok, 1);
    ck_assert_int_ne(fcntl(t_listen_fd, F_GETFD), -1);   /* the parent's */
    close(t_listen_fd);
    close(t_plain_fd);
}
END_TEST


/* Every entry point copes with a part that was never initialised. */
START_TEST(test_child_uninitialised)
{
    store_t   st;
    t_done_t  d = { 0 };
    ob_err_t  err;

    memset(&st, 0, sizeof(st));
    ck_assert_int_eq(store_child_start(&st, STORE_CHILD_RDB, t_fn_quick,
                                       t_done, &d, &err), OB_ERR);
    ck_assert_int_eq(store_child_running(&st), STORE_CHILD_NONE);
    ck_assert_int_eq(store_child_pid(&st), -1);
    store_child_cron(&st);
    store_child_kill(&st);
    store_child_fini(&st);
    ck_assert_uint_eq(store_child_total_forks(&st), 0);
    ck_assert_uint_eq(store_child_latest_fork_usec(&st), 0);
}
END_TEST


Suite *
store_child_suite(void)
{
    Suite *s = suite_create("store_child");
    TCase *tc = tcase_create("child");

    tcase_add_checked_fixture(tc, t_setup, t_teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_child_reaped_with_cow);
    tcase_add_test(tc, test_child_failure);
    tcase_add_test(tc, test_child_busy_and_kill);
    tcase_add_test(tc, test_child_done_starts_the_next);
    tcase_add_test(tc, test_child_fini_kills_without_done);
    tcase_add_test(tc, test_child_uninitialised);
    tcase_add_test(tc, test_child_closes_listeners);
    suite_add_tcase(s, tc);
    return s;
}
