/*
 * mq_http_json.c: the management API's documents, built from the
 * broker's structures as RabbitMQ 3.10's management plugin shows them
 * (key names, JSON types, nesting).  mq_http.c picks which to send.
 *
 * Documents are built fresh on each request: the broker's own counters
 * are exact at every moment, where RabbitMQ's are sampled every
 * collect_statistics_interval, so a tool polling either sees the same
 * figures once RabbitMQ caught up.
 */
#include "mq_http.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include "ob_arena.h"
#include "ob_conf.h"
#include "ob_cycle.h"


static json_t *mq_http_array_json(ob_str_t array);


/* One field value as RabbitMQ's management plugin renders it: integers
 * and timestamps as numbers, booleans as booleans, strings and byte
 * arrays as strings, nested tables as objects, arrays as arrays, void as
 * null. */
static json_t *
mq_http_value_json(const mq_value_t *v)
{
    double  d;
    uint8_t i;

    if (mq_value_is_int(v)) {
        /* Unsigned types (B u i) keep their value in u, signed ones in
         * i; json_int_t is signed 64 like RabbitMQ's largest. */
        return json_integer(strchr("Bui", v->type) != NULL
                            ? (json_int_t) v->u : (json_int_t) v->i);
    }
    switch (v->type) {
    case 't':
        return json_boolean(v->i != 0 || v->u != 0);
    case 'f':
    case 'd':
        return json_real(v->d);
    case 'D':
        d = (double) v->u;
        for (i = 0; i < v->scale; i++) {
            d /= 10;
        }
        return json_real(d);
    case 'T':
        return json_integer((json_int_t) v->u);
    case 'S':
    case 'x':
        return json_stringn((const char *) v->s.data, v->s.len);
    case 'F':
        return mq_http_table_json(v->s);
    case 'A':
        return mq_http_array_json(v->s);
    default:
        return json_null();
    }
}


json_t *
mq_http_table_json(ob_str_t table)
{
    json_t          *obj = json_object();
    mq_table_iter_t  it;
    ob_str_t         key;
    mq_value_t       v;
    char             name[256];

    mq_table_iter_init(&it, table);
    while (mq_table_next(&it, &key, &v)) {
        snprintf(name, sizeof(name), "%.*s", (int) key.len,
                 (const char *) key.data);
        json_object_set_new(obj, name, mq_http_value_json(&v));
    }
    return obj;
}


static json_t *
mq_http_array_json(ob_str_t array)
{
    json_t          *arr = json_array();
    mq_table_iter_t  it;
    mq_value_t       v;

    mq_table_iter_init(&it, array);
    while (mq_array_next(&it, &v)) {
        json_array_append_new(arr, mq_http_value_json(&v));
    }
    return arr;
}


static json_t *
mq_http_args_json(const uint8_t *args, size_t len)
{
    ob_str_t t = { len, args };

    return args != NULL ? mq_http_table_json(t) : json_object();
}


const char *
mq_http_node(char *buf, size_t size)
{
    char host[256], *dot;

    if (gethostname(host, sizeof(host)) != 0) {
        snprintf(host, sizeof(host), "localhost");
    }
    host[sizeof(host) - 1] = '\0';
    dot = strchr(host, '.');
    if (dot != NULL) {
        *dot = '\0';
    }
    snprintf(buf, size, "rabbit@%s", host);
    return buf;
}


/* ----------------------------------------------------------- connections */

/* Splits "host:port" (the last colon: IPv6 hosts have colons) of
 * ob_conn_peer. */
static void
mq_http_peer(mq_conn_t *conn, char *host, size_t size, int *port)
{
    const char *peer = ob_conn_peer(conn->c), *colon = strrchr(peer, ':');

    if (colon == NULL) {
        snprintf(host, size, "%s", peer);
        *port = 0;
        return;
    }
    snprintf(host, size, "%.*s", (int) (colon - peer), peer);
    *port = atoi(colon + 1);
}


/*
 * The broker's own address on a connection.  The core does not hand out
 * the socket's local address, so it is the listen address when that is
 * one concrete address (the usual 127.0.0.1), otherwise the peer's
 * address for a loopback peer (it dialled a loopback address), otherwise
 * the listen string as configured.
 */
static void
mq_http_local_host(mq_conn_t *conn, const char *peer_host, char *buf,
                   size_t size)
{
    const json_t *core = ob_conf_section(conn->mq->cy->conf, "core");
    const char   *listen = ob_conf_str(core, "listen");

    if (strchr(listen, ',') == NULL && strcmp(listen, "0.0.0.0") != 0
        && strcmp(listen, "::") != 0)
    {
        snprintf(buf, size, "%s", listen);
    } else if (strncmp(peer_host, "127.", 4) == 0
               || strcmp(peer_host, "::1") == 0)
    {
        snprintf(buf, size, "%s", peer_host);
    } else {
        snprintf(buf, size, "%s", listen);
    }
}


void
mq_http_conn_name(mq_conn_t *conn, char *buf, size_t size)
{
    char host[128], local[128];
    int  port;

    mq_http_peer(conn, host, sizeof(host), &port);
    mq_http_local_host(conn, host, local, sizeof(local));
    snprintf(buf, size, "%s:%d -> %s:%d", host, port, local, conn->mq->port);
}


static const char *
mq_http_conn_state(const mq_conn_t *conn)
{
    switch (conn->state) {
    case MQ_CONN_HEADER:
    case MQ_CONN_START:
    case MQ_CONN_SECURE:
        return "starting";
    case MQ_CONN_TUNE:
        return "tuning";
    case MQ_CONN_OPEN:
        return "opening";
    case MQ_CONN_RUNNING:
        /* RabbitMQ: "blocked" once a publisher is held by the alarm,
         * "blocking" while the alarm is on but it has not published. */
        if (conn->publish_paused) {
            return "blocked";
        }
        return conn->mq->alarm ? "blocking" : "running";
    default:
        return "closing";
    }
}


json_t *
mq_http_connection(mq_conn_t *conn, const char *node)
{
    char    host[128], local[128], name[300];
    int     port;
    ob_str_t props = { conn->client_props_len, conn->client_props };

    mq_http_peer(conn, host, sizeof(host), &port);
    mq_http_local_host(conn, host, local, sizeof(local));
    mq_http_conn_name(conn, name, sizeof(name));
    return json_pack("{s:s,s:i,s:i,s:o,s:I,s:i,s:s,s:s,s:s,s:s,s:i,s:i,"
                     "s:s,s:b,s:s,s:i,s:s,s:s,s:s}",
        "auth_mechanism", "PLAIN",
        "channel_max", (int) conn->channel_max,
        "channels", (int) conn->nchannels,
        "client_properties", conn->client_props != NULL
                             ? mq_http_table_json(props) : json_object(),
        "connected_at", (json_int_t) conn->connected_at,
        "frame_max", (int) conn->frame_max,
        "host", local,
        "name", name,
        "node", node,
        "peer_host", host,
        "peer_port", port,
        "port", conn->mq->port,
        "protocol", "AMQP 0-9-1",
        "ssl", 0,
        "state", mq_http_conn_state(conn),
        "timeout", (int) conn->heartbeat,
        "type", "network",
        "user", conn->user,
        "vhost", conn->vhost != NULL ? conn->vhost->name : "/");
}


/* --------------------------------------------------------------- channels */

/* "<connection name> (<channel number>)". */
static void
mq_http_channel_name(mq_channel_t *ch, char *buf, size_t size)
{
    char conn_name[300];

    mq_http_conn_name(ch->conn, conn_name, sizeof(conn_name));
    snprintf(buf, size, "%s (%u)", conn_name, (unsigned) ch->id);
}


json_t *
mq_http_channel(mq_channel_t *ch, const char *node)
{
    char        name[320], conn_name[300], host[128];
    int         port;
    unsigned    nconsumers = 0;
    mq_link_t  *l;

    for (l = ch->consumers.next; l != &ch->consumers; l = l->next) {
        nconsumers++;
    }
    mq_http_peer(ch->conn, host, sizeof(host), &port);
    mq_http_conn_name(ch->conn, conn_name, sizeof(conn_name));
    mq_http_channel_name(ch, name, sizeof(name));
    return json_pack("{s:b,s:{s:s,s:s,s:i},s:i,s:i,s:I,s:s,s:s,s:i,s:i,"
                     "s:s,s:b,s:s,s:s}",
        "confirm", ch->confirm != 0,
        "connection_details", "name", conn_name, "peer_host", host,
                              "peer_port", port,
        "consumer_count", (int) nconsumers,
        "global_prefetch_count", (int) ch->prefetch_count,
        "messages_unacknowledged", (json_int_t) ch->unacked_count,
        "name", name,
        "node", node,
        "number", (int) ch->id,
        "prefetch_count", (int) ch->consumer_prefetch,
        "state", ch->state == MQ_CH_OPEN
                 ? (ch->flow_active ? "running" : "flow") : "closing",
        "transactional", ch->tx != 0,
        "user", ch->conn->user,
        "vhost", ch->conn->vhost != NULL ? ch->conn->vhost->name : "/");
}


json_t *
mq_http_consumer(mq_consumer_t *cons, const char *node)
{
    mq_channel_t *ch = cons->channel;
    char          name[320], conn_name[300], host[128], tag[MQ_NAME_MAX + 1];
    int           port;

    mq_http_peer(ch->conn, host, sizeof(host), &port);
    mq_http_conn_name(ch->conn, conn_name, sizeof(conn_name));
    mq_http_channel_name(ch, name, sizeof(name));
    snprintf(tag, sizeof(tag), "%.*s", (int) cons->tag_len, cons->tag);
    return json_pack("{s:{},s:b,s:b,s:s,s:{s:s,s:s,s:s,s:i,s:s,s:i,s:s},"
                     "s:s,s:b,s:i,s:{s:s,s:s}}",
        "arguments",
        "ack_required", !cons->no_ack,
        "active", 1,
        "activity_status", "up",
        "channel_details", "connection_name", conn_name, "name", name,
                           "node", node, "number", (int) ch->id,
                           "peer_host", host, "peer_port", port,
                           "user", ch->conn->user,
        "consumer_tag", tag,
        "exclusive", cons->exclusive != 0,
        "prefetch_count", (int) cons->prefetch,
        "queue", "name", cons->queue->name,
                 "vhost", cons->queue->vhost->name);
}


/* ----------------------------------------------------------------- queues */

static uint64_t
mq_http_ready(const mq_queue_t *q)
{
    uint64_t n = 0;
    unsigned i;

    if (q->ready == NULL) {
        return 0;
    }
    for (i = 0; i <= q->max_priority; i++) {
        n += q->ready[i].count;
    }
    return n;
}


json_t *
mq_http_queue(mq_queue_t *q, const char *node, int detailed)
{
    uint64_t    ready = mq_http_ready(q), unacked = q->unacked.count;
    json_t     *doc, *list;
    mq_link_t  *l;
    char        conn_name[300];

    doc = json_pack("{s:o,s:b,s:i,s:b,s:b,s:I,s:I,s:I,"
                    "s:{s:I,s:I,s:I,s:I,s:I,s:I},s:I,s:I,s:I,s:s,s:s,"
                    "s:s,s:s,s:s}",
        "arguments", mq_http_args_json(q->args, q->args_len),
        "auto_delete", q->auto_delete != 0,
        "consumers", (int) q->nconsumers,
        "durable", q->durable != 0,
        "exclusive", q->exclusive != 0,
        "message_bytes", (json_int_t) (q->ready_bytes + q->unacked_bytes),
        "message_bytes_ready", (json_int_t) q->ready_bytes,
        "message_bytes_unacknowledged", (json_int_t) q->unacked_bytes,
        "message_stats",
            "ack", (json_int_t) q->stat_ack,
            "deliver", (json_int_t) q->stat_deliver,
            "deliver_get", (json_int_t) (q->stat_deliver + q->stat_get),
            "get", (json_int_t) q->stat_get,
            "publish", (json_int_t) q->stat_publish,
            "redeliver", (json_int_t) q->stat_redeliver,
        "messages", (json_int_t) (ready + unacked),
        "messages_ready", (json_int_t) ready,
        "messages_unacknowledged", (json_int_t) unacked,
        "name", q->name,
        "node", node,
        "state", "running",
        "type", "classic",
        "vhost", q->vhost->name);
    if (doc == NULL) {
        return NULL;
    }
    if (q->exclusive_consumer != NULL) {
        json_object_set_new(doc, "exclusive_consumer_tag",
                            json_stringn(q->exclusive_consumer->tag,
                                         q->exclusive_consumer->tag_len));
    } else {
        json_object_set_new(doc, "exclusive_consumer_tag", json_null());
    }
    if (q->exclusive && q->owner != NULL && q->owner->c != NULL) {
        mq_http_conn_name(q->owner, conn_name, sizeof(conn_name));
        json_object_set_new(doc, "owner_pid_details",
                            json_pack("{s:s}", "name", conn_name));
    }
    if (detailed) {
        list = json_array();
        for (l = q->consumers.next; l != &q->consumers; l = l->next) {
            json_array_append_new(list, mq_http_consumer(
                MQ_ENTRY(l, mq_consumer_t, qlink), node));
        }
        json_object_set_new(doc, "consumer_details", list);
    }
    return doc;
}


/* -------------------------------------------------------------- exchanges */

static const char *
mq_http_exchange_type(mq_exchange_type_t type)
{
    switch (type) {
    case MQ_EX_FANOUT:  return "fanout";
    case MQ_EX_TOPIC:   return "topic";
    case MQ_EX_HEADERS: return "headers";
    default:            return "direct";
    }
}


json_t *
mq_http_exchange(mq_exchange_t *x)
{
    json_t *doc;

    doc = json_pack("{s:o,s:b,s:b,s:b,s:s,s:s,s:s}",
        "arguments", mq_http_args_json(x->args, x->args_len),
        "auto_delete", x->auto_delete != 0,
        "durable", x->durable != 0,
        "internal", x->internal != 0,
        "name", x->name,
        "type", mq_http_exchange_type(x->type),
        "vhost", x->vhost->name);
    if (doc != NULL && x->builtin) {
        json_object_set_new(doc, "user_who_performed_action",
                            json_string("rmq-internal"));
    }
    if (doc != NULL && (x->publish_in != 0 || x->publish_out != 0)) {
        json_object_set_new(doc, "message_stats", json_pack("{s:I,s:I}",
            "publish_in", (json_int_t) x->publish_in,
            "publish_out", (json_int_t) x->publish_out));
    }
    return doc;
}


/* --------------------------------------------------------------- bindings */

/*
 * RabbitMQ's properties_key: the routing key URL-encoded ("" becomes
 * "~"), and when the binding has arguments "~" and a hash of them.
 * RabbitMQ hashes the Erlang term (erlang:phash2), which this broker
 * cannot reproduce; the hash here is FNV-1a of the table's bytes.  The
 * key only has to tell one binding from another of the same source,
 * destination and routing key, which it does.
 */
static json_t *
mq_http_properties_key(const char *key, size_t klen, const uint8_t *args,
                       size_t args_len)
{
    static const char hex[] = "0123456789ABCDEF";
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                              "qrstuvwxyz0123456789-_";
    char      buf[3 * MQ_NAME_MAX + 16];
    size_t    n = 0, i;
    uint32_t  h = 2166136261u;
    unsigned char ch;

    for (i = 0; i < klen; i++) {
        ch = (unsigned char) key[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
            || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'
            || ch == '_')
        {
            buf[n++] = (char) ch;
        } else if (ch == ' ') {
            buf[n++] = '+';
        } else {
            buf[n++] = '%';
            buf[n++] = hex[ch >> 4];
            buf[n++] = hex[ch & 0xf];
        }
    }
    if (args != NULL && args_len > 0) {
        for (i = 0; i < args_len; i++) {
            h = (h ^ args[i]) * 16777619u;
        }
        buf[n++] = '~';
        for (i = 0; i < 6; i++) {
            buf[n++] = b64[(h >> (i * 6)) & 0x3f];
        }
    } else if (n == 0) {
        buf[n++] = '~';
    }
    return json_stringn(buf, n);
}


json_t *
mq_http_binding(const mq_binding_t *b, mq_queue_t *implicit_queue)
{
    const char *dest;

    if (b == NULL) {
        return json_pack("{s:s,s:s,s:s,s:s,s:s,s:{},s:o}",
            "source", "",
            "vhost", implicit_queue->vhost->name,
            "destination", implicit_queue->name,
            "destination_type", "queue",
            "routing_key", implicit_queue->name,
            "arguments",
            "properties_key", mq_http_properties_key(implicit_queue->name,
                                  implicit_queue->name_len, NULL, 0));
    }
    dest = b->queue != NULL ? b->queue->name : b->exchange->name;
    return json_pack("{s:s,s:s,s:s,s:s,s:s%,s:o,s:o}",
        "source", b->source->name,
        "vhost", b->source->vhost->name,
        "destination", dest,
        "destination_type", b->queue != NULL ? "queue" : "exchange",
        "routing_key", b->key, (size_t) b->key_len,
        "arguments", mq_http_args_json(b->args, b->args_len),
        "properties_key", mq_http_properties_key(b->key, b->key_len,
                                                 b->args, b->args_len));
}


/* ----------------------------------------------------- vhosts, overview */

/* Messages ready and unacknowledged in every queue of vh. */
static void
mq_http_vhost_totals(mq_vhost_t *vh, uint64_t *ready, uint64_t *unacked)
{
    mq_link_t  *l;
    mq_queue_t *q;

    for (l = vh->queue_list.next; l != &vh->queue_list; l = l->next) {
        q = MQ_ENTRY(l, mq_queue_t, link);
        *ready += mq_http_ready(q);
        *unacked += q->unacked.count;
    }
}


json_t *
mq_http_vhost(mq_vhost_t *vh, const char *node)
{
    uint64_t    ready = 0, unacked = 0;
    const char *desc = strcmp(vh->name, MQ_DEFAULT_VHOST) == 0
                       ? "Default virtual host" : "";

    mq_http_vhost_totals(vh, &ready, &unacked);
    return json_pack("{s:{s:s},s:s,s:s,s:I,s:I,s:I,s:{s:s,s:[]},s:s,"
                     "s:[],s:b}",
        "cluster_state", node, "running",
        "default_queue_type", "undefined",
        "description", desc,
        "messages", (json_int_t) (ready + unacked),
        "messages_ready", (json_int_t) ready,
        "messages_unacknowledged", (json_int_t) unacked,
        "metadata", "description", desc, "tags",
        "name", vh->name,
        "tags",
        "tracing", 0);
}


/*
 * The management plugin's "basic" rates: message_stats gets a
 * <counter>_details {"rate": per second} beside each counter the broker
 * samples (mq_module.c's tick keeps them over MQ_RATE_WINDOW seconds).
 */
static void
mq_http_rate_details(json_t *doc, const mq_t *mq)
{
    json_t *ms;

    if (doc == NULL) {
        return;
    }
    json_object_set_new(doc, "rates_mode", json_string("basic"));
    ms = json_object_get(doc, "message_stats");
    if (ms == NULL) {
        return;
    }
    json_object_set_new(ms, "publish_details",
                        json_pack("{s:f}", "rate", mq->rates.publish));
    json_object_set_new(ms, "deliver_get_details",
                        json_pack("{s:f}", "rate", mq->rates.deliver_get));
    json_object_set_new(ms, "ack_details",
                        json_pack("{s:f}", "rate", mq->rates.ack));
    json_object_set_new(ms, "confirm_details",
                        json_pack("{s:f}", "rate", mq->rates.confirm));
}


/*
 * One walk over the broker for the figures that /api/overview and /stats
 * both show, so that the two cannot count differently.
 */
void
mq_http_counts(mq_t *mq, mq_http_counts_t *c)
{
    mq_vhost_t  *vh;
    mq_link_t   *l;
    mq_conn_t   *conn;
    mq_queue_t  *q;

    memset(c, 0, sizeof(*c));
    for (l = mq->conns.next; l != &mq->conns; l = l->next) {
        conn = MQ_ENTRY(l, mq_conn_t, link);
        c->conns++;
        c->channels += conn->nchannels;
    }
    for (vh = mq->vhosts; vh != NULL; vh = vh->next) {
        for (l = vh->exchange_list.next; l != &vh->exchange_list;
             l = l->next)
        {
            c->exchanges++;
        }
        for (l = vh->queue_list.next; l != &vh->queue_list; l = l->next) {
            q = MQ_ENTRY(l, mq_queue_t, link);
            c->queues++;
            c->consumers += q->nconsumers;
            c->ready += mq_http_ready(q);
            c->unacked += q->unacked.count;
            c->bytes += q->ready_bytes + q->unacked_bytes;
        }
    }
}


json_t *
mq_http_overview(mq_t *mq, const char *node)
{
    mq_http_counts_t  c;
    const json_t     *core = ob_conf_section(mq->cy->conf, "core");
    json_t           *doc;

    mq_http_counts(mq, &c);
    doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
                     "s:[{s:s,s:s,s:b},{s:s,s:s,s:b},{s:s,s:s,s:b},"
                     "{s:s,s:s,s:b}],"
                     "s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},"
                     "s:{s:I,s:I,s:I,s:I},"
                     "s:{s:I,s:I,s:I},"
                     "s:{s:I,s:I,s:I,s:I,s:I},"
                     "s:i,s:[{s:s,s:s,s:s,s:i}]}",
        "management_version", MQ_HTTP_API_VERSION,
        "rates_mode", "none",
        "product_version", OB_VERSION,
        "product_name", "onebox",
        "rabbitmq_version", MQ_HTTP_API_VERSION,
        "cluster_name", node,
        "node", node,
        "exchange_types",
            "name", "direct", "description",
            "AMQP direct exchange, as per the AMQP specification",
            "enabled", 1,
            "name", "fanout", "description",
            "AMQP fanout exchange, as per the AMQP specification",
            "enabled", 1,
            "name", "headers", "description",
            "AMQP headers exchange, as per the AMQP specification",
            "enabled", 1,
            "name", "topic", "description",
            "AMQP topic exchange, as per the AMQP specification",
            "enabled", 1,
        "message_stats",
            "ack", (json_int_t) mq->stats.acked,
            "confirm", (json_int_t) mq->stats.confirmed,
            "deliver", (json_int_t) mq->stats.delivered,
            "deliver_get", (json_int_t) (mq->stats.delivered
                                         + mq->stats.delivered_get),
            "drop_unroutable", (json_int_t) mq->stats.dropped_unroutable,
            "get", (json_int_t) mq->stats.delivered_get,
            "publish", (json_int_t) mq->stats.published,
            "redeliver", (json_int_t) mq->stats.redelivered,
            "return_unroutable", (json_int_t) mq->stats.returned,
        "churn_rates",
            "connection_created", (json_int_t) mq->stats.conns_total,
            "connection_closed",
            (json_int_t) (mq->stats.conns_total - c.conns),
            "channel_created", (json_int_t) mq->stats.channels_total,
            "channel_closed",
            (json_int_t) (mq->stats.channels_total - c.channels),
        "queue_totals",
            "messages", (json_int_t) (c.ready + c.unacked),
            "messages_ready", (json_int_t) c.ready,
            "messages_unacknowledged", (json_int_t) c.unacked,
        "object_totals",
            "channels", (json_int_t) c.channels,
            "connections", (json_int_t) c.conns,
            "consumers", (json_int_t) c.consumers,
            "exchanges", (json_int_t) c.exchanges,
            "queues", (json_int_t) c.queues,
        "statistics_db_event_queue", 0,
        "listeners",
            "node", node, "protocol", "amqp",
            "ip_address", ob_conf_str(core, "listen"),
            "port", mq->port);
    mq_http_rate_details(doc, mq);
    return doc;
}


/* Open file descriptors of this process (/proc/self/fd), -1 unknown. */
static json_int_t
mq_http_fd_used(void)
{
    DIR           *d = opendir("/proc/self/fd");
    struct dirent *de;
    json_int_t     n = 0;

    if (d == NULL) {
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        n += de->d_name[0] != '.';
    }
    closedir(d);
    return n - 1;                      /* the directory's own descriptor */
}


/* Resident memory of this process in bytes: RabbitMQ's "rss" strategy. */
static json_int_t
mq_http_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long  pages = 0, rss = 0;

    if (f == NULL) {
        return 0;
    }
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) {
        rss = 0;
    }
    fclose(f);
    return (json_int_t) rss * sysconf(_SC_PAGESIZE);
}


json_t *
mq_http_nodes(mq_t *mq, const char *node)
{
    ob_arena_stats_t  as;
    struct rlimit     rl;
    struct timeval    now;
    uint64_t          nconn = 0, nch = 0;
    mq_link_t        *l;
    char              pid[32];

    for (l = mq->conns.next; l != &mq->conns; l = l->next) {
        nconn++;
        nch += MQ_ENTRY(l, mq_conn_t, link)->nchannels;
    }
    ob_arena_stats(mq->cy->arena, &as);
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        rl.rlim_cur = 0;
    }
    gettimeofday(&now, NULL);
    snprintf(pid, sizeof(pid), "%ld", (long) getpid());
    return json_pack("{s:s,s:s,s:b,s:s,s:I,s:I,s:b,s:s,s:I,s:I,s:I,s:i,"
                     "s:[],s:s,s:I,s:I,s:I,s:I}",
        "name", node,
        "type", "disc",
        "running", 1,
        "os_pid", pid,
        "mem_used", mq_http_rss(),
        /* the broker's watermark of the budget, as vm_memory_high_watermark
         * of the machine's memory is RabbitMQ's */
        "mem_limit", (json_int_t) (mq->high_watermark * (double) as.limit),
        "mem_alarm", mq->alarm != 0,
        "mem_calculation_strategy", "rss",
        "fd_used", mq_http_fd_used(),
        "fd_total", (json_int_t) rl.rlim_cur,
        "uptime", (json_int_t) ((now.tv_sec - mq->cy->started.tv_sec) * 1000
                                + (now.tv_usec - mq->cy->started.tv_usec)
                                  / 1000),
        "processors", (int) sysconf(_SC_NPROCESSORS_ONLN),
        "partitions",
        "rates_mode", "none",
        "connection_created", (json_int_t) mq->stats.conns_total,
        "connection_closed", (json_int_t) (mq->stats.conns_total - nconn),
        "channel_created", (json_int_t) mq->stats.channels_total,
        "channel_closed", (json_int_t) (mq->stats.channels_total - nch));
}
