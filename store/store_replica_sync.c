/*
 * store_replica_sync.c: a replica's link to its master, up to the point
 * where the master's command stream flows (Redis 7.0's syncWithMaster and
 * readSyncBulkPayload, replication.c).
 *
 * The handshake is Redis's, byte for byte (the reference's 7.1): PING;
 * then AUTH (when masterauth is set), REPLCONF listening-port and
 * REPLCONF capa eof capa psync2 in one write; then, once their replies
 * are in, PSYNC <replid> <offset+1> (or "PSYNC ? -1" with no history).
 * Every reply is one line, read in order.
 *
 * +FULLRESYNC <replid> <offset> is followed by the RDB: "$<len>\r\n" and
 * len bytes (disk-based), or "$EOF:<40 bytes>\r\n", the bytes, and the
 * same 40 bytes (diskless); newlines before it are keepalives.  The bytes
 * go to a temporary file in dir as they arrive, one write(2) per read, so
 * a big RDB never sits in memory; once complete the file is synced,
 * renamed over dbfilename (Redis does the same, so a restart finds the
 * master's data) and loaded in place of the dataset.  To find the EOF
 * mark, which may straddle two reads, the last 39 bytes are left in the
 * input buffer until more arrive.
 *
 * Loading blocks the loop, as it does in Redis (repl-diskless-load
 * disabled, the default).
 */
#include "store_replica_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

/* A handshake reply line longer than this is not from a Redis master. */
#define STORE_REPLICA_LINE_MAX  4096


static void *store_replica_session_new(ob_conn_t *c, void *ctx);
static int   store_replica_on_read(void *session, ob_conn_t *c,
                                   struct evbuffer *in);
static void  store_replica_on_close(void *session, ob_conn_t *c);
static void  store_replica_on_connect(void *session, ob_conn_t *c,
                                      int error);

/* The link's wire protocol: its callbacks only (no listener uses it). */
static const ob_proto_t store_replica_proto = {
    .name = "replication",
    .session_new = store_replica_session_new,
    .on_read = store_replica_on_read,
    .on_close = store_replica_on_close,
    .on_connect = store_replica_on_connect
};


/* Appends one command as a RESP multibulk (Redis's sendCommand).  An
 * append that fails has already closed the link (ob_conn_add), and its
 * on_close does the rest, so the results need no check here. */
static void
store_replica_send(ob_conn_t *c, const char *const *argv, size_t argc)
{
    char    head[32];
    size_t  i;
    int     n;

    n = snprintf(head, sizeof(head), "*%zu\r\n", argc);
    ob_conn_add(c, head, (size_t) n);
    for (i = 0; i < argc; i++) {
        n = snprintf(head, sizeof(head), "$%zu\r\n", strlen(argv[i]));
        ob_conn_add(c, head, (size_t) n);
        ob_conn_add(c, argv[i], strlen(argv[i]));
        ob_conn_add(c, "\r\n", 2);
    }
}


void
store_replica_send_ack(store_replica_t *rs, long long offset)
{
    char         num[24];
    const char  *argv[3] = { "REPLCONF", "ACK", num };

    if (rs->link == NULL || rs->link->conn == NULL) {
        return;
    }
    snprintf(num, sizeof(num), "%lld", offset);
    store_replica_send(rs->link->conn, argv, 3);
    ob_conn_flush(rs->link->conn);
}


void
store_replica_transfer_abort(store_replica_t *rs)
{
    if (rs->tmpfd >= 0) {
        close(rs->tmpfd);
        rs->tmpfd = -1;
    }
    if (rs->tmppath != NULL) {
        unlink(rs->tmppath);
        free(rs->tmppath);
        rs->tmppath = NULL;
    }
    rs->transfer_size = -1;
    rs->transfer_read = 0;
}


/*
 * Redis's replicationCacheMaster: what was read of the stream but not
 * applied is dropped (PSYNC asks for it again from offset + 1), and so
 * is a transaction the master had begun.
 */
static void
store_replica_forget_partial(store_replica_t *rs)
{
    store_resp_parser_reset(&rs->parser);
    rs->need = 0;
    rs->txn_bytes = 0;
    if (rs->read_offset > rs->offset) {
        rs->read_offset = rs->offset;
    }
    if (rs->master != NULL && (rs->master->flags & STORE_CLIENT_MULTI)) {
        store_multi_discard(rs->master);
    }
}


void
store_replica_drop_link(store_replica_t *rs, const char *why)
{
    store_t               *st = rs->st;
    store_replica_link_t  *link = rs->link;

    if (link != NULL) {
        if (why != NULL) {
            ob_log_warning(&st->cy->log, "%s", why);
        }
        link->rs = NULL;
        rs->link = NULL;
        if (link->conn != NULL) {
            ob_conn_close(link->conn, 0);
        }
        if (!link->in_conn) {
            free(link);
        }
    }
    store_replica_transfer_abort(rs);
    rs->stream_paused = 0;
    if (rs->state == STORE_REPL_CONNECTED) {
        rs->down_since_ms = st->now_ms;
        ob_log_notice(&st->cy->log, "Connection with master lost.");
        store_replica_forget_partial(rs);
    }
    if (rs->state != STORE_REPL_NONE) {
        /* Retry in a second, as Redis's replicationCron. */
        rs->state = STORE_REPL_CONNECT;
        rs->connect_ms = st->now_ms;
    }
}


void
store_replica_connect(store_replica_t *rs)
{
    store_t               *st = rs->st;
    store_replica_link_t  *link;
    ob_conn_t             *c;
    ob_err_t               err;

    rs->connect_ms = st->now_ms;
    link = calloc(1, sizeof(*link));
    if (link == NULL) {
        return;
    }
    link->rs = rs;
    rs->link = link;
    rs->state = STORE_REPL_CONNECTING;
    rs->handshake_ms = st->now_ms;
    rs->last_io_ms = st->now_ms;
    c = ob_conn_connect(st->cy, &store_replica_proto, link, rs->host,
                        rs->port, (int) (st->repl_timeout * 1000), &err);
    if (c == NULL) {
        ob_log_warning(&st->cy->log, "Unable to connect to MASTER: %s",
                       err.msg);
        if (rs->link == link) {
            link->conn = NULL;      /* closing: on_close frees it */
            store_replica_drop_link(rs, NULL);
        }
        return;
    }
    ob_log_notice(&st->cy->log, "MASTER <-> REPLICA sync started");
}


static void *
store_replica_session_new(ob_conn_t *c, void *ctx)
{
    store_replica_link_t *link = ctx;

    link->conn = c;
    link->in_conn = 1;
    return link;
}


static void
store_replica_on_close(void *session, ob_conn_t *c)
{
    store_replica_link_t  *link = session;
    store_replica_t       *rs = link->rs;

    (void) c;
    if (rs != NULL && rs->link == link) {
        link->conn = NULL;
        link->in_conn = 0;
        store_replica_drop_link(rs, NULL);  /* frees link */
        return;
    }
    free(link);
}


static void
store_replica_on_connect(void *session, ob_conn_t *c, int error)
{
    store_replica_link_t  *link = session;
    store_replica_t       *rs = link->rs;
    static const char     *ping[1] = { "PING" };

    if (rs == NULL) {
        return;
    }
    if (error != 0) {
        ob_log_warning(&rs->st->cy->log, "Error condition on socket for "
                       "SYNC: %s", strerror(error));
        return;                         /* on_close follows */
    }
    ob_log_notice(&rs->st->cy->log, "Non blocking connect for SYNC fired "
                  "the event.");
    rs->last_io_ms = rs->st->now_ms;
    rs->state = STORE_REPL_RECV_PONG;
    store_replica_send(c, ping, 1);
}


/* After the PING's reply: AUTH, then the two REPLCONFs, in one write. */
static void
store_replica_send_handshake(store_replica_t *rs, ob_conn_t *c)
{
    store_t     *st = rs->st;
    char         port[16];
    const char  *argv[5];

    if (st->masterauth != NULL) {
        argv[0] = "AUTH";
        if (st->masteruser != NULL) {
            argv[1] = st->masteruser;
            argv[2] = st->masterauth;
            store_replica_send(c, argv, 3);
        } else {
            argv[1] = st->masterauth;
            store_replica_send(c, argv, 2);
        }
    }
    snprintf(port, sizeof(port), "%d", st->port);
    argv[0] = "REPLCONF";
    argv[1] = "listening-port";
    argv[2] = port;
    store_replica_send(c, argv, 3);
    argv[1] = "capa";
    argv[2] = "eof";
    argv[3] = "capa";
    argv[4] = "psync2";
    store_replica_send(c, argv, 5);
    rs->state = st->masterauth != NULL ? STORE_REPL_RECV_AUTH
                                       : STORE_REPL_RECV_PORT;
}


static void
store_replica_send_psync(store_replica_t *rs, ob_conn_t *c)
{
    char         off[24];
    const char  *argv[3] = { "PSYNC", "?", "-1" };

    if (rs->replid[0] != '\0') {
        snprintf(off, sizeof(off), "%lld", rs->offset + 1);
        argv[1] = rs->replid;
        argv[2] = off;
        ob_log_notice(&rs->st->cy->log, "Trying a partial resynchronization "
                      "(request %s:%s).", rs->replid, off);
    } else {
        ob_log_notice(&rs->st->cy->log, "Partial resynchronization not "
                      "possible (no cached master)");
    }
    store_replica_send(c, argv, 3);
    rs->state = STORE_REPL_RECV_PSYNC;
}


/* A 40-character replication id at s (what follows is a space or the
 * end). */
static int
store_replica_id_ok(const char *s)
{
    size_t n = strcspn(s, " ");

    return n == 40;
}


int
store_replica_parse_fullresync(const char *line, char *replid /* [41] */,
                               long long *offset)
{
    const char  *p;
    char        *end;

    if (strncmp(line, "+FULLRESYNC", 11) != 0) {
        return OB_ERR;
    }
    p = line + 11;
    while (*p == ' ') {
        p++;
    }
    if (!store_replica_id_ok(p) || p[40] != ' ') {
        return OB_ERR;
    }
    errno = 0;
    *offset = strtoll(p + 41, &end, 10);
    if (errno != 0 || end == p + 41 || *offset < 0) {
        return OB_ERR;
    }
    memcpy(replid, p, 40);
    replid[40] = '\0';
    return OB_OK;
}


/* +FULLRESYNC <replid> <offset>: OB_ERR on a malformed line. */
static int
store_replica_full_resync(store_replica_t *rs, const char *line)
{
    if (store_replica_parse_fullresync(line, rs->new_replid, &rs->new_offset)
        != OB_OK)
    {
        ob_log_warning(&rs->st->cy->log, "Master replied with wrong "
                       "+FULLRESYNC syntax.");
        return OB_ERR;
    }
    ob_log_notice(&rs->st->cy->log, "Full resync from master: %s:%lld",
                  rs->new_replid, rs->new_offset);
    rs->state = STORE_REPL_TRANSFER;
    rs->transfer_size = -1;
    rs->transfer_read = 0;
    rs->use_eof = 0;
    rs->last_io_ms = rs->st->now_ms;
    return OB_OK;
}


/* +CONTINUE [<new replid>]: the dataset and the stream's db stay. */
static int
store_replica_continue(store_replica_t *rs, const char *line)
{
    const char *p = line + 9;           /* "+CONTINUE" */

    while (*p == ' ') {
        p++;
    }
    ob_log_notice(&rs->st->cy->log, "Successful partial resynchronization "
                  "with master.");
    if (*p != '\0' && store_replica_id_ok(p) && strncmp(p, rs->replid, 40))
    {
        /* The master changed history (it was promoted): our own
         * replicas must follow, as Redis's disconnectSlaves() here. */
        ob_log_notice(&rs->st->cy->log, "Master replication ID changed "
                      "to %.40s", p);
        memcpy(rs->replid, p, 40);
        rs->replid[40] = '\0';
        store_repl_adopt_id(rs->st, rs->replid);
    }
    ob_log_notice(&rs->st->cy->log, "MASTER <-> REPLICA sync: Master "
                  "accepted a Partial Resynchronization.");
    store_replica_link_up(rs);
    return OB_OK;
}


/*
 * One handshake reply line (CRLF stripped).  OB_OK: go on; OB_ERR: drop
 * the link.
 */
static int
store_replica_reply(store_replica_t *rs, ob_conn_t *c, const char *line)
{
    store_t *st = rs->st;

    switch (rs->state) {
    case STORE_REPL_RECV_PONG:
        /* Redis accepts the errors a master protected by a password or
         * an ACL gives before AUTH: the AUTH that follows settles it. */
        if (line[0] == '-' && strncmp(line, "-NOAUTH", 7) != 0
            && strncmp(line, "-NOPERM", 7) != 0
            && strncmp(line, "-ERR operation not permitted", 28) != 0)
        {
            ob_log_warning(&st->cy->log, "Error reply to PING from master: "
                           "'%s'", line);
            return OB_ERR;
        }
        ob_log_notice(&st->cy->log, "Master replied to PING, replication "
                      "can continue...");
        store_replica_send_handshake(rs, c);
        return OB_OK;
    case STORE_REPL_RECV_AUTH:
        if (line[0] == '-') {
            ob_log_warning(&st->cy->log, "Unable to AUTH to MASTER: %s",
                           line);
            return OB_ERR;
        }
        rs->state = STORE_REPL_RECV_PORT;
        return OB_OK;
    case STORE_REPL_RECV_PORT:
        if (line[0] == '-') {
            ob_log_notice(&st->cy->log, "(Non critical) Master does not "
                          "understand REPLCONF listening-port: %s", line);
        }
        rs->state = STORE_REPL_RECV_CAPA;
        return OB_OK;
    case STORE_REPL_RECV_CAPA:
        if (line[0] == '-') {
            ob_log_notice(&st->cy->log, "(Non critical) Master does not "
                          "understand REPLCONF capa: %s", line);
        }
        store_replica_send_psync(rs, c);
        return OB_OK;
    case STORE_REPL_RECV_PSYNC:
        if (strncmp(line, "+FULLRESYNC", 11) == 0) {
            return store_replica_full_resync(rs, line);
        }
        if (strncmp(line, "+CONTINUE", 9) == 0) {
            return store_replica_continue(rs, line);
        }
        /* -NOMASTERLINK, -LOADING: try again later.  -ERR: an old master
         * that wants SYNC, which we do not speak. */
        ob_log_warning(&st->cy->log, "Unexpected reply to PSYNC from "
                       "master: %s", line);
        return OB_ERR;
    default:
        return OB_ERR;
    }
}


int
store_replica_parse_bulk_head(const char *line, int *use_eof,
                              char *mark /* [40] */, long long *size)
{
    char *end;

    if (line[0] != '$') {
        return OB_ERR;
    }
    /* Redis takes "$EOF:" and the next 40 bytes, whatever follows. */
    if (strncmp(line, "$EOF:", 5) == 0) {
        if (strlen(line) < 45) {
            return OB_ERR;
        }
        *use_eof = 1;
        memcpy(mark, line + 5, 40);
        *size = 0;
        return OB_OK;
    }
    errno = 0;
    *size = strtoll(line + 1, &end, 10);
    if (errno != 0 || end == line + 1 || *end != '\0' || *size < 0) {
        return OB_ERR;
    }
    *use_eof = 0;
    return OB_OK;
}


/* The "$<len>" or "$EOF:<mark>" line before the RDB. */
static int
store_replica_bulk_head(store_replica_t *rs, const char *line)
{
    store_t    *st = rs->st;
    size_t      n;
    char        path[4096];

    if (line[0] == '-') {
        ob_log_warning(&st->cy->log, "MASTER aborted replication with an "
                       "error: %s", line + 1);
        return OB_ERR;
    }
    if (line[0] != '$') {
        ob_log_warning(&st->cy->log, "Bad protocol from MASTER, the first "
                       "byte is not '$' (we received '%s'), are you sure "
                       "the host and port are right?", line);
        return OB_ERR;
    }
    if (store_replica_parse_bulk_head(line, &rs->use_eof, rs->eofmark,
                                      &rs->transfer_size) != OB_OK)
    {
        ob_log_warning(&st->cy->log, "Bad RDB length from MASTER: %s", line);
        return OB_ERR;
    }
    if (rs->use_eof) {
        ob_log_notice(&st->cy->log, "MASTER <-> REPLICA sync: receiving "
                      "streamed RDB from master with EOF to disk");
    } else {
        ob_log_notice(&st->cy->log, "MASTER <-> REPLICA sync: receiving "
                      "%lld bytes from master to disk", rs->transfer_size);
    }
    n = (size_t) snprintf(path, sizeof(path), "%s/temp-%ld.%ld.rdb",
                          st->dir, (long) time(NULL), (long) getpid());
    if (n >= sizeof(path)) {
        return OB_ERR;
    }
    rs->tmpfd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (rs->tmpfd < 0) {
        ob_log_warning(&st->cy->log, "Opening the temp file needed for "
                       "MASTER <-> REPLICA synchronization: %s",
                       strerror(errno));
        return OB_ERR;
    }
    rs->tmppath = strdup(path);
    if (rs->tmppath == NULL) {
        return OB_ERR;
    }
    rs->transfer_read = 0;
    return OB_OK;
}


/* Moves n bytes from the head of in to the temp file. */
static int
store_replica_spill(store_replica_t *rs, struct evbuffer *in, size_t n)
{
    int w;

    while (n > 0) {
        w = evbuffer_write_atmost(in, rs->tmpfd, (ev_ssize_t) n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            ob_log_warning(&rs->st->cy->log, "Write error or short write "
                           "writing to the DB dump file needed for MASTER "
                           "<-> REPLICA synchronization: %s",
                           strerror(errno));
            return OB_ERR;
        }
        n -= (size_t) w;
        rs->transfer_read += w;
    }
    return OB_OK;
}


/*
 * The whole RDB is in the temp file: make it dbfilename and load it in
 * place of the dataset.  OB_ERR: the link is dropped (a retry syncs
 * again).
 */
static int
store_replica_load(store_replica_t *rs)
{
    store_t                *st = rs->st;
    store_rdb_load_opts_t   o;
    store_rdb_load_info_t   info;
    ob_err_t                err;
    char                    path[4096];
    int                     fd = rs->tmpfd, i, dbid = 0;

    if (fsync(fd) != 0) {
        ob_log_warning(&st->cy->log, "Failed trying to sync the temp DB to "
                       "disk in MASTER <-> REPLICA synchronization: %s",
                       strerror(errno));
        return OB_ERR;
    }
    snprintf(path, sizeof(path), "%s/%s", st->dir, st->dbfilename);
    if (rename(rs->tmppath, path) != 0) {
        ob_log_warning(&st->cy->log, "Failed trying to rename the temp DB "
                       "into %s in MASTER <-> REPLICA synchronization: %s",
                       st->dbfilename, strerror(errno));
        return OB_ERR;
    }
    free(rs->tmppath);
    rs->tmppath = NULL;

    /* A new history: our own replicas must sync again from us. */
    store_repl_drop_replicas(st);
    ob_log_notice(&st->cy->log, "MASTER <-> REPLICA sync: Flushing old "
                  "data");
    for (i = 0; i < st->databases; i++) {
        store_watch_touch_db(rs->master, i);
    }
    store_dbs_flushall(st->dbs);
    ob_log_notice(&st->cy->log, "MASTER <-> REPLICA sync: Loading DB in "
                  "memory");
    memset(&o, 0, sizeof(o));
    memset(&info, 0, sizeof(info));
    store_client_refresh_time(st);
    o.now_ms = st->now_ms;
    o.drop_expired = 0;         /* the master's DELs remove them */
    if (lseek(fd, 0, SEEK_SET) != 0
        || store_rdb_load_fd(st->dbs, fd, &o, &info, &err) != OB_OK)
    {
        ob_log_warning(&st->cy->log, "Failed trying to load the MASTER "
                       "synchronization DB from disk: %s",
                       lseek(fd, 0, SEEK_CUR) < 0 ? strerror(errno)
                                                  : err.msg);
        store_dbs_flushall(st->dbs);
        return OB_ERR;
    }
    close(fd);
    rs->tmpfd = -1;
    st->dirty++;
    ob_log_notice(&st->cy->log, "Done loading RDB, keys loaded: %zu, keys "
                  "expired: %zu.", info.st.keys, info.st.expired);

    memcpy(rs->replid, rs->new_replid, sizeof(rs->replid));
    rs->offset = rs->new_offset;
    rs->read_offset = rs->new_offset;
    store_replica_forget_partial(rs);
    if (info.has_repl && info.repl_stream_db >= 0
        && info.repl_stream_db < st->databases)
    {
        dbid = info.repl_stream_db;
    }
    store_client_select(rs->master, dbid);
    store_repl_set_history(st, rs->replid, rs->offset);
    store_aof_dataset_replaced(st);
    ob_log_notice(&st->cy->log, "MASTER <-> REPLICA sync: Finished with "
                  "success");
    store_replica_link_up(rs);
    /* Right away, not at the next second: a diskless master starts the
     * stream only once it has this ACK. */
    store_replica_send_ack(rs, rs->offset);
    return OB_OK;
}


int
store_replica_eof_scan(struct evbuffer *in, const char *mark,
                       size_t *payload)
{
    struct evbuffer_ptr  at;
    size_t               avail = evbuffer_get_length(in);

    at = evbuffer_search(in, mark, 40, NULL);
    if (at.pos >= 0) {
        *payload = (size_t) at.pos;
        return 1;
    }
    /* Keep what may be the start of the mark for the next read. */
    *payload = avail > 39 ? avail - 39 : 0;
    return 0;
}


/*
 * TRANSFER: the "$..." line (after keepalive newlines), then the bytes.
 * OB_OK: everything available was consumed, or the sync completed (the
 * state says which); OB_ERR: drop the link.
 */
static int
store_replica_transfer(store_replica_t *rs, struct evbuffer *in)
{
    size_t                 avail, n;
    int                    found;
    char                  *line;

    if (rs->tmpfd < 0) {
        for (;;) {
            line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
            if (line == NULL) {
                return evbuffer_get_length(in) > STORE_REPLICA_LINE_MAX
                       ? OB_ERR : OB_OK;
            }
            if (n == 0) {
                free(line);             /* a keepalive newline */
                continue;
            }
            if (store_replica_bulk_head(rs, line) != OB_OK) {
                free(line);
                return OB_ERR;
            }
            free(line);
            break;
        }
    }
    avail = evbuffer_get_length(in);
    if (!rs->use_eof) {
        n = (size_t) (rs->transfer_size - rs->transfer_read);
        if (n > avail) {
            n = avail;
        }
        if (store_replica_spill(rs, in, n) != OB_OK) {
            return OB_ERR;
        }
        if (rs->transfer_read < rs->transfer_size) {
            return OB_OK;
        }
        return store_replica_load(rs);
    }
    found = store_replica_eof_scan(in, rs->eofmark, &n);
    if (n > 0 && store_replica_spill(rs, in, n) != OB_OK) {
        return OB_ERR;
    }
    if (!found) {
        return OB_OK;
    }
    evbuffer_drain(in, 40);
    return store_replica_load(rs);
}


static int
store_replica_on_read(void *session, ob_conn_t *c, struct evbuffer *in)
{
    store_replica_link_t  *link = session;
    store_replica_t       *rs = link->rs;
    char                  *line;
    size_t                 n;
    int                    rc;

    if (rs == NULL) {
        evbuffer_drain(in, evbuffer_get_length(in));
        return OB_ERR;
    }
    store_client_refresh_time(rs->st);
    if (evbuffer_get_length(in) > 0) {
        rs->last_io_ms = rs->st->now_ms;
    }
    while (rs->link == link && rs->state >= STORE_REPL_RECV_PONG
           && rs->state <= STORE_REPL_RECV_PSYNC)
    {
        line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
        if (line == NULL) {
            if (evbuffer_get_length(in) > STORE_REPLICA_LINE_MAX) {
                store_replica_drop_link(rs, "The master sent a reply line "
                                        "too long for the handshake");
            }
            return OB_OK;
        }
        if (n == 0) {
            free(line);         /* newlines keep the link alive */
            continue;
        }
        rc = store_replica_reply(rs, c, line);
        free(line);
        if (rc != OB_OK) {
            store_replica_drop_link(rs, NULL);
            return OB_OK;
        }
    }
    if (rs->link == link && rs->state == STORE_REPL_TRANSFER) {
        if (store_replica_transfer(rs, in) != OB_OK) {
            store_replica_drop_link(rs, NULL);
            return OB_OK;
        }
    }
    if (rs->link == link && rs->state == STORE_REPL_CONNECTED) {
        rc = store_replica_stream(rs, c, in);
        if (rc == OB_ERR) {
            store_replica_drop_link(rs, NULL);
            return OB_OK;
        }
        return rc;
    }
    return OB_OK;
}
