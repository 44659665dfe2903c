/*
 * store_replica.c: the replica side of replication (Redis 7.0's
 * replicaofCommand, replicationSetMaster/UnsetMaster, the master client's
 * stream and replicationCron's replica half).  The link itself, from the
 * connect to a loaded RDB, is store_replica_sync.c's; the states are
 * drawn in store_replica_int.h.
 *
 * The master's stream is applied by a client without a connection
 * (store_client_fake_new with STORE_CLIENT_MASTER): it runs every
 * command through the dispatcher as the master sent it, gets no replies
 * and is never refused as read-only.  It lives as long as the replica
 * role, not as long as one link, because a partial resync (+CONTINUE)
 * goes on in the db the stream had SELECTed before the link dropped.
 *
 * Offsets count stream bytes (the reference's 7.3): a command counts
 * once it has run, so REPLCONF GETACK is answered with the offset before
 * it, as Redis does.  The bytes of each applied command also go to
 * store_repl_feed_raw, so that replicas of ours see the same stream at
 * the same offsets.
 *
 * While a replica, reads see expired keys as missing but never delete
 * them (store_dbs_set_replica): the master's DELs do, so the datasets stay
 * equal.
 */
#include "store_replica_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

/* The stream's argument arrays start this big and grow as needed. */
#define STORE_REPLICA_ARGV_MIN  16


int
store_replica_init(store_t *st, ob_err_t *err)
{
    store_replica_t *rs;

    rs = calloc(1, sizeof(*rs));
    if (rs == NULL) {
        return ob_err_set(err, "store: out of memory");
    }
    rs->st = st;
    rs->state = STORE_REPL_NONE;
    rs->offset = -1;
    rs->read_offset = -1;
    rs->tmpfd = -1;
    rs->transfer_size = -1;
    store_resp_parser_init(&rs->parser);
    if (store_args_grow(&rs->args, &rs->parser, STORE_REPLICA_ARGV_MIN)
        != OB_OK)
    {
        store_args_free(&rs->args);
        free(rs);
        return ob_err_set(err, "store: out of memory");
    }
    st->replica = rs;
    return OB_OK;
}


/*
 * Clients blocked on keys were waiting on a master's data; they are
 * answered and disconnected, as Redis's disconnectAllBlockedClients
 * (the close waits for the reply to be written).
 */
static void
store_replica_unblock_all(store_t *st)
{
    size_t i;

    for (i = 0; i < st->nclients; i++) {
        store_client_t *c = st->clients[i];

        if (!(c->flags & STORE_CLIENT_BLOCKED) || c->conn == NULL) {
            continue;
        }
        store_add_err(c, "UNBLOCKED force unblock from blocking operation, "
                      "instance state changed (master -> replica?)");
        store_unblock(c);
        ob_conn_close(c->conn, 1);
    }
}


/*
 * Becomes a replica of host:port (Redis's replicationSetMaster).  The
 * history to continue is the one we hold: a previous master's, or, for a
 * master that is demoted, its own (Redis's replicationCacheMasterUsing-
 * Myself), so that a former master can continue from its promoted
 * replica.  with_own_history is 0 after a fresh start, where Redis asks
 * "PSYNC ? -1".
 */
static int
store_replica_set_master(store_replica_t *rs, const char *host, int port,
                         int with_own_history)
{
    store_t  *st = rs->st;
    char     *h, *conf;
    size_t    n = strlen(host) + 16;

    h = strdup(host);
    conf = malloc(n);
    if (h == NULL || conf == NULL) {
        free(h);
        free(conf);
        return OB_ERR;
    }
    /* CONFIG GET replicaof shows the master, as Redis's getter does. */
    snprintf(conf, n, "%s %d", host, port);
    free(st->replicaof);
    st->replicaof = conf;
    if (rs->master == NULL) {
        rs->master = store_client_fake_new(st, STORE_CLIENT_MASTER);
        if (rs->master == NULL) {
            free(h);
            return OB_ERR;
        }
    }
    store_replica_drop_link(rs, NULL);
    store_replica_unblock_all(st);
    if (rs->state == STORE_REPL_NONE) {
        if (with_own_history) {
            const char *id = store_repl_id(st);

            ob_log_notice(&st->cy->log, "Before turning into a replica, "
                          "using my own master parameters to synthesize a "
                          "cached master: I may be able to synchronize "
                          "with the new master with just a partial "
                          "transfer.");
            snprintf(rs->replid, sizeof(rs->replid), "%s", id);
            rs->offset = store_repl_offset(st);
        } else {
            rs->replid[0] = '\0';
            rs->offset = -1;
        }
        rs->read_offset = rs->offset;
        store_client_select(rs->master, 0);
        store_repl_drop_replicas(st);
    }
    free(rs->host);
    rs->host = h;
    rs->port = port;
    rs->state = STORE_REPL_CONNECT;
    rs->connect_ms = 0;
    store_dbs_set_replica(st->dbs, 1);
    ob_log_notice(&st->cy->log, "Connecting to MASTER %s:%d", host, port);
    store_replica_connect(rs);
    return OB_OK;
}


/* REPLICAOF NO ONE (Redis's replicationUnsetMaster). */
static void
store_replica_unset_master(store_replica_t *rs)
{
    store_t *st = rs->st;

    if (rs->state == STORE_REPL_NONE) {
        return;
    }
    store_replica_drop_link(rs, NULL);
    rs->state = STORE_REPL_NONE;
    free(rs->host);
    rs->host = NULL;
    rs->port = 0;
    free(st->replicaof);
    st->replicaof = NULL;
    rs->down_since_ms = 0;
    store_resp_parser_reset(&rs->parser);
    rs->need = 0;
    rs->txn_bytes = 0;
    store_client_fake_free(rs->master);
    rs->master = NULL;
    store_dbs_set_replica(st->dbs, 0);
    /* Our history goes on under a new id; replicas of ours reconnect to
     * learn it (they can continue: the old id stays valid). */
    store_repl_shift_ids(st);
    store_repl_drop_replicas(st);
}


int
store_replica_start(store_t *st, ob_err_t *err)
{
    store_replica_t  *rs = st->replica;
    char              host[256];
    int               port, n = 0;

    if (rs == NULL || st->replicaof == NULL || st->replicaof[0] == '\0') {
        return OB_OK;
    }
    if (sscanf(st->replicaof, "%255s %d %n", host, &port, &n) != 2
        || st->replicaof[n] != '\0' || port < 0 || port > 65535)
    {
        return ob_err_set(err, "store.replicaof: expected \"host port\", "
                          "got \"%.200s\"", st->replicaof);
    }
    /* Redis asks "PSYNC ? -1" after a fresh start, but continues the
     * history an RDB loaded at start-up brought (its repl-id and
     * repl-offset), so that a restarted replica syncs partially. */
    store_client_refresh_time(st);
    if (store_replica_set_master(rs, host, port,
                                 store_repl_offset(st) > 0) != OB_OK)
    {
        return ob_err_set(err, "store: out of memory");
    }
    return OB_OK;
}


int
store_replica_is_replica(const store_t *st)
{
    return st->replica != NULL && st->replica->state != STORE_REPL_NONE;
}


int
store_replica_refuses_writes(const store_t *st)
{
    return store_replica_is_replica(st) && st->replica_read_only;
}


void
store_replica_link_up(store_replica_t *rs)
{
    rs->state = STORE_REPL_CONNECTED;
    rs->last_io_ms = rs->st->now_ms;
    rs->last_ack_ms = rs->st->now_ms;
    rs->down_since_ms = 0;
    if (rs->read_offset < rs->offset) {
        rs->read_offset = rs->offset;
    }
}


/*
 * One command of the stream.  REPLCONF is the link's own business (Redis
 * runs it as a command whose GETACK answers even a master): GETACK gets
 * the offset so far, before this command counts.  The rest runs as the
 * master sent it.
 */
static void
store_replica_apply(store_replica_t *rs, const ob_str_t *argv, size_t argc)
{
    if (store_arg_is(&argv[0], "replconf")) {
        if (argc >= 2 && store_arg_is(&argv[1], "getack")) {
            store_replica_send_ack(rs, rs->offset);
        }
        return;
    }
    store_client_run(rs->master, argv, argc);
}


/*
 * Commits the bytes of applied commands at the head of the input: they
 * count in the offset and go to our own replicas (Redis proxies exactly
 * what its master client applied).
 */
static void
store_replica_commit(store_replica_t *rs, struct evbuffer *in,
                     const uint8_t *buf, size_t n)
{
    if (n == 0) {
        return;
    }
    store_repl_feed_raw(rs->st, buf, n);
    evbuffer_drain(in, n);
    rs->offset += (long long) n;
}


/*
 * The master's commands, applied in order.  A transaction counts as a
 * whole: from MULTI to EXEC its bytes stay at the head of the input
 * (txn_bytes) and the offset does not move, as Redis advances its master
 * client's reploff only outside MULTI.  So a link that drops inside one
 * asks PSYNC from before MULTI, gets all of it again, and our replicas
 * never see half of one.
 */
int
store_replica_stream(store_replica_t *rs, ob_conn_t *conn,
                     struct evbuffer *in)
{
    store_t               *st = rs->st;
    store_replica_link_t  *link = rs->link;
    unsigned               handled = 0;
    unsigned               max = ob_conn_reqs_per_event(conn);
    size_t                 total, avail, consumed;
    const uint8_t         *buf;
    store_req_t            req;
    int                    rc;

    for (;;) {
        total = evbuffer_get_length(in);
        rs->read_offset = rs->offset + (long long) total;
        avail = total - rs->txn_bytes;
        if (avail == 0 || (rs->need != 0 && avail < rs->need)) {
            return OB_OK;
        }
        if (handled >= max) {
            return OB_BUSY;
        }
        buf = evbuffer_pullup(in, -1);
        if (buf == NULL) {
            return OB_ERR;
        }
        /* The master's commands are trusted (Redis lifts the limits for
         * its master client), but proto-max-bulk-len still applies. */
        rs->parser.bulk_max = st->proto_max_bulk_len;
        rc = store_resp_parse(&rs->parser, buf + rs->txn_bytes, avail,
                              &consumed, &req);
        if (rc == OB_AGAIN || rc == OB_BUSY) {
            /* Skipped empty lines are bytes of the stream too. */
            if (rs->txn_bytes > 0) {
                rs->txn_bytes += consumed;
            } else {
                store_replica_commit(rs, in, buf, consumed);
            }
            if (rc == OB_AGAIN) {
                rs->need = store_resp_need(&rs->parser);
                return OB_OK;
            }
            if (store_args_grow(&rs->args, &rs->parser, rs->parser.argv_want)
                != OB_OK)
            {
                return OB_ERR;
            }
            continue;
        }
        rs->need = 0;
        if (rc == OB_PROTO_ERR) {
            ob_log_warning(&st->cy->log, "Protocol error from MASTER: %s",
                           req.err);
            return OB_ERR;
        }
        if (store_args_decode(&rs->args, &rs->parser, buf + rs->txn_bytes,
                              &req) != OB_OK)
        {
            return OB_ERR;
        }
        store_replica_apply(rs, rs->args.argv, req.argc);
        if (rs->link != link) {
            return OB_OK;               /* the command ended the link */
        }
        if (rs->master->ext->postponed) {
            /* CLIENT PAUSE holds the master's writes too (Redis blocks
             * its master client): the command stays in the input, which
             * is handed to us again when the cron resumes the link. */
            rs->master->ext->postponed = 0;
            rs->stream_paused = 1;
            ob_conn_pause_read(conn, 1);
            return OB_OK;
        }
        st->total_net_input += consumed;
        rs->txn_bytes += consumed;
        if (!(rs->master->flags & STORE_CLIENT_MULTI)) {
            store_replica_commit(rs, in, buf, rs->txn_bytes);
            rs->txn_bytes = 0;
        }
        handled++;
    }
}


/*
 * Every tick (100 ms): connects when there is no link (once a second),
 * enforces repl-timeout, and sends REPLCONF ACK once a second.
 */
void
store_replica_cron(store_t *st)
{
    store_replica_t  *rs = st->replica;
    int64_t           now = st->now_ms;
    int64_t           timeout = st->repl_timeout * 1000;

    if (rs == NULL || rs->state == STORE_REPL_NONE) {
        return;
    }
    switch (rs->state) {
    case STORE_REPL_CONNECT:
        if (now - rs->connect_ms >= 1000) {
            ob_log_notice(&st->cy->log, "Connecting to MASTER %s:%d",
                          rs->host, rs->port);
            store_replica_connect(rs);
        }
        return;
    case STORE_REPL_TRANSFER:
        if (now - rs->last_io_ms > timeout) {
            store_replica_drop_link(rs, "Timeout receiving bulk data from "
                                    "MASTER... If the problem persists try "
                                    "to set the 'repl-timeout' parameter "
                                    "in redis.conf to a larger value.");
        }
        return;
    case STORE_REPL_CONNECTED:
        if (rs->stream_paused) {
            /* Try the postponed command again (it pauses anew while
             * CLIENT PAUSE lasts); a paused link is not a silent one. */
            rs->stream_paused = 0;
            rs->last_io_ms = now;
            ob_conn_pause_read(rs->link->conn, 0);
            return;
        }
        if (now - rs->last_io_ms > timeout) {
            store_replica_drop_link(rs, "MASTER timeout: no data nor PING "
                                    "received...");
            return;
        }
        if (now - rs->last_ack_ms >= 1000) {
            rs->last_ack_ms = now;
            store_replica_send_ack(rs, rs->offset);
        }
        return;
    default:
        if (now - rs->handshake_ms > timeout) {
            store_replica_drop_link(rs, "Timeout connecting to the "
                                    "MASTER...");
        }
        return;
    }
}


/*
 * CLIENT KILL TYPE MASTER: drops the link to the master (which is no
 * client of ours here) as Redis frees its master client; the link comes
 * back at the next second with PSYNC.  Returns 1 when there was a link.
 */
int
store_replica_kill_master_link(store_t *st)
{
    store_replica_t *rs = st->replica;

    if (rs == NULL || rs->link == NULL || rs->state != STORE_REPL_CONNECTED) {
        return 0;
    }
    store_replica_drop_link(rs, NULL);
    return 1;
}


void
store_replica_stop(store_t *st)
{
    store_replica_t *rs = st->replica;

    if (rs == NULL) {
        return;
    }
    /* Shutting down: no reconnect.  The state stays a replica's. */
    store_replica_drop_link(rs, NULL);
    rs->connect_ms = INT64_MAX / 2;
}


void
store_replica_fini(store_t *st)
{
    store_replica_t *rs = st->replica;

    if (rs == NULL) {
        return;
    }
    if (rs->link != NULL) {
        rs->link->rs = NULL;
        if (!rs->link->in_conn) {
            free(rs->link);
        }
        rs->link = NULL;
    }
    store_replica_transfer_abort(rs);
    store_client_fake_free(rs->master);
    free(rs->host);
    store_args_free(&rs->args);
    free(rs);
    st->replica = NULL;
}


void
store_replica_info(store_t *st, store_text_t *t)
{
    store_replica_t  *rs = st->replica;
    int64_t           now_s = st->now_ms / 1000;
    long long         off, read_off;

    if (rs == NULL || rs->state == STORE_REPL_NONE) {
        return;
    }
    /* Redis shows 1 when it holds no history at all (a fresh start). */
    off = rs->offset >= 0 ? rs->offset : 1;
    read_off = rs->read_offset >= 0 ? rs->read_offset : 1;
    store_text_add(t, "master_host:%s\r\n"
                   "master_port:%d\r\n"
                   "master_link_status:%s\r\n"
                   "master_last_io_seconds_ago:%d\r\n"
                   "master_sync_in_progress:%d\r\n"
                   "slave_read_repl_offset:%lld\r\n"
                   "slave_repl_offset:%lld\r\n",
                   rs->host, rs->port,
                   rs->state == STORE_REPL_CONNECTED ? "up" : "down",
                   rs->state == STORE_REPL_CONNECTED
                   ? (int) (now_s - rs->last_io_ms / 1000) : -1,
                   rs->state == STORE_REPL_TRANSFER,
                   read_off, off);
    if (rs->state == STORE_REPL_TRANSFER) {
        /* Redis's figures as they are: the size is -1 before the
         * "$" line and 0 for an EOF-marked payload (so "left" goes
         * negative). */
        long long size = rs->transfer_size;
        double    perc = 0;

        if (size != 0) {
            perc = (double) rs->transfer_read / (double) size * 100;
        }
        store_text_add(t, "master_sync_total_bytes:%lld\r\n"
                       "master_sync_read_bytes:%lld\r\n"
                       "master_sync_left_bytes:%lld\r\n"
                       "master_sync_perc:%.2f\r\n"
                       "master_sync_last_io_seconds_ago:%d\r\n",
                       size, rs->transfer_read, size - rs->transfer_read,
                       perc, (int) (now_s - rs->last_io_ms / 1000));
    }
    if (rs->state != STORE_REPL_CONNECTED) {
        store_text_add(t, "master_link_down_since_seconds:%lld\r\n",
                       rs->down_since_ms != 0
                       ? (long long) (now_s - rs->down_since_ms / 1000)
                       : -1LL);
    }
    store_text_add(t, "slave_priority:100\r\n"
                   "slave_read_only:%d\r\n"
                   "replica_announced:1\r\n", st->replica_read_only ? 1 : 0);
}


/* ---- REPLICAOF / SLAVEOF --------------------------------------------------- */

static void
store_cmd_replicaof(store_client_t *c)
{
    store_t          *st = c->st;
    store_replica_t  *rs = st->replica;
    long long         port;
    char              host[256];

    if (store_arg_is(&c->argv[1], "no") && store_arg_is(&c->argv[2], "one")) {
        if (store_replica_is_replica(st)) {
            store_replica_unset_master(rs);
            ob_log_notice(&st->cy->log, "MASTER MODE enabled (user request "
                          "from '%s')", store_client_peer(c));
        }
        store_add_ok(c);
        return;
    }
    if (c->flags & STORE_CLIENT_REPLICA) {
        store_add_err(c, "ERR Command is not valid when client is a "
                      "replica.");
        return;
    }
    if (store_get_range_ll_or_reply(c, &c->argv[2], 0, 65535, &port,
                                    "ERR Invalid master port") != OB_OK)
    {
        return;
    }
    if (c->argv[1].len >= sizeof(host)) {
        store_add_err(c, "ERR Invalid master host");
        return;
    }
    memcpy(host, c->argv[1].data, c->argv[1].len);
    host[c->argv[1].len] = '\0';
    if (store_replica_is_replica(st) && strcasecmp(rs->host, host) == 0
        && rs->port == (int) port)
    {
        ob_log_notice(&st->cy->log, "REPLICAOF would result into "
                      "synchronization with the master we are already "
                      "connected with. No operation performed.");
        store_reply_simple(&c->r, "OK Already connected to specified master",
                           sizeof("OK Already connected to specified master")
                           - 1);
        return;
    }
    if (store_replica_set_master(rs, host, (int) port, 1) != OB_OK) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    ob_log_notice(&st->cy->log, "REPLICAOF %s:%d enabled (user request from "
                  "'%s')", host, (int) port, store_client_peer(c));
    store_add_ok(c);
}


/* Redis 7.0.15's COMMAND INFO: admin noscript stale no_async_loading,
 * @admin @slow @dangerous. */
const store_cmd_t store_cmds_replica[] = {
    { .base = { .name = "replicaof", .arity_min = 3, .arity_max = 3,
                .flags = OB_CMD_ADMIN | STORE_CMD_NOSCRIPT
                         | STORE_CMD_STALE | STORE_CMD_NO_ASYNC_LOADING },
      .handler = store_cmd_replicaof, .acl = "@admin @slow @dangerous" },
    { .base = { .name = "slaveof", .arity_min = 3, .arity_max = 3,
                .flags = OB_CMD_ADMIN | STORE_CMD_NOSCRIPT
                         | STORE_CMD_STALE | STORE_CMD_NO_ASYNC_LOADING },
      .handler = store_cmd_replicaof, .acl = "@admin @slow @dangerous" },
    { .base = { .name = NULL } }
};
