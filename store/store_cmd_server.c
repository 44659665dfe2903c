/*
 * store_cmd_server.c: the connection and server commands: PING, ECHO,
 * QUIT, RESET, HELLO, AUTH, TIME, MONITOR, CLIENT, SLOWLOG, MEMORY USAGE.
 * COMMAND, CONFIG and INFO are in store_cmd_command.c, store_cmd_config.c
 * and store_cmd_info.c.
 */
#include "store_srv.h"
#include "store_persist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "store_glob.h"


static void
store_cmd_ping(store_client_t *c)
{
    if (c->argc > 2) {
        store_add_err_arity(c, "ping");
        return;
    }
    /* RESP2 subscribers get an array, as in Redis's pingCommand */
    if (c->r.proto == 2 && (c->flags & STORE_CLIENT_PUBSUB)) {
        store_reply_array(&c->r, 2);
        store_reply_bulk(&c->r, "pong", 4);
        if (c->argc == 2) {
            store_reply_bulk(&c->r, c->argv[1].data, c->argv[1].len);
        } else {
            store_reply_bulk(&c->r, "", 0);
        }
        return;
    }
    if (c->argc == 2) {
        store_reply_bulk(&c->r, c->argv[1].data, c->argv[1].len);
    } else {
        store_reply_simple(&c->r, "PONG", 4);
    }
}


static void
store_cmd_echo(store_client_t *c)
{
    store_reply_bulk(&c->r, c->argv[1].data, c->argv[1].len);
}


static void
store_cmd_quit(store_client_t *c)
{
    store_add_ok(c);
    c->flags |= STORE_CLIENT_CLOSE_AFTER;
}


/* What a client is after RESET or at connect: db 0, RESP2, no name, no
 * transaction, no watches, no subscriptions, replies on, and (with a
 * password) not authenticated. */
static void
store_client_reset(store_client_t *c)
{
    struct store_client_ext_s *x = c->ext;

    store_multi_discard(c);
    store_unwatch_all(c);
    store_pubsub_client_free(c);
    store_client_select(c, 0);
    c->r.proto = 2;
    free(x->name);
    x->name = NULL;
    c->flags &= ~(STORE_CLIENT_REPLY_OFF | STORE_CLIENT_REPLY_SKIP
                  | STORE_CLIENT_REPLY_SKIP_NEXT | STORE_CLIENT_MONITOR);
    if (c->st->requirepass != NULL) {
        c->flags &= ~STORE_CLIENT_AUTHED;
        x->parser.authenticated = 0;
    }
}


static void
store_cmd_reset(store_client_t *c)
{
    size_t i;

    for (i = 0; i < c->st->nmonitors; i++) {
        if (c->st->monitors[i] == c) {
            c->st->monitors[i] = c->st->monitors[--c->st->nmonitors];
            break;
        }
    }
    store_client_reset(c);
    store_reply_simple(&c->r, "RESET", 5);
}


/* Checks a user/password pair against the default user; OB_OK logs in. */
static int
store_auth_check(store_client_t *c, const ob_str_t *user,
                 const ob_str_t *pass)
{
    const char *want = c->st->requirepass;

    if (user != NULL && !(user->len == 7
                          && memcmp(user->data, "default", 7) == 0))
    {
        return OB_ERR;
    }
    if (want != NULL && (strlen(want) != pass->len
                         || memcmp(want, pass->data, pass->len) != 0))
    {
        return OB_ERR;
    }
    c->flags |= STORE_CLIENT_AUTHED;
    c->ext->parser.authenticated = 1;
    return OB_OK;
}


static void
store_cmd_auth(store_client_t *c)
{
    if (c->argc > 3) {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    if (c->argc == 2 && c->st->requirepass == NULL) {
        store_add_err(c, "ERR AUTH <password> called without any password "
                      "configured for the default user. Are you sure your "
                      "configuration is correct?");
        return;
    }
    if (store_auth_check(c, c->argc == 3 ? &c->argv[1] : NULL,
                         &c->argv[c->argc - 1]) != OB_OK)
    {
        store_add_err(c, "WRONGPASS invalid username-password pair or user "
                      "is disabled.");
        return;
    }
    store_add_ok(c);
}


/* Redis's validateClientName: printable ASCII but space. */
static int
store_client_name_ok(const ob_str_t *name)
{
    size_t i;

    for (i = 0; i < name->len; i++) {
        if (name->data[i] < '!' || name->data[i] > '~') {
            return 0;
        }
    }
    return 1;
}


static int
store_client_set_name(store_client_t *c, const ob_str_t *name)
{
    char *copy = NULL;

    if (!store_client_name_ok(name)) {
        store_add_err(c, "ERR Client names cannot contain spaces, newlines "
                      "or special characters.");
        return OB_ERR;
    }
    if (name->len > 0) {
        copy = strndup((const char *) name->data, name->len);
        if (copy == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            return OB_ERR;
        }
    }
    free(c->ext->name);
    c->ext->name = copy;
    return OB_OK;
}


static void
store_cmd_hello(store_client_t *c)
{
    long long  ver = c->r.proto;
    size_t     i;
    int        authed = 0;

    if (c->argc >= 2) {
        if (store_parse_ll(&c->argv[1], &ver) != OB_OK) {
            store_add_err(c, "ERR Protocol version is not an integer or out "
                          "of range");
            return;
        }
        if (ver < 2 || ver > 3) {
            store_add_err(c, "NOPROTO unsupported protocol version");
            return;
        }
    }
    for (i = 2; i < c->argc; i++) {
        size_t more = c->argc - i - 1;

        if (store_arg_is(&c->argv[i], "AUTH") && more >= 2) {
            if (store_auth_check(c, &c->argv[i + 1], &c->argv[i + 2])
                != OB_OK)
            {
                store_add_err(c, "WRONGPASS invalid username-password pair "
                              "or user is disabled.");
                return;
            }
            authed = 1;
            i += 2;
        } else if (store_arg_is(&c->argv[i], "SETNAME") && more >= 1) {
            if (!store_client_name_ok(&c->argv[i + 1])) {
                store_add_err(c, "ERR Client names cannot contain spaces, "
                              "newlines or special characters.");
                return;
            }
            i++;
        } else {
            store_add_errf(c, "ERR Syntax error in HELLO option '%.*s'",
                           (int) OB_MIN(c->argv[i].len, 128),
                           (const char *) c->argv[i].data);
            return;
        }
    }
    if (!(c->flags & STORE_CLIENT_AUTHED) && !authed) {
        store_add_err(c, "NOAUTH HELLO must be called with the client "
                      "already authenticated, otherwise the HELLO AUTH "
                      "<user> <pass> option can be used to authenticate the "
                      "client and select the RESP protocol version at the "
                      "same time");
        return;
    }
    for (i = 2; i < c->argc; i++) {
        if (store_arg_is(&c->argv[i], "AUTH")) {
            i += 2;
        } else if (store_arg_is(&c->argv[i], "SETNAME")) {
            store_client_set_name(c, &c->argv[i + 1]);
            i++;
        }
    }
    c->r.proto = (int) ver;
    store_reply_map(&c->r, 7);
    store_reply_str(c, "server");
    store_reply_str(c, "redis");
    store_reply_str(c, "version");
    store_reply_str(c, STORE_REDIS_VERSION);
    store_reply_str(c, "proto");
    store_reply_int(&c->r, ver);
    store_reply_str(c, "id");
    store_reply_int(&c->r, (long long) c->id);
    store_reply_str(c, "mode");
    store_reply_str(c, "standalone");
    store_reply_str(c, "role");
    store_reply_str(c, "master");
    store_reply_str(c, "modules");
    store_reply_array(&c->r, 0);
}


static void
store_cmd_time(store_client_t *c)
{
    struct timeval  tv;
    char            buf[32];
    int             n;

    gettimeofday(&tv, NULL);
    store_reply_array(&c->r, 2);
    n = snprintf(buf, sizeof(buf), "%ld", (long) tv.tv_sec);
    store_reply_bulk(&c->r, buf, (size_t) n);
    n = snprintf(buf, sizeof(buf), "%ld", (long) tv.tv_usec);
    store_reply_bulk(&c->r, buf, (size_t) n);
}


static void
store_cmd_monitor(store_client_t *c)
{
    store_t          *st = c->st;
    store_client_t  **grown;

    if (c->flags & STORE_CLIENT_MONITOR) {
        return;                         /* Redis answers nothing */
    }
    if (st->nmonitors == st->monitors_cap) {
        size_t cap = st->monitors_cap ? st->monitors_cap * 2 : 4;

        grown = realloc(st->monitors, cap * sizeof(*grown));
        if (grown == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        st->monitors = grown;
        st->monitors_cap = cap;
    }
    st->monitors[st->nmonitors++] = c;
    c->flags |= STORE_CLIENT_MONITOR;
    store_add_ok(c);
}


/* ---- CLIENT --------------------------------------------------------------- */

static void
store_cmd_client_id(store_client_t *c)
{
    store_reply_int(&c->r, (long long) c->id);
}


static void
store_cmd_client_setname(store_client_t *c)
{
    if (store_client_set_name(c, &c->argv[2]) == OB_OK) {
        store_add_ok(c);
    }
}


static void
store_cmd_client_getname(store_client_t *c)
{
    if (c->ext->name == NULL) {
        store_reply_null(&c->r);
    } else {
        store_reply_str(c, c->ext->name);
    }
}


/* One line of CLIENT LIST / CLIENT INFO, with Redis's field names. */
static int
store_client_line(store_client_t *cl, int64_t now_ms, char *buf, size_t cap)
{
    struct store_client_ext_s  *x = cl->ext;
    char                        flags[8];
    size_t                      nf = 0;

    if (cl->flags & STORE_CLIENT_REPLICA) {
        flags[nf++] = 'S';
    }
    if (cl->flags & STORE_CLIENT_MULTI) {
        flags[nf++] = 'x';
    }
    if (cl->flags & STORE_CLIENT_BLOCKED) {
        flags[nf++] = 'b';
    }
    if (cl->flags & STORE_CLIENT_PUBSUB) {
        flags[nf++] = 'P';
    }
    if (cl->flags & STORE_CLIENT_MONITOR) {
        flags[nf++] = 'O';
    }
    if (nf == 0) {
        flags[nf++] = 'N';
    }
    flags[nf] = '\0';
    return snprintf(buf, cap,
        "id=%llu addr=%s laddr=127.0.0.1:%d fd=-1 name=%s age=%lld "
        "idle=%lld flags=%s db=%d sub=%zu psub=%zu ssub=0 multi=%lld "
        "qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 "
        "oll=0 omem=%zu tot-mem=0 events=r cmd=%s user=default "
        "redir=-1 resp=%d\n",
        (unsigned long long) cl->id, ob_conn_peer(cl->conn), cl->st->port,
        x->name != NULL ? x->name : "",
        (long long) ((now_ms - x->created_ms) / 1000),
        (long long) ((now_ms - x->last_ms) / 1000), flags, cl->dbid,
        x->nchans, x->npatterns,
        (cl->flags & STORE_CLIENT_MULTI) ? (long long) x->nqueue : -1LL,
        ob_conn_output_pending(cl->conn),
        x->last_cmd != NULL ? x->last_cmd : "NULL", cl->r.proto);
}


static void
store_reply_text(store_client_t *c, const char *text, size_t len)
{
    store_reply_verbatim(&c->r, "txt", text, len);
}


static void
store_cmd_client_list(store_client_t *c)
{
    store_t  *st = c->st;
    char     *text = NULL, *grown;
    size_t    len = 0, cap = 0, i;
    char      line[1024];
    int       n;
    long long id;
    size_t    k;

    if (c->argc > 2 && !(c->argc >= 4 && store_arg_is(&c->argv[2], "ID"))
        && !(c->argc == 4 && store_arg_is(&c->argv[2], "TYPE")))
    {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    if (c->argc == 4 && store_arg_is(&c->argv[2], "TYPE")
        && !store_arg_is(&c->argv[3], "normal")
        && !store_arg_is(&c->argv[3], "master")
        && !store_arg_is(&c->argv[3], "replica")
        && !store_arg_is(&c->argv[3], "slave")
        && !store_arg_is(&c->argv[3], "pubsub"))
    {
        store_add_errf(c, "ERR Unknown client type '%.*s'",
                       (int) OB_MIN(c->argv[3].len, 64),
                       (const char *) c->argv[3].data);
        return;
    }
    for (i = 0; i < st->nclients; i++) {
        store_client_t *cl = st->clients[i];

        if (c->argc >= 4 && store_arg_is(&c->argv[2], "ID")) {
            for (k = 3; k < c->argc; k++) {
                if (store_parse_ll(&c->argv[k], &id) != OB_OK || id <= 0) {
                    free(text);
                    store_add_err(c, "ERR Invalid client ID");
                    return;
                }
                if ((uint64_t) id == cl->id) {
                    break;
                }
            }
            if (k == c->argc) {
                continue;
            }
        }
        if (c->argc == 4 && store_arg_is(&c->argv[2], "TYPE")) {
            int is_pubsub = (cl->flags & STORE_CLIENT_PUBSUB) != 0;

            if (store_arg_is(&c->argv[3], "pubsub") != is_pubsub
                || !(store_arg_is(&c->argv[3], "normal")
                     || store_arg_is(&c->argv[3], "pubsub")))
            {
                continue;
            }
        }
        n = store_client_line(cl, st->now_ms, line, sizeof(line));
        if (n < 0) {
            continue;
        }
        if (len + (size_t) n > cap) {
            cap = (len + (size_t) n) * 2;
            grown = realloc(text, cap);
            if (grown == NULL) {
                free(text);
                store_add_err(c, STORE_ERR_OOM);
                return;
            }
            text = grown;
        }
        memcpy(text + len, line, OB_MIN((size_t) n, sizeof(line) - 1));
        len += OB_MIN((size_t) n, sizeof(line) - 1);
    }
    store_reply_text(c, text != NULL ? text : "", len);
    free(text);
}


static void
store_cmd_client_info(store_client_t *c)
{
    char line[1024];
    int  n = store_client_line(c, c->st->now_ms, line, sizeof(line));

    store_reply_text(c, line, OB_MIN((size_t) n, sizeof(line) - 1));
}



/* CLIENT KILL TYPE: the class of a client as Redis's getClientType
 * names it (replica and slave are one class). */
static int
store_client_kill_type_is(const store_client_t *cl, const ob_str_t *type)
{
    if (cl->flags & STORE_CLIENT_REPLICA) {
        return store_arg_is(type, "replica") || store_arg_is(type, "slave");
    }
    if (cl->flags & STORE_CLIENT_PUBSUB) {
        return store_arg_is(type, "pubsub");
    }
    return store_arg_is(type, "normal");
}

static void
store_cmd_client_kill(store_client_t *c)
{
    store_t   *st = c->st;
    size_t     i, k, killed = 0;
    long long  id = 0;
    const ob_str_t *addr = NULL, *type = NULL, *laddr = NULL;
    int        skipme = 1, new_form = c->argc > 3;
    char       local[64];

    if (!new_form) {
        addr = &c->argv[2];
    } else {
        if ((c->argc - 2) % 2 != 0) {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
        for (k = 2; k < c->argc; k += 2) {
            if (store_arg_is(&c->argv[k], "ID")) {
                if (store_parse_ll(&c->argv[k + 1], &id) != OB_OK
                    || id <= 0)
                {
                    store_add_err(c, "ERR client-id should be greater "
                                  "than 0");
                    return;
                }
            } else if (store_arg_is(&c->argv[k], "ADDR")) {
                addr = &c->argv[k + 1];
            } else if (store_arg_is(&c->argv[k], "SKIPME")) {
                if (store_arg_is(&c->argv[k + 1], "yes")) {
                    skipme = 1;
                } else if (store_arg_is(&c->argv[k + 1], "no")) {
                    skipme = 0;
                } else {
                    store_add_err(c, STORE_ERR_SYNTAX);
                    return;
                }
            } else if (store_arg_is(&c->argv[k], "TYPE")) {
                type = &c->argv[k + 1];
                if (!store_arg_is(type, "normal")
                    && !store_arg_is(type, "master")
                    && !store_arg_is(type, "replica")
                    && !store_arg_is(type, "slave")
                    && !store_arg_is(type, "pubsub"))
                {
                    store_add_errf(c, "ERR Unknown client type '%.*s'",
                                   (int) OB_MIN(type->len, 64),
                                   (const char *) type->data);
                    return;
                }
            } else if (store_arg_is(&c->argv[k], "USER")) {
                /* every client is "default"; another name matches none */
                if (!store_arg_is(&c->argv[k + 1], "default")) {
                    store_add_errf(c, "ERR No such user '%.*s'",
                                   (int) OB_MIN(c->argv[k + 1].len, 64),
                                   (const char *) c->argv[k + 1].data);
                    return;
                }
            } else if (store_arg_is(&c->argv[k], "LADDR")) {
                laddr = &c->argv[k + 1];
            } else {
                store_add_err(c, STORE_ERR_SYNTAX);
                return;
            }
        }
    }
    for (i = 0; i < st->nclients; i++) {
        store_client_t *cl = st->clients[i];
        const char     *peer = ob_conn_peer(cl->conn);

        if (id != 0 && cl->id != (uint64_t) id) {
            continue;
        }
        if (addr != NULL && (strlen(peer) != addr->len
                             || memcmp(peer, addr->data, addr->len) != 0))
        {
            continue;
        }
        if (type != NULL && !store_client_kill_type_is(cl, type)) {
            continue;
        }
        if (laddr != NULL) {
            snprintf(local, sizeof(local), "127.0.0.1:%d", st->port);
            if (strlen(local) != laddr->len
                || memcmp(local, laddr->data, laddr->len) != 0)
            {
                continue;
            }
        }
        if (new_form && skipme && cl == c) {
            continue;
        }
        if (cl == c) {
            c->flags |= STORE_CLIENT_CLOSE_AFTER;
        } else {
            ob_conn_close(cl->conn, 0);
        }
        killed++;
    }
    /* The master's link is no client of the list: TYPE master (with no
     * other filter but SKIPME) ends it, and the replica reconnects. */
    if (type != NULL && store_arg_is(type, "master") && id == 0
        && addr == NULL && laddr == NULL
        && store_replica_kill_master_link(st))
    {
        killed++;
    }
    if (!new_form) {
        if (killed == 0) {
            store_add_err(c, "ERR No such client");
        } else {
            store_add_ok(c);
        }
        return;
    }
    store_reply_int(&c->r, (long long) killed);
}


static void
store_pause_end(store_t *st)
{
    size_t i;

    st->pause_until_ms = 0;
    if (st->pause_ev != NULL) {
        event_free(st->pause_ev);
        st->pause_ev = NULL;
    }
    for (i = 0; i < st->nclients; i++) {
        if (st->clients[i]->ext->postponed) {
            st->clients[i]->ext->postponed = 0;
            ob_conn_pause_read(st->clients[i]->conn, 0);
        }
    }
}


static void
store_pause_cb(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    store_pause_end(arg);
}


static void
store_cmd_client_pause(store_client_t *c)
{
    store_t        *st = c->st;
    long long       ms;
    struct timeval  tv;

    if (store_get_ll_or_reply(c, &c->argv[2], &ms,
                              "ERR timeout is not an integer or out of range")
        != OB_OK)
    {
        return;
    }
    if (ms < 0) {
        store_add_err(c, STORE_ERR_TIMEOUT_NEG);
        return;
    }
    if (c->argc == 4 && !store_arg_is(&c->argv[3], "WRITE")
        && !store_arg_is(&c->argv[3], "ALL"))
    {
        store_add_err(c, "ERR CLIENT PAUSE mode must be WRITE or ALL");
        return;
    }
    st->pause_write_only = c->argc == 4 && store_arg_is(&c->argv[3],
                                                        "WRITE");
    st->pause_until_ms = st->now_ms + ms;
    if (st->pause_ev == NULL) {
        st->pause_ev = evtimer_new(st->cy->base, store_pause_cb, st);
    }
    if (st->pause_ev != NULL) {
        tv.tv_sec = ms / 1000;
        tv.tv_usec = (ms % 1000) * 1000;
        evtimer_add(st->pause_ev, &tv);
    }
    store_add_ok(c);
}


static void
store_cmd_client_unpause(store_client_t *c)
{
    store_pause_end(c->st);
    store_add_ok(c);
}


static void
store_cmd_client_reply(store_client_t *c)
{
    if (store_arg_is(&c->argv[2], "ON")) {
        c->flags &= ~(STORE_CLIENT_REPLY_OFF | STORE_CLIENT_REPLY_SKIP_NEXT);
        store_add_ok(c);
    } else if (store_arg_is(&c->argv[2], "OFF")) {
        c->flags |= STORE_CLIENT_REPLY_OFF;
    } else if (store_arg_is(&c->argv[2], "SKIP")) {
        if (!(c->flags & STORE_CLIENT_REPLY_OFF)) {
            c->flags |= STORE_CLIENT_REPLY_SKIP_NEXT;
        }
    } else {
        store_add_err(c, STORE_ERR_SYNTAX);
    }
}


/* CLIENT UNBLOCK id [TIMEOUT|ERROR]: :1 if that client was blocked (and
 * now is not), else :0. */
static void
store_cmd_client_unblock(store_client_t *c)
{
    store_t    *st = c->st;
    long long   id;
    int         error = 0;
    size_t      i;

    if (store_get_ll_or_reply(c, &c->argv[2], &id, NULL) != OB_OK) {
        return;
    }
    if (c->argc == 4) {
        if (store_arg_is(&c->argv[3], "ERROR")) {
            error = 1;
        } else if (!store_arg_is(&c->argv[3], "TIMEOUT")) {
            store_add_err(c, "ERR CLIENT UNBLOCK reason should be TIMEOUT "
                          "or ERROR");
            return;
        }
    }
    for (i = 0; i < st->nclients; i++) {
        if (st->clients[i]->id == (uint64_t) id && id > 0) {
            store_reply_int(&c->r, store_block_abort(st->clients[i], error));
            return;
        }
    }
    store_reply_int(&c->r, 0);
}


static void
store_cmd_client_no_evict(store_client_t *c)
{
    if (store_arg_is(&c->argv[2], "ON") || store_arg_is(&c->argv[2], "OFF")) {
        store_add_ok(c);
    } else {
        store_add_err(c, STORE_ERR_SYNTAX);
    }
}


/* ---- HELP ----------------------------------------------------------------- */

/* Redis 7.0.15's HELP texts, word for word (they name what Redis has). */
static const char *const store_help_client[] = {
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
    NULL
};


static const char *const store_help_slowlog[] = {
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
    NULL
};

static const char *const store_help_memory[] = {
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
    NULL
};


/* One HELP reply: the lines as simple strings, in an array. */
void
store_reply_help(store_client_t *c, const char *const *lines)
{
    size_t n;

    for (n = 0; lines[n] != NULL; n++) {
        /* count */
    }
    store_reply_array(&c->r, n);
    for (n = 0; lines[n] != NULL; n++) {
        store_reply_simple(&c->r, lines[n], strlen(lines[n]));
    }
}


static void
store_cmd_client_help(store_client_t *c)
{
    store_reply_help(c, store_help_client);
}


static void
store_cmd_slowlog_help(store_client_t *c)
{
    store_reply_help(c, store_help_slowlog);
}


static void
store_cmd_memory_help(store_client_t *c)
{
    store_reply_help(c, store_help_memory);
}


/* No client tracking: CLIENT GETREDIR and TRACKINGINFO answer as Redis
 * does for a client that has not turned it on. */
static void
store_cmd_client_getredir(store_client_t *c)
{
    store_reply_int(&c->r, -1);
}


static void
store_cmd_client_trackinginfo(store_client_t *c)
{
    store_reply_map(&c->r, 3);
    store_reply_str(c, "flags");
    store_reply_set(&c->r, 1);
    store_reply_str(c, "off");
    store_reply_str(c, "redirect");
    store_reply_int(&c->r, -1);
    store_reply_str(c, "prefixes");
    store_reply_array(&c->r, 0);
}


static void
store_cmd_client_caching(store_client_t *c)
{
    store_add_err(c, "ERR CLIENT CACHING can be called only when the "
                  "client is in tracking mode with OPTIN or OPTOUT mode "
                  "enabled");
}


/* ---- SLOWLOG -------------------------------------------------------------- */


/*
 * Redis's addReplySubcommandSyntaxError, for subcommands whose declared
 * arity (SLOWLOG GET, PUBSUB CHANNELS: -2) admits more arguments than
 * they take.
 */
void
store_reply_subcommand_syntax(store_client_t *c)
{
    char   upper[32];
    size_t i;

    for (i = 0; i < c->argv[0].len && i < sizeof(upper) - 1; i++) {
        upper[i] = (char) (c->argv[0].data[i] >= 'a'
                           && c->argv[0].data[i] <= 'z'
                           ? c->argv[0].data[i] - 32 : c->argv[0].data[i]);
    }
    upper[i] = '\0';
    store_add_errf(c, "ERR unknown subcommand or wrong number of arguments "
                   "for '%.*s'. Try %s HELP.",
                   (int) OB_MIN(c->argv[1].len, 128),
                   (const char *) c->argv[1].data, upper);
}


static void
store_cmd_slowlog_get(store_client_t *c)
{
    store_t    *st = c->st;
    long long   count = 10;
    size_t      n, i, k;

    if (c->argc > 3) {
        store_reply_subcommand_syntax(c);
        return;
    }
    if (c->argc == 3) {
        /* Redis gives the range message for a non-integer too. */
        if (store_parse_ll(&c->argv[2], &count) != OB_OK || count < -1) {
            store_add_err(c, "ERR count should be greater than or equal to "
                          "-1");
            return;
        }
        if (count == -1) {
            count = (long long) st->slowlog_len;
        }
    }
    n = OB_MIN((size_t) count, st->slowlog_len);
    store_reply_array(&c->r, n);
    for (i = 0; i < n; i++) {
        /* newest first */
        store_slowlog_t *e = &st->slowlog[(st->slowlog_head
                                           + st->slowlog_len - 1 - i)
                                          % st->slowlog_cap];

        store_reply_array(&c->r, 6);
        store_reply_int(&c->r, (long long) e->id);
        store_reply_int(&c->r, e->time);
        store_reply_int(&c->r, e->usec);
        store_reply_array(&c->r, e->argc);
        for (k = 0; k < e->argc; k++) {
            store_reply_bulk(&c->r, e->argv[k].data, e->argv[k].len);
        }
        store_reply_str(c, e->peer != NULL ? e->peer : "");
        store_reply_str(c, e->name != NULL ? e->name : "");
    }
}


static void
store_cmd_slowlog_len(store_client_t *c)
{
    store_reply_int(&c->r, (long long) c->st->slowlog_len);
}


static void
store_cmd_slowlog_reset(store_client_t *c)
{
    store_t *st = c->st;
    size_t   i;

    for (i = 0; i < st->slowlog_len; i++) {
        store_slowlog_t *e = &st->slowlog[(st->slowlog_head + i)
                                          % st->slowlog_cap];

        free(e->argv);
        free(e->peer);
        free(e->name);
    }
    st->slowlog_len = 0;
    st->slowlog_head = 0;
    store_add_ok(c);
}


/* ---- MEMORY USAGE --------------------------------------------------------- */

static void
store_cmd_memory_usage(store_client_t *c)
{
    store_entry_t *e;
    size_t         bytes, j;
    long long      samples;

    /* Options first, as Redis: SAMPLES takes an integer >= 0. */
    for (j = 3; j < c->argc; j++) {
        if (store_arg_is(&c->argv[j], "SAMPLES") && j + 1 < c->argc) {
            if (store_get_ll_or_reply(c, &c->argv[j + 1], &samples, NULL)
                != OB_OK)
            {
                return;
            }
            if (samples < 0) {
                store_add_err(c, STORE_ERR_SYNTAX);
                return;
            }
            j++;
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }
    e = store_db_find(c->db, c->argv[2].data, c->argv[2].len,
                      c->st->now_ms);
    if (e == NULL) {
        store_reply_null(&c->r);
        return;
    }
    bytes = store_obj_mem(c->st->arena, e->val)
            + ob_arena_chunk_size(c->st->arena,
                                  sizeof(store_entry_t) + e->nkey);
    store_reply_int(&c->r, (long long) bytes);
}


#define SRV_FLAGS_CONN  (STORE_CMD_NOSCRIPT | STORE_CMD_LOADING \
                         | STORE_CMD_STALE)
#define SUB(parent, sub, amin, amax, fl, fn, acl_) \
    { .base = { .name = parent "|" sub, .arity_min = amin, \
                .arity_max = amax, .flags = fl }, \
      .handler = fn, .acl = acl_ }

const store_cmd_t store_cmds_server[] = {
    { .base = { .name = "ping", .arity_min = 1, .arity_max = -1,
                .flags = OB_CMD_FAST | STORE_CMD_PUBSUB_OK },
      .handler = store_cmd_ping, .acl = "@fast @connection" },
    { .base = { .name = "echo", .arity_min = 2, .arity_max = 2,
                .flags = OB_CMD_FAST | STORE_CMD_LOADING | STORE_CMD_STALE },
      .handler = store_cmd_echo, .acl = "@fast @connection" },
    { .base = { .name = "quit", .arity_min = 1, .arity_max = -1,
                .flags = STORE_CMD_NOAUTH | SRV_FLAGS_CONN | OB_CMD_FAST
                         | STORE_CMD_NOMULTI | STORE_CMD_PUBSUB_OK
                         | STORE_CMD_ALLOW_BUSY },
      .handler = store_cmd_quit, .acl = "@fast @connection" },
    { .base = { .name = "reset", .arity_min = 1, .arity_max = 1,
                .flags = STORE_CMD_NOAUTH | SRV_FLAGS_CONN | OB_CMD_FAST
                         | STORE_CMD_NOMULTI | STORE_CMD_PUBSUB_OK
                         | STORE_CMD_ALLOW_BUSY },
      .handler = store_cmd_reset, .acl = "@fast @connection" },
    { .base = { .name = "hello", .arity_min = 1, .arity_max = -1,
                .flags = STORE_CMD_NOAUTH | SRV_FLAGS_CONN | OB_CMD_FAST
                         | STORE_CMD_ALLOW_BUSY },
      .handler = store_cmd_hello, .acl = "@fast @connection" },
    { .base = { .name = "auth", .arity_min = 2, .arity_max = -1,
                .flags = STORE_CMD_NOAUTH | SRV_FLAGS_CONN | OB_CMD_FAST
                         | STORE_CMD_ALLOW_BUSY },
      .handler = store_cmd_auth, .acl = "@fast @connection" },
    { .base = { .name = "time", .arity_min = 1, .arity_max = 1,
                .flags = OB_CMD_FAST | STORE_CMD_LOADING | STORE_CMD_STALE },
      .handler = store_cmd_time, .acl = "@fast" },
    { .base = { .name = "monitor", .arity_min = 1, .arity_max = 1,
                .flags = OB_CMD_ADMIN | SRV_FLAGS_CONN },
      .handler = store_cmd_monitor, .acl = "@admin @slow @dangerous" },

    { .base = { .name = "client", .arity_min = 2, .arity_max = -1,
                .flags = STORE_CMD_SUBCMDS }, .acl = "@slow" },
    SUB("client", "help", 2, 2, STORE_CMD_LOADING | STORE_CMD_STALE,
        store_cmd_client_help, "@slow @connection"),
    SUB("client", "getredir", 2, 2, SRV_FLAGS_CONN, store_cmd_client_getredir,
        "@slow @connection"),
    SUB("client", "trackinginfo", 2, 2, SRV_FLAGS_CONN,
        store_cmd_client_trackinginfo, "@slow @connection"),
    SUB("client", "caching", 3, 3, SRV_FLAGS_CONN, store_cmd_client_caching,
        "@slow @connection"),
    SUB("client", "id", 2, 2, SRV_FLAGS_CONN, store_cmd_client_id,
        "@slow @connection"),
    SUB("client", "setname", 3, 3, SRV_FLAGS_CONN, store_cmd_client_setname,
        "@slow @connection"),
    SUB("client", "getname", 2, 2, SRV_FLAGS_CONN, store_cmd_client_getname,
        "@slow @connection"),
    SUB("client", "list", 2, -1, OB_CMD_ADMIN | SRV_FLAGS_CONN,
        store_cmd_client_list, "@admin @slow @dangerous @connection"),
    SUB("client", "info", 2, 2, SRV_FLAGS_CONN, store_cmd_client_info,
        "@slow @connection"),
    SUB("client", "kill", 3, -1, OB_CMD_ADMIN | SRV_FLAGS_CONN,
        store_cmd_client_kill, "@admin @slow @dangerous @connection"),
    SUB("client", "pause", 3, 4, OB_CMD_ADMIN | SRV_FLAGS_CONN,
        store_cmd_client_pause, "@admin @slow @dangerous @connection"),
    SUB("client", "unpause", 2, 2, OB_CMD_ADMIN | SRV_FLAGS_CONN,
        store_cmd_client_unpause, "@admin @slow @dangerous @connection"),
    SUB("client", "reply", 3, 3, SRV_FLAGS_CONN, store_cmd_client_reply,
        "@slow @connection"),
    SUB("client", "no-evict", 3, 3, OB_CMD_ADMIN | SRV_FLAGS_CONN,
        store_cmd_client_no_evict, "@admin @slow @dangerous @connection"),
    SUB("client", "unblock", 3, 4, OB_CMD_ADMIN | SRV_FLAGS_CONN,
        store_cmd_client_unblock, "@admin @slow @dangerous @connection"),

    { .base = { .name = "slowlog", .arity_min = 2, .arity_max = -1,
                .flags = STORE_CMD_SUBCMDS }, .acl = "@slow" },
    SUB("slowlog", "get", 2, -1, OB_CMD_ADMIN | STORE_CMD_LOADING
        | STORE_CMD_STALE, store_cmd_slowlog_get,
        "@admin @slow @dangerous"),
    SUB("slowlog", "help", 2, 2, STORE_CMD_LOADING | STORE_CMD_STALE,
        store_cmd_slowlog_help, "@slow"),
    SUB("slowlog", "len", 2, 2, OB_CMD_ADMIN | STORE_CMD_LOADING
        | STORE_CMD_STALE, store_cmd_slowlog_len, "@admin @slow @dangerous"),
    SUB("slowlog", "reset", 2, 2, OB_CMD_ADMIN | STORE_CMD_LOADING
        | STORE_CMD_STALE, store_cmd_slowlog_reset,
        "@admin @slow @dangerous"),

    { .base = { .name = "memory", .arity_min = 2, .arity_max = -1,
                .flags = STORE_CMD_SUBCMDS }, .acl = "@slow" },
    SUB("memory", "help", 2, 2, STORE_CMD_LOADING | STORE_CMD_STALE,
        store_cmd_memory_help, "@slow"),
    { .base = { .name = "memory|usage", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_READONLY },
      .handler = store_cmd_memory_usage, .keys = { 2, 2, 1 },
      .acl = "@read @slow" },

    { .base = { .name = NULL } }
};
