/*
 * mq_http.c: the broker's management API on the core HTTP listener, with
 * RabbitMQ 3.10 management plugin's paths, login and errors, and the
 * broker's section of /stats.
 *
 *   GET /api/overview            GET /api/whoami
 *   GET /api/nodes[/<node>]      GET /api/healthchecks/node
 *   GET /api/vhosts[/<vhost>]
 *   GET /api/queues[/<vhost>[/<name>[/bindings]]]
 *   GET /api/exchanges[/<vhost>[/<name>[/bindings/source|destination]]]
 *   GET /api/bindings[/<vhost>[/e/<source>/q|e/<destination>]]
 *   GET /api/connections[/<name>[/channels]]
 *   GET /api/channels[/<name>]   GET /api/consumers[/<vhost>]
 *
 * Path segments are URL-encoded ("/" is %2F); the default exchange is
 * "amq.default" in a path and "" in documents.  ?columns=a,b keeps only
 * those keys of each document, as RabbitMQ does; lists take RabbitMQ's
 * sort, page and name parameters too (mq_http_list.c).
 *
 * Every request needs HTTP basic credentials of a broker user (mq.users),
 * like RabbitMQ's: none gives 401 with an empty body and the
 * WWW-Authenticate challenge, wrong ones give 401 with RabbitMQ's JSON
 * body, and a loopback-only user (mq.loopback_users) is refused from a
 * remote address.  Missing objects give 404 {"error":"Object Not Found",
 * "reason":"Not Found"}.  Besides GET and HEAD, two writes:
 *
 *   DELETE /api/queues/<vhost>/<name>    DELETE /api/connections/<name>
 *   POST /api/queues/<vhost>/<name>/get  (mq_http_get.c)
 */
#include "mq_http.h"
#include "mq_entity.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "ob_arena.h"
#include "ob_cycle.h"
#include "ob_http.h"

#define MQ_HTTP_SEGS_MAX   8
#define MQ_HTTP_AUTH_MAX   1024

/* A request's path after /api/, decoded segment by segment. */
typedef struct mq_http_path_s {
    size_t  n;
    char    seg[MQ_HTTP_SEGS_MAX][MQ_NAME_MAX + 1];
    size_t  len[MQ_HTTP_SEGS_MAX];
} mq_http_path_t;

/* What a handler needs: the broker, the request, the node name. */
typedef struct mq_http_req_s {
    mq_t                    *mq;
    struct evhttp_request   *req;
    const mq_http_path_t    *path;
    const char              *node;
    const char              *user;
} mq_http_req_t;

/* A list of documents being collected, sorted before it is sent. */
typedef struct mq_http_list_s {
    json_t   **items;
    size_t     n, cap;
    int        failed;
} mq_http_list_t;


/* ------------------------------------------------------------- answers */

static void
mq_http_not_found(struct evhttp_request *req)
{
    ob_http_reply_json(req, HTTP_NOTFOUND, "Not Found",
                       json_pack("{s:s,s:s}", "error", "Object Not Found",
                                 "reason", "Not Found"));
}


/* RabbitMQ's answer to a method a resource does not take: 405, empty. */
static void
mq_http_not_allowed(struct evhttp_request *req)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                      "HEAD, GET, OPTIONS");
    evhttp_send_reply(req, 405, "Method Not Allowed", NULL);
}


static void
mq_http_reply_doc(mq_http_req_t *r, json_t *doc)
{
    mq_http_send_doc(r->req, doc);
}


/* ----------------------------------------------------------------- lists */

static void
mq_http_list_add(mq_http_list_t *l, json_t *doc)
{
    json_t **items;

    if (doc == NULL) {
        /* An object whose names are not UTF-8 has no JSON form; RabbitMQ
         * cannot hold one either, so it is left out of the list. */
        return;
    }
    if (l->n == l->cap) {
        items = realloc(l->items, (l->cap ? l->cap * 2 : 16) * sizeof(*items));
        if (items == NULL) {
            l->failed = 1;
            json_decref(doc);
            return;
        }
        l->items = items;
        l->cap = l->cap ? l->cap * 2 : 16;
    }
    l->items[l->n++] = doc;
}


/* Sends the list (sorted, paged and cut to ?columns= by mq_http_list.c);
 * the list's items go with it. */
static void
mq_http_list_reply(mq_http_req_t *r, mq_http_list_t *l)
{
    mq_http_send_list(r->req, l->items, l->n, l->failed);
}


/* Adds one vhost's objects of a kind (queues, exchanges, ...) to a list. */
typedef void (*mq_http_vhost_add_pt)(mq_http_req_t *r, mq_vhost_t *vh,
                                     mq_http_list_t *l);

/*
 * /api/<kind> and /api/<kind>/<vhost>: the list that `add` makes of every
 * vhost, or of `only` (not NULL), in the vhosts' order.  The one walk over
 * the vhosts that queues, exchanges, bindings and consumers share.
 */
static void
mq_http_list_vhosts_reply(mq_http_req_t *r, mq_vhost_t *only,
                          mq_http_vhost_add_pt add)
{
    mq_http_list_t  l = { 0 };
    mq_vhost_t     *vh;

    for (vh = r->mq->vhosts; vh != NULL; vh = vh->next) {
        if (only == NULL || vh == only) {
            add(r, vh, &l);
        }
    }
    mq_http_list_reply(r, &l);
}


/* ----------------------------------------------------------- path, login */

static int
mq_http_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}


/* Splits what follows /api/ into percent-decoded segments; a trailing
 * "/" is ignored, as RabbitMQ ignores it.  OB_PROTO_ERR: a bad escape;
 * OB_ERR: too many segments or a name too long (no such object). */
static int
mq_http_path_parse(const char *p, mq_http_path_t *path)
{
    size_t n;
    int    hi, lo;

    path->n = 0;
    while (*p != '\0') {
        if (path->n == MQ_HTTP_SEGS_MAX) {
            return OB_ERR;
        }
        n = 0;
        for (; *p != '\0' && *p != '/'; p++) {
            if (n == MQ_NAME_MAX) {
                return OB_ERR;
            }
            if (*p == '%') {
                hi = mq_http_hex(p[1]);
                lo = hi >= 0 ? mq_http_hex(p[2]) : -1;
                if (lo < 0) {
                    return OB_PROTO_ERR;
                }
                path->seg[path->n][n++] = (char) (hi << 4 | lo);
                p += 2;
            } else {
                path->seg[path->n][n++] = *p;
            }
        }
        path->seg[path->n][n] = '\0';
        path->len[path->n++] = n;
        if (*p == '/') {
            p++;
        }
    }
    return OB_OK;
}


/* Decodes base64 (standard alphabet, padding optional) into out; the
 * decoded length, or -1 on a bad character or no room. */
static int
mq_http_base64(const char *in, char *out, size_t cap)
{
    uint32_t acc = 0;
    int      bits = 0;
    size_t   n = 0;
    int      v;

    for (; *in != '\0' && *in != '='; in++) {
        if (*in >= 'A' && *in <= 'Z') {
            v = *in - 'A';
        } else if (*in >= 'a' && *in <= 'z') {
            v = *in - 'a' + 26;
        } else if (*in >= '0' && *in <= '9') {
            v = *in - '0' + 52;
        } else if (*in == '+') {
            v = 62;
        } else if (*in == '/') {
            v = 63;
        } else {
            return -1;
        }
        acc = acc << 6 | (uint32_t) v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= cap) {
                return -1;
            }
            out[n++] = (char) (acc >> bits & 0xff);
        }
    }
    out[n] = '\0';
    return (int) n;
}


static int
mq_http_peer_is_loopback(struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    char                     *addr = NULL;
    ev_uint16_t               port;

    if (evcon == NULL) {
        return 0;
    }
    evhttp_connection_get_peer(evcon, &addr, &port);
    return addr != NULL && (strncmp(addr, "127.", 4) == 0
                            || strcmp(addr, "::1") == 0
                            || strncmp(addr, "::ffff:127.", 11) == 0);
}


/* Checks the request's basic credentials: the user, or NULL after
 * answering 401 as RabbitMQ does. */
static const char *
mq_http_login_or_reply(mq_t *mq, struct evhttp_request *req)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    const char       *auth, *reason = "Login failed";
    char              plain[MQ_HTTP_AUTH_MAX], *colon;
    ob_str_t          user, pass;
    const mq_user_t  *u;
    int               rc;

    auth = evhttp_find_header(evhttp_request_get_input_headers(req),
                              "Authorization");
    evhttp_add_header(out, "WWW-Authenticate",
                      "Basic realm=\"RabbitMQ Management\"");
    if (auth == NULL) {
        evhttp_send_reply(req, 401, "Unauthorized", NULL);
        return NULL;
    }
    if (strncasecmp(auth, "Basic ", 6) == 0
        && strlen(auth) < MQ_HTTP_AUTH_MAX
        && mq_http_base64(auth + 6, plain, sizeof(plain)) >= 0
        && (colon = strchr(plain, ':')) != NULL)
    {
        *colon = '\0';
        user.data = (const uint8_t *) plain;
        user.len = strlen(plain);
        pass.data = (const uint8_t *) colon + 1;
        pass.len = strlen(colon + 1);
        rc = mq_user_check(mq, user, pass, mq_http_peer_is_loopback(req), &u);
        if (rc == OB_OK) {
            evhttp_remove_header(out, "WWW-Authenticate");
            return u->name;
        }
        if (rc == OB_DECLINED) {
            reason = "User can only log in via localhost";
        }
    }
    ob_http_reply_json(req, 401, "Unauthorized",
                       json_pack("{s:s,s:s}", "error", "not_authorized",
                                 "reason", reason));
    return NULL;
}


/* --------------------------------------------------------------- lookups */

/* The vhost named by segment i, or NULL after answering 404. */
static mq_vhost_t *
mq_http_vhost_or_reply(mq_http_req_t *r, size_t i)
{
    mq_vhost_t *vh = mq_vhost_find(r->mq, r->path->seg[i], r->path->len[i]);

    if (vh == NULL) {
        mq_http_not_found(r->req);
    }
    return vh;
}


/* An exchange by its path name ("amq.default" is ""). */
static mq_exchange_t *
mq_http_exchange_find(mq_vhost_t *vh, const char *name, size_t len)
{
    if (len == 11 && memcmp(name, "amq.default", 11) == 0) {
        len = 0;
    }
    return mq_exchange_find(vh, (const uint8_t *) name, len);
}


/* ---------------------------------------------------------------- queues */

/* The bindings whose destination is q, the default exchange's first. */
static void
mq_http_queue_bindings(mq_queue_t *q, mq_http_list_t *l)
{
    mq_link_t *k;

    mq_http_list_add(l, mq_http_binding(NULL, q));
    for (k = q->bindings.next; k != &q->bindings; k = k->next) {
        mq_http_list_add(l, mq_http_binding(
            MQ_ENTRY(k, mq_binding_t, dst_link), NULL));
    }
}


static void
mq_http_vhost_queues(mq_http_req_t *r, mq_vhost_t *vh, mq_http_list_t *l)
{
    mq_link_t *k;

    for (k = vh->queue_list.next; k != &vh->queue_list; k = k->next) {
        mq_http_list_add(l, mq_http_queue(MQ_ENTRY(k, mq_queue_t, link),
                                          r->node, 0));
    }
}


static void
mq_http_queues(mq_http_req_t *r)
{
    const mq_http_path_t *p = r->path;
    mq_http_list_t        l = { 0 };
    mq_vhost_t           *only = NULL;
    mq_queue_t           *q;

    if (p->n >= 2 && (only = mq_http_vhost_or_reply(r, 1)) == NULL) {
        return;
    }
    if (p->n >= 3) {
        q = mq_queue_find(only, (const uint8_t *) p->seg[2], p->len[2]);
        if (q == NULL || p->n > 4
            || (p->n == 4 && strcmp(p->seg[3], "bindings") != 0))
        {
            mq_http_not_found(r->req);
        } else if (p->n == 4) {
            mq_http_queue_bindings(q, &l);
            mq_http_list_reply(r, &l);
        } else {
            mq_http_reply_doc(r, mq_http_queue(q, r->node, 1));
        }
        return;
    }
    mq_http_list_vhosts_reply(r, only, mq_http_vhost_queues);
}


/* ------------------------------------------------------------- exchanges */

/* Bindings of x as the source, or (destination) the e2e ones to it. */
static void
mq_http_exchange_bindings(mq_exchange_t *x, int as_source,
                          mq_http_list_t *l)
{
    mq_link_t  *k;
    mq_link_t  *head = as_source ? &x->bindings : &x->dst_bindings;
    mq_queue_t *q;

    if (as_source && x->name_len == 0) {
        /* The default exchange: its implicit binding to every queue. */
        for (k = x->vhost->queue_list.next; k != &x->vhost->queue_list;
             k = k->next)
        {
            q = MQ_ENTRY(k, mq_queue_t, link);
            mq_http_list_add(l, mq_http_binding(NULL, q));
        }
    }
    for (k = head->next; k != head; k = k->next) {
        mq_http_list_add(l, mq_http_binding(
            as_source ? MQ_ENTRY(k, mq_binding_t, src_link)
                      : MQ_ENTRY(k, mq_binding_t, dst_link), NULL));
    }
}


static void
mq_http_vhost_exchanges(mq_http_req_t *r, mq_vhost_t *vh, mq_http_list_t *l)
{
    mq_link_t *k;

    (void) r;
    for (k = vh->exchange_list.next; k != &vh->exchange_list; k = k->next) {
        mq_http_list_add(l, mq_http_exchange(MQ_ENTRY(k, mq_exchange_t,
                                                      link)));
    }
}


static void
mq_http_exchanges(mq_http_req_t *r)
{
    const mq_http_path_t *p = r->path;
    mq_http_list_t        l = { 0 };
    mq_vhost_t           *only = NULL;
    mq_exchange_t        *x;

    if (p->n >= 2 && (only = mq_http_vhost_or_reply(r, 1)) == NULL) {
        return;
    }
    if (p->n >= 3) {
        x = mq_http_exchange_find(only, p->seg[2], p->len[2]);
        if (x == NULL || p->n == 4 || p->n > 5
            || (p->n == 5 && (strcmp(p->seg[3], "bindings") != 0
                              || (strcmp(p->seg[4], "source") != 0
                                  && strcmp(p->seg[4], "destination") != 0))))
        {
            mq_http_not_found(r->req);
        } else if (p->n == 5) {
            mq_http_exchange_bindings(x, strcmp(p->seg[4], "source") == 0,
                                      &l);
            mq_http_list_reply(r, &l);
        } else {
            mq_http_reply_doc(r, mq_http_exchange(x));
        }
        return;
    }
    mq_http_list_vhosts_reply(r, only, mq_http_vhost_exchanges);
}


/* -------------------------------------------------------------- bindings */

/* /api/bindings/<vhost>/e/<source>/q|e/<destination>: the bindings
 * between those two. */
static void
mq_http_bindings_between(mq_http_req_t *r, mq_vhost_t *vh)
{
    const mq_http_path_t *p = r->path;
    mq_http_list_t        l = { 0 };
    mq_exchange_t        *src, *dx = NULL;
    mq_queue_t           *dq = NULL;
    mq_binding_t         *b;
    mq_link_t            *k;
    int                   to_queue = strcmp(p->seg[4], "q") == 0;

    src = mq_http_exchange_find(vh, p->seg[3], p->len[3]);
    if (to_queue) {
        dq = mq_queue_find(vh, (const uint8_t *) p->seg[5], p->len[5]);
    } else {
        dx = mq_http_exchange_find(vh, p->seg[5], p->len[5]);
    }
    if (strcmp(p->seg[2], "e") != 0 || (!to_queue && strcmp(p->seg[4], "e"))
        || src == NULL || (dq == NULL && dx == NULL))
    {
        mq_http_not_found(r->req);
        return;
    }
    if (src->name_len == 0 && dq != NULL) {
        mq_http_list_add(&l, mq_http_binding(NULL, dq));
    }
    for (k = src->bindings.next; k != &src->bindings; k = k->next) {
        b = MQ_ENTRY(k, mq_binding_t, src_link);
        if ((dq != NULL && b->queue == dq) || (dx != NULL && b->exchange == dx))
        {
            mq_http_list_add(&l, mq_http_binding(b, NULL));
        }
    }
    mq_http_list_reply(r, &l);
}


/* A vhost's bindings: each exchange's, as the source. */
static void
mq_http_vhost_bindings(mq_http_req_t *r, mq_vhost_t *vh, mq_http_list_t *l)
{
    mq_link_t *k;

    (void) r;
    for (k = vh->exchange_list.next; k != &vh->exchange_list; k = k->next) {
        mq_http_exchange_bindings(MQ_ENTRY(k, mq_exchange_t, link), 1, l);
    }
}


static void
mq_http_bindings(mq_http_req_t *r)
{
    const mq_http_path_t *p = r->path;
    mq_vhost_t           *only = NULL;

    if (p->n >= 2 && (only = mq_http_vhost_or_reply(r, 1)) == NULL) {
        return;
    }
    if (p->n == 6) {
        mq_http_bindings_between(r, only);
        return;
    }
    if (p->n > 2) {
        mq_http_not_found(r->req);
        return;
    }
    mq_http_list_vhosts_reply(r, only, mq_http_vhost_bindings);
}


/* ------------------------------------------- connections, channels, ... */

static void
mq_http_connections(mq_http_req_t *r)
{
    const mq_http_path_t *p = r->path;
    mq_http_list_t        l = { 0 };
    mq_link_t            *k;
    mq_conn_t            *conn;
    char                  name[300];
    unsigned              i;

    for (k = r->mq->conns.next; k != &r->mq->conns; k = k->next) {
        conn = MQ_ENTRY(k, mq_conn_t, link);
        if (p->n == 1) {
            mq_http_list_add(&l, mq_http_connection(conn, r->node));
            continue;
        }
        mq_http_conn_name(conn, name, sizeof(name));
        if (strcmp(name, p->seg[1]) != 0) {
            continue;
        }
        if (p->n == 2) {
            mq_http_reply_doc(r, mq_http_connection(conn, r->node));
            return;
        }
        if (p->n == 3 && strcmp(p->seg[2], "channels") == 0) {
            for (i = 0; conn->channels != NULL && i <= conn->channel_max;
                 i++)
            {
                if (conn->channels[i] != NULL) {
                    mq_http_list_add(&l, mq_http_channel(conn->channels[i],
                                                         r->node));
                }
            }
            mq_http_list_reply(r, &l);
            return;
        }
        break;
    }
    if (p->n > 1) {
        mq_http_not_found(r->req);
        return;
    }
    mq_http_list_reply(r, &l);
}


static void
mq_http_channels(mq_http_req_t *r)
{
    const mq_http_path_t *p = r->path;
    mq_http_list_t        l = { 0 };
    mq_link_t            *k;
    mq_conn_t            *conn;
    mq_channel_t         *ch;
    json_t               *doc;
    unsigned              i;

    if (p->n > 2) {
        mq_http_not_found(r->req);
        return;
    }
    for (k = r->mq->conns.next; k != &r->mq->conns; k = k->next) {
        conn = MQ_ENTRY(k, mq_conn_t, link);
        for (i = 0; conn->channels != NULL && i <= conn->channel_max; i++) {
            ch = conn->channels[i];
            if (ch == NULL) {
                continue;
            }
            doc = mq_http_channel(ch, r->node);
            if (p->n == 2 && doc != NULL
                && strcmp(json_string_value(json_object_get(doc, "name")),
                          p->seg[1]) == 0)
            {
                free(l.items);
                mq_http_reply_doc(r, doc);
                return;
            }
            if (p->n == 2) {
                json_decref(doc);
            } else {
                mq_http_list_add(&l, doc);
            }
        }
    }
    if (p->n == 2) {
        mq_http_not_found(r->req);
        return;
    }
    mq_http_list_reply(r, &l);
}


static void
mq_http_vhost_consumers(mq_http_req_t *r, mq_vhost_t *vh, mq_http_list_t *l)
{
    mq_link_t  *k, *c;
    mq_queue_t *q;

    for (k = vh->queue_list.next; k != &vh->queue_list; k = k->next) {
        q = MQ_ENTRY(k, mq_queue_t, link);
        for (c = q->consumers.next; c != &q->consumers; c = c->next) {
            mq_http_list_add(l, mq_http_consumer(
                MQ_ENTRY(c, mq_consumer_t, qlink), r->node));
        }
    }
}


static void
mq_http_consumers(mq_http_req_t *r)
{
    const mq_http_path_t *p = r->path;
    mq_vhost_t           *only = NULL;

    if (p->n > 2) {
        mq_http_not_found(r->req);
        return;
    }
    if (p->n == 2 && (only = mq_http_vhost_or_reply(r, 1)) == NULL) {
        return;
    }
    mq_http_list_vhosts_reply(r, only, mq_http_vhost_consumers);
}


static void
mq_http_vhosts(mq_http_req_t *r)
{
    const mq_http_path_t *p = r->path;
    mq_http_list_t        l = { 0 };
    mq_vhost_t           *vh;

    if (p->n > 2) {
        mq_http_not_found(r->req);
        return;
    }
    if (p->n == 2) {
        if ((vh = mq_http_vhost_or_reply(r, 1)) != NULL) {
            mq_http_reply_doc(r, mq_http_vhost(vh, r->node));
        }
        return;
    }
    for (vh = r->mq->vhosts; vh != NULL; vh = vh->next) {
        mq_http_list_add(&l, mq_http_vhost(vh, r->node));
    }
    mq_http_list_reply(r, &l);
}


static void
mq_http_overview_cb(mq_http_req_t *r)
{
    if (r->path->n != 1) {
        mq_http_not_found(r->req);
        return;
    }
    mq_http_reply_doc(r, mq_http_overview(r->mq, r->node));
}


/* /api/nodes[/<name>]: the broker is one node. */
static void
mq_http_nodes_cb(mq_http_req_t *r)
{
    mq_http_list_t l = { 0 };

    if (r->path->n > 2
        || (r->path->n == 2 && strcmp(r->path->seg[1], r->node) != 0))
    {
        mq_http_not_found(r->req);
        return;
    }
    if (r->path->n == 2) {
        mq_http_reply_doc(r, mq_http_nodes(r->mq, r->node));
        return;
    }
    mq_http_list_add(&l, mq_http_nodes(r->mq, r->node));
    mq_http_list_reply(r, &l);
}


/* /api/healthchecks/node: the node is up (it answered). */
static void
mq_http_healthcheck(mq_http_req_t *r)
{
    if (r->path->n != 2 || strcmp(r->path->seg[1], "node") != 0) {
        mq_http_not_found(r->req);
        return;
    }
    mq_http_reply_doc(r, json_pack("{s:s}", "status", "ok"));
}


static void
mq_http_whoami(mq_http_req_t *r)
{
    /* Every broker user may do everything: RabbitMQ's administrator. */
    mq_http_reply_doc(r, json_pack("{s:s,s:[s]}", "name", r->user,
                                   "tags", "administrator"));
}


/* --------------------------------------------------------------- deletes */

/* DELETE /api/queues/<vhost>/<name>: as queue.delete, consumers cancelled
 * and messages dropped; 204 as RabbitMQ answers. */
static void
mq_http_queue_delete(mq_http_req_t *r)
{
    const mq_http_path_t *p = r->path;
    mq_vhost_t           *vh;
    mq_queue_t           *q;

    if (p->n != 3) {
        mq_http_not_allowed(r->req);
        return;
    }
    if ((vh = mq_http_vhost_or_reply(r, 1)) == NULL) {
        return;
    }
    q = mq_queue_find(vh, (const uint8_t *) p->seg[2], p->len[2]);
    if (q == NULL) {
        mq_http_not_found(r->req);
        return;
    }
    (void) mq_queue_delete(q);
    evhttp_send_reply(r->req, HTTP_NOCONTENT, "No Content", NULL);
}


/* DELETE /api/connections/<name>: connection.close 320 with the
 * X-Reason header's text, or RabbitMQ's "Closed via management plugin". */
static void
mq_http_connection_delete(mq_http_req_t *r)
{
    const mq_http_path_t *p = r->path;
    const char           *reason;
    mq_link_t            *k;
    mq_conn_t            *conn;
    char                  name[300];

    if (p->n != 2) {
        mq_http_not_allowed(r->req);
        return;
    }
    reason = evhttp_find_header(evhttp_request_get_input_headers(r->req),
                                "X-Reason");
    for (k = r->mq->conns.next; k != &r->mq->conns; k = k->next) {
        conn = MQ_ENTRY(k, mq_conn_t, link);
        mq_http_conn_name(conn, name, sizeof(name));
        if (strcmp(name, p->seg[1]) == 0) {
            (void) mq_conn_error(conn, MQ_CONNECTION_FORCED, -1, "%.200s",
                                 reason != NULL
                                 ? reason : "Closed via management plugin");
            /* Outside the connection's own read: the core writes only
             * when told. */
            ob_conn_flush(conn->c);
            evhttp_send_reply(r->req, HTTP_NOCONTENT, "No Content", NULL);
            return;
        }
    }
    mq_http_not_found(r->req);
}


/* ------------------------------------------------------------- dispatch */

typedef void (*mq_http_handler_pt)(mq_http_req_t *r);

static const struct {
    const char          *name;
    mq_http_handler_pt   handler;
} mq_http_routes[] = {
    { "overview",    mq_http_overview_cb },
    { "whoami",      mq_http_whoami },
    { "nodes",       mq_http_nodes_cb },
    { "healthchecks", mq_http_healthcheck },
    { "vhosts",      mq_http_vhosts },
    { "queues",      mq_http_queues },
    { "exchanges",   mq_http_exchanges },
    { "bindings",    mq_http_bindings },
    { "connections", mq_http_connections },
    { "channels",    mq_http_channels },
    { "consumers",   mq_http_consumers },
    { NULL, NULL }
};


static void
mq_http_api_cb(struct evhttp_request *req, void *arg)
{
    mq_t                    *mq = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char              *raw = uri != NULL ? evhttp_uri_get_path(uri)
                                               : NULL;
    enum evhttp_cmd_type     cmd = evhttp_request_get_command(req);
    mq_http_path_t           path;
    mq_http_req_t            r;
    mq_vhost_t              *vh;
    char                     node[300];
    size_t                   i;

    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD
        && cmd != EVHTTP_REQ_DELETE && cmd != EVHTTP_REQ_POST)
    {
        mq_http_not_allowed(req);
        return;
    }
    r.user = mq_http_login_or_reply(mq, req);
    if (r.user == NULL) {
        return;
    }
    if (raw == NULL || strncmp(raw, "/api/", 5) != 0) {
        mq_http_not_found(req);
        return;
    }
    switch (mq_http_path_parse(raw + 5, &path)) {
    case OB_OK:
        break;
    case OB_PROTO_ERR:
        /* A broken %-escape: RabbitMQ's web server answers 400, empty. */
        evhttp_send_reply(req, HTTP_BADREQUEST, "Bad Request", NULL);
        return;
    default:
        mq_http_not_found(req);
        return;
    }
    if (path.n == 0) {
        mq_http_not_found(req);
        return;
    }
    r.mq = mq;
    r.req = req;
    r.path = &path;
    r.node = mq_http_node(node, sizeof(node));
    if (cmd == EVHTTP_REQ_POST) {
        if (path.n == 4 && strcmp(path.seg[0], "queues") == 0
            && strcmp(path.seg[3], "get") == 0)
        {
            vh = mq_http_vhost_or_reply(&r, 1);
            if (vh != NULL) {
                mq_http_queue_get(req, vh, path.seg[2], path.len[2]);
            }
        } else {
            mq_http_not_allowed(req);
        }
        return;
    }
    if (cmd == EVHTTP_REQ_DELETE) {
        if (strcmp(path.seg[0], "queues") == 0) {
            mq_http_queue_delete(&r);
        } else if (strcmp(path.seg[0], "connections") == 0) {
            mq_http_connection_delete(&r);
        } else {
            mq_http_not_allowed(req);
        }
        return;
    }
    for (i = 0; mq_http_routes[i].name != NULL; i++) {
        if (strcmp(path.seg[0], mq_http_routes[i].name) == 0) {
            mq_http_routes[i].handler(&r);
            return;
        }
    }
    mq_http_not_found(req);
}


int
mq_http_start(mq_t *mq, ob_err_t *err)
{
    return ob_http_route_add(mq->cy, "/api/", mq_http_api_cb, mq, err);
}


/* ------------------------------------------------------------------ /stats */

void
mq_stats(void *state, json_t *out)
{
    mq_t                   *mq = state;
    mq_http_counts_t        c;
    json_t                 *log;
    ob_arena_owner_stats_t  os;

    mq_http_counts(mq, &c);
    json_object_set_new(out, "port", json_integer(mq->port));
    json_object_set_new(out, "connections",
                        json_integer((json_int_t) c.conns));
    json_object_set_new(out, "channels",
                        json_integer((json_int_t) c.channels));
    json_object_set_new(out, "exchanges",
                        json_integer((json_int_t) c.exchanges));
    json_object_set_new(out, "queues",
                        json_integer((json_int_t) c.queues));
    json_object_set_new(out, "consumers",
                        json_integer((json_int_t) c.consumers));
    json_object_set_new(out, "messages_ready",
                        json_integer((json_int_t) c.ready));
    json_object_set_new(out, "messages_unacknowledged",
                        json_integer((json_int_t) c.unacked));
    json_object_set_new(out, "message_bytes",
                        json_integer((json_int_t) c.bytes));
    /* The arena's figure now, not mq->mem_bytes as of the last tick. */
    ob_arena_owner_stats(mq->cy->arena, mq->arena_owner, &os);
    json_object_set_new(out, "memory", json_integer((json_int_t) os.bytes));
    json_object_set_new(out, "alarm", json_boolean(mq->alarm));
    json_object_set_new(out, "published",
                        json_integer((json_int_t) mq->stats.published));
    json_object_set_new(out, "delivered",
                        json_integer((json_int_t) mq->stats.delivered));
    json_object_set_new(out, "delivered_get",
                        json_integer((json_int_t) mq->stats.delivered_get));
    json_object_set_new(out, "acked",
                        json_integer((json_int_t) mq->stats.acked));
    json_object_set_new(out, "redelivered",
                        json_integer((json_int_t) mq->stats.redelivered));
    json_object_set_new(out, "confirmed",
                        json_integer((json_int_t) mq->stats.confirmed));
    json_object_set_new(out, "returned",
                        json_integer((json_int_t) mq->stats.returned));
    json_object_set_new(out, "dropped_unroutable",
                        json_integer((json_int_t)
                                     mq->stats.dropped_unroutable));
    json_object_set_new(out, "dead_lettered",
                        json_integer((json_int_t) mq->stats.dead_lettered));
    json_object_set_new(out, "expired",
                        json_integer((json_int_t) mq->stats.expired));
    json_object_set_new(out, "publish_rate", json_real(mq->rates.publish));
    json_object_set_new(out, "deliver_get_rate",
                        json_real(mq->rates.deliver_get));
    json_object_set_new(out, "ack_rate", json_real(mq->rates.ack));
    json_object_set_new(out, "confirm_rate", json_real(mq->rates.confirm));
    json_object_set_new(out, "connections_total",
                        json_integer((json_int_t) mq->stats.conns_total));
    json_object_set_new(out, "channels_total",
                        json_integer((json_int_t) mq->stats.channels_total));
    if (mq->log != NULL) {
        log = json_object();
        mq_log_stats(mq, log);
        json_object_set_new(out, "log", log);
    }
}
