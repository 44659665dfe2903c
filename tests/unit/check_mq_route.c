/*
 * check_mq_route.c: the broker's entities without sockets: routing
 * through direct (indexed), fanout, topic and headers exchanges and
 * exchange-to-exchange bindings (each queue once, loops followed once),
 * and queues: publish order, requeue to the original place, priorities,
 * max-length (drop-head and reject-publish), TTL 0, dead-lettering with
 * its x-death header, deletion with unacked entries.  An mq_t is built by
 * hand on a small arena; every byte must be back at the end.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "check_store_util.h"
#include "ob_cycle.h"
#include "mq/mq_entity.h"


typedef struct t_mq_s {
    ob_cycle_t   cy;
    mq_t         mq;
    mq_vhost_t  *vh;
} t_mq_t;


static t_mq_t *
t_mq_new(void)
{
    t_mq_t *t = calloc(1, sizeof(*t));

    ck_assert_ptr_nonnull(t);
    t->cy.arena = t_store_arena(16 * T_MIB, 64 * 1024, &t->mq.arena_owner);
    t->mq.cy = &t->cy;
    t->mq.max_message_size = 1 << 20;
    mq_list_init(&t->mq.conns);
    t->vh = mq_vhost_new(&t->mq, "/");
    ck_assert_ptr_nonnull(t->vh);
    return t;
}


static void
t_mq_free(t_mq_t *t)
{
    mq_vhost_free(t->vh);
    t_store_arena_free(t->cy.arena, t->mq.arena_owner);
    free(t);
}


static ob_str_t
s(const char *c)
{
    ob_str_t r = { strlen(c), (const uint8_t *) c };

    return r;
}


static ob_str_t t_none = { 0, NULL };


/* A message with the given key, body and (optional) property list. */
static mq_msg_t *
t_msg(t_mq_t *t, const char *x, const char *key, const char *body,
      ob_str_t props)
{
    mq_msg_t *m = mq_msg_new(&t->mq, s(x), s(key), props, strlen(body));

    ck_assert_ptr_nonnull(m);
    memcpy(mq_msg_body(m), body, strlen(body));
    m->body_have = m->body_len;
    return m;
}


/* Encodes properties with headers (a table's bytes) and/or a priority. */
static ob_str_t
t_props(uint8_t *buf, size_t cap, ob_str_t headers, int priority,
        const char *expiration)
{
    mq_props_t pr;
    ob_str_t   r;

    memset(&pr, 0, sizeof(pr));
    if (headers.len > 0) {
        pr.flags |= MQ_PROP_HEADERS;
        pr.headers = headers;
    }
    if (priority >= 0) {
        pr.flags |= MQ_PROP_PRIORITY;
        pr.priority = (uint8_t) priority;
    }
    if (expiration != NULL) {
        pr.flags |= MQ_PROP_EXPIRATION;
        pr.expiration = s(expiration);
    }
    r.len = mq_props_encode(buf, cap, &pr);
    r.data = buf;
    return r;
}


static mq_queue_t *
t_queue(t_mq_t *t, const char *name, ob_str_t args)
{
    mq_queue_t *q = mq_queue_new(t->vh, s(name), 0, 0, 0, args);

    ck_assert_ptr_nonnull(q);
    return q;
}


static mq_exchange_t *
t_exchange(t_mq_t *t, const char *name, mq_exchange_type_t type)
{
    mq_exchange_t *x = mq_exchange_restore(t->vh, name, type, 0, 0, t_none);

    ck_assert_ptr_nonnull(x);
    return x;
}


/* Routes msg from x; returns how many queues, checking none repeats. */
static size_t
t_route(mq_exchange_t *x, mq_msg_t *m, mq_queue_t ***out)
{
    size_t n = 0, cap = 0, i, j;

    *out = NULL;
    ck_assert_int_eq(mq_exchange_route(x, m, out, &n, &cap), OB_OK);
    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            ck_assert_ptr_ne((*out)[i], (*out)[j]);
        }
    }
    return n;
}


static int
t_has(mq_queue_t **out, size_t n, mq_queue_t *q)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (out[i] == q) {
            return 1;
        }
    }
    return 0;
}


START_TEST(test_direct_and_default)
{
    t_mq_t        *t = t_mq_new();
    mq_exchange_t *x = t_exchange(t, "d", MQ_EX_DIRECT);
    mq_exchange_t *def = mq_exchange_find(t->vh, (const uint8_t *) "", 0);
    mq_queue_t    *a = t_queue(t, "a", t_none), *b = t_queue(t, "b", t_none);
    mq_queue_t   **out;
    mq_msg_t      *m;
    char           key[16];
    int            i;

    ck_assert_ptr_nonnull(def);
    ck_assert(mq_binding_add(x, a, NULL, s("k"), t_none) != NULL);
    ck_assert(mq_binding_add(x, b, NULL, s("k"), t_none) != NULL);
    for (i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        ck_assert(mq_binding_add(x, b, NULL, s(key), t_none) != NULL);
    }
    m = t_msg(t, "d", "k", "x", t_none);
    ck_assert_uint_eq(t_route(x, m, &out), 2);
    ck_assert(t_has(out, 2, a) && t_has(out, 2, b));
    free(out);
    mq_msg_unref(m);
    m = t_msg(t, "d", "key999", "x", t_none);
    ck_assert_uint_eq(t_route(x, m, &out), 1);
    ck_assert_ptr_eq(out[0], b);
    free(out);
    mq_msg_unref(m);
    m = t_msg(t, "", "a", "x", t_none);
    ck_assert_uint_eq(t_route(def, m, &out), 1);
    ck_assert_ptr_eq(out[0], a);
    free(out);
    mq_msg_unref(m);
    m = t_msg(t, "", "nosuch", "x", t_none);
    ck_assert_uint_eq(t_route(def, m, &out), 0);
    free(out);
    mq_msg_unref(m);
    /* Unbinding takes the key out of the index. */
    mq_binding_remove(mq_binding_find(x, a, NULL, s("k"), t_none));
    m = t_msg(t, "d", "k", "x", t_none);
    ck_assert_uint_eq(t_route(x, m, &out), 1);
    ck_assert_ptr_eq(out[0], b);
    free(out);
    mq_msg_unref(m);
    t_mq_free(t);
}
END_TEST


START_TEST(test_fanout_topic)
{
    t_mq_t        *t = t_mq_new();
    mq_exchange_t *f = t_exchange(t, "f", MQ_EX_FANOUT);
    mq_exchange_t *tp = t_exchange(t, "t", MQ_EX_TOPIC);
    mq_queue_t    *a = t_queue(t, "a", t_none), *b = t_queue(t, "b", t_none);
    mq_queue_t   **out;
    mq_msg_t      *m;

    mq_binding_add(f, a, NULL, s("x"), t_none);
    mq_binding_add(f, a, NULL, s("y"), t_none);
    mq_binding_add(f, b, NULL, t_none, t_none);
    m = t_msg(t, "f", "whatever", "x", t_none);
    ck_assert_uint_eq(t_route(f, m, &out), 2);
    free(out);
    mq_msg_unref(m);

    mq_binding_add(tp, a, NULL, s("a.*.c"), t_none);
    mq_binding_add(tp, a, NULL, s("#"), t_none);
    mq_binding_add(tp, b, NULL, s("*.b.#"), t_none);
    m = t_msg(t, "t", "a.b.c", "x", t_none);
    ck_assert_uint_eq(t_route(tp, m, &out), 2);
    free(out);
    mq_msg_unref(m);
    m = t_msg(t, "t", "z", "x", t_none);
    ck_assert_uint_eq(t_route(tp, m, &out), 1);
    ck_assert_ptr_eq(out[0], a);
    free(out);
    mq_msg_unref(m);
    t_mq_free(t);
}
END_TEST


/* A table {x-match: mode, k1: "v1", n: 5} (mode NULL: no x-match). */
static ob_str_t
t_hdr_args(mq_tbuf_t *b, const char *mode)
{
    mq_tbuf_init(b);
    if (mode != NULL) {
        mq_tbuf_key(b, "x-match", 7);
        mq_tbuf_longstr(b, mode, strlen(mode));
    }
    mq_tbuf_key(b, "k1", 2);
    mq_tbuf_longstr(b, "v1", 2);
    mq_tbuf_key(b, "n", 1);
    mq_tbuf_i32(b, 5);
    ck_assert(!b->failed);
    return (ob_str_t) { b->len, b->data };
}


START_TEST(test_headers)
{
    t_mq_t        *t = t_mq_new();
    mq_exchange_t *h = t_exchange(t, "h", MQ_EX_HEADERS);
    mq_queue_t    *all = t_queue(t, "all", t_none);
    mq_queue_t    *any = t_queue(t, "any", t_none);
    mq_queue_t   **out;
    mq_tbuf_t      ba, bb, mh;
    mq_msg_t      *m;
    uint8_t        pbuf[256];

    mq_binding_add(h, all, NULL, t_none, t_hdr_args(&ba, NULL));
    mq_binding_add(h, any, NULL, t_none, t_hdr_args(&bb, "any"));
    /* {k1: "v1", n: 5 as a long}: both match (integers of any width). */
    mq_tbuf_init(&mh);
    mq_tbuf_key(&mh, "k1", 2);
    mq_tbuf_longstr(&mh, "v1", 2);
    mq_tbuf_key(&mh, "n", 1);
    mq_tbuf_i64(&mh, 5);
    m = t_msg(t, "h", "", "x", t_props(pbuf, sizeof(pbuf),
                                        (ob_str_t) { mh.len, mh.data }, -1,
                                        NULL));
    ck_assert_uint_eq(t_route(h, m, &out), 2);
    free(out);
    mq_msg_unref(m);
    mq_tbuf_free(&mh);
    /* {k1: "v1"} only: any matches, all does not. */
    mq_tbuf_init(&mh);
    mq_tbuf_key(&mh, "k1", 2);
    mq_tbuf_longstr(&mh, "v1", 2);
    m = t_msg(t, "h", "", "x", t_props(pbuf, sizeof(pbuf),
                                        (ob_str_t) { mh.len, mh.data }, -1,
                                        NULL));
    ck_assert_uint_eq(t_route(h, m, &out), 1);
    ck_assert_ptr_eq(out[0], any);
    free(out);
    mq_msg_unref(m);
    mq_tbuf_free(&mh);
    /* No headers at all: none. */
    m = t_msg(t, "h", "", "x", t_none);
    ck_assert_uint_eq(t_route(h, m, &out), 0);
    free(out);
    mq_msg_unref(m);
    mq_tbuf_free(&ba);
    mq_tbuf_free(&bb);
    t_mq_free(t);
}
END_TEST


START_TEST(test_e2e_loop_no_duplicates)
{
    t_mq_t        *t = t_mq_new();
    mq_exchange_t *x1 = t_exchange(t, "x1", MQ_EX_FANOUT);
    mq_exchange_t *x2 = t_exchange(t, "x2", MQ_EX_FANOUT);
    mq_exchange_t *x3 = t_exchange(t, "x3", MQ_EX_DIRECT);
    mq_queue_t    *a = t_queue(t, "a", t_none), *b = t_queue(t, "b", t_none);
    mq_queue_t   **out;
    mq_msg_t      *m;

    mq_binding_add(x1, NULL, x2, t_none, t_none);
    mq_binding_add(x2, NULL, x1, t_none, t_none);       /* loop */
    mq_binding_add(x2, NULL, x3, t_none, t_none);
    mq_binding_add(x1, a, NULL, t_none, t_none);
    mq_binding_add(x2, a, NULL, t_none, t_none);
    mq_binding_add(x3, a, NULL, s("k"), t_none);
    mq_binding_add(x3, b, NULL, s("k"), t_none);
    m = t_msg(t, "x1", "k", "x", t_none);
    ck_assert_uint_eq(t_route(x1, m, &out), 2);
    ck_assert(t_has(out, 2, a) && t_has(out, 2, b));
    free(out);
    mq_msg_unref(m);
    /* Routing again (a new generation) finds them again. */
    m = t_msg(t, "x2", "other", "x", t_none);
    ck_assert_uint_eq(t_route(x2, m, &out), 1);
    ck_assert_ptr_eq(out[0], a);
    free(out);
    mq_msg_unref(m);
    t_mq_free(t);
}
END_TEST


/* Publishes body to q; returns mq_queue_publish's result. */
static int
t_pub(t_mq_t *t, mq_queue_t *q, const char *body, ob_str_t props)
{
    mq_msg_t *m = t_msg(t, "", q->name, body, props);
    int       rc = mq_queue_publish(q, m);

    mq_msg_unref(m);
    return rc;
}


static int
t_body_is(mq_qentry_t *e, const char *body)
{
    return e != NULL && e->msg->body_len == strlen(body)
           && memcmp(mq_msg_body(e->msg), body, strlen(body)) == 0;
}


START_TEST(test_queue_order_requeue)
{
    t_mq_t      *t = t_mq_new();
    mq_queue_t  *q = t_queue(t, "q", t_none);
    mq_qentry_t *e0, *e1, *e;

    t_pub(t, q, "0", t_none);
    t_pub(t, q, "1", t_none);
    t_pub(t, q, "2", t_none);
    ck_assert_uint_eq(mq_queue_ready_count(q), 3);
    e0 = mq_queue_take(q);
    e1 = mq_queue_take(q);
    ck_assert(t_body_is(e0, "0") && t_body_is(e1, "1"));
    ck_assert_uint_eq(q->unacked.count, 2);
    mq_queue_requeue(e1);
    mq_queue_requeue(e0);
    e = mq_queue_take(q);
    ck_assert(t_body_is(e, "0"));
    ck_assert(e->flags & MQ_QE_REDELIVERED);
    mq_queue_ack(e);
    e = mq_queue_take(q);
    ck_assert(t_body_is(e, "1"));
    mq_queue_ack(e);
    e = mq_queue_take(q);
    ck_assert(t_body_is(e, "2"));
    ck_assert(!(e->flags & MQ_QE_REDELIVERED));
    /* Deleted with an entry unacked: settling it later is harmless. */
    ck_assert_uint_eq(mq_queue_delete(q), 0);
    ck_assert_ptr_null(e->queue);
    mq_queue_ack(e);
    t_mq_free(t);
}
END_TEST


static ob_str_t
t_int_arg(mq_tbuf_t *b, const char *k, int v, const char *k2,
          const char *v2)
{
    mq_tbuf_init(b);
    mq_tbuf_key(b, k, strlen(k));
    mq_tbuf_i32(b, v);
    if (k2 != NULL) {
        mq_tbuf_key(b, k2, strlen(k2));
        mq_tbuf_longstr(b, v2, strlen(v2));
    }
    return (ob_str_t) { b->len, b->data };
}


START_TEST(test_max_length_and_priority)
{
    t_mq_t      *t = t_mq_new();
    mq_tbuf_t    b1, b2, b3;
    mq_queue_t  *dh = t_queue(t, "dh", t_int_arg(&b1, "x-max-length", 2,
                                                 NULL, NULL));
    mq_queue_t  *rp = t_queue(t, "rp", t_int_arg(&b2, "x-max-length", 1,
                                                 "x-overflow",
                                                 "reject-publish"));
    mq_queue_t  *pq = t_queue(t, "pq", t_int_arg(&b3, "x-max-priority", 3,
                                                 NULL, NULL));
    mq_qentry_t *e;
    uint8_t      pbuf[64];

    t_pub(t, dh, "1", t_none);
    t_pub(t, dh, "2", t_none);
    t_pub(t, dh, "3", t_none);
    ck_assert_uint_eq(mq_queue_ready_count(dh), 2);
    e = mq_queue_take(dh);
    ck_assert(t_body_is(e, "2"));
    mq_queue_ack(e);

    ck_assert_int_eq(t_pub(t, rp, "1", t_none), OB_OK);
    ck_assert_int_eq(t_pub(t, rp, "2", t_none), OB_DECLINED);
    ck_assert_uint_eq(mq_queue_ready_count(rp), 1);

    t_pub(t, pq, "low", t_props(pbuf, sizeof(pbuf), t_none, 1, NULL));
    t_pub(t, pq, "none", t_none);
    t_pub(t, pq, "max", t_props(pbuf, sizeof(pbuf), t_none, 200, NULL));
    e = mq_queue_take(pq);
    ck_assert(t_body_is(e, "max"));
    mq_queue_ack(e);
    e = mq_queue_take(pq);
    ck_assert(t_body_is(e, "low"));
    mq_queue_ack(e);
    mq_tbuf_free(&b1);
    mq_tbuf_free(&b2);
    mq_tbuf_free(&b3);
    t_mq_free(t);
}
END_TEST


START_TEST(test_ttl_zero_and_deadletter)
{
    t_mq_t          *t = t_mq_new();
    mq_tbuf_t        b1;
    mq_queue_t      *dlq = t_queue(t, "dlq", t_none);
    mq_queue_t      *q = t_queue(t, "q", t_int_arg(&b1, "x-message-ttl", 0,
                                                   "x-dead-letter-exchange",
                                                   ""));
    mq_qentry_t     *e;
    mq_props_t       pr;
    mq_wire_err_t    err;
    mq_value_t       v, d, f;
    mq_table_iter_t  it;
    uint8_t          pbuf[64];

    free(q->dlrk);
    q->dlrk = strdup("dlq");
    /* TTL 0 and no consumer: expired at once, dead-lettered. */
    t_pub(t, q, "x", t_props(pbuf, sizeof(pbuf), t_none, -1, "5000"));
    ck_assert_uint_eq(mq_queue_ready_count(q), 0);
    ck_assert_uint_eq(mq_queue_ready_count(dlq), 1);
    e = mq_queue_take(dlq);
    ck_assert(t_body_is(e, "x"));
    ck_assert_int_eq(mq_props_parse(mq_msg_props(e->msg), e->msg->props_len,
                                    &pr, &err), OB_OK);
    ck_assert(!(pr.flags & MQ_PROP_EXPIRATION));
    ck_assert(pr.flags & MQ_PROP_HEADERS);
    ck_assert(mq_table_find(pr.headers, "x-first-death-reason", &v));
    ck_assert(v.s.len == 7 && memcmp(v.s.data, "expired", 7) == 0);
    ck_assert(mq_table_find(pr.headers, "x-death", &v) && v.type == 'A');
    mq_table_iter_init(&it, v.s);
    ck_assert(mq_array_next(&it, &d) && d.type == 'F');
    ck_assert(mq_table_find(d.s, "count", &f) && f.i == 1);
    ck_assert(mq_table_find(d.s, "queue", &f) && f.s.len == 1);
    ck_assert(mq_table_find(d.s, "original-expiration", &f)
              && f.s.len == 4);
    ck_assert(!mq_array_next(&it, &d));
    ck_assert_uint_eq(e->msg->key_len, 3);
    /* Rejected from dlq (no DLX there): just dropped. */
    mq_queue_reject(e);
    ck_assert_uint_eq(mq_queue_ready_count(dlq), 0);
    mq_tbuf_free(&b1);
    t_mq_free(t);
}
END_TEST


START_TEST(test_tick_ttl_and_expires)
{
    t_mq_t      *t = t_mq_new();
    mq_tbuf_t    b1, b2;
    mq_queue_t  *q = t_queue(t, "q", t_int_arg(&b1, "x-message-ttl", 1000,
                                               NULL, NULL));
    mq_queue_t  *x;
    int64_t      now = mq_now_ms(), mono = mq_mono_ms();
    uint8_t      pbuf[64];

    x = t_queue(t, "x", t_int_arg(&b2, "x-expires", 500, NULL, NULL));
    t_pub(t, q, "a", t_none);
    t_pub(t, q, "b", t_props(pbuf, sizeof(pbuf), t_none, -1, "10"));
    t_pub(t, q, "c", t_none);
    /* Only the head expires: "b" (10 ms) waits behind "a". */
    mq_vhost_tick(t->vh, now + 100, mono);
    ck_assert_uint_eq(mq_queue_ready_count(q), 3);
    mq_vhost_tick(t->vh, now + 5000, mono + 100);
    ck_assert_uint_eq(mq_queue_ready_count(q), 0);
    ck_assert_ptr_eq(mq_queue_find(t->vh, (const uint8_t *) "x", 1), x);
    mq_vhost_tick(t->vh, now + 5000, mono + 1000);
    ck_assert_ptr_null(mq_queue_find(t->vh, (const uint8_t *) "x", 1));
    ck_assert_ptr_nonnull(mq_queue_find(t->vh, (const uint8_t *) "q", 1));
    mq_tbuf_free(&b1);
    mq_tbuf_free(&b2);
    t_mq_free(t);
}
END_TEST


Suite *
mq_route_suite(void)
{
    Suite *su = suite_create("mq_route");
    TCase *tc = tcase_create("route");

    tcase_add_test(tc, test_direct_and_default);
    tcase_add_test(tc, test_fanout_topic);
    tcase_add_test(tc, test_headers);
    tcase_add_test(tc, test_e2e_loop_no_duplicates);
    tcase_add_test(tc, test_queue_order_requeue);
    tcase_add_test(tc, test_max_length_and_priority);
    tcase_add_test(tc, test_ttl_zero_and_deadletter);
    tcase_add_test(tc, test_tick_ttl_and_expires);
    suite_add_tcase(su, tc);
    return su;
}
