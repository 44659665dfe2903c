/*
 * mq_route.c: routing: the queues a message reaches from an exchange
 * (direct through the vhost's index, fanout, topic, headers with RabbitMQ's
 * x-match rules), following exchange-to-exchange bindings and the
 * alternate exchange.  Routing is on every publish, so it allocates
 * nothing but the growth of the caller's result array: queues and
 * exchanges already visited by one route call carry that call's
 * generation number, which makes "each queue once" and "no e2e loop" O(1)
 * checks.
 */
#include "mq_entity.h"

#include <stdlib.h>
#include <string.h>


/* -------------------------------------------------------------- routing */

/* The x-match of a headers binding. */
enum { MQ_XM_ALL, MQ_XM_ANY, MQ_XM_ALL_X, MQ_XM_ANY_X, MQ_XM_BAD };

static int
mq_xmatch_kind(ob_str_t args)
{
    mq_value_t v;

    if (args.len == 0 || !mq_table_find(args, "x-match", &v)) {
        return MQ_XM_ALL;
    }
    if (v.type != 'S') {
        return MQ_XM_BAD;
    }
#define MQ_IS(lit) (v.s.len == sizeof(lit) - 1 \
                    && memcmp(v.s.data, lit, sizeof(lit) - 1) == 0)
    if (MQ_IS("all")) {
        return MQ_XM_ALL;
    }
    if (MQ_IS("any")) {
        return MQ_XM_ANY;
    }
    if (MQ_IS("all-with-x")) {
        return MQ_XM_ALL_X;
    }
    if (MQ_IS("any-with-x")) {
        return MQ_XM_ANY_X;
    }
#undef MQ_IS
    return MQ_XM_BAD;
}


/* 1 when two values are of the same class for RabbitMQ's headers
 * exchange (every integer type is one class, float and double another). */
static int
mq_same_type_class(const mq_value_t *a, const mq_value_t *b)
{
    if (mq_value_is_int(a) && mq_value_is_int(b)) {
        return 1;
    }
    if ((a->type == 'f' || a->type == 'd') && (b->type == 'f' || b->type == 'd')) {
        return 1;
    }
    return a->type == b->type;
}


/*
 * RabbitMQ's headers match: each binding argument (but x-match, and for
 * all/any every "x-" key) is looked up in the message's headers; a void
 * binding value asks only for presence.
 */
static int
mq_headers_match(ob_str_t bargs, ob_str_t headers)
{
    mq_table_iter_t  it;
    ob_str_t         k;
    mq_value_t       bv, hv;
    int              kind = mq_xmatch_kind(bargs), all = 1, any = 0, match;
    char             key[MQ_NAME_MAX + 1];

    if (kind == MQ_XM_BAD) {
        return 0;
    }
    mq_table_iter_init(&it, bargs);
    while (mq_table_next(&it, &k, &bv)) {
        if (k.len == 7 && memcmp(k.data, "x-match", 7) == 0) {
            continue;
        }
        if ((kind == MQ_XM_ALL || kind == MQ_XM_ANY) && k.len >= 2
            && k.data[0] == 'x' && k.data[1] == '-')
        {
            continue;
        }
        memcpy(key, k.data, k.len);
        key[k.len] = '\0';
        if (headers.len > 0 && mq_table_find(headers, key, &hv)) {
            match = bv.type == 'V'
                    || (mq_same_type_class(&bv, &hv)
                        && mq_value_equal(&bv, &hv));
        } else {
            match = 0;
        }
        if (match) {
            any = 1;
        } else {
            all = 0;
        }
    }
    return (kind == MQ_XM_ALL || kind == MQ_XM_ALL_X) ? all : any;
}


typedef struct mq_route_s {
    uint64_t       gen;
    ob_str_t       key, headers;
    int            have_headers;
    const mq_msg_t *msg;
    mq_queue_t  ***out;
    size_t        *n, *cap;
    int            failed;
} mq_route_t;


static void mq_route_exchange(mq_route_t *r, mq_exchange_t *x, int depth);


static void
mq_route_to(mq_route_t *r, mq_binding_t *b, int depth)
{
    mq_queue_t  **grown;
    size_t        ncap;

    if (b->exchange != NULL) {
        mq_route_exchange(r, b->exchange, depth + 1);
        return;
    }
    if (MQ_QX(b->queue)->route_mark == r->gen) {
        return;
    }
    if (*r->n == *r->cap) {
        ncap = *r->cap != 0 ? *r->cap * 2 : 8;
        grown = realloc(*r->out, ncap * sizeof(mq_queue_t *));
        if (grown == NULL) {
            r->failed = 1;
            return;
        }
        *r->out = grown;
        *r->cap = ncap;
    }
    MQ_QX(b->queue)->route_mark = r->gen;
    (*r->out)[(*r->n)++] = b->queue;
}


static void
mq_route_exchange(mq_route_t *r, mq_exchange_t *x, int depth)
{
    mq_vhost_x_t   *vx = MQ_VHX(x->vhost);
    mq_link_t      *l;
    mq_binding_t   *b;
    ob_hash_link_t *hl;
    uint8_t         buf[MQ_RK_KEY_MAX];
    ob_str_t        bkey, bargs;
    mq_binding_t    fake;

    if (MQ_XX(x)->route_mark == r->gen || depth > 64) {
        return;
    }
    MQ_XX(x)->route_mark = r->gen;

    if (x->type == MQ_EX_DIRECT && x->builtin && x->name_len == 0) {
        /* The default exchange: the queue named by the key. */
        fake.queue = mq_queue_find(x->vhost, r->key.data, r->key.len);
        fake.exchange = NULL;
        if (fake.queue != NULL) {
            mq_route_to(r, &fake, depth);
        }
        return;
    }
    if (x->type == MQ_EX_DIRECT) {
        hl = ob_hash_find(&vx->direct_index, buf,
                          mq_rk_key(buf, x, r->key.data, r->key.len));
        if (hl != NULL) {
            mq_route_key_t *rk = OB_HASH_ENTRY(hl, mq_route_key_t, hlink);

            for (l = rk->bindings.next; l != &rk->bindings; l = l->next) {
                mq_route_to(r, &MQ_ENTRY(l, mq_binding_x_t, key_link)->b,
                            depth);
            }
        }
        return;
    }
    if (x->type == MQ_EX_HEADERS && !r->have_headers) {
        mq_props_t    pr;
        mq_wire_err_t err;

        r->have_headers = 1;
        if (r->msg->props_len > 0
            && mq_props_parse(mq_msg_props((mq_msg_t *) r->msg),
                              r->msg->props_len, &pr, &err) == OB_OK
            && (pr.flags & MQ_PROP_HEADERS))
        {
            r->headers = pr.headers;
        }
    }
    for (l = x->bindings.next; l != &x->bindings; l = l->next) {
        b = MQ_ENTRY(l, mq_binding_t, src_link);
        switch (x->type) {
        case MQ_EX_FANOUT:
            break;
        case MQ_EX_TOPIC:
            bkey.data = (const uint8_t *) b->key;
            bkey.len = b->key_len;
            if (!mq_topic_match(bkey, r->key)) {
                continue;
            }
            break;
        case MQ_EX_HEADERS:
            bargs.data = b->args;
            bargs.len = b->args_len;
            if (!mq_headers_match(bargs, r->headers)) {
                continue;
            }
            break;
        default:
            continue;
        }
        mq_route_to(r, b, depth);
    }
}


int
mq_exchange_route(mq_exchange_t *x, const mq_msg_t *msg, mq_queue_t ***out,
                  size_t *n, size_t *cap)
{
    mq_vhost_x_t  *vx = MQ_VHX(x->vhost);
    mq_route_t     r;
    mq_exchange_t *ae;
    const char    *alt;
    size_t         start = *n;
    int            hops;

    memset(&r, 0, sizeof(r));
    r.gen = ++vx->route_gen;
    r.key.data = mq_msg_key(msg);
    r.key.len = msg->key_len;
    r.msg = msg;
    r.out = out;
    r.n = n;
    r.cap = cap;
    mq_route_exchange(&r, x, 0);
    /* Unroutable: the alternate exchange, and its own, as RabbitMQ. */
    for (hops = 0; *n == start && !r.failed && hops < 16; hops++) {
        alt = MQ_XX(x)->alternate;
        if (alt == NULL) {
            break;
        }
        ae = mq_exchange_find(x->vhost, (const uint8_t *) alt, strlen(alt));
        if (ae == NULL || MQ_XX(ae)->route_mark == r.gen) {
            break;
        }
        mq_route_exchange(&r, ae, 0);
        x = ae;
    }
    return r.failed ? OB_ERR : OB_OK;
}


int
mq_binding_check_args(mq_channel_t *ch, mq_method_id_t cause,
                      mq_exchange_t *src, ob_str_t args)
{
    mq_value_t v;

    if (src->type != MQ_EX_HEADERS || mq_xmatch_kind(args) != MQ_XM_BAD) {
        return OB_OK;
    }
    mq_table_find(args, "x-match", &v);
    if (v.type == 'S') {
        return mq_channel_error(ch, MQ_PRECONDITION_FAILED, cause,
                                "Invalid x-match field value <<\"%.*s\">>; "
                                "expected all, any, all-with-x, or "
                                "any-with-x", (int) v.s.len, v.s.data);
    }
    return mq_channel_error(ch, MQ_PRECONDITION_FAILED, cause,
                            "Invalid x-match field type; expected longstr");
}
