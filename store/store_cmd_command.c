/*
 * store_cmd_command.c: COMMAND and its subcommands (COUNT, INFO, LIST,
 * GETKEYS, DOCS, HELP): what the command table says of itself, in Redis
 * 7.0's shapes, so that redis-cli and client libraries that introspect
 * the server see what they see on Redis.
 */
#include "store_srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_glob.h"


static const char *const store_help_command[] = {
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
    NULL
};


static void
store_cmd_command_help(store_client_t *c)
{
    store_reply_help(c, store_help_command);
}


/* ---- COMMAND -------------------------------------------------------------- */

static const struct {
    unsigned    flag;
    const char *name;
} store_cmd_flag_names[] = {
    { OB_CMD_WRITE, "write" }, { OB_CMD_READONLY, "readonly" },
    { STORE_CMD_DENYOOM, "denyoom" }, { OB_CMD_ADMIN, "admin" },
    { STORE_CMD_PUBSUB, "pubsub" }, { STORE_CMD_NOSCRIPT, "noscript" },
    { STORE_CMD_BLOCKING, "blocking" }, { STORE_CMD_LOADING, "loading" },
    { STORE_CMD_STALE, "stale" }, { STORE_CMD_SKIP_MONITOR, "skip_monitor" },
    { OB_CMD_FAST, "fast" }, { STORE_CMD_NOAUTH, "no_auth" },
    /* may_replicate is not among the flags Redis 7.0 shows */
    /* STORE_CMD_NOMULTI is not Redis's no_multi ("refused inside
     * MULTI", SAVE and the like): it marks MULTI/EXEC/WATCH/QUIT/RESET,
     * which run at once, and which Redis does not flag: not shown. */
    { STORE_CMD_NO_ASYNC_LOADING, "no_async_loading" },
    { STORE_CMD_NO_MULTI, "no_multi" },
    { STORE_CMD_MOVABLEKEYS, "movablekeys" },
    { STORE_CMD_ALLOW_BUSY, "allow_busy" }
};


/* The next word of an ACL category list ("@write @list @slow"): *p moves
 * to its start, *end past it; 0 when none is left. */
static int
store_acl_word(const char **p, const char **end)
{
    const char *s = *p, *e;

    if (s == NULL) {
        return 0;
    }
    while (*s == ' ') {
        s++;
    }
    for (e = s; *e != '\0' && *e != ' '; e++) {
    }
    *p = s;
    *end = e;
    return e > s;
}


static int
store_cmd_arity(const store_cmd_t *cmd)
{
    /* Redis's arity is exact or a minimum: a bounded range (CLIENT PAUSE
     * takes 3 or 4) is shown as the minimum, negative. */
    return cmd->base.arity_max != cmd->base.arity_min
           ? -cmd->base.arity_min : cmd->base.arity_min;
}


static void store_reply_command_info(store_client_t *c,
                                     const store_cmd_t *cmd);


/* The subcommands of a container, as COMMAND INFO's tenth element. */
static void
store_reply_subcommands(store_client_t *c, const store_cmd_t *parent)
{
    store_t  *st = c->st;
    size_t    plen = strlen(parent->base.name), i, n = 0;

    for (i = 0; i < st->ncmds; i++) {
        if (strncmp(st->cmd_entries[i].base.name, parent->base.name, plen)
            == 0 && st->cmd_entries[i].base.name[plen] == '|')
        {
            n++;
        }
    }
    store_reply_array(&c->r, n);
    for (i = 0; i < st->ncmds; i++) {
        if (strncmp(st->cmd_entries[i].base.name, parent->base.name, plen)
            == 0 && st->cmd_entries[i].base.name[plen] == '|')
        {
            store_reply_command_info(c, &st->cmd_entries[i]);
        }
    }
}


/*
 * COMMAND INFO's tips (Redis 7.0.15's command table: hints for cluster
 * clients), by command name.  Not part of store_cmd_t, so kept here for
 * every command the store may have; names not listed have none.
 */
static const struct {
    const char  *name;
    const char  *tips;          /* space-separated */
} store_cmd_tips[] = {
    { "client|list", "nondeterministic_output" },
    { "client|info", "nondeterministic_output" },
    { "command", "nondeterministic_output_order" },
    { "command|docs", "nondeterministic_output_order" },
    { "command|list", "nondeterministic_output_order" },
    { "command|info", "nondeterministic_output_order" },
    { "config|set", "request_policy:all_nodes response_policy:all_succeeded" },
    { "dbsize", "request_policy:all_shards response_policy:agg_sum" },
    { "del", "request_policy:multi_shard response_policy:agg_sum" },
    { "dump", "nondeterministic_output" },
    { "exists", "request_policy:multi_shard response_policy:agg_sum" },
    { "flushall", "request_policy:all_shards response_policy:all_succeeded" },
    { "flushdb", "request_policy:all_shards response_policy:all_succeeded" },
    { "hgetall", "nondeterministic_output_order" },
    { "hkeys", "nondeterministic_output_order" },
    { "hrandfield", "nondeterministic_output" },
    { "hscan", "nondeterministic_output" },
    { "hvals", "nondeterministic_output_order" },
    { "info", "nondeterministic_output request_policy:all_shards response_policy:special" },
    { "keys", "request_policy:all_shards nondeterministic_output_order" },
    { "lastsave", "nondeterministic_output" },
    { "memory|purge", "request_policy:all_shards response_policy:all_succeeded" },
    { "memory|doctor", "nondeterministic_output request_policy:all_shards response_policy:special" },
    { "memory|malloc-stats", "nondeterministic_output request_policy:all_shards response_policy:special" },
    { "memory|stats", "nondeterministic_output request_policy:all_shards response_policy:special" },
    { "mget", "request_policy:multi_shard" },
    { "migrate", "nondeterministic_output" },
    { "mset", "request_policy:multi_shard response_policy:all_succeeded" },
    { "msetnx", "request_policy:multi_shard response_policy:agg_min" },
    { "object|idletime", "nondeterministic_output" },
    { "object|encoding", "nondeterministic_output" },
    { "object|freq", "nondeterministic_output" },
    { "object|refcount", "nondeterministic_output" },
    { "ping", "request_policy:all_shards response_policy:all_succeeded" },
    { "pttl", "nondeterministic_output" },
    { "randomkey", "request_policy:all_shards nondeterministic_output" },
    { "scan", "nondeterministic_output request_policy:special" },
    { "sdiff", "nondeterministic_output_order" },
    { "sinter", "nondeterministic_output_order" },
    { "slowlog|reset", "request_policy:all_nodes response_policy:all_succeeded" },
    { "slowlog|get", "request_policy:all_nodes nondeterministic_output" },
    { "slowlog|len", "request_policy:all_nodes response_policy:agg_sum nondeterministic_output" },
    { "smembers", "nondeterministic_output_order" },
    { "spop", "nondeterministic_output" },
    { "srandmember", "nondeterministic_output" },
    { "sscan", "nondeterministic_output" },
    { "sunion", "nondeterministic_output_order" },
    { "time", "nondeterministic_output" },
    { "touch", "request_policy:multi_shard response_policy:agg_sum" },
    { "ttl", "nondeterministic_output" },
    { "unlink", "request_policy:multi_shard response_policy:agg_sum" },
    { "wait", "request_policy:all_shards response_policy:agg_min" },
    { "xadd", "nondeterministic_output" },
    { "xautoclaim", "nondeterministic_output" },
    { "xclaim", "nondeterministic_output" },
    { "xinfo|consumers", "nondeterministic_output" },
    { "xpending", "nondeterministic_output" },
    { "xtrim", "nondeterministic_output" },
    { "zrandmember", "nondeterministic_output" },
    { "zscan", "nondeterministic_output" },
};


static void
store_reply_tips(store_client_t *c, const char *name)
{
    size_t       i, n = 0;
    const char  *p, *q;

    for (i = 0; i < sizeof(store_cmd_tips) / sizeof(store_cmd_tips[0]); i++) {
        if (strcmp(store_cmd_tips[i].name, name) == 0) {
            break;
        }
    }
    /* A set under RESP3, as Redis's addReplyCommandTips. */
    if (i == sizeof(store_cmd_tips) / sizeof(store_cmd_tips[0])) {
        store_reply_set(&c->r, 0);
        return;
    }
    for (p = store_cmd_tips[i].tips; p != NULL; p = strchr(p + 1, ' ')) {
        n++;
    }
    store_reply_set(&c->r, n);
    for (p = store_cmd_tips[i].tips; *p != '\0'; p = q) {
        q = strchr(p, ' ');
        if (q == NULL) {
            q = p + strlen(p);
        }
        store_reply_bulk(&c->r, p, (size_t) (q - p));
        while (*q == ' ') {
            q++;
        }
    }
}


static void
store_reply_command_info(store_client_t *c, const store_cmd_t *cmd)
{
    size_t       nflags = 0, i, nacl = 0;
    const char  *p, *q;
    int          skip_slowlog;

    store_reply_array(&c->r, 10);
    store_reply_str(c, cmd->base.name);
    store_reply_int(&c->r, store_cmd_arity(cmd));
    for (i = 0; i < sizeof(store_cmd_flag_names)
                    / sizeof(store_cmd_flag_names[0]); i++)
    {
        if (cmd->base.flags & store_cmd_flag_names[i].flag) {
            nflags++;
        }
    }
    /* EXEC is skip_slowlog (store_client_call skips it by name: the
     * contract has no flag for it); Redis lists it after skip_monitor. */
    skip_slowlog = strcmp(cmd->base.name, "exec") == 0;
    store_reply_set(&c->r, nflags + (size_t) skip_slowlog);
    for (i = 0; i < sizeof(store_cmd_flag_names)
                    / sizeof(store_cmd_flag_names[0]); i++)
    {
        if (cmd->base.flags & store_cmd_flag_names[i].flag) {
            store_reply_simple(&c->r, store_cmd_flag_names[i].name,
                               strlen(store_cmd_flag_names[i].name));
        }
        if (skip_slowlog
            && store_cmd_flag_names[i].flag == STORE_CMD_SKIP_MONITOR)
        {
            store_reply_simple(&c->r, "skip_slowlog", 12);
        }
    }
    store_reply_int(&c->r, cmd->keys.first);
    store_reply_int(&c->r, cmd->keys.last);
    store_reply_int(&c->r, cmd->keys.step);
    for (p = cmd->acl; store_acl_word(&p, &q); p = q) {
        nacl++;
    }
    store_reply_set(&c->r, nacl);
    for (p = cmd->acl; store_acl_word(&p, &q); p = q) {
        store_reply_simple(&c->r, p, (size_t) (q - p));
    }
    store_reply_tips(c, cmd->base.name);
    store_reply_set(&c->r, 0);            /* key specs (a set, RESP3) */
    /* Redis: a container's subcommands are an array, a leaf's none an
     * empty set (they differ under RESP3). */
    if (cmd->base.flags & STORE_CMD_SUBCMDS) {
        store_reply_subcommands(c, cmd);
    } else {
        store_reply_set(&c->r, 0);
    }
}


/* Top-level commands (not "parent|sub"). */
static size_t
store_cmd_toplevel_count(const store_t *st)
{
    size_t i, n = 0;

    for (i = 0; i < st->ncmds; i++) {
        if (strchr(st->cmd_entries[i].base.name, '|') == NULL) {
            n++;
        }
    }
    return n;
}


static void
store_cmd_command(store_client_t *c)
{
    store_t *st = c->st;
    size_t   i;

    if (c->argc > 1) {
        store_dispatch_subcommand(c, c->cmd);
        return;
    }
    store_reply_array(&c->r, store_cmd_toplevel_count(st));
    for (i = 0; i < st->ncmds; i++) {
        if (strchr(st->cmd_entries[i].base.name, '|') == NULL) {
            store_reply_command_info(c, &st->cmd_entries[i]);
        }
    }
}


static void
store_cmd_command_count(store_client_t *c)
{
    store_reply_int(&c->r, (long long) store_cmd_toplevel_count(c->st));
}


static const store_cmd_t *
store_cmd_by_name(store_t *st, const ob_str_t *name)
{
    const ob_cmd_t *cmd = ob_cmd_find(&st->cmds, name->data, name->len);

    if (cmd == NULL) {
        return NULL;
    }
    return (const store_cmd_t *) cmd;
}


static void
store_cmd_command_info(store_client_t *c)
{
    const store_cmd_t *cmd;
    size_t             i;

    if (c->argc == 2) {
        c->argc = 1;
        store_cmd_command(c);
        return;
    }
    store_reply_array(&c->r, c->argc - 2);
    for (i = 2; i < c->argc; i++) {
        cmd = store_cmd_by_name(c->st, &c->argv[i]);
        if (cmd == NULL) {
            store_reply_null(&c->r);
        } else {
            store_reply_command_info(c, cmd);
        }
    }
}


/* COMMAND DOCS: onebox carries no documentation text, so every command
 * is left out, as Redis leaves out unknown names; redis-cli then uses its
 * built-in help. */
static void
store_cmd_command_docs(store_client_t *c)
{
    store_reply_map(&c->r, 0);
}


/* Whether the command's ACL categories ("@read @fast") name `cat`
 * (without its "@", any case). */
static int
store_cmd_in_category(const store_cmd_t *cmd, const ob_str_t *cat)
{
    const char *p, *q;

    for (p = cmd->acl; p != NULL && *p != '\0'; p = q) {
        while (*p == ' ') {
            p++;
        }
        q = p;
        while (*q != '\0' && *q != ' ') {
            q++;
        }
        if (*p == '@' && (size_t) (q - p - 1) == cat->len
            && strncasecmp(p + 1, (const char *) cat->data, cat->len) == 0)
        {
            return 1;
        }
    }
    return 0;
}


static void
store_cmd_command_list(store_client_t *c)
{
    store_t *st = c->st;
    size_t   i, n = 0;
    int      pass;
    const ob_str_t *pattern = NULL, *aclcat = NULL;
    int             module = 0;

    if (c->argc == 5 && store_arg_is(&c->argv[2], "FILTERBY")
        && store_arg_is(&c->argv[3], "PATTERN"))
    {
        pattern = &c->argv[4];
    } else if (c->argc == 5 && store_arg_is(&c->argv[2], "FILTERBY")
               && store_arg_is(&c->argv[3], "ACLCAT"))
    {
        aclcat = &c->argv[4];
    } else if (c->argc == 5 && store_arg_is(&c->argv[2], "FILTERBY")
               && store_arg_is(&c->argv[3], "MODULE"))
    {
        module = 1;             /* no modules: nothing is listed */
    } else if (c->argc != 2) {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    for (pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            store_reply_array(&c->r, n);
        }
        for (i = 0; i < st->ncmds; i++) {
            const char *name = st->cmd_entries[i].base.name;

            if (st->cmd_entries[i].base.flags & STORE_CMD_SUBCMDS) {
                /* containers are listed by their subcommands too */
            }
            if (module
                || (pattern != NULL
                    && !store_glob_match((const char *) pattern->data,
                                         pattern->len, name, strlen(name),
                                         1))
                || (aclcat != NULL
                    && !store_cmd_in_category(&st->cmd_entries[i], aclcat)))
            {
                continue;
            }
            if (pass == 0) {
                n++;
            } else {
                store_reply_str(c, name);
            }
        }
    }
}


/*
 * Keys of the commands whose keys move (COMMAND GETKEYS), found as
 * Redis's getkeys procs find them: after a numkeys argument (ZUNIONSTORE's
 * destination first), SORT's STORE target, the first half of what follows
 * XREAD's STREAMS.  Bad counts: Redis's "Invalid arguments".
 */
static void
store_getkeys_movable(store_client_t *c, const store_cmd_t *cmd,
                      const ob_str_t *argv, size_t argc)
{
    static const struct {
        const char  *name;
        int          numkeys;      /* index of numkeys; 0: other rule */
        int          dest;         /* a destination key before them */
    } rules[] = {
        { "zunionstore", 2, 1 }, { "zinterstore", 2, 1 },
        { "zdiffstore", 2, 1 }, { "zunion", 1, 0 }, { "zinter", 1, 0 },
        { "zdiff", 1, 0 }, { "zintercard", 1, 0 }, { "sintercard", 1, 0 },
        { "lmpop", 1, 0 }, { "zmpop", 1, 0 }, { "blmpop", 2, 0 },
        { "bzmpop", 2, 0 }, { "sort", 0, 0 }, { "sort_ro", 0, 0 },
        { "xread", 0, 0 }, { "xreadgroup", 0, 0 }
    };
    const char  *name = cmd->base.name;
    size_t       r, i, n = 0, from = 0, count = 0, store_at = 0;
    long long    numkeys;

    for (r = 0; r < sizeof(rules) / sizeof(rules[0]); r++) {
        if (strcmp(rules[r].name, name) == 0) {
            break;
        }
    }
    if (r == sizeof(rules) / sizeof(rules[0])) {
        store_add_err(c, "ERR The command has no key arguments");
        return;
    }
    if (rules[r].numkeys > 0) {
        if ((size_t) rules[r].numkeys >= argc
            || store_parse_ll(&argv[rules[r].numkeys], &numkeys) != OB_OK
            || numkeys <= 0
            || (size_t) numkeys > argc - (size_t) rules[r].numkeys - 1)
        {
            store_add_err(c, "ERR Invalid arguments specified for command");
            return;
        }
        from = (size_t) rules[r].numkeys + 1;
        count = (size_t) numkeys;
        n = count + (rules[r].dest ? 1 : 0);
        store_reply_array(&c->r, n);
        if (rules[r].dest) {
            store_reply_bulk(&c->r, argv[rules[r].dest].data,
                             argv[rules[r].dest].len);
        }
        for (i = 0; i < count; i++) {
            store_reply_bulk(&c->r, argv[from + i].data, argv[from + i].len);
        }
        return;
    }
    if (name[0] == 's') {
        /* SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC] [ALPHA]
         * [STORE dst]: the key, and the last STORE's target */
        for (i = 2; i < argc; i++) {
            if (store_arg_is(&argv[i], "LIMIT")) {
                i += 2;
            } else if (store_arg_is(&argv[i], "GET")
                       || store_arg_is(&argv[i], "BY"))
            {
                i += 1;
            } else if (store_arg_is(&argv[i], "STORE") && i + 1 < argc) {
                store_at = i + 1;
                i += 1;
            }
        }
        store_reply_array(&c->r, store_at ? 2 : 1);
        store_reply_bulk(&c->r, argv[1].data, argv[1].len);
        if (store_at) {
            store_reply_bulk(&c->r, argv[store_at].data, argv[store_at].len);
        }
        return;
    }
    /* XREAD / XREADGROUP ... STREAMS k1 k2 id1 id2 */
    for (i = 1; i < argc; i++) {
        if (store_arg_is(&argv[i], "STREAMS")) {
            from = i + 1;
            break;
        }
    }
    /* Redis's key spec: half of what follows, rounded down. */
    count = from == 0 ? 0 : (argc - from) / 2;
    if (count == 0) {
        store_add_err(c, "ERR Invalid arguments specified for command");
        return;
    }
    store_reply_array(&c->r, count);
    for (i = 0; i < count; i++) {
        store_reply_bulk(&c->r, argv[from + i].data, argv[from + i].len);
    }
}


static void
store_cmd_command_getkeys(store_client_t *c)
{
    const store_cmd_t *cmd = store_cmd_by_name(c->st, &c->argv[2]);
    size_t             argc = c->argc - 2, i, n = 0;
    long long          first, last, step;

    if (cmd == NULL) {
        store_add_err(c, "ERR Invalid command specified");
        return;
    }
    /* Redis checks for keys before the arity. */
    if (cmd->keys.first == 0 && !(cmd->base.flags & STORE_CMD_MOVABLEKEYS)) {
        store_add_err(c, "ERR The command has no key arguments");
        return;
    }
    if (!ob_cmd_arity_is_ok(&cmd->base, argc)) {
        store_add_err(c, "ERR Invalid number of arguments specified for "
                      "command");
        return;
    }
    if (cmd->base.flags & STORE_CMD_MOVABLEKEYS) {
        store_getkeys_movable(c, cmd, c->argv + 2, argc);
        return;
    }
    first = cmd->keys.first;
    last = cmd->keys.last < 0 ? (long long) argc + cmd->keys.last
                              : cmd->keys.last;
    step = cmd->keys.step > 0 ? cmd->keys.step : 1;
    for (i = (size_t) first; (long long) i <= last && i < argc;
         i += (size_t) step)
    {
        n++;
    }
    store_reply_array(&c->r, n);
    for (i = (size_t) first; (long long) i <= last && i < argc;
         i += (size_t) step)
    {
        store_reply_bulk(&c->r, c->argv[i + 2].data, c->argv[i + 2].len);
    }
}


#define CMD_SUB(sub, amin, amax, fn) \
    { .base = { .name = "command|" sub, .arity_min = amin, \
                .arity_max = amax, \
                .flags = STORE_CMD_LOADING | STORE_CMD_STALE }, \
      .handler = fn, .acl = "@slow @connection" }

const store_cmd_t store_cmds_command[] = {
    { .base = { .name = "command", .arity_min = 1, .arity_max = -1,
                .flags = STORE_CMD_LOADING | STORE_CMD_STALE },
      .handler = store_cmd_command, .acl = "@slow @connection" },
    CMD_SUB("help", 2, 2, store_cmd_command_help),
    CMD_SUB("count", 2, 2, store_cmd_command_count),
    CMD_SUB("info", 2, -1, store_cmd_command_info),
    CMD_SUB("docs", 2, -1, store_cmd_command_docs),
    CMD_SUB("list", 2, -1, store_cmd_command_list),
    CMD_SUB("getkeys", 4, -1, store_cmd_command_getkeys),
    { .base = { .name = NULL } }
};
