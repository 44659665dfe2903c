/*
 * store_client.c: one RESP connection, from bytes to a command call.
 *
 * Per connection (store_session_read), a loop over these steps:
 *
 *   WAIT     a blocked client (BLPOP ...) reads nothing: its input waits
 *            until it is served or times out (store_block.c)
 *   NEED     the parser waits for the rest of a bulk string of known
 *            size: nothing is parsed until that many bytes are in
 *   PARSE    store_resp_parse over the input (made contiguous): one
 *            request, or "more", or a protocol error (answered, then the
 *            connection closes once the reply is written, as Redis)
 *   EXEC     store_client_exec: lookup and arity (one ob_cmd table,
 *            containers such as CONFIG resolved to "config|get"), then
 *            Redis's processCommand checks in its order: authentication,
 *            maxmemory, the RESP2 pub/sub context, MULTI queueing; then
 *            the call (store_client_call), timed for INFO commandstats
 *            and SLOWLOG, fed to MONITORs, and followed by serving the
 *            clients that the command's writes unblocked
 *
 * Work per call is bounded like the cache's: at most
 * ob_conn_reqs_per_event() requests, none once the output is above its
 * soft limit; on_read then returns OB_BUSY and the core calls again.
 */
#include "store_srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "store_glob.h"
#include "store_persist.h"

/* Arguments the parser's array starts with; it grows on demand. */
#define STORE_ARGV_INIT  16


static int
tolower_ascii(int ch)
{
    return (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch;
}


void
store_client_refresh_time(store_t *st)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    st->now_ms = (int64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}


static uint64_t
store_usec_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}


/* The reply sink of a connection: appends to its output, unless the
 * client asked for no replies (CLIENT REPLY OFF / SKIP). */
static int
store_client_write(void *ctx, const void *data, size_t len)
{
    store_client_t *c = ctx;

    if (c->flags & (STORE_CLIENT_REPLY_OFF | STORE_CLIENT_REPLY_SKIP)
        || c->conn == NULL)
    {
        return OB_OK;
    }
    c->st->total_net_output += len;
    return ob_conn_add(c->conn, data, len);
}


/*
 * The "timeout" option (Redis's maxidletime): clients idle longer are
 * closed, except pub/sub, blocked, paused, MONITOR and replica clients, as
 * clientsCronHandleTimeout.  The store's cron is not this file's, so a
 * timer of its own runs once a second while there are clients.
 */
static struct event  *store_idle_ev;


static void
store_idle_cb(evutil_socket_t fd, short what, void *arg)
{
    store_t  *st = arg;
    size_t    i;

    (void) fd;
    (void) what;
    if (st->timeout <= 0) {
        return;
    }
    store_client_refresh_time(st);
    for (i = st->nclients; i-- > 0; ) {
        store_client_t *cl = st->clients[i];

        if ((cl->flags & (STORE_CLIENT_PUBSUB | STORE_CLIENT_BLOCKED
                          | STORE_CLIENT_MONITOR | STORE_CLIENT_REPLICA))
            || cl->ext->postponed
            || st->now_ms - cl->ext->last_ms <= st->timeout * 1000)
        {
            continue;
        }
        ob_conn_close(cl->conn, 0);
    }
}


static void
store_idle_timer(store_t *st, int on)
{
    struct timeval tv = { 1, 0 };

    if (on && store_idle_ev == NULL) {
        store_idle_ev = event_new(st->cy->base, -1, EV_PERSIST,
                                  store_idle_cb, st);
        if (store_idle_ev != NULL) {
            event_add(store_idle_ev, &tv);
        }
    } else if (!on && store_idle_ev != NULL) {
        event_free(store_idle_ev);
        store_idle_ev = NULL;
    }
}


void *
store_session_new(ob_conn_t *conn, void *ctx)
{
    store_t                    *st = ctx;
    store_client_t             *c;
    struct store_client_ext_s  *x;
    store_client_t            **grown;

    c = calloc(1, sizeof(*c));
    x = calloc(1, sizeof(*x));
    if (c == NULL || x == NULL) {
        goto failed;
    }
    c->ext = x;
    c->st = st;
    c->conn = conn;
    c->id = st->next_client_id++;
    c->dbid = 0;
    c->db = store_dbs_db(st->dbs, 0);
    if (st->requirepass == NULL) {
        c->flags |= STORE_CLIENT_AUTHED;
    }
    store_reply_init(&c->r, 2, store_client_write, c);

    store_resp_parser_init(&x->parser);
    x->parser.bulk_max = st->proto_max_bulk_len;
    x->parser.authenticated = (c->flags & STORE_CLIENT_AUTHED) != 0;
    if (store_args_grow(&x->args, &x->parser, STORE_ARGV_INIT) != OB_OK) {
        goto failed;
    }
    x->created_ms = st->now_ms;
    x->last_ms = st->now_ms;

    if (st->nclients == st->clients_cap) {
        size_t cap = st->clients_cap ? st->clients_cap * 2 : 64;

        grown = realloc(st->clients, cap * sizeof(*grown));
        if (grown == NULL) {
            goto failed;
        }
        st->clients = grown;
        st->clients_cap = cap;
    }
    st->clients[st->nclients++] = c;
    st->total_connections++;
    store_idle_timer(st, 1);
    return c;

failed:
    if (x != NULL) {
        store_args_free(&x->args);
    }
    free(x);
    free(c);
    return NULL;
}


static void
store_client_unlist(store_client_t *c)
{
    store_t *st = c->st;
    size_t   i;

    for (i = 0; i < st->nclients; i++) {
        if (st->clients[i] == c) {
            st->clients[i] = st->clients[--st->nclients];
            break;
        }
    }
    for (i = 0; i < st->nmonitors; i++) {
        if (st->monitors[i] == c) {
            st->monitors[i] = st->monitors[--st->nmonitors];
            break;
        }
    }
}


void
store_session_close(void *session, ob_conn_t *conn)
{
    store_client_t             *c = session;
    struct store_client_ext_s  *x = c->ext;

    (void) conn;
    c->flags |= STORE_CLIENT_REPLY_OFF;     /* nothing more is written */
    if (c->flags & STORE_CLIENT_BLOCKED) {
        store_unblock(c);
    }
    store_multi_discard(c);
    store_unwatch_all(c);
    store_pubsub_client_free(c);
    store_repl_client_closed(c->st, c);
    store_aof_client_closed(c->st, c);
    store_client_unlist(c);
    if (c->st->nclients == 0) {
        store_idle_timer(c->st, 0);
    }
    free(x->queue);
    free(x->watches);
    free(x->chans);
    store_args_free(&x->args);
    free(x->name);
    free(x->lib_name);
    free(x->lib_ver);
    free(x);
    free(c);
}


ob_str_t *
store_argv_copy(const ob_str_t *argv, size_t argc)
{
    ob_str_t  *copy;
    uint8_t   *p;
    size_t     bytes = argc * sizeof(ob_str_t), i;

    for (i = 0; i < argc; i++) {
        bytes += argv[i].len + 1;
    }
    copy = malloc(bytes);
    if (copy == NULL) {
        return NULL;
    }
    p = (uint8_t *) (copy + argc);
    for (i = 0; i < argc; i++) {
        memcpy(p, argv[i].data, argv[i].len);
        p[argv[i].len] = '\0';
        copy[i].data = p;
        copy[i].len = argv[i].len;
        p += argv[i].len + 1;
    }
    return copy;
}


int
store_client_select(store_client_t *c, int dbid)
{
    store_db_t *db = store_dbs_db(c->st->dbs, dbid);

    if (db == NULL) {
        return OB_ERR;
    }
    c->db = db;
    c->dbid = dbid;
    return OB_OK;
}


/* The name as Redis's error messages quote it, lower case (c->cmd's). */
static void
store_reply_unknown(store_client_t *c)
{
    char    args[160];
    size_t  n = 0, i;
    int     w;

    args[0] = '\0';
    for (i = 1; i < c->argc && n < 128; i++) {
        w = snprintf(args + n, sizeof(args) - n, "'%.*s' ",
                     (int) OB_MIN(c->argv[i].len, 128 - n),
                     (const char *) c->argv[i].data);
        if (w < 0) {
            break;
        }
        n += (size_t) w;
        if (n >= sizeof(args)) {
            n = sizeof(args) - 1;
        }
    }
    store_add_errf(c, "ERR unknown command '%.*s', with args beginning "
                   "with: %s", (int) OB_MIN(c->argv[0].len, 128),
                   (const char *) c->argv[0].data, args);
}


/* INFO commandstats' rejected_calls: a known command refused before it
 * ran (arity, authentication, OOM, context), as Redis's rejectCommand. */
static void
store_count_rejected(store_client_t *c, const store_cmd_t *cmd)
{
    c->st->cmd_stats[cmd - c->st->cmd_entries].rejected++;
}


/* A container's subcommand ("config" + "get" -> "config|get"), or NULL
 * with the error replied. */
static const store_cmd_t *
store_lookup_subcommand(store_client_t *c, const store_cmd_t *parent)
{
    char            name[OB_CMD_NAME_MAX];
    size_t          plen = strlen(parent->base.name), i;
    const ob_cmd_t *sub;
    int             rc;

    if (c->argc < 2) {
        store_add_err_arity(c, parent->base.name);
        return NULL;
    }
    if (plen + 1 + c->argv[1].len < sizeof(name)) {
        memcpy(name, parent->base.name, plen);
        name[plen] = '|';
        for (i = 0; i < c->argv[1].len; i++) {
            name[plen + 1 + i] = (char) tolower_ascii(c->argv[1].data[i]);
        }
        rc = ob_cmd_lookup(&c->st->cmds, name, plen + 1 + c->argv[1].len,
                           c->argc, &sub);
        if (rc == OB_OK) {
            return (const store_cmd_t *) sub;
        }
        if (rc == OB_PROTO_ERR) {
            store_count_rejected(c, (const store_cmd_t *) sub);
            c->ext->last_cmd = sub->name;
            store_add_err_arity(c, sub->name);
            return NULL;
        }
    }
    {
        char upper[32];
        size_t k;

        for (k = 0; k < plen && k < sizeof(upper) - 1; k++) {
            upper[k] = (char) (parent->base.name[k] >= 'a'
                               && parent->base.name[k] <= 'z'
                               ? parent->base.name[k] - 32
                               : parent->base.name[k]);
        }
        upper[k] = '\0';
        store_add_errf(c, "ERR unknown subcommand '%.*s'. Try %s HELP.",
                       (int) OB_MIN(c->argv[1].len, 128),
                       (const char *) c->argv[1].data, upper);
    }
    return NULL;
}


/* For a command that is also a container (COMMAND, COMMAND INFO ...):
 * runs the subcommand named by argv[1]. */
void
store_dispatch_subcommand(store_client_t *c, const store_cmd_t *parent)
{
    const store_cmd_t *sub = store_lookup_subcommand(c, parent);

    if (sub != NULL) {
        c->cmd = sub;
        sub->handler(c);
        c->cmd = parent;
    }
}


/* Whether MONITOR and SLOWLOG show argument i as "(redacted)", as Redis
 * does for credentials: every argument of AUTH, the user and password after
 * HELLO's AUTH. */
static int
store_arg_redacted(store_client_t *c, size_t i)
{
    size_t k;

    if (i == 0) {
        return 0;
    }
    if (store_arg_is(&c->argv[0], "auth")) {
        return 1;
    }
    if (store_arg_is(&c->argv[0], "hello")) {
        for (k = 2; k < i && k < c->argc; k++) {
            if (store_arg_is(&c->argv[k], "auth") && i - k <= 2) {
                return 1;
            }
        }
    }
    return 0;
}


/* Slowlog: Redis keeps at most 32 arguments (the last one then says
 * "... (N more arguments)"), each cut at 128 bytes and followed by
 * "... (N more bytes)". */
static void
store_slowlog_add(store_client_t *c, uint64_t usec)
{
    store_t          *st = c->st;
    store_slowlog_t  *e;
    ob_str_t          args[32];
    char              more[32][176];
    size_t            argc = OB_MIN(c->argc, 32), i;
    int               n;

    if (st->slowlog_max_len == 0) {
        return;
    }
    if (st->slowlog_cap != (size_t) st->slowlog_max_len) {
        /* resized by CONFIG SET: start again */
        for (i = 0; i < st->slowlog_len; i++) {
            e = &st->slowlog[(st->slowlog_head + i) % st->slowlog_cap];
            free(e->argv);
            free(e->peer);
            free(e->name);
        }
        free(st->slowlog);
        st->slowlog = calloc((size_t) st->slowlog_max_len, sizeof(*e));
        st->slowlog_cap = st->slowlog == NULL ? 0
                                              : (size_t) st->slowlog_max_len;
        st->slowlog_len = 0;
        st->slowlog_head = 0;
        if (st->slowlog == NULL) {
            return;
        }
    }
    for (i = 0; i < argc; i++) {
        args[i] = c->argv[i];
        if (store_arg_redacted(c, i)) {
            args[i].data = (const uint8_t *) "(redacted)";
            args[i].len = 10;
        } else if (argc != c->argc && i == argc - 1) {
            n = snprintf(more[i], sizeof(more[i]), "... (%zu more arguments)",
                         c->argc - argc + 1);
            args[i].data = (const uint8_t *) more[i];
            args[i].len = (size_t) n;
        } else if (args[i].len > 128) {
            memcpy(more[i], c->argv[i].data, 128);
            n = snprintf(more[i] + 128, sizeof(more[i]) - 128,
                         "... (%zu more bytes)", c->argv[i].len - 128);
            args[i].data = (const uint8_t *) more[i];
            args[i].len = 128 + (size_t) n;
        }
    }
    if (st->slowlog_len == st->slowlog_cap) {
        /* the oldest goes */
        e = &st->slowlog[st->slowlog_head];
        free(e->argv);
        free(e->peer);
        free(e->name);
        st->slowlog_head = (st->slowlog_head + 1) % st->slowlog_cap;
        st->slowlog_len--;
    }
    e = &st->slowlog[(st->slowlog_head + st->slowlog_len) % st->slowlog_cap];
    memset(e, 0, sizeof(*e));
    e->id = st->slowlog_next_id++;
    e->time = st->now_ms / 1000;
    e->usec = (int64_t) usec;
    e->argv = store_argv_copy(args, argc);
    e->argc = e->argv != NULL ? argc : 0;
    e->peer = strdup(store_client_peer(c));
    e->name = strdup(c->ext->name != NULL ? c->ext->name : "");
    st->slowlog_len++;
}


/* MONITOR's line: +<time> [<db> <peer>] "arg" "arg"... */
static void
store_feed_monitors(store_client_t *c)
{
    store_t  *st = c->st;
    char      head[128];
    size_t    i, k, j;
    int       n;

    if (st->nmonitors == 0) {
        return;
    }
    n = snprintf(head, sizeof(head), "+%lld.%06lld [%d %s]",
                 (long long) (st->now_ms / 1000),
                 (long long) (st->now_ms % 1000) * 1000, c->dbid,
                 store_client_peer(c));
    for (k = 0; k < st->nmonitors; k++) {
        store_client_t *m = st->monitors[k];

        if (m == c) {
            continue;
        }
        m->r.write(m->r.ctx, head, (size_t) n);
        for (i = 0; i < c->argc; i++) {
            m->r.write(m->r.ctx, " \"", 2);
            if (store_arg_redacted(c, i)) {
                m->r.write(m->r.ctx, "(redacted)\"", 11);
                continue;
            }
            for (j = 0; j < c->argv[i].len; j++) {
                unsigned char ch = c->argv[i].data[j];
                char          esc[5];

                if (ch == '\\' || ch == '"') {
                    esc[0] = '\\';
                    esc[1] = (char) ch;
                    m->r.write(m->r.ctx, esc, 2);
                } else if (ch == '\n' || ch == '\r' || ch == '\t'
                           || ch == '\a' || ch == '\b')
                {
                    esc[0] = '\\';
                    esc[1] = ch == '\n' ? 'n' : ch == '\r' ? 'r'
                             : ch == '\t' ? 't' : ch == '\a' ? 'a' : 'b';
                    m->r.write(m->r.ctx, esc, 2);
                } else if (ch < 32 || ch > 126) {
                    snprintf(esc, sizeof(esc), "\\x%02x", ch);
                    m->r.write(m->r.ctx, esc, 4);
                } else {
                    m->r.write(m->r.ctx, &ch, 1);
                }
            }
            m->r.write(m->r.ctx, "\"", 1);
        }
        m->r.write(m->r.ctx, "\r\n", 2);
        ob_conn_flush(m->conn);
    }
}


void
store_client_call(store_client_t *c, const store_cmd_t *cmd)
{
    store_t            *st = c->st;
    store_cmd_stats_t  *cs = &st->cmd_stats[cmd - st->cmd_entries];
    uint64_t            start, usec, errs, dirty;
    long long           off;
    int                 feed;

    /*
     * MONITOR sees a command once it has run, as Redis 7.0's call(): so
     * SELECT shows its new db and EXEC comes after the commands it ran;
     * a blocked command shows when it blocks, not again when re-run.
     */
    feed = !(cmd->base.flags & (STORE_CMD_SKIP_MONITOR | OB_CMD_ADMIN))
           && !(c->flags & STORE_CLIENT_RETRY);
    c->cmd = cmd;
    c->ext->last_cmd = cmd->base.name;
    errs = st->total_error_replies;
    /* One clock read per command: the previous command's end (or the
     * batch's start, store_session_read) is this one's start. */
    start = st->call_clock_us;
    dirty = st->dirty;
    off = store_repl_offset(st);
    store_propagate_begin(c);
    cmd->handler(c);
    store_propagate_end(c, dirty);
    /* Redis's c->woff: what WAIT waits for is this client's own writes. */
    if (store_repl_offset(st) != off) {
        c->ext->woff = store_repl_offset(st);
    }
    st->call_clock_us = store_usec_now();
    usec = st->call_clock_us - start;
    cs->calls++;
    cs->usec += usec;
    if (st->total_error_replies != errs) {
        cs->failed++;
    }
    st->total_commands++;
    store_info_track(st);
    if (feed) {
        store_feed_monitors(c);
    }
    /* EXEC is skip_slowlog in Redis 7.0 (its commands are logged one
     * by one); store_int.h has no flag for it, hence the name. */
    if (st->slowlog_slower_than >= 0
        && usec >= (uint64_t) st->slowlog_slower_than
        && !(cmd->base.flags & STORE_CMD_BLOCKING && c->flags
             & STORE_CLIENT_BLOCKED)
        && strcmp(cmd->base.name, "exec") != 0)
    {
        store_slowlog_add(c, usec);
    }
}


/* The error for a command refused before it ran; inside MULTI it also
 * dooms the transaction (EXECABORT), as Redis's rejectCommand. */
static void
store_reject(store_client_t *c, const char *msg)
{
    if (c->flags & STORE_CLIENT_MULTI) {
        c->flags |= STORE_CLIENT_DIRTY_EXEC;
    }
    store_count_rejected(c, c->cmd);
    store_add_err(c, msg);
}


/*
 * CLIENT PAUSE: as Redis's processCommand, after the other checks a
 * command waits while the server is paused (ALL: every command, the
 * pausing client's too; WRITE: commands that write or may replicate,
 * and an EXEC whose queue holds one).  The request stays in the input
 * and runs when the pause ends (store_pause_end).
 */
static int
store_client_must_pause(store_client_t *c, const store_cmd_t *cmd)
{
    store_t  *st = c->st;
    size_t    i;
    unsigned  writes = OB_CMD_WRITE | STORE_CMD_MAY_REPLICATE;

    if (st->pause_until_ms == 0 || st->now_ms >= st->pause_until_ms) {
        return 0;
    }
    if (!st->pause_write_only || (cmd->base.flags & writes)) {
        return 1;
    }
    if (strcmp(cmd->base.name, "exec") == 0
        && (c->flags & STORE_CLIENT_MULTI))
    {
        for (i = 0; i < c->ext->nqueue; i++) {
            if (c->ext->queue[i].cmd->base.flags & writes) {
                return 1;
            }
        }
    }
    return 0;
}


/* A write command, or an EXEC whose queue holds one (Redis's
 * is_write_command in processCommand). */
static int
store_client_is_write(store_client_t *c, const store_cmd_t *cmd)
{
    size_t i;

    if (cmd->base.flags & OB_CMD_WRITE) {
        return 1;
    }
    if (strcmp(cmd->base.name, "exec") == 0
        && (c->flags & STORE_CLIENT_MULTI))
    {
        for (i = 0; i < c->ext->nqueue; i++) {
            if (c->ext->queue[i].cmd->base.flags & OB_CMD_WRITE) {
                return 1;
            }
        }
    }
    return 0;
}


/*
 * Writes refused for the sake of the data, in processCommand's order:
 * MISCONF while the disk is failing us (the last background save failed
 * with stop-writes-on-bgsave-error, or the AOF cannot be written; PING
 * too, as Redis), then READONLY on a read-only replica.  The master's
 * own stream is never refused.  OB_ERR: refused and answered.
 */
static int
store_client_refuse_write(store_client_t *c, const store_cmd_t *cmd)
{
    store_t     *st = c->st;
    const char  *why;
    int          write = store_client_is_write(c, cmd);

    if (write || strcmp(cmd->base.name, "ping") == 0) {
        why = store_save_write_error(st);
        if (why == NULL) {
            why = store_aof_write_error(st);
        }
        if (why != NULL) {
            store_reject(c, why);
            return OB_ERR;
        }
    }
    if (write && store_replica_refuses_writes(st)) {
        store_reject(c, "READONLY You can't write against a read only "
                     "replica.");
        return OB_ERR;
    }
    return OB_OK;
}


void
store_client_exec(store_client_t *c)
{
    store_t            *st = c->st;
    const ob_cmd_t     *base;
    const store_cmd_t  *cmd;
    int                 rc;
    char                msg[200];

    rc = ob_cmd_lookup(&st->cmds, c->argv[0].data, c->argv[0].len, c->argc,
                       &base);
    if (rc != OB_DECLINED && strchr(base->name, '|') != NULL) {
        rc = OB_DECLINED;               /* "config|get" is not a name */
    }
    if (rc == OB_DECLINED) {
        if (c->flags & STORE_CLIENT_MULTI) {
            c->flags |= STORE_CLIENT_DIRTY_EXEC;
        }
        store_reply_unknown(c);
        return;
    }
    cmd = (const store_cmd_t *) base;
    c->ext->last_cmd = cmd->base.name;      /* Redis's lastcmd: even a
                                               queued or refused one */
    if (rc == OB_OK && (cmd->base.flags & STORE_CMD_SUBCMDS)) {
        cmd = store_lookup_subcommand(c, cmd);
        if (cmd == NULL) {
            if (c->flags & STORE_CLIENT_MULTI) {
                c->flags |= STORE_CLIENT_DIRTY_EXEC;
            }
            return;
        }
    } else if (rc == OB_PROTO_ERR) {
        if (c->flags & STORE_CLIENT_MULTI) {
            c->flags |= STORE_CLIENT_DIRTY_EXEC;
        }
        store_count_rejected(c, cmd);
        store_add_err_arity(c, cmd->base.name);
        return;
    }
    c->cmd = cmd;
    c->ext->last_cmd = cmd->base.name;

    if (!(c->flags & STORE_CLIENT_AUTHED)
        && !(cmd->base.flags & STORE_CMD_NOAUTH))
    {
        store_reject(c, "NOAUTH Authentication required.");
        return;
    }
    /* The master's stream and the AOF's replay are never refused for
     * memory: a replica that dropped its master's writes would diverge
     * (Redis's replica-ignore-maxmemory); only the arena's hard budget
     * can still fail them. */
    if ((cmd->base.flags & STORE_CMD_DENYOOM)
        && !(c->flags & (STORE_CLIENT_MASTER | STORE_CLIENT_LOADING))
        && store_evict_for(c) != OB_OK)
    {
        store_reject(c, STORE_ERR_OOM);
        return;
    }
    if (!(c->flags & (STORE_CLIENT_MASTER | STORE_CLIENT_LOADING))
        && store_client_refuse_write(c, cmd) != OB_OK)
    {
        return;
    }
    if (c->r.proto == 2 && (c->flags & STORE_CLIENT_PUBSUB)
        && !(cmd->base.flags & STORE_CMD_PUBSUB_OK))
    {
        snprintf(msg, sizeof(msg), "ERR Can't execute '%s': only (P|S)"
                 "SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                 "allowed in this context", cmd->base.name);
        store_reject(c, msg);
        return;
    }
    if (store_client_must_pause(c, cmd)) {
        c->ext->postponed = 1;          /* store_session_read waits */
        return;
    }
    if ((c->flags & STORE_CLIENT_MULTI)
        && (cmd->base.flags & STORE_CMD_NO_MULTI))
    {
        store_reject(c, "ERR Command not allowed inside a transaction");
        return;
    }
    if ((c->flags & STORE_CLIENT_MULTI)
        && !(cmd->base.flags & STORE_CMD_NOMULTI))
    {
        if (store_multi_queue(c) == OB_OK) {
            store_reply_simple(&c->r, "QUEUED", 6);
        } else {
            store_reject(c, STORE_ERR_OOM);
        }
        return;
    }
    store_client_call(c, cmd);
    if (!st->serving_ready && st->ready_head != NULL) {
        store_serve_ready(st);
    }
}


static int
store_session_read_batch(store_client_t *c, ob_conn_t *conn,
                         struct evbuffer *in)
{
    struct store_client_ext_s  *x = c->ext;
    store_t                    *st = c->st;
    unsigned                    handled = 0;
    unsigned                    max = ob_conn_reqs_per_event(conn);
    size_t                      avail, consumed;
    const uint8_t              *buf;
    store_req_t                 req;
    int                         rc;

    store_client_refresh_time(st);
    st->call_clock_us = store_usec_now();
    for (;;) {
        if (c->flags & STORE_CLIENT_CLOSE_AFTER) {
            return OB_DONE;
        }
        if (x->postponed) {
            return OB_OK;           /* paused: store_pause_end resumes */
        }
        if (c->flags & STORE_CLIENT_BLOCKED) {
            return OB_OK;           /* the input waits (store_block.c) */
        }
        avail = evbuffer_get_length(in);
        if (avail == 0 || (x->need != 0 && avail < x->need)) {
            return OB_OK;
        }
        if (handled >= max || ob_conn_is_output_full(conn)) {
            return OB_BUSY;
        }
        buf = evbuffer_pullup(in, -1);
        if (buf == NULL) {
            return OB_ERR;
        }
        /*
         * Redis reads proto-max-bulk-len while parsing, so a CONFIG SET
         * applies to the clients already connected, this one included.
         */
        x->parser.bulk_max = st->proto_max_bulk_len;
        rc = store_resp_parse(&x->parser, buf, avail, &consumed, &req);
        if (rc == OB_AGAIN) {
            evbuffer_drain(in, consumed);
            x->need = store_resp_need(&x->parser);
            return OB_OK;
        }
        x->need = 0;
        if (rc == OB_BUSY) {
            evbuffer_drain(in, consumed);
            if (store_args_grow(&x->args, &x->parser, x->parser.argv_want)
                != OB_OK)
            {
                return OB_ERR;
            }
            continue;
        }
        if (rc == OB_PROTO_ERR) {
            store_add_err(c, req.err);
            return OB_DONE;
        }
        st->total_net_input += consumed;
        if (store_args_decode(&x->args, &x->parser, buf, &req) != OB_OK) {
            return OB_ERR;
        }
        c->argv = x->args.argv;
        c->argc = req.argc;
        x->last_ms = st->now_ms;
        if (c->flags & STORE_CLIENT_REPLY_SKIP_NEXT) {
            /* CLIENT REPLY SKIP: this command's reply is not sent */
            c->flags &= ~STORE_CLIENT_REPLY_SKIP_NEXT;
            c->flags |= STORE_CLIENT_REPLY_SKIP;
        }
        store_client_exec(c);
        if (x->postponed) {
            /* Postponed by CLIENT PAUSE: the request is parsed again
             * from the undrained input once the pause ends. */
            if (c->flags & STORE_CLIENT_REPLY_SKIP) {
                c->flags &= ~STORE_CLIENT_REPLY_SKIP;
                c->flags |= STORE_CLIENT_REPLY_SKIP_NEXT;
            }
            ob_conn_pause_read(conn, 1);
            return OB_OK;
        }
        c->flags &= ~STORE_CLIENT_REPLY_SKIP;
        /* The arguments pointed into the input: drain only now. */
        evbuffer_drain(in, consumed);
        handled++;
    }
}


/*
 * One batch of requests; then, when they fed the append-only file, their
 * replies are held until it is written (and synced, by appendfsync) at
 * the end of the loop pass: Redis's group commit.
 */
int
store_session_read(void *session, ob_conn_t *conn, struct evbuffer *in)
{
    store_client_t  *c = session;
    int              rc;

    rc = store_session_read_batch(c, conn, in);
    store_aof_hold_reply(c->st, c);
    return rc;
}


const char *
store_client_peer(const store_client_t *c)
{
    if (c->conn != NULL) {
        return ob_conn_peer(c->conn);
    }
    return (c->flags & STORE_CLIENT_MASTER) ? "master" : "aof";
}


store_client_t *
store_client_fake_new(store_t *st, unsigned flags)
{
    store_client_t             *c;
    struct store_client_ext_s  *x;

    c = calloc(1, sizeof(*c));
    x = calloc(1, sizeof(*x));
    if (c == NULL || x == NULL) {
        free(c);
        free(x);
        return NULL;
    }
    c->ext = x;
    c->st = st;
    c->conn = NULL;
    c->id = st->next_client_id++;
    c->flags = flags | STORE_CLIENT_AUTHED;
    c->dbid = 0;
    c->db = store_dbs_db(st->dbs, 0);
    store_reply_init(&c->r, 2, store_client_write, c);
    x->created_ms = st->now_ms;
    x->last_ms = st->now_ms;
    return c;
}


void
store_client_fake_free(store_client_t *c)
{
    struct store_client_ext_s  *x;

    if (c == NULL) {
        return;
    }
    x = c->ext;
    store_multi_discard(c);
    store_unwatch_all(c);
    free(x->queue);
    free(x->watches);
    free(x->name);
    free(x);
    free(c);
}


void
store_client_run(store_client_t *c, const ob_str_t *argv, size_t argc)
{
    if (argc == 0) {
        return;
    }
    store_client_refresh_time(c->st);
    c->st->call_clock_us = store_usec_now();
    c->argv = (ob_str_t *) argv;
    c->argc = argc;
    c->ext->last_ms = c->st->now_ms;
    store_client_exec(c);
    c->argv = NULL;
    c->argc = 0;
}
