/*
 * store_repl_sync.c: how a client becomes a replica (Redis's
 * syncCommand, masterTryPartialResynchronization, the RDB transfer):
 * REPLCONF before it, PSYNC/SYNC, the partial resync from the backlog,
 * and the full resync: the forked child that writes the RDB (with the
 * AUX fields repl-id, repl-offset, repl-stream-db) to a temporary file
 * in `dir`, then the file sent as $<len> + bytes in chunks while the
 * connection drains, then the stream buffered meanwhile.  See
 * store_repl.c for the states.
 */
#include "store_repl_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "ob_log.h"


/* ---- full resync ---------------------------------------------------------- */

/* In the child: the RDB, with the replication fields, to the temp file. */
static int
store_repl_child_run(store_t *st, void *arg)
{
    store_repl_t           *r = st->repl;
    store_rdb_save_opts_t   o;
    store_rdb_stats_t       stats;
    ob_err_t                err;
    int                     fd;

    (void) arg;
    store_save_rdb_opts(st, &o);
    o.repl_id = r->replid;
    o.repl_offset = r->snap_offset;
    o.repl_stream_db = r->snap_db;
    fd = open(r->rdb_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return 1;
    }
    memset(&err, 0, sizeof(err));
    if (store_rdb_save_fd(st->dbs, fd, &o, &stats, &err) != OB_OK) {
        close(fd);
        unlink(r->rdb_path);
        return 1;
    }
    if (close(fd) != 0) {
        unlink(r->rdb_path);
        return 1;
    }
    return 0;
}


/* The replica will get the RDB of the snapshot at `offset`: it is told
 * so (+FULLRESYNC, unless it came with the old SYNC), and the stream's
 * next command gets a SELECT. */
static void
store_repl_setup_full(store_t *st, store_repl_link_t *l, long long offset)
{
    store_repl_t  *r = st->repl;
    char           line[128];
    int            n;

    l->psync_offset = offset;
    l->state = STORE_REPL_WAIT_BGSAVE_END;
    r->stream_db = -1;
    if (!l->pre_psync) {
        n = snprintf(line, sizeof(line), "+FULLRESYNC %s %lld\r\n",
                     r->replid, offset);
        if (store_repl_link_write(l, line, (size_t) n) != OB_OK) {
            l->closing = 1;
            return;
        }
        ob_conn_flush(l->c->conn);
    }
}


static void
store_repl_child_done(store_t *st, int ok, size_t cow, void *arg)
{
    store_repl_t  *r = st->repl;
    size_t         i;
    struct stat    sb;
    char           head[32];
    int            n, fd;

    (void) cow;
    (void) arg;
    if (r == NULL) {
        return;
    }
    r->child_active = 0;
    if (!ok) {
        ob_log_warning(&st->cy->log, "SYNC failed. BGSAVE child returned "
                       "an error");
    }
    for (i = 0; i < r->nlinks; i++) {
        store_repl_link_t *l = r->links[i];

        if (l->state != STORE_REPL_WAIT_BGSAVE_END || l->closing) {
            continue;
        }
        if (!ok) {
            store_repl_link_drop(st, l, "the RDB for its sync failed");
            continue;
        }
        fd = open(r->rdb_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &sb) != 0) {
            ob_log_warning(&st->cy->log, "SYNC failed. Can't open/stat DB "
                           "after BGSAVE: %s", strerror(errno));
            if (fd >= 0) {
                close(fd);
            }
            store_repl_link_drop(st, l, "its RDB could not be opened");
            continue;
        }
        l->rdb_fd = fd;
        l->rdb_off = 0;
        l->rdb_size = sb.st_size;
        l->state = STORE_REPL_SEND_BULK;
        n = snprintf(head, sizeof(head), "$%lld\r\n", (long long) sb.st_size);
        if (store_repl_link_write(l, head, (size_t) n) != OB_OK) {
            l->closing = 1;
            continue;
        }
        ob_conn_set_drain_mark(l->c->conn, STORE_REPL_BULK_LOW);
        store_repl_pump(st, l);
    }
    /* The replicas hold the file open; its name can go now. */
    unlink(r->rdb_path);
    r->rdb_path[0] = '\0';
}


/*
 * Forks the child that writes the RDB for every replica waiting for one
 * (Redis's startBgsaveForReplication).  If another child runs, the cron
 * tries again once it is gone; if the fork fails, the waiting replicas
 * get Redis's error and are closed.
 */
void
store_repl_start_bgsave(store_t *st)
{
    store_repl_t  *r = st->repl;
    ob_err_t       err;
    size_t         i;
    int            rc, waiting = 0;

    for (i = 0; i < r->nlinks; i++) {
        if (r->links[i]->state == STORE_REPL_WAIT_BGSAVE_START
            && !r->links[i]->closing)
        {
            waiting++;
        }
    }
    if (waiting == 0 || r->child_active
        || store_child_running(st) != STORE_CHILD_NONE)
    {
        return;
    }
    snprintf(r->rdb_path, sizeof(r->rdb_path), "%s/temp-repl-%d-%llu.rdb",
             st->dir != NULL ? st->dir : ".", (int) getpid(), ++r->rdb_seq);
    r->snap_offset = r->master_repl_offset;
    r->snap_db = store_replica_is_replica(st) ? r->raw_db
                 : r->stream_db >= 0 ? r->stream_db : 0;
    memset(&err, 0, sizeof(err));
    ob_log_notice(&st->cy->log, "Starting BGSAVE for SYNC with target: disk");
    rc = store_child_start(st, STORE_CHILD_RDB, store_repl_child_run,
                           store_repl_child_done, NULL, &err);
    if (rc == OB_BUSY) {
        return;
    }
    if (rc != OB_OK) {
        ob_log_warning(&st->cy->log, "BGSAVE for replication failed: %s",
                       err.msg);
        for (i = 0; i < r->nlinks; i++) {
            store_repl_link_t *l = r->links[i];

            if (l->state != STORE_REPL_WAIT_BGSAVE_START || l->closing) {
                continue;
            }
            (void) store_repl_link_write(l, "-ERR BGSAVE failed, "
                "replication can't continue\r\n", 46);
            l->closing = 1;
            ob_conn_close(l->c->conn, 1);
        }
        r->rdb_path[0] = '\0';
        return;
    }
    r->child_active = 1;
    for (i = 0; i < r->nlinks; i++) {
        store_repl_link_t *l = r->links[i];

        if (l->state == STORE_REPL_WAIT_BGSAVE_START && !l->closing) {
            store_repl_setup_full(st, l, r->snap_offset);
        }
    }
}


/* The RDB is queued whole: the replica gets what was buffered meanwhile
 * and the stream from now on (Redis's replicaPutOnline). */
static void
store_repl_put_online(store_t *st, store_repl_link_t *l)
{
    char name[STORE_REPL_IP_MAX + 32];

    close(l->rdb_fd);
    l->rdb_fd = -1;
    l->state = STORE_REPL_ONLINE;
    l->ack_time = store_repl_now_s();
    ob_conn_set_drain_mark(l->c->conn, 0);
    if (evbuffer_add_buffer(ob_conn_output(l->c->conn), l->pending) != 0) {
        store_repl_link_drop(st, l, "out of memory");
        return;
    }
    ob_log_notice(&st->cy->log, "Synchronization with replica %s succeeded",
                  store_repl_name(l, name, sizeof(name)));
}


/* SEND_BULK: queues more of the file while the connection's output is
 * low; the socket's drain (on_drain) or the cron calls again. */
void
store_repl_pump(store_t *st, store_repl_link_t *l)
{
    store_repl_t  *r = st->repl;
    ob_conn_t     *conn = l->c->conn;
    size_t         want, sent = 0;
    ssize_t        n;

    if (l->state != STORE_REPL_SEND_BULK || l->closing || conn == NULL) {
        return;
    }
    while (l->rdb_off < l->rdb_size && sent < STORE_REPL_BULK_TURN
           && ob_conn_output_pending(conn) < STORE_REPL_BULK_HIGH)
    {
        want = STORE_REPL_CHUNK;
        if ((off_t) want > l->rdb_size - l->rdb_off) {
            want = (size_t) (l->rdb_size - l->rdb_off);
        }
        n = pread(l->rdb_fd, r->chunk, want, l->rdb_off);
        if (n <= 0) {
            ob_log_warning(&st->cy->log, "Read error sending DB to "
                           "replica: %s", n < 0 ? strerror(errno)
                                                : "unexpected end of file");
            store_repl_link_drop(st, l, "its RDB could not be read");
            return;
        }
        if (store_repl_link_write(l, r->chunk, (size_t) n) != OB_OK) {
            l->closing = 1;
            return;
        }
        l->rdb_off += n;
        sent += (size_t) n;
    }
    if (l->rdb_off >= l->rdb_size) {
        store_repl_put_online(st, l);
    }
    if (!l->closing) {
        ob_conn_flush(conn);
    }
}


/* proto->on_drain of the store's connections: only replicas sending
 * their RDB set a drain mark. */
void
store_repl_on_drain(void *session, ob_conn_t *conn)
{
    store_client_t     *c = session;
    store_repl_link_t  *l;

    (void) conn;
    if (c == NULL || c->st->repl == NULL) {
        return;
    }
    l = store_repl_link_find(c->st->repl, c);
    if (l != NULL) {
        store_repl_pump(c->st, l);
    }
}


/* ---- REPLCONF, PSYNC, SYNC ------------------------------------------------ */

void
store_repl_cmd_replconf(store_client_t *c)
{
    store_t            *st = c->st;
    store_repl_t       *r = st->repl;
    store_repl_link_t  *l;
    size_t              j;
    long long           v;

    if (c->argc % 2 == 0) {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    for (j = 1; j < c->argc; j += 2) {
        const ob_str_t *opt = &c->argv[j], *val = &c->argv[j + 1];

        if (store_arg_is(opt, "ack")) {
            /* A replica's offset: never answered. */
            if (!(c->flags & STORE_CLIENT_REPLICA)
                || store_parse_ll(val, &v) != OB_OK)
            {
                return;
            }
            l = store_repl_link_find(r, c);
            if (l == NULL) {
                return;
            }
            if (v > l->ack_off) {
                l->ack_off = v;
            }
            l->ack_time = store_repl_now_s();
            if (r->nwaits > 0) {
                store_repl_serve_waits(st);
            }
            return;
        }
        if (store_arg_is(opt, "getack")) {
            /* For a replica's master link (store_replica.c answers it
             * there); from anyone else, nothing. */
            return;
        }
        if (store_arg_is(opt, "listening-port")) {
            if (store_get_ll_or_reply(c, val, &v, NULL) != OB_OK) {
                return;
            }
            l = store_repl_link_get(st, c);
            if (l == NULL) {
                store_add_err(c, STORE_ERR_OOM);
                return;
            }
            l->port = v;
        } else if (store_arg_is(opt, "ip-address")) {
            if (val->len >= STORE_REPL_IP_MAX) {
                store_add_errf(c, "ERR REPLCONF ip-address provided by "
                               "replica instance is too long: %zu bytes",
                               val->len);
                return;
            }
            l = store_repl_link_get(st, c);
            if (l == NULL) {
                store_add_err(c, STORE_ERR_OOM);
                return;
            }
            memcpy(l->ip, val->data, val->len);
            l->ip[val->len] = '\0';
        } else if (store_arg_is(opt, "capa")) {
            l = store_repl_link_get(st, c);
            if (l == NULL) {
                store_add_err(c, STORE_ERR_OOM);
                return;
            }
            if (store_arg_is(val, "eof")) {
                l->capa |= STORE_REPL_CAPA_EOF;
            } else if (store_arg_is(val, "psync2")) {
                l->capa |= STORE_REPL_CAPA_PSYNC2;
            }
        } else if (store_arg_is(opt, "rdb-only")) {
            if (store_get_range_ll_or_reply(c, val, 0, 1, &v, NULL)
                != OB_OK)
            {
                return;
            }
            l = store_repl_link_get(st, c);
            if (l == NULL) {
                store_add_err(c, STORE_ERR_OOM);
                return;
            }
            l->rdb_only = (int) v;
        } else {
            store_add_errf(c, "ERR Unrecognized REPLCONF option: %.*s",
                           (int) opt->len, (const char *) opt->data);
            return;
        }
    }
    store_add_ok(c);
}


/*
 * PSYNC id offset: continues from the backlog when the history matches
 * (Redis's masterTryPartialResynchronization).  OB_OK: the client is an
 * online replica and has its +CONTINUE and the missing bytes.
 */
static int
store_repl_try_partial(store_t *st, store_client_t *c, const ob_str_t *id,
                       long long offset)
{
    store_repl_t       *r = st->repl;
    store_repl_link_t  *l;
    char                line[80], name[STORE_REPL_IP_MAX + 32], want[48];
    long long           sent;
    int                 n;

    snprintf(want, sizeof(want), "%.*s", (int) (id->len < 47 ? id->len : 47),
             (const char *) id->data);
    if (strcasecmp(want, r->replid) != 0
        && (strcasecmp(want, r->replid2) != 0
            || offset > r->second_repl_offset))
    {
        if (want[0] != '?') {
            if (strcasecmp(want, r->replid2) != 0) {
                ob_log_notice(&st->cy->log, "Partial resynchronization not "
                              "accepted: Replication ID mismatch (Replica "
                              "asked for '%s', my replication IDs are '%s' "
                              "and '%s')", want, r->replid, r->replid2);
            } else {
                ob_log_notice(&st->cy->log, "Partial resynchronization not "
                              "accepted: Requested offset for second ID was "
                              "%lld, but I can reply up to %lld", offset,
                              r->second_repl_offset);
            }
        } else {
            ob_log_notice(&st->cy->log, "Full resync requested by replica "
                          "%s", store_client_peer(c));
        }
        return OB_ERR;
    }
    if (!store_backlog_has(r->backlog, offset)) {
        ob_log_notice(&st->cy->log, "Unable to partial resync with replica "
                      "%s for lack of backlog (Replica request was: %lld).",
                      store_client_peer(c), offset);
        return OB_ERR;
    }
    l = store_repl_link_get(st, c);
    if (l == NULL) {
        return OB_ERR;
    }
    c->flags |= STORE_CLIENT_REPLICA | STORE_CLIENT_REPLY_OFF;
    l->state = STORE_REPL_ONLINE;
    l->ack_time = store_repl_now_s();
    r->nreplicas++;
    if (l->capa & STORE_REPL_CAPA_PSYNC2) {
        n = snprintf(line, sizeof(line), "+CONTINUE %s\r\n", r->replid);
    } else {
        n = snprintf(line, sizeof(line), "+CONTINUE\r\n");
    }
    if (store_repl_link_write(l, line, (size_t) n) != OB_OK) {
        l->closing = 1;
        return OB_OK;
    }
    sent = store_backlog_copy(r->backlog, offset, store_repl_link_write_cb,
                              l);
    if (sent < 0) {
        l->closing = 1;
        return OB_OK;
    }
    ob_log_notice(&st->cy->log, "Partial resynchronization request from %s "
                  "accepted. Sending %lld bytes of backlog starting from "
                  "offset %lld.", store_repl_name(l, name, sizeof(name)),
                  sent, offset);
    store_repl_check_limits(st, l);
    return OB_OK;
}


/* PSYNC and SYNC (Redis's syncCommand). */
void
store_repl_cmd_sync(store_client_t *c)
{
    store_t            *st = c->st;
    store_repl_t       *r = st->repl;
    store_repl_link_t  *l, *other = NULL;
    long long           offset;
    int                 psync = store_arg_is(&c->argv[0], "psync");
    char                status[32];
    size_t              i;

    if (c->flags & STORE_CLIENT_REPLICA) {
        return;                     /* already one: ignored */
    }
    if (store_replica_is_replica(st)
        && !(store_repl_replica_field(st, "master_link_status", status,
                                      sizeof(status))
             && strcmp(status, "up") == 0))
    {
        store_add_err(c, "NOMASTERLINK Can't SYNC while not connected with "
                      "my master");
        return;
    }
    if (c->conn == NULL) {
        return;
    }
    ob_log_notice(&st->cy->log, "Replica %s asks for synchronization",
                  store_client_peer(c));
    if (psync) {
        if (store_get_ll_or_reply(c, &c->argv[2], &offset, NULL) != OB_OK) {
            ob_log_warning(&st->cy->log, "Replica %s asks for "
                           "synchronization but with a wrong offset",
                           store_client_peer(c));
            return;
        }
        if (store_repl_try_partial(st, c, &c->argv[1], offset) == OB_OK) {
            r->sync_partial_ok++;
            return;
        }
        if (c->argv[1].len == 0 || c->argv[1].data[0] != '?') {
            r->sync_partial_err++;
        }
    }
    l = store_repl_link_get(st, c);
    if (l == NULL || (l->pending = evbuffer_new()) == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    r->sync_full++;
    l->pre_psync = !psync;
    l->state = STORE_REPL_WAIT_BGSAVE_START;
    c->flags |= STORE_CLIENT_REPLICA | STORE_CLIENT_REPLY_OFF;
    r->nreplicas++;

    if (r->nreplicas == 1 && r->backlog == NULL) {
        /* A new history begins (Redis: changeReplicationId). */
        store_repl_random_id(st, r->replid);
        store_repl_clear_id2(r);
        if (store_repl_backlog_create(st) != OB_OK) {
            ob_log_warning(&st->cy->log, "Can't allocate the replication "
                           "backlog (%lld bytes)", st->repl_backlog_size);
        } else {
            ob_log_notice(&st->cy->log, "Replication backlog created, my new "
                          "replication IDs are '%s' and '%s'", r->replid,
                          r->replid2);
        }
    }

    if (r->child_active) {
        /* Our child is writing an RDB for other replicas: join it, with
         * the stream they have buffered since. */
        for (i = 0; i < r->nlinks; i++) {
            if (r->links[i] != l && !r->links[i]->closing
                && r->links[i]->state == STORE_REPL_WAIT_BGSAVE_END)
            {
                other = r->links[i];
                break;
            }
        }
        if (other != NULL) {
            struct evbuffer_iovec  v[64];
            struct evbuffer_ptr    pos;
            int                    k, nv;

            evbuffer_ptr_set(other->pending, &pos, 0, EVBUFFER_PTR_SET);
            for (;;) {
                nv = evbuffer_peek(other->pending, -1, &pos, v, 64);
                if (nv <= 0) {
                    break;
                }
                for (k = 0; k < nv && k < 64; k++) {
                    if (evbuffer_add(l->pending, v[k].iov_base,
                                     v[k].iov_len) != 0)
                    {
                        store_repl_link_drop(st, l, "out of memory");
                        return;
                    }
                    evbuffer_ptr_set(other->pending, &pos, v[k].iov_len,
                                     EVBUFFER_PTR_ADD);
                }
                if (nv <= 64) {
                    break;
                }
            }
            store_repl_setup_full(st, l, other->psync_offset);
            ob_log_notice(&st->cy->log, "Waiting for end of BGSAVE for "
                          "SYNC");
        } else {
            ob_log_notice(&st->cy->log, "Can't attach the replica to the "
                          "current BGSAVE. Waiting for next BGSAVE for SYNC");
        }
        return;
    }
    if (store_child_running(st) != STORE_CHILD_NONE) {
        ob_log_notice(&st->cy->log, "No BGSAVE in progress, but another BG "
                      "operation is active. BGSAVE for replication delayed");
        return;
    }
    store_repl_start_bgsave(st);
}