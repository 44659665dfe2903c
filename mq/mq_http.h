/*
 * mq_http.h: what mq_http.c (routes, login, paths) and mq_http_json.c (the
 * documents) share.  Private to those two files.
 *
 * The documents have RabbitMQ 3.10 management plugin's shapes: the same
 * keys with the same JSON types, so that tools written for /api/... read
 * them unchanged.  Figures RabbitMQ keeps and the broker does not (Erlang
 * process figures, rates, per-channel message counts) are left out
 * rather than invented; rates_mode is "none", as RabbitMQ says when it
 * keeps no rates.
 */
#ifndef MQ_HTTP_H
#define MQ_HTTP_H

#include "mq_int.h"

/* The version of the management API the documents follow. */
#define MQ_HTTP_API_VERSION  "3.10.8"

/* Field table (contents without the u32 length) as RabbitMQ shows it. */
json_t *mq_http_table_json(ob_str_t table);

/* "rabbit@<host>": the node name every document carries. */
const char *mq_http_node(char *buf, size_t size);

/* What /api/overview and /stats count (mq_http_json.c). */
typedef struct {
    uint64_t  conns, channels, exchanges, queues, consumers;
    uint64_t  ready, unacked, bytes;        /* messages, over all queues */
} mq_http_counts_t;

void mq_http_counts(mq_t *mq, mq_http_counts_t *c);

json_t *mq_http_overview(mq_t *mq, const char *node);
json_t *mq_http_vhost(mq_vhost_t *vh, const char *node);
json_t *mq_http_nodes(mq_t *mq, const char *node);   /* the one node */
json_t *mq_http_queue(mq_queue_t *q, const char *node, int detailed);
json_t *mq_http_exchange(mq_exchange_t *x);
json_t *mq_http_connection(mq_conn_t *conn, const char *node);
json_t *mq_http_channel(mq_channel_t *ch, const char *node);
json_t *mq_http_consumer(mq_consumer_t *cons, const char *node);

/* A binding; `implicit_queue` (b NULL) is the default exchange's binding
 * of that queue, which RabbitMQ lists though it is never stored. */
json_t *mq_http_binding(const mq_binding_t *b, mq_queue_t *implicit_queue);

/* Answers 200 with doc (stolen; NULL: 500), cut to ?columns=; a list of
 * `n` documents (the array and the documents stolen), sorted, filtered
 * and paged as the query asks (mq_http_list.c).  `failed`: some could not
 * be built (500). */
struct evhttp_request;
void mq_http_send_doc(struct evhttp_request *req, json_t *doc);
void mq_http_send_list(struct evhttp_request *req, json_t **items, size_t n,
                       int failed);

/* POST /api/queues/<vhost>/<name>/get (mq_http_get.c): answers req. */
void mq_http_queue_get(struct evhttp_request *req, mq_vhost_t *vh,
                       const char *name, size_t name_len);

/* "127.0.0.1:51234 -> 127.0.0.1:5672", RabbitMQ's connection name. */
void mq_http_conn_name(mq_conn_t *conn, char *buf, size_t size);

#endif /* MQ_HTTP_H */
