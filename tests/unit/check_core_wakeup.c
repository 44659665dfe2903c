/*
 * check_core_wakeup.c: completions posted by real helper threads run on
 * the reactor thread, all of them, in each thread's posting order
 * (core/ob_wakeup.c).
 */
#include "check_suites.h"

#include <pthread.h>
#include <stdlib.h>

#include <event2/event.h>

#include "ob_wakeup.h"

#define T_THREADS   2
#define T_PER       20000

typedef struct {
    ob_wakeup_item_t  done;
    int               thread;
    int               seq;
} t_job_t;

typedef struct {
    ob_wakeup_t        *w;
    t_job_t            *jobs;       /* T_PER of this thread's */
    int                 thread;
} t_helper_t;

/* Reactor-side state, checked by the callbacks. */
static pthread_t          t_reactor;
static struct event_base *t_base;
static int                t_ran;
static int                t_next_seq[T_THREADS];
static int                t_wrong_thread, t_out_of_order;


static void
t_job_done(ob_wakeup_item_t *item)
{
    t_job_t *j = OB_WAKEUP_ENTRY(item, t_job_t, done);

    if (!pthread_equal(pthread_self(), t_reactor)) {
        t_wrong_thread++;
    }
    if (j->seq != t_next_seq[j->thread]) {
        t_out_of_order++;
    }
    t_next_seq[j->thread] = j->seq + 1;
    if (++t_ran == T_THREADS * T_PER) {
        event_base_loopbreak(t_base);
    }
}


static void *
t_helper(void *arg)
{
    t_helper_t *h = arg;
    int         i;

    for (i = 0; i < T_PER; i++) {
        h->jobs[i].thread = h->thread;
        h->jobs[i].seq = i;
        h->jobs[i].done.fn = t_job_done;
        ob_wakeup_post(h->w, &h->jobs[i].done);
    }
    return NULL;
}


static void
t_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    event_base_loopbreak(arg);
}


START_TEST(test_helper_threads_complete_on_the_reactor)
{
    ob_err_t        err;
    ob_wakeup_t    *w;
    pthread_t       th[T_THREADS];
    t_helper_t      hs[T_THREADS];
    struct event   *guard;
    struct timeval  ten = { 10, 0 };
    int             i;

    t_reactor = pthread_self();
    t_base = event_base_new();
    ck_assert_ptr_nonnull(t_base);
    w = ob_wakeup_new(t_base, &err);
    ck_assert_ptr_nonnull(w);
    guard = evtimer_new(t_base, t_timeout_cb, t_base);
    evtimer_add(guard, &ten);

    for (i = 0; i < T_THREADS; i++) {
        hs[i].w = w;
        hs[i].thread = i;
        hs[i].jobs = calloc(T_PER, sizeof(t_job_t));
        ck_assert_ptr_nonnull(hs[i].jobs);
        ck_assert_int_eq(pthread_create(&th[i], NULL, t_helper, &hs[i]), 0);
    }
    event_base_dispatch(t_base);
    for (i = 0; i < T_THREADS; i++) {
        pthread_join(th[i], NULL);
    }

    ck_assert_int_eq(t_ran, T_THREADS * T_PER);   /* none lost */
    ck_assert_int_eq(t_wrong_thread, 0);
    ck_assert_int_eq(t_out_of_order, 0);

    /* nothing queued: run finds nothing; a post before free still runs */
    ck_assert_uint_eq(ob_wakeup_run(w), 0);
    hs[0].jobs[0].seq = T_PER;
    hs[0].jobs[0].thread = 0;
    ob_wakeup_post(w, &hs[0].jobs[0].done);
    ob_wakeup_free(w);
    ck_assert_int_eq(t_ran, T_THREADS * T_PER + 1);

    for (i = 0; i < T_THREADS; i++) {
        free(hs[i].jobs);
    }
    event_free(guard);
    event_base_free(t_base);
}
END_TEST


Suite *
ob_wakeup_suite(void)
{
    Suite *s = suite_create("core_wakeup");
    TCase *tc = tcase_create("threads");

    tcase_add_test(tc, test_helper_threads_complete_on_the_reactor);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}
