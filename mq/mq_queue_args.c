/*
 * mq_queue_args.c: a queue's x-arguments: RabbitMQ 3.10's validation of a
 * new queue's arguments (its error texts, Erlang terms included), the
 * parsed fields the queue works with, and the equivalence check of a
 * redeclaration.
 *
 * x-queue-type quorum and stream: RabbitMQ refuses them for non-durable
 * queues (with the text below); a durable one is accepted and runs as a
 * classic queue, so that clients asking for them keep working.
 */
#include "mq_entity.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MQ_MAX_EXPIRY  4294967295LL     /* RabbitMQ's ?MAX_EXPIRY_TIMER */


/* RabbitMQ's name of a field type, as its error texts print it. */
static const char *
mq_type_name(uint8_t t)
{
    switch (t) {
    case 't': return "bool";
    case 'b': return "byte";
    case 'B': return "unsignedbyte";
    case 's': return "short";
    case 'u': return "unsignedshort";
    case 'I': return "signedint";
    case 'i': return "unsignedint";
    case 'l': return "long";
    case 'L': return "long";
    case 'f': return "float";
    case 'd': return "double";
    case 'D': return "decimal";
    case 'S': return "longstr";
    case 'x': return "binary";
    case 'A': return "array";
    case 'T': return "timestamp";
    case 'F': return "table";
    case 'V': return "void";
    default:  return "unknown";
    }
}


static int
mq_key_is(ob_str_t k, const char *lit)
{
    return k.len == strlen(lit) && memcmp(k.data, lit, k.len) == 0;
}


static int
mq_str_is(const mq_value_t *v, const char *lit)
{
    return v->type == 'S' && mq_key_is(v->s, lit);
}


static int
mq_invalid_arg(mq_channel_t *ch, mq_method_id_t cause, ob_str_t k,
               ob_str_t name, const char *fmt_detail, const char *detail)
{
    char text[512];

    snprintf(text, sizeof(text), fmt_detail, detail);
    return mq_channel_error(ch, MQ_PRECONDITION_FAILED, cause,
                            "invalid arg '%.*s' for queue '%.*s' in vhost "
                            "'%s': %s", (int) k.len, k.data, (int) name.len,
                            name.data, ch->conn->vhost->name, text);
}


/* The checks of an integer argument: 0 or the error's detail in buf. */
static const char *
mq_int_arg_detail(const mq_value_t *v, int zero_ok, int64_t max, char *buf,
                  size_t cap)
{
    if (!mq_value_is_int(v)) {
        snprintf(buf, cap, "\"expected integer, got %s\"",
                 mq_type_name(v->type));
        return buf;
    }
    if (v->i < 0) {
        snprintf(buf, cap, "{value_negative,%" PRId64 "}", v->i);
        return buf;
    }
    if (v->i == 0 && !zero_ok) {
        snprintf(buf, cap, "{value_zero,0}");
        return buf;
    }
    if (max > 0 && v->i > max) {
        snprintf(buf, cap, "{value_too_large,%" PRId64 "}", v->i);
        return buf;
    }
    return NULL;
}


static void mq_value_print(const mq_value_t *v, char *buf, size_t cap);


int
mq_queue_args_check(mq_channel_t *ch, mq_method_id_t cause, ob_str_t name,
                    ob_str_t args, int durable, int exclusive, int auto_delete)
{
    mq_table_iter_t  it;
    ob_str_t         k;
    mq_value_t       v, t;
    const char      *detail;
    char             buf[200];
    const char      *vh = ch->conn->vhost->name;

    if (args.len == 0) {
        return OB_OK;
    }
    mq_table_iter_init(&it, args);
    while (mq_table_next(&it, &k, &v)) {
        detail = NULL;
        if (mq_key_is(k, "x-expires")) {
            detail = mq_int_arg_detail(&v, 0, MQ_MAX_EXPIRY, buf, sizeof(buf));
        } else if (mq_key_is(k, "x-message-ttl")) {
            detail = mq_int_arg_detail(&v, 1, MQ_MAX_EXPIRY, buf, sizeof(buf));
        } else if (mq_key_is(k, "x-max-length")
                   || mq_key_is(k, "x-max-length-bytes"))
        {
            detail = mq_int_arg_detail(&v, 1, 0, buf, sizeof(buf));
        } else if (mq_key_is(k, "x-max-priority")) {
            detail = mq_int_arg_detail(&v, 1, 0, buf, sizeof(buf));
            if (detail == NULL && v.i > 255) {
                snprintf(buf, sizeof(buf), "{max_value_exceeded,%" PRId64 "}",
                         v.i);
                detail = buf;
            }
        } else if (mq_key_is(k, "x-overflow")) {
            if (v.type != 'S') {
                snprintf(buf, sizeof(buf), "{unacceptable_type,%s}",
                         mq_type_name(v.type));
                detail = buf;
            } else if (!mq_str_is(&v, "drop-head")
                       && !mq_str_is(&v, "reject-publish")
                       && !mq_str_is(&v, "reject-publish-dlx"))
            {
                detail = "invalid_overflow";
            }
        } else if (mq_key_is(k, "x-single-active-consumer")) {
            if (v.type != 't') {
                snprintf(buf, sizeof(buf), "{unacceptable_type,%s}",
                         mq_type_name(v.type));
                detail = buf;
            }
        } else if (mq_key_is(k, "x-dead-letter-exchange")
                   || mq_key_is(k, "x-dead-letter-routing-key"))
        {
            if (v.type != 'S') {
                return mq_channel_error(ch, MQ_PRECONDITION_FAILED, cause,
                                        "invalid type '%s' for arg '%.*s' in "
                                        "queue '%.*s' in vhost '%s'",
                                        mq_type_name(v.type), (int) k.len,
                                        k.data, (int) name.len, name.data,
                                        vh);
            }
            if (mq_key_is(k, "x-dead-letter-routing-key")
                && !mq_table_find(args, "x-dead-letter-exchange", &t))
            {
                detail = "routing_key_but_no_dlx_defined";
            }
        } else if (mq_key_is(k, "x-queue-mode")) {
            if (!mq_str_is(&v, "default") && !mq_str_is(&v, "lazy")) {
                char mode[64];

                mq_value_print(&v, mode, sizeof(mode));
                snprintf(buf, sizeof(buf), "\"unsupported queue mode '%s'\"",
                         mode);
                detail = buf;
            }
        } else if (mq_key_is(k, "x-queue-type")) {
            if (mq_str_is(&v, "quorum") || mq_str_is(&v, "stream")) {
                /* RabbitMQ's order: auto-delete, exclusive, durable. */
                const char *bad = auto_delete ? "auto-delete"
                                  : exclusive ? "exclusive-owner"
                                  : !durable ? "non-durable" : NULL;

                if (bad != NULL) {
                    return mq_channel_error(ch, MQ_PRECONDITION_FAILED, cause,
                                            "invalid property '%s' for queue "
                                            "'%.*s' in vhost '%s'", bad,
                                            (int) name.len, name.data, vh);
                }
            } else if (!mq_str_is(&v, "classic")) {
                snprintf(buf, sizeof(buf), "\"unsupported queue type "
                         "'%.*s'\"", v.type == 'S' ? (int) v.s.len : 0,
                         v.type == 'S' ? (const char *) v.s.data : "");
                detail = buf;
            }
        }
        if (detail != NULL) {
            return mq_invalid_arg(ch, cause, k, name, "%s", detail);
        }
    }
    return OB_OK;
}


void
mq_queue_args_apply(mq_queue_t *q)
{
    ob_str_t   args = { q->args_len, q->args };
    mq_value_t v;

    q->message_ttl = q->expires = q->max_length = q->max_length_bytes = -1;
    q->overflow = MQ_OVERFLOW_DROP_HEAD;
    q->max_priority = 0;
    if (args.len == 0) {
        return;
    }
    if (mq_table_find(args, "x-message-ttl", &v) && mq_value_is_int(&v)
        && v.i >= 0)
    {
        q->message_ttl = v.i;
    }
    if (mq_table_find(args, "x-expires", &v) && mq_value_is_int(&v)
        && v.i > 0)
    {
        q->expires = v.i;
    }
    if (mq_table_find(args, "x-max-length", &v) && mq_value_is_int(&v)
        && v.i >= 0)
    {
        q->max_length = v.i;
    }
    if (mq_table_find(args, "x-max-length-bytes", &v) && mq_value_is_int(&v)
        && v.i >= 0)
    {
        q->max_length_bytes = v.i;
    }
    if (mq_table_find(args, "x-max-priority", &v) && mq_value_is_int(&v)
        && v.i > 0)
    {
        q->max_priority = (uint8_t) (v.i > 255 ? 255 : v.i);
    }
    if (mq_table_find(args, "x-overflow", &v) && v.type == 'S') {
        if (mq_str_is(&v, "reject-publish")) {
            q->overflow = MQ_OVERFLOW_REJECT_PUBLISH;
        } else if (mq_str_is(&v, "reject-publish-dlx")) {
            q->overflow = MQ_OVERFLOW_REJECT_PUBLISH_DLX;
        }
    }
    if (mq_table_find(args, "x-dead-letter-exchange", &v) && v.type == 'S') {
        q->dlx = strndup((const char *) v.s.data, v.s.len);
    }
    if (mq_table_find(args, "x-dead-letter-routing-key", &v)
        && v.type == 'S')
    {
        q->dlrk = strndup((const char *) v.s.data, v.s.len);
    }
}


/* A value as RabbitMQ's equivalence errors print it (~s of the term). */
static void
mq_value_print(const mq_value_t *v, char *buf, size_t cap)
{
    if (mq_value_is_int(v)) {
        snprintf(buf, cap, "%" PRId64, v->i);
    } else if (v->type == 'S' || v->type == 'x') {
        snprintf(buf, cap, "%.*s", (int) OB_MIN(v->s.len, 200), v->s.data);
    } else if (v->type == 't') {
        snprintf(buf, cap, "%s", v->u ? "true" : "false");
    } else if (v->type == 'd' || v->type == 'f') {
        snprintf(buf, cap, "%g", v->d);
    } else {
        snprintf(buf, cap, "%s", mq_type_name(v->type));
    }
}


/*
 * RabbitMQ's "inequivalent arg" error for one argument of a redeclared
 * exchange or queue (`kind`), in its three shapes: both given, only the
 * new one, only the current one.  Returns OB_ERR (the channel is closed).
 */
int
mq_args_inequivalent(mq_channel_t *ch, mq_method_id_t cause,
                     const char *kind, const char *name, size_t name_len,
                     const char *key, const mq_value_t *nv,
                     const mq_value_t *cv)
{
    const char *vh = ch->conn->vhost->name;
    char        a[256], b[256];

    if (nv != NULL) {
        mq_value_print(nv, a, sizeof(a));
    }
    if (cv != NULL) {
        mq_value_print(cv, b, sizeof(b));
    }
    if (nv != NULL && cv != NULL) {
        return mq_channel_error(ch, MQ_PRECONDITION_FAILED, cause,
                                "inequivalent arg '%s' for %s '%.*s' in "
                                "vhost '%s': received '%s' but current is "
                                "'%s'", key, kind, (int) name_len, name, vh,
                                a, b);
    }
    if (nv != NULL) {
        return mq_channel_error(ch, MQ_PRECONDITION_FAILED, cause,
                                "inequivalent arg '%s' for %s '%.*s' in "
                                "vhost '%s': received the value '%s' of type "
                                "'%s' but current is none", key, kind,
                                (int) name_len, name, vh, a,
                                mq_type_name(nv->type));
    }
    return mq_channel_error(ch, MQ_PRECONDITION_FAILED, cause,
                            "inequivalent arg '%s' for %s '%.*s' in vhost "
                            "'%s': received none but current is the value "
                            "'%s' of type '%s'", key, kind, (int) name_len,
                            name, vh, b, cv != NULL ? mq_type_name(cv->type)
                                                    : "void");
}


int
mq_queue_args_equivalent(mq_channel_t *ch, mq_method_id_t cause,
                         mq_queue_t *q, ob_str_t args)
{
    static const char *keys[] = {
        "x-expires", "x-message-ttl", "x-dead-letter-exchange",
        "x-dead-letter-routing-key", "x-max-length", "x-max-length-bytes",
        "x-max-priority", "x-overflow", "x-queue-mode", "x-queue-type",
        "x-single-active-consumer"
    };
    ob_str_t    cur = { q->args_len, q->args };
    mq_value_t  nv, cv;
    int         hn, hc;
    size_t      i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        hn = args.len > 0 && mq_table_find(args, keys[i], &nv);
        hc = cur.len > 0 && mq_table_find(cur, keys[i], &cv);
        if (!hn && !hc) {
            continue;
        }
        if (hn && hc && nv.type == cv.type && mq_value_equal(&nv, &cv)) {
            continue;
        }
        if (hn && hc && mq_value_is_int(&nv) && mq_value_is_int(&cv)
            && nv.i == cv.i)
        {
            continue;
        }
        /* No x-queue-type is a classic queue. */
        if (i == 9 && ((hn && !hc && mq_str_is(&nv, "classic"))
                       || (hc && !hn && mq_str_is(&cv, "classic"))))
        {
            continue;
        }
        return mq_args_inequivalent(ch, cause, "queue", q->name, q->name_len,
                                    keys[i], hn ? &nv : NULL,
                                    hc ? &cv : NULL);
    }
    return OB_OK;
}
