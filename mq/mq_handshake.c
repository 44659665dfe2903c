/*
 * mq_handshake.c: what a connection says on channel 0: connection.start
 * with RabbitMQ's server properties, start-ok (PLAIN or AMQPLAIN against
 * mq.users, loopback-only users), tune-ok (RabbitMQ's checks of the
 * negotiated values), connection.open (the vhost), and connection.close
 * in both directions.
 */
#include "mq_conn_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ob_cycle.h"
#include "ob_log.h"


/* The server properties of connection.start, keys as RabbitMQ sends
 * them. */
static void
mq_server_properties(mq_tbuf_t *b)
{
    static const char *caps[] = {
        "publisher_confirms", "exchange_exchange_bindings", "basic.nack",
        "consumer_cancel_notify", "connection.blocked",
        "authentication_failure_close", "per_consumer_qos", NULL
    };
    static const char *props[][2] = {
        { "cluster_name", "onebox@localhost" },
        { "copyright", "Copyright (c) the onebox authors" },
        { "information", "onebox: an AMQP 0-9-1 broker that behaves like "
          "RabbitMQ 3.10" },
        { "platform", "C/libevent" },
        { "product", "onebox" },
        { "version", OB_VERSION },
        { NULL, NULL }
    };
    size_t pos;
    int    i;

    mq_tbuf_key(b, "capabilities", 12);
    pos = mq_tbuf_open(b, 'F');
    for (i = 0; caps[i] != NULL; i++) {
        mq_tbuf_key(b, caps[i], strlen(caps[i]));
        mq_tbuf_bool(b, 1);
    }
    mq_tbuf_close(b, pos);
    for (i = 0; props[i][0] != NULL; i++) {
        mq_tbuf_key(b, props[i][0], strlen(props[i][0]));
        mq_tbuf_longstr(b, props[i][1], strlen(props[i][1]));
    }
}


int
mq_send_start(mq_conn_t *conn)
{
    mq_tbuf_t b;
    ob_str_t  props, mech = { 14, (const uint8_t *) "PLAIN AMQPLAIN" },
              loc = { 5, (const uint8_t *) "en_US" };
    int       rc;

    mq_tbuf_init(&b);
    mq_server_properties(&b);
    if (b.failed) {
        mq_tbuf_free(&b);
        return OB_ERR;
    }
    props.data = b.data;
    props.len = b.len;
    rc = mq_send_method(conn, 0, MQ_M_CONNECTION_START, 0u, 9u, &props,
                        &mech, &loc);
    mq_tbuf_free(&b);
    return rc;
}


/* 1 when the peer's address is a loopback one (127.0.0.0/8, ::1). */
static int
mq_peer_is_loopback(const ob_conn_t *c)
{
    const char *p = ob_conn_peer(c);

    return strncmp(p, "127.", 4) == 0 || strncmp(p, "[::1]", 5) == 0
           || strncmp(p, "::1", 3) == 0 || strcmp(p, "unix") == 0;
}


/* 1 when `user` is in the comma-separated loopback_users list. */
static int
mq_user_is_loopback_only(const mq_t *mq, const char *user)
{
    const char *p = mq->loopback_users, *end;
    size_t      len, ulen = strlen(user);

    while (p != NULL && *p != '\0') {
        end = strchr(p, ',');
        len = end != NULL ? (size_t) (end - p) : strlen(p);
        if (len == ulen && memcmp(p, user, len) == 0) {
            return 1;
        }
        p = end != NULL ? end + 1 : NULL;
    }
    return 0;
}


/*
 * The users are few (the configuration's list), so a linear search; the
 * first user whose name and password match decides, as in RabbitMQ's
 * internal backend.  Lengths are compared, not NULs: a PLAIN response may
 * carry any octet.
 */
int
mq_user_check(const mq_t *mq, ob_str_t user, ob_str_t pass,
              int peer_is_loopback, const mq_user_t **found)
{
    const mq_user_t *u;
    size_t           i;

    for (i = 0; i < mq->nusers; i++) {
        u = &mq->users[i];
        if (strlen(u->name) == user.len
            && memcmp(u->name, user.data, user.len) == 0
            && strlen(u->password) == pass.len
            && memcmp(u->password, pass.data, pass.len) == 0)
        {
            if (!peer_is_loopback && mq_user_is_loopback_only(mq, u->name)) {
                return OB_DECLINED;
            }
            *found = u;
            return OB_OK;
        }
    }
    return OB_ERR;
}


/* Extracts user and password from a PLAIN ("authzid\0user\0pass") or
 * AMQPLAIN (a table without its length: LOGIN, PASSWORD) response.
 * OB_ERR when it is malformed. */
static int
mq_auth_response(ob_str_t mech, ob_str_t resp, ob_str_t *user,
                 ob_str_t *pass)
{
    const uint8_t *z1, *z2, *end = resp.data + resp.len;
    mq_value_t     v;

    if (mech.len == 8 && memcmp(mech.data, "AMQPLAIN", 8) == 0) {
        if (mq_table_validate(resp.data, resp.len) != OB_OK
            || !mq_table_find(resp, "LOGIN", &v) || v.type != 'S')
        {
            return OB_ERR;
        }
        *user = v.s;
        if (!mq_table_find(resp, "PASSWORD", &v) || v.type != 'S') {
            return OB_ERR;
        }
        *pass = v.s;
        return OB_OK;
    }
    z1 = resp.len > 0 ? memchr(resp.data, 0, resp.len) : NULL;
    if (z1 == NULL) {
        return OB_ERR;
    }
    z2 = memchr(z1 + 1, 0, (size_t) (end - z1 - 1));
    if (z2 == NULL) {
        return OB_ERR;
    }
    user->data = z1 + 1;
    user->len = (size_t) (z2 - z1 - 1);
    pass->data = z2 + 1;
    pass->len = (size_t) (end - z2 - 1);
    return OB_OK;
}


/* Reads the capabilities the client advertised in start-ok. */
static void
mq_client_capabilities(mq_conn_t *conn, ob_str_t props)
{
    mq_value_t v, cap;

    if (!mq_table_find(props, "capabilities", &v) || v.type != 'F') {
        return;
    }
    conn->cap_blocked = mq_table_find(v.s, "connection.blocked", &cap)
                        && cap.type == 't' && cap.u;
    conn->cap_cancel_notify = mq_table_find(v.s, "consumer_cancel_notify",
                                            &cap) && cap.type == 't' && cap.u;
    conn->cap_auth_failure_close = mq_table_find(v.s,
                                   "authentication_failure_close", &cap)
                                   && cap.type == 't' && cap.u;
}


static int
mq_on_start_ok(mq_conn_t *conn, const mq_method_t *m)
{
    mq_t             *mq = conn->mq;
    ob_str_t          mech = m->a[MQ_START_OK_MECHANISM].s, user, pass;
    ob_str_t          props = m->a[MQ_START_OK_CLIENT_PROPERTIES].s;
    const mq_user_t  *u;

    free(conn->client_props);
    conn->client_props = malloc(props.len + 1);
    if (conn->client_props != NULL) {
        memcpy(conn->client_props, props.data, props.len);
        conn->client_props_len = props.len;
    }
    mq_client_capabilities(conn, props);
    if (!(mech.len == 5 && memcmp(mech.data, "PLAIN", 5) == 0)
        && !(mech.len == 8 && memcmp(mech.data, "AMQPLAIN", 8) == 0))
    {
        return mq_conn_error(conn, MQ_COMMAND_INVALID, MQ_M_CONNECTION_START_OK,
                             "unknown authentication mechanism '%.*s'",
                             (int) mech.len, mech.data);
    }
    if (mq_auth_response(mech, m->a[MQ_START_OK_RESPONSE].s, &user, &pass)
        == OB_OK && user.len <= MQ_NAME_MAX
        && mq_user_check(mq, user, pass, mq_peer_is_loopback(conn->c), &u)
           == OB_OK)
    {
        snprintf(conn->user, sizeof(conn->user), "%s", u->name);
        conn->state = MQ_CONN_TUNE;
        return mq_send_method(conn, 0, MQ_M_CONNECTION_TUNE,
                              (unsigned) mq->channel_max,
                              (unsigned) mq->frame_max,
                              (unsigned) mq->heartbeat);
    }
    ob_log_notice(&mq->cy->log, "mq: %s: login refused (mechanism %.*s)",
                  ob_conn_peer(conn->c), (int) mech.len, mech.data);
    if (!conn->cap_auth_failure_close) {
        conn->state = MQ_CONN_CLOSED;
        return OB_DONE;
    }
    return mq_conn_error(conn, MQ_ACCESS_REFUSED, -1, "Login was refused "
                         "using authentication mechanism %.*s. For details "
                         "see the broker logfile.", (int) mech.len, mech.data);
}


/* RabbitMQ's check of one negotiated value: a client's 0 means "no
 * limit", which is over the server's; below the minimum fails too. */
static int
mq_tune_check(mq_conn_t *conn, const char *field, uint64_t client,
              uint64_t min, uint64_t server)
{
    if (client != 0 && client < min) {
        return mq_conn_error(conn, MQ_NOT_ALLOWED, MQ_M_CONNECTION_TUNE,
                             "negotiated %s = %llu is lower than the minimum "
                             "allowed value (%llu)", field,
                             (unsigned long long) client,
                             (unsigned long long) min);
    }
    if (server != 0 && (client == 0 || client > server)) {
        return mq_conn_error(conn, MQ_NOT_ALLOWED, MQ_M_CONNECTION_TUNE,
                             "negotiated %s = %llu%s is higher than the "
                             "maximum allowed value (%llu)", field,
                             (unsigned long long) client,
                             client == 0 && strcmp(field, "channel_max") == 0
                             ? " (no limit)" : "",
                             (unsigned long long) server);
    }
    return OB_OK;
}


static int
mq_on_tune_ok(mq_conn_t *conn, const mq_method_t *m)
{
    mq_t     *mq = conn->mq;
    uint64_t  chmax = m->a[MQ_TUNE_CHANNEL_MAX].n,
              fmax = m->a[MQ_TUNE_FRAME_MAX].n;

    if (mq_tune_check(conn, "frame_max", fmax, MQ_FRAME_MIN_SIZE,
                      mq->frame_max) != OB_OK
        || mq_tune_check(conn, "channel_max", chmax, 1, mq->channel_max)
           != OB_OK)
    {
        return OB_ERR;
    }
    conn->frame_max = (uint32_t) fmax;
    conn->channel_max = (uint16_t) chmax;
    conn->heartbeat = (uint16_t) m->a[MQ_TUNE_HEARTBEAT].n;
    conn->state = MQ_CONN_OPEN;
    return OB_OK;
}


static int
mq_on_open(mq_conn_t *conn, const mq_method_t *m)
{
    ob_str_t    vh = m->a[MQ_OPEN_VHOST].s;

    conn->vhost = mq_vhost_find(conn->mq, (const char *) vh.data, vh.len);
    if (conn->vhost == NULL) {
        return mq_conn_error(conn, MQ_NOT_ALLOWED, MQ_M_CONNECTION_OPEN,
                             "vhost %.*s not found", (int) vh.len, vh.data);
    }
    conn->state = MQ_CONN_RUNNING;
    return mq_send_method(conn, 0, MQ_M_CONNECTION_OPEN_OK, NULL);
}


/* A method on channel 0. */
int
mq_conn_method(mq_conn_t *conn, const mq_frame_t *f)
{
    mq_method_t    m;
    mq_wire_err_t  err;

    if (mq_method_decode(f->payload, f->size, &m, &err) != OB_OK) {
        return mq_conn_decode_error(conn, f, &err);
    }
    if (conn->state >= MQ_CONN_CLOSING) {
        if (m.id == MQ_M_CONNECTION_CLOSE) {
            mq_send_method(conn, 0, MQ_M_CONNECTION_CLOSE_OK);
            conn->state = MQ_CONN_CLOSED;
        } else if (m.id == MQ_M_CONNECTION_CLOSE_OK) {
            conn->state = MQ_CONN_CLOSED;
        }
        return OB_OK;
    }
    if (m.id == MQ_M_CONNECTION_CLOSE) {
        mq_send_method(conn, 0, MQ_M_CONNECTION_CLOSE_OK);
        conn->state = MQ_CONN_CLOSED;
        return OB_OK;
    }
    switch (conn->state) {
    case MQ_CONN_START:
        if (m.id == MQ_M_CONNECTION_START_OK) {
            return mq_on_start_ok(conn, &m);
        }
        break;
    case MQ_CONN_TUNE:
        if (m.id == MQ_M_CONNECTION_TUNE_OK) {
            return mq_on_tune_ok(conn, &m);
        }
        break;
    case MQ_CONN_OPEN:
        if (m.id == MQ_M_CONNECTION_OPEN) {
            return mq_on_open(conn, &m);
        }
        break;
    default:
        if (m.id == MQ_M_CONNECTION_CLOSE_OK) {
            return OB_OK;
        }
        break;
    }
    return mq_conn_error(conn, conn->state == MQ_CONN_RUNNING
                         ? MQ_CHANNEL_ERROR : MQ_COMMAND_INVALID, (int) m.id,
                         "unexpected method in connection state %s",
                         conn->state == MQ_CONN_RUNNING ? "running"
                         : "opening");
}