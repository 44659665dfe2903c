/*
 * mq_exchange.c: vhosts, exchanges and bindings: the exchange class's
 * methods and routing, as RabbitMQ 3.10 does them (its reply texts
 * included).
 *
 * Routing is on every publish, so it allocates nothing but the growth of
 * the caller's result array: the bindings of direct exchanges are indexed
 * by (exchange, key) in a per-vhost hash; queues and exchanges already
 * visited by one route call carry that call's generation number, which
 * makes "each queue once" and "no e2e loop" O(1) checks.
 */
#include "mq_entity.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>


/* ------------------------------------------------------------ the hashes */

static uint64_t
mq_name_hash(const void *key, size_t nkey, void *ctx)
{
    (void) ctx;
    return XXH3_64bits(key, nkey);
}


static uint64_t
mq_exchange_hash_entry(const ob_hash_link_t *e, void *ctx)
{
    const mq_exchange_t *x = OB_HASH_ENTRY(e, mq_exchange_t, hlink);

    (void) ctx;
    return XXH3_64bits(x->name, x->name_len);
}


static int
mq_exchange_is_key(const ob_hash_link_t *e, const void *key, size_t nkey,
                   void *ctx)
{
    const mq_exchange_t *x = OB_HASH_ENTRY(e, mq_exchange_t, hlink);

    (void) ctx;
    return x->name_len == nkey && (nkey == 0 || memcmp(x->name, key, nkey) == 0);
}


static uint64_t
mq_queue_hash_entry(const ob_hash_link_t *e, void *ctx)
{
    const mq_queue_t *q = OB_HASH_ENTRY(e, mq_queue_t, hlink);

    (void) ctx;
    return XXH3_64bits(q->name, q->name_len);
}


static int
mq_queue_is_key(const ob_hash_link_t *e, const void *key, size_t nkey,
                void *ctx)
{
    const mq_queue_t *q = OB_HASH_ENTRY(e, mq_queue_t, hlink);

    (void) ctx;
    return q->name_len == nkey && (nkey == 0 || memcmp(q->name, key, nkey) == 0);
}


/* The direct index's key: the source exchange's address, then the
 * routing key. */
#define MQ_RK_KEY_MAX  (sizeof(void *) + MQ_NAME_MAX)

static size_t
mq_rk_key(uint8_t *buf, const mq_exchange_t *x, const void *key, size_t len)
{
    memcpy(buf, &x, sizeof(x));
    if (len > 0) {
        memcpy(buf + sizeof(x), key, len);
    }
    return sizeof(x) + len;
}


static uint64_t
mq_rk_hash_entry(const ob_hash_link_t *e, void *ctx)
{
    const mq_route_key_t *rk = OB_HASH_ENTRY(e, mq_route_key_t, hlink);
    uint8_t               buf[MQ_RK_KEY_MAX];

    (void) ctx;
    return XXH3_64bits(buf, mq_rk_key(buf, rk->source, rk->key, rk->key_len));
}


static int
mq_rk_is_key(const ob_hash_link_t *e, const void *key, size_t nkey, void *ctx)
{
    const mq_route_key_t *rk = OB_HASH_ENTRY(e, mq_route_key_t, hlink);
    const uint8_t        *k = key;

    (void) ctx;
    return nkey == sizeof(void *) + rk->key_len
           && memcmp(k, &rk->source, sizeof(void *)) == 0
           && memcmp(k + sizeof(void *), rk->key, rk->key_len) == 0;
}


static const ob_hash_type_t mq_exchange_hash_type = {
    mq_name_hash, mq_exchange_hash_entry, mq_exchange_is_key
};
static const ob_hash_type_t mq_queue_hash_type = {
    mq_name_hash, mq_queue_hash_entry, mq_queue_is_key
};
static const ob_hash_type_t mq_rk_hash_type = {
    mq_name_hash, mq_rk_hash_entry, mq_rk_is_key
};


/* --------------------------------------------------------------- vhosts */

static mq_exchange_t *mq_exchange_new(mq_vhost_t *vh, ob_str_t name,
    mq_exchange_type_t type, int durable, int auto_delete, int internal,
    ob_str_t args);
static void mq_exchange_free(mq_exchange_t *x);


static ob_str_t
mq_cstr(const char *s)
{
    ob_str_t r = { strlen(s), (const uint8_t *) s };

    return r;
}


mq_vhost_t *
mq_vhost_new(mq_t *mq, const char *name)
{
    static const struct { const char *name; mq_exchange_type_t type;
                          int internal; } builtin[] = {
        { "", MQ_EX_DIRECT, 0 },
        { "amq.direct", MQ_EX_DIRECT, 0 },
        { "amq.fanout", MQ_EX_FANOUT, 0 },
        { "amq.headers", MQ_EX_HEADERS, 0 },
        { "amq.match", MQ_EX_HEADERS, 0 },
        { "amq.rabbitmq.trace", MQ_EX_TOPIC, 1 },
        { "amq.topic", MQ_EX_TOPIC, 0 },
    };
    ob_hash_conf_t  hc = { .power_init = 4, .load_factor = 1.0 };
    ob_str_t        none = { 0, NULL };
    mq_vhost_x_t   *vx;
    mq_vhost_t     *vh, **tail;
    mq_exchange_t  *x;
    size_t          i;

    vx = calloc(1, sizeof(*vx));
    if (vx == NULL) {
        return NULL;
    }
    vh = &vx->vh;
    vh->mq = mq;
    snprintf(vh->name, sizeof(vh->name), "%s", name);
    mq_list_init(&vh->exchange_list);
    mq_list_init(&vh->queue_list);
    if (ob_hash_init(&vh->exchanges, &mq_exchange_hash_type, vh, &hc) != OB_OK
        || ob_hash_init(&vh->queues, &mq_queue_hash_type, vh, &hc) != OB_OK
        || ob_hash_init(&vx->direct_index, &mq_rk_hash_type, vh, &hc)
           != OB_OK)
    {
        ob_hash_fini(&vh->exchanges);
        ob_hash_fini(&vh->queues);
        free(vx);
        return NULL;
    }
    for (tail = &mq->vhosts; *tail != NULL; tail = &(*tail)->next) {
    }
    *tail = vh;
    for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
        x = mq_exchange_new(vh, mq_cstr(builtin[i].name), builtin[i].type,
                            1, 0, builtin[i].internal, none);
        if (x == NULL) {
            return NULL;
        }
        x->builtin = 1;
    }
    return vh;
}


void
mq_vhost_free(mq_vhost_t *vh)
{
    mq_vhost_x_t *vx = MQ_VHX(vh);

    mq_queue_free_all(vh);
    while (!mq_list_empty(&vh->exchange_list)) {
        mq_exchange_free(MQ_ENTRY(vh->exchange_list.next, mq_exchange_t,
                                  link));
    }
    ob_hash_fini(&vh->exchanges);
    ob_hash_fini(&vh->queues);
    ob_hash_fini(&vx->direct_index);
    free(vx);
}


mq_vhost_t *
mq_vhost_find(mq_t *mq, const char *name, size_t len)
{
    mq_vhost_t *vh;

    for (vh = mq->vhosts; vh != NULL; vh = vh->next) {
        if (strlen(vh->name) == len && memcmp(vh->name, name, len) == 0) {
            return vh;
        }
    }
    return NULL;
}


mq_exchange_t *
mq_exchange_find(mq_vhost_t *vh, const uint8_t *name, size_t len)
{
    ob_hash_link_t *l = ob_hash_find(&vh->exchanges, name, len);

    return l != NULL ? OB_HASH_ENTRY(l, mq_exchange_t, hlink) : NULL;
}


mq_queue_t *
mq_queue_find(mq_vhost_t *vh, const uint8_t *name, size_t len)
{
    ob_hash_link_t *l = ob_hash_find(&vh->queues, name, len);

    return l != NULL ? OB_HASH_ENTRY(l, mq_queue_t, hlink) : NULL;
}


/* ------------------------------------------------------------ exchanges */

static mq_exchange_t *
mq_exchange_new(mq_vhost_t *vh, ob_str_t name, mq_exchange_type_t type,
                int durable, int auto_delete, int internal, ob_str_t args)
{
    mq_exchange_x_t *xx;
    mq_exchange_t   *x;
    mq_value_t       v;

    if (name.len > MQ_NAME_MAX) {
        return NULL;
    }
    xx = calloc(1, sizeof(*xx));
    if (xx == NULL) {
        return NULL;
    }
    x = &xx->x;
    x->vhost = vh;
    if (name.len > 0) {
        memcpy(x->name, name.data, name.len);
    }
    x->name_len = (uint8_t) name.len;
    x->type = type;
    x->durable = durable != 0;
    x->auto_delete = auto_delete != 0;
    x->internal = internal != 0;
    mq_list_init(&x->bindings);
    mq_list_init(&x->dst_bindings);
    if (args.len > 0) {
        x->args = malloc(args.len);
        if (x->args == NULL) {
            free(xx);
            return NULL;
        }
        memcpy(x->args, args.data, args.len);
        x->args_len = args.len;
        if (mq_table_find(args, "alternate-exchange", &v) && v.type == 'S'
            && v.s.len <= MQ_NAME_MAX)
        {
            xx->alternate = strndup((const char *) v.s.data, v.s.len);
        }
    }
    ob_hash_insert(&vh->exchanges, &x->hlink);
    mq_list_push_back(&vh->exchange_list, &x->link);
    return x;
}


/* Removes x with every binding from or to it. */
static void
mq_exchange_free(mq_exchange_t *x)
{
    /* Not auto-deleted again by the removal of its last binding. */
    x->auto_delete = 0;
    while (!mq_list_empty(&x->bindings)) {
        mq_binding_remove(MQ_ENTRY(x->bindings.next, mq_binding_t,
                                   src_link));
    }
    while (!mq_list_empty(&x->dst_bindings)) {
        mq_binding_remove(MQ_ENTRY(x->dst_bindings.next, mq_binding_t,
                                   dst_link));
    }
    ob_hash_delete(&x->vhost->exchanges, &x->hlink);
    mq_list_remove(&x->link);
    free(MQ_XX(x)->alternate);
    free(x->args);
    free(MQ_XX(x));
}


mq_exchange_t *
mq_exchange_restore(mq_vhost_t *vh, const char *name, mq_exchange_type_t type,
                    int auto_delete, int internal, ob_str_t args)
{
    mq_exchange_t *x = mq_exchange_find(vh, (const uint8_t *) name,
                                        strlen(name));

    if (x != NULL) {
        return x;
    }
    return mq_exchange_new(vh, mq_cstr(name), type, 1, auto_delete, internal,
                           args);
}


/* ------------------------------------------------------------- bindings */

mq_binding_t *
mq_binding_find(mq_exchange_t *src, mq_queue_t *q, mq_exchange_t *dst,
                ob_str_t key, ob_str_t args)
{
    mq_link_t    *l;
    mq_binding_t *b;
    ob_str_t      bargs;

    for (l = src->bindings.next; l != &src->bindings; l = l->next) {
        b = MQ_ENTRY(l, mq_binding_t, src_link);
        bargs.data = b->args;
        bargs.len = b->args_len;
        if (b->queue == q && b->exchange == dst && b->key_len == key.len
            && (key.len == 0 || memcmp(b->key, key.data, key.len) == 0)
            && (bargs.len == args.len
                ? args.len == 0 || mq_table_equal(bargs, args)
                : (bargs.len == 0 || args.len == 0)
                  ? 0 : mq_table_equal(bargs, args)))
        {
            return b;
        }
    }
    return NULL;
}


mq_binding_t *
mq_binding_add(mq_exchange_t *src, mq_queue_t *q, mq_exchange_t *dst,
               ob_str_t key, ob_str_t args)
{
    mq_vhost_x_t    *vx = MQ_VHX(src->vhost);
    mq_binding_x_t  *bx;
    mq_binding_t    *b;
    mq_route_key_t  *rk = NULL;
    ob_hash_link_t  *hl;
    uint8_t          buf[MQ_RK_KEY_MAX];
    size_t           n;

    if (key.len > MQ_NAME_MAX) {
        return NULL;
    }
    bx = calloc(1, sizeof(*bx));
    if (bx == NULL) {
        return NULL;
    }
    b = &bx->b;
    if (args.len > 0) {
        b->args = malloc(args.len);
        if (b->args == NULL) {
            free(bx);
            return NULL;
        }
        memcpy(b->args, args.data, args.len);
        b->args_len = args.len;
    }
    if (src->type == MQ_EX_DIRECT) {
        n = mq_rk_key(buf, src, key.data, key.len);
        hl = ob_hash_find(&vx->direct_index, buf, n);
        if (hl != NULL) {
            rk = OB_HASH_ENTRY(hl, mq_route_key_t, hlink);
        } else {
            rk = calloc(1, sizeof(*rk));
            if (rk == NULL) {
                free(b->args);
                free(bx);
                return NULL;
            }
            rk->source = src;
            rk->key_len = (uint8_t) key.len;
            if (key.len > 0) {
                memcpy(rk->key, key.data, key.len);
            }
            mq_list_init(&rk->bindings);
            ob_hash_insert(&vx->direct_index, &rk->hlink);
        }
        mq_list_push_back(&rk->bindings, &bx->key_link);
        bx->rk = rk;
    } else {
        mq_list_init(&bx->key_link);
    }
    b->source = src;
    b->queue = q;
    b->exchange = dst;
    b->key_len = (uint8_t) key.len;
    if (key.len > 0) {
        memcpy(b->key, key.data, key.len);
    }
    mq_list_push_back(&src->bindings, &b->src_link);
    mq_list_push_back(q != NULL ? &q->bindings : &dst->dst_bindings,
                      &b->dst_link);
    return b;
}


int
mq_binding_remove(mq_binding_t *b)
{
    mq_binding_x_t *bx = MQ_BX(b);
    mq_exchange_t  *src = b->source;
    int             durable;

    durable = src->durable
              && (b->queue != NULL ? b->queue->durable : b->exchange->durable);
    if (bx->rk != NULL) {
        mq_list_remove(&bx->key_link);
        if (mq_list_empty(&bx->rk->bindings)) {
            ob_hash_delete(&MQ_VHX(src->vhost)->direct_index,
                           &bx->rk->hlink);
            free(bx->rk);
        }
    }
    mq_list_remove(&b->src_link);
    mq_list_remove(&b->dst_link);
    free(b->args);
    free(bx);
    /* RabbitMQ deletes an auto-delete exchange when its last binding (as
     * the source) goes. */
    if (src->auto_delete && !src->builtin && mq_list_empty(&src->bindings)) {
        durable |= src->durable;
        mq_exchange_free(src);
    }
    return durable;
}


int
mq_binding_restore(mq_vhost_t *vh, const char *source, const char *dest,
                   int dest_is_queue, ob_str_t key, ob_str_t args)
{
    mq_exchange_t *src, *dx = NULL;
    mq_queue_t    *q = NULL;

    src = mq_exchange_find(vh, (const uint8_t *) source, strlen(source));
    if (src == NULL) {
        return OB_DECLINED;
    }
    if (dest_is_queue) {
        q = mq_queue_find(vh, (const uint8_t *) dest, strlen(dest));
    } else {
        dx = mq_exchange_find(vh, (const uint8_t *) dest, strlen(dest));
    }
    if (q == NULL && dx == NULL) {
        return OB_DECLINED;
    }
    if (mq_binding_find(src, q, dx, key, args) != NULL) {
        return OB_OK;
    }
    return mq_binding_add(src, q, dx, key, args) != NULL ? OB_OK : OB_ERR;
}


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


/* -------------------------------------------------------------- methods */

static int
mq_is_reserved(ob_str_t name)
{
    return name.len >= 4 && memcmp(name.data, "amq.", 4) == 0;
}


static int
mq_exchange_type_of(ob_str_t t, mq_exchange_type_t *type)
{
    static const char *names[] = { "direct", "fanout", "topic", "headers" };
    size_t i;

    for (i = 0; i < 4; i++) {
        if (t.len == strlen(names[i]) && memcmp(t.data, names[i], t.len) == 0) {
            *type = (mq_exchange_type_t) i;
            return OB_OK;
        }
    }
    return OB_ERR;
}


static const char *
mq_exchange_type_name(mq_exchange_type_t t)
{
    static const char *names[] = { "direct", "fanout", "topic", "headers" };

    return names[t];
}


static int
mq_reply_ok(mq_channel_t *ch, int no_wait, mq_method_id_t ok)
{
    if (no_wait) {
        return OB_OK;
    }
    return mq_send_method(ch->conn, ch->id, ok);
}


static int
mq_default_refused(mq_channel_t *ch, mq_method_id_t cause)
{
    return mq_channel_error(ch, MQ_ACCESS_REFUSED, cause,
                            "operation not permitted on the default exchange");
}


static int
mq_no_exchange(mq_channel_t *ch, mq_method_id_t cause, ob_str_t name)
{
    return mq_channel_error(ch, MQ_NOT_FOUND, cause,
                            "no exchange '%.*s' in vhost '%s'",
                            (int) name.len, name.data,
                            ch->conn->vhost->name);
}


static int
mq_x_inequivalent(mq_channel_t *ch, mq_exchange_t *x, const char *arg,
                  const char *got, const char *cur)
{
    return mq_channel_error(ch, MQ_PRECONDITION_FAILED, MQ_M_EXCHANGE_DECLARE,
                            "inequivalent arg '%s' for exchange '%.*s' in "
                            "vhost '%s': received '%s' but current is '%s'",
                            arg, (int) x->name_len, x->name, x->vhost->name,
                            got, cur);
}


static int
mq_exchange_declare(mq_channel_t *ch, const mq_method_t *m)
{
    mq_vhost_t         *vh = ch->conn->vhost;
    ob_str_t            name = m->a[MQ_EXCHANGE_DECLARE_EXCHANGE].s;
    ob_str_t            tname = m->a[MQ_EXCHANGE_DECLARE_TYPE].s;
    ob_str_t            args = m->a[MQ_EXCHANGE_DECLARE_ARGUMENTS].s;
    int                 passive = m->a[MQ_EXCHANGE_DECLARE_PASSIVE].n != 0;
    int                 durable = m->a[MQ_EXCHANGE_DECLARE_DURABLE].n != 0;
    int                 autodel = m->a[MQ_EXCHANGE_DECLARE_AUTO_DELETE].n != 0;
    int                 internal = m->a[MQ_EXCHANGE_DECLARE_INTERNAL].n != 0;
    int                 no_wait = m->a[MQ_EXCHANGE_DECLARE_NO_WAIT].n != 0;
    mq_exchange_type_t  type = MQ_EX_DIRECT;
    mq_exchange_t      *x;
    mq_value_t          v1, v2;
    int                 h1, h2;
    ob_str_t            cur;

    /* RabbitMQ says "invalid exchange type" when the name happens to be
     * an atom its VM already knows ("foo"), "unknown" otherwise: the
     * latter is what any real mistake gets. */
    if (!passive && mq_exchange_type_of(tname, &type) != OB_OK) {
        return mq_conn_error(ch->conn, MQ_COMMAND_INVALID,
                             MQ_M_EXCHANGE_DECLARE,
                             "unknown exchange type '%.*s'",
                             (int) tname.len, tname.data);
    }
    if (name.len == 0) {
        return mq_default_refused(ch, MQ_M_EXCHANGE_DECLARE);
    }
    x = mq_exchange_find(vh, name.data, name.len);
    if (passive) {
        if (x == NULL) {
            return mq_no_exchange(ch, MQ_M_EXCHANGE_DECLARE, name);
        }
        return mq_reply_ok(ch, no_wait, MQ_M_EXCHANGE_DECLARE_OK);
    }
    if (x == NULL) {
        if (mq_is_reserved(name)) {
            return mq_channel_error(ch, MQ_ACCESS_REFUSED,
                                    MQ_M_EXCHANGE_DECLARE,
                                    "exchange name '%.*s' contains reserved "
                                    "prefix 'amq.*'",
                                    (int) name.len, name.data);
        }
        x = mq_exchange_new(vh, name, type, durable, autodel, internal, args);
        if (x == NULL) {
            return mq_conn_error(ch->conn, MQ_INTERNAL_ERROR,
                                 MQ_M_EXCHANGE_DECLARE, "out of memory");
        }
        if (durable) {
            mq_defs_save(vh->mq);
        }
        return mq_reply_ok(ch, no_wait, MQ_M_EXCHANGE_DECLARE_OK);
    }
    if (x->type != type) {
        return mq_x_inequivalent(ch, x, "type", mq_exchange_type_name(type),
                                 mq_exchange_type_name(x->type));
    }
    if (x->durable != (unsigned) durable) {
        return mq_x_inequivalent(ch, x, "durable", durable ? "true" : "false",
                                 x->durable ? "true" : "false");
    }
    if (x->auto_delete != (unsigned) autodel) {
        return mq_x_inequivalent(ch, x, "auto_delete",
                                 autodel ? "true" : "false",
                                 x->auto_delete ? "true" : "false");
    }
    if (x->internal != (unsigned) internal) {
        return mq_x_inequivalent(ch, x, "internal",
                                 internal ? "true" : "false",
                                 x->internal ? "true" : "false");
    }
    /* Of the arguments RabbitMQ compares alternate-exchange only. */
    cur.data = x->args;
    cur.len = x->args_len;
    h1 = args.len > 0 && mq_table_find(args, "alternate-exchange", &v1);
    h2 = cur.len > 0 && mq_table_find(cur, "alternate-exchange", &v2);
    if (h1 != h2 || (h1 && !mq_value_equal(&v1, &v2))) {
        return mq_channel_error(ch, MQ_PRECONDITION_FAILED,
                                MQ_M_EXCHANGE_DECLARE,
                                "inequivalent arg 'alternate-exchange' for "
                                "exchange '%.*s' in vhost '%s': received "
                                "'%.*s' but current is '%.*s'",
                                (int) x->name_len, x->name, vh->name,
                                h1 ? (int) v1.s.len : 4,
                                h1 ? (const char *) v1.s.data : "none",
                                h2 ? (int) v2.s.len : 4,
                                h2 ? (const char *) v2.s.data : "none");
    }
    return mq_reply_ok(ch, no_wait, MQ_M_EXCHANGE_DECLARE_OK);
}


static int
mq_exchange_delete(mq_channel_t *ch, const mq_method_t *m)
{
    mq_vhost_t     *vh = ch->conn->vhost;
    ob_str_t        name = m->a[MQ_EXCHANGE_DELETE_EXCHANGE].s;
    int             if_unused = m->a[MQ_EXCHANGE_DELETE_IF_UNUSED].n != 0;
    int             no_wait = m->a[MQ_EXCHANGE_DELETE_NO_WAIT].n != 0;
    mq_exchange_t  *x;
    int             durable;

    if (name.len == 0) {
        return mq_default_refused(ch, MQ_M_EXCHANGE_DELETE);
    }
    x = mq_exchange_find(vh, name.data, name.len);
    if (x == NULL) {
        /* RabbitMQ 3.10 answers delete-ok for a missing exchange. */
        return mq_reply_ok(ch, no_wait, MQ_M_EXCHANGE_DELETE_OK);
    }
    if (x->builtin) {
        return mq_channel_error(ch, MQ_ACCESS_REFUSED, MQ_M_EXCHANGE_DELETE,
                                "deletion of system exchange '%.*s' in vhost "
                                "'%s' not allowed", (int) name.len, name.data,
                                vh->name);
    }
    if (if_unused && !mq_list_empty(&x->bindings)) {
        return mq_channel_error(ch, MQ_PRECONDITION_FAILED,
                                MQ_M_EXCHANGE_DELETE,
                                "exchange '%.*s' in vhost '%s' in use",
                                (int) name.len, name.data, vh->name);
    }
    durable = x->durable;
    mq_exchange_free(x);
    if (durable) {
        mq_defs_save(vh->mq);
    }
    return mq_reply_ok(ch, no_wait, MQ_M_EXCHANGE_DELETE_OK);
}


/* 406 for an x-match a headers binding cannot use, as RabbitMQ checks at
 * bind time.  OB_OK or the channel error's OB_ERR. */
static int
mq_binding_args_check(mq_channel_t *ch, mq_method_id_t cause,
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


static int
mq_exchange_bind(mq_channel_t *ch, const mq_method_t *m, int bind)
{
    mq_vhost_t     *vh = ch->conn->vhost;
    mq_method_id_t  cause = bind ? MQ_M_EXCHANGE_BIND : MQ_M_EXCHANGE_UNBIND;
    ob_str_t        dname = m->a[MQ_EXCHANGE_BIND_DESTINATION].s;
    ob_str_t        sname = m->a[MQ_EXCHANGE_BIND_SOURCE].s;
    ob_str_t        key = m->a[MQ_EXCHANGE_BIND_ROUTING_KEY].s;
    ob_str_t        args = m->a[MQ_EXCHANGE_BIND_ARGUMENTS].s;
    int             no_wait = m->a[MQ_EXCHANGE_BIND_NO_WAIT].n != 0;
    mq_exchange_t  *src, *dst;
    mq_binding_t   *b;
    int             durable;

    if (dname.len == 0 || sname.len == 0) {
        return mq_default_refused(ch, cause);
    }
    src = mq_exchange_find(vh, sname.data, sname.len);
    dst = mq_exchange_find(vh, dname.data, dname.len);
    if (!bind) {
        if (src != NULL && dst != NULL) {
            b = mq_binding_find(src, NULL, dst, key, args);
            if (b != NULL && mq_binding_remove(b)) {
                mq_defs_save(vh->mq);
            }
        }
        return mq_reply_ok(ch, no_wait, MQ_M_EXCHANGE_UNBIND_OK);
    }
    if (src == NULL) {
        return mq_no_exchange(ch, cause, sname);
    }
    if (dst == NULL) {
        return mq_no_exchange(ch, cause, dname);
    }
    if (mq_binding_args_check(ch, cause, src, args) != OB_OK) {
        return OB_ERR;
    }
    if (mq_binding_find(src, NULL, dst, key, args) == NULL) {
        if (mq_binding_add(src, NULL, dst, key, args) == NULL) {
            return mq_conn_error(ch->conn, MQ_INTERNAL_ERROR, cause,
                                 "out of memory");
        }
        durable = src->durable && dst->durable;
        if (durable) {
            mq_defs_save(vh->mq);
        }
    }
    return mq_reply_ok(ch, no_wait, MQ_M_EXCHANGE_BIND_OK);
}


int
mq_exchange_method(mq_channel_t *ch, const mq_method_t *m)
{
    switch (m->id) {
    case MQ_M_EXCHANGE_DECLARE:
        return mq_exchange_declare(ch, m);
    case MQ_M_EXCHANGE_DELETE:
        return mq_exchange_delete(ch, m);
    case MQ_M_EXCHANGE_BIND:
        return mq_exchange_bind(ch, m, 1);
    case MQ_M_EXCHANGE_UNBIND:
        return mq_exchange_bind(ch, m, 0);
    default:
        return mq_conn_error(ch->conn, MQ_COMMAND_INVALID, (int) m->id,
                             "unexpected method in the exchange class");
    }
}


int
mq_binding_check_args(mq_channel_t *ch, mq_method_id_t cause,
                      mq_exchange_t *src, ob_str_t args)
{
    return mq_binding_args_check(ch, cause, src, args);
}
