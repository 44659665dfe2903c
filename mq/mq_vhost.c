/*
 * mq_vhost.c: vhosts (with their predeclared exchanges) and the hash
 * tables that find exchanges, queues and, for direct exchanges, bindings
 * by routing key.
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
           != OB_OK
        || mq_last_queue_init(vh) != OB_OK)
    {
        ob_hash_fini(&vh->exchanges);
        ob_hash_fini(&vh->queues);
        ob_hash_fini(&vx->direct_index);
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
    mq_last_queue_fini(vh);
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
