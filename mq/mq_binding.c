/*
 * mq_binding.c: bindings from an exchange to a queue or an exchange.  The
 * bindings of a direct exchange are also indexed by (exchange, routing
 * key) in the vhost's direct_index, so that routing never scans them; an
 * auto-delete exchange goes with its last binding.
 */
#include "mq_entity.h"

#include <stdlib.h>
#include <string.h>


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
        durable |= mq_exchange_free(src);
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
