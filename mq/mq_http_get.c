/*
 * mq_http_get.c: POST /api/queues/<vhost>/<name>/get, the management
 * plugin's "Get messages": takes up to `count` messages from the head of
 * the queue as basic.get would, shows them, then settles them all by
 * `ackmode`:
 *
 *   ack_requeue_true, reject_requeue_true    back to the queue, redelivered
 *   ack_requeue_false                        acknowledged (gone)
 *   reject_requeue_false                     rejected (dead-lettered if the
 *                                            queue has a DLX)
 *
 * The request body is JSON {"count": n, "ackmode": ..., "encoding":
 * "auto"|"base64", "truncate": bytes}; errors are RabbitMQ's (400
 * bad_request "not_json", "[{key_missing,ackmode}]"; 404 not_found "NOT_FOUND
 * - no queue 'x' in vhost '/'").
 */
#include "mq_http.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "ob_http.h"

#define MQ_HTTP_BODY_MAX   65536
#define MQ_HTTP_GET_MAX    10000       /* messages in one request */


static json_t *
mq_http_base64(const uint8_t *p, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                              "vwxyz0123456789+/";
    char    *out = malloc((len + 2) / 3 * 4 + 1);
    size_t   i, n = 0;
    uint32_t v;
    json_t  *s;

    if (out == NULL) {
        return NULL;
    }
    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8 | p[i + 2];
        out[n++] = tab[v >> 18 & 63];
        out[n++] = tab[v >> 12 & 63];
        out[n++] = tab[v >> 6 & 63];
        out[n++] = tab[v & 63];
    }
    if (i < len) {
        v = (uint32_t) p[i] << 16 | (i + 1 < len ? (uint32_t) p[i + 1] << 8
                                                 : 0);
        out[n++] = tab[v >> 18 & 63];
        out[n++] = tab[v >> 12 & 63];
        out[n++] = i + 1 < len ? tab[v >> 6 & 63] : '=';
        out[n++] = '=';
    }
    s = json_stringn(out, n);
    free(out);
    return s;
}


static void
mq_http_prop_str(json_t *obj, const char *key, ob_str_t s)
{
    json_t *v = json_stringn((const char *) s.data, s.len);

    /* A property that is not UTF-8 has no JSON string: shown as base64,
     * the one encoding a tool can take back. */
    json_object_set_new(obj, key, v != NULL ? v : mq_http_base64(s.data,
                                                                 s.len));
}


/* The message's properties as RabbitMQ shows them: the present ones, and
 * an empty list (Erlang's empty proplist) when there are none. */
static json_t *
mq_http_props_json(mq_msg_t *msg)
{
    mq_props_t     pr;
    mq_wire_err_t  err;
    json_t        *obj;

    if (mq_props_parse(mq_msg_props(msg), msg->props_len, &pr, &err)
        != OB_OK || pr.flags == 0)
    {
        return json_array();
    }
    obj = json_object();
    if (pr.flags & MQ_PROP_CONTENT_TYPE) {
        mq_http_prop_str(obj, "content_type", pr.content_type);
    }
    if (pr.flags & MQ_PROP_CONTENT_ENCODING) {
        mq_http_prop_str(obj, "content_encoding", pr.content_encoding);
    }
    if (pr.flags & MQ_PROP_HEADERS) {
        json_object_set_new(obj, "headers", mq_http_table_json(pr.headers));
    }
    if (pr.flags & MQ_PROP_DELIVERY_MODE) {
        json_object_set_new(obj, "delivery_mode",
                            json_integer(pr.delivery_mode));
    }
    if (pr.flags & MQ_PROP_PRIORITY) {
        json_object_set_new(obj, "priority", json_integer(pr.priority));
    }
    if (pr.flags & MQ_PROP_CORRELATION_ID) {
        mq_http_prop_str(obj, "correlation_id", pr.correlation_id);
    }
    if (pr.flags & MQ_PROP_REPLY_TO) {
        mq_http_prop_str(obj, "reply_to", pr.reply_to);
    }
    if (pr.flags & MQ_PROP_EXPIRATION) {
        mq_http_prop_str(obj, "expiration", pr.expiration);
    }
    if (pr.flags & MQ_PROP_MESSAGE_ID) {
        mq_http_prop_str(obj, "message_id", pr.message_id);
    }
    if (pr.flags & MQ_PROP_TIMESTAMP) {
        json_object_set_new(obj, "timestamp",
                            json_integer((json_int_t) pr.timestamp));
    }
    if (pr.flags & MQ_PROP_TYPE) {
        mq_http_prop_str(obj, "type", pr.type);
    }
    if (pr.flags & MQ_PROP_USER_ID) {
        mq_http_prop_str(obj, "user_id", pr.user_id);
    }
    if (pr.flags & MQ_PROP_APP_ID) {
        mq_http_prop_str(obj, "app_id", pr.app_id);
    }
    if (pr.flags & MQ_PROP_CLUSTER_ID) {
        mq_http_prop_str(obj, "cluster_id", pr.cluster_id);
    }
    return obj;
}


/* One message of the answer; `truncate` < 0: the whole payload. */
static json_t *
mq_http_message(mq_qentry_t *e, uint64_t left, int base64,
                json_int_t truncate)
{
    mq_msg_t *msg = e->msg;
    size_t    len = msg->body_len;
    json_t   *payload = NULL;

    if (truncate >= 0 && (uint64_t) truncate < len) {
        len = (size_t) truncate;
    }
    if (!base64) {
        payload = json_stringn((const char *) mq_msg_body(msg), len);
    }
    if (payload == NULL) {
        base64 = 1;
        payload = mq_http_base64(mq_msg_body(msg), len);
    }
    return json_pack("{s:I,s:b,s:s%,s:s%,s:I,s:o,s:o,s:s}",
        "payload_bytes", (json_int_t) msg->body_len,
        "redelivered", (e->flags & MQ_QE_REDELIVERED) != 0,
        "exchange", (const char *) mq_msg_exchange(msg),
        (size_t) msg->exchange_len,
        "routing_key", (const char *) mq_msg_key(msg), (size_t) msg->key_len,
        "message_count", (json_int_t) left,
        "properties", mq_http_props_json(msg),
        "payload", payload,
        "payload_encoding", base64 ? "base64" : "string");
}


static void
mq_http_bad_request(struct evhttp_request *req, const char *reason)
{
    ob_http_reply_json(req, HTTP_BADREQUEST, "Bad Request",
                       json_pack("{s:s,s:s}", "error", "bad_request",
                                 "reason", reason));
}


/* The request's JSON body, or NULL after answering 400. */
static json_t *
mq_http_body_or_reply(struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t           len = evbuffer_get_length(in);
    json_t          *doc;

    if (len > MQ_HTTP_BODY_MAX) {
        mq_http_bad_request(req, "not_json");
        return NULL;
    }
    doc = json_loadb((const char *) evbuffer_pullup(in, -1), len, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        mq_http_bad_request(req, "not_json");
        return NULL;
    }
    return doc;
}


void
mq_http_queue_get(struct evhttp_request *req, mq_vhost_t *vh,
                  const char *name, size_t name_len)
{
    static const char *const modes[] = { "ack_requeue_true",
        "reject_requeue_true", "ack_requeue_false", "reject_requeue_false",
        NULL };
    json_t       *body, *arr, *jcount, *jmode, *jenc, *jtrunc;
    mq_queue_t   *q;
    mq_qentry_t **taken;
    char          reason[400];
    const char   *mode;
    json_int_t    count, truncate;
    size_t        n = 0, i;
    int           how = -1, base64;

    body = mq_http_body_or_reply(req);
    if (body == NULL) {
        return;
    }
    jcount = json_object_get(body, "count");
    jmode = json_object_get(body, "ackmode");
    jenc = json_object_get(body, "encoding");
    jtrunc = json_object_get(body, "truncate");
    if (jcount == NULL || jmode == NULL || jenc == NULL) {
        snprintf(reason, sizeof(reason), "[%s%s%s%s%s]",
                 jcount == NULL ? "{key_missing,count}" : "",
                 jcount == NULL && (jmode == NULL || jenc == NULL) ? "," : "",
                 jmode == NULL ? "{key_missing,ackmode}" : "",
                 jmode == NULL && jenc == NULL ? "," : "",
                 jenc == NULL ? "{key_missing,encoding}" : "");
        json_decref(body);
        mq_http_bad_request(req, reason);
        return;
    }
    mode = json_string_value(jmode);
    for (i = 0; mode != NULL && modes[i] != NULL; i++) {
        if (strcmp(mode, modes[i]) == 0) {
            how = (int) i;
        }
    }
    count = json_is_integer(jcount) ? json_integer_value(jcount) : -1;
    truncate = json_is_integer(jtrunc) ? json_integer_value(jtrunc) : -1;
    base64 = json_is_string(jenc)
             && strcmp(json_string_value(jenc), "base64") == 0;
    if (how < 0 || count < 0 || !json_is_string(jenc)
        || (strcmp(json_string_value(jenc), "auto") != 0 && !base64))
    {
        json_decref(body);
        mq_http_bad_request(req, "invalid ackmode, count or encoding");
        return;
    }
    json_decref(body);

    q = mq_queue_find(vh, (const uint8_t *) name, name_len);
    if (q == NULL) {
        snprintf(reason, sizeof(reason), "NOT_FOUND - no queue '%.*s' in "
                 "vhost '%s'", (int) name_len, name, vh->name);
        ob_http_reply_json(req, HTTP_NOTFOUND, "Not Found",
                           json_pack("{s:s,s:s}", "error", "not_found",
                                     "reason", reason));
        return;
    }
    if (count > MQ_HTTP_GET_MAX) {
        count = MQ_HTTP_GET_MAX;
    }
    taken = calloc((size_t) count + 1, sizeof(*taken));
    arr = json_array();
    if (taken == NULL || arr == NULL) {
        free(taken);
        json_decref(arr);
        ob_http_reply_json(req, HTTP_INTERNAL, "Internal Server Error",
                           json_pack("{s:s}", "error", "out of memory"));
        return;
    }
    /* All are taken first (basic.get on one channel), shown, and settled
     * at the end, as the plugin's channel does when it closes. */
    while (n < (size_t) count && (taken[n] = mq_queue_take(q)) != NULL) {
        taken[n]->consumer = NULL;
        q->vhost->mq->stats.delivered_get++;
        q->vhost->mq->stats.redelivered +=
            (taken[n]->flags & MQ_QE_REDELIVERED) != 0;
        json_array_append_new(arr, mq_http_message(taken[n],
            mq_queue_ready_count(q), base64, truncate));
        n++;
    }
    for (i = 0; i < n; i++) {
        switch (how) {
        case 0:
        case 1:
            mq_queue_requeue(taken[i]);
            break;
        case 2:
            mq_queue_ack(taken[i]);
            break;
        default:
            mq_queue_reject(taken[i]);
            break;
        }
    }
    free(taken);
    ob_http_reply_json(req, HTTP_OK, "OK", arr);
}
