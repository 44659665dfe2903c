/*
 * store_propagate.c: what every write sends to the AOF and to the
 * replicas, Redis 7.0's call() -> alsoPropagate() -> propagatePendingCommands().
 *
 * A call (store_client_call) opens a frame; calls nest only under EXEC
 * (and a blocked client's re-run, which is a call of its own).  While the
 * outermost call runs, everything it will propagate is gathered in one
 * batch, in the order it happened:
 *
 *   - the DEL of a key that expired (or was evicted) when a handler
 *     looked it up (store_propagate_del from the keyspace's on_del);
 *   - what a handler asked for instead of its own arguments
 *     (store_propagate_cmd: EXPIRE -> PEXPIREAT, SPOP -> SREM ...);
 *   - otherwise, if the dirty counter moved during the call, the command
 *     as received, argv[0] in the client's own letter case.
 *
 * When the outermost call ends the batch goes to the sinks; more than one
 * command (counting only those a sink takes: store_prop_should) is
 * wrapped in MULTI ... EXEC, the MULTI in the first command's
 * db and the EXEC in the last one's, so that the sinks' SELECT comes
 * before the MULTI and never after the EXEC (what a real 7.0.15 writes:
 * "SELECT 2, MULTI, set x 1, SELECT 3, set y 1, EXEC").  A single command
 * is atomic by itself and goes alone, even when EXEC ran it.  EXEC itself
 * is never propagated: its frame had children, whose commands stand for
 * it.
 *
 * Outside any call (the active expire cycle in the cron, eviction before
 * a command runs) a deletion is fed at once.
 *
 * The sinks: store_aof_feed (the AOF, which checks whether it is on) and
 * store_repl_feed (the backlog and the replicas).  A replica never feeds
 * its own replicas from here (Redis's replicationFeedSlaves returns when
 * masterhost is set): they get its master's stream as it came, so a
 * command run from the master's stream, or anything else a replica does,
 * reaches its AOF only.  PUBLISH is the reverse: Redis forces it to the
 * replicas (so that their subscribers hear it) but never writes it to the
 * AOF.  The AOF loader's client propagates nothing: replaying the file
 * must not append it to itself.
 *
 * Memory: each gathered command is one malloc (the argv array and the
 * bytes after it), freed when the batch is flushed; a batch holds what
 * one command or one EXEC wrote, so it is bounded by the client's own
 * request (and the number of keys it made expire).
 */
#include "store_srv.h"
#include "store_persist.h"

#include <stdlib.h>
#include <string.h>


/* Where one propagated command goes. */
#define STORE_PROP_AOF   0x01
#define STORE_PROP_REPL  0x02
#define STORE_PROP_ALL   (STORE_PROP_AOF | STORE_PROP_REPL)

/* A frame's flags: what the handler of that call did. */
#define STORE_PROP_F_REWRITTEN  0x01   /* store_propagate_cmd was called */
#define STORE_PROP_F_NOTHING    0x02   /* store_propagate_nothing */
#define STORE_PROP_F_CHILDREN   0x04   /* it ran calls of its own (EXEC) */
#define STORE_PROP_F_LOADING    0x08   /* the AOF loader's: propagate none */

/* EXEC is the only command that nests calls, one level; a blocked
 * client's re-run may start inside it.  Deeper frames share the last. */
#define STORE_PROP_MAX_DEPTH    8


typedef struct {
    int        dbid;
    unsigned   target;      /* STORE_PROP_AOF | STORE_PROP_REPL */
    int        counts;      /* for the MULTI/EXEC decision (see flush) */
    size_t     argc;
    ob_str_t  *argv;        /* one malloc with the bytes after the array */
} store_prop_op_t;


struct store_prop_s {
    int               depth;                 /* calls in progress */
    unsigned          frames[STORE_PROP_MAX_DEPTH];
    store_prop_op_t  *ops;                   /* the batch */
    size_t            nops;
    size_t            cap;
};


static struct store_prop_s *
store_prop_get(store_t *st)
{
    if (st->prop == NULL) {
        st->prop = calloc(1, sizeof(*st->prop));
        if (st->prop == NULL) {
            ob_log_warning(&st->cy->log, "store: out of memory for the "
                           "propagation state: writes are not propagated");
        }
    }
    return st->prop;
}


static unsigned *
store_prop_frame(struct store_prop_s *p)
{
    int  i = p->depth < STORE_PROP_MAX_DEPTH ? p->depth : STORE_PROP_MAX_DEPTH;

    return &p->frames[i - 1];
}


/* Where the commands of client c (NULL: the server itself) go. */
static unsigned
store_prop_targets(store_t *st, const store_client_t *c)
{
    unsigned  t = STORE_PROP_ALL;

    /* A sink that would drop the command gets none: with the AOF off and
     * nobody replicating, a write copies nothing. */
    if (!store_aof_wants_feed(st)) {
        t &= ~STORE_PROP_AOF;
    }
    if (!store_repl_streaming(st) || store_replica_is_replica(st)
        || (c != NULL && (c->flags & STORE_CLIENT_MASTER)))
    {
        t &= ~STORE_PROP_REPL;
    }
    return t;
}


static void
store_prop_feed(store_t *st, int dbid, unsigned target, const ob_str_t *argv,
                size_t argc)
{
    if (target & STORE_PROP_AOF) {
        store_aof_feed(st, dbid, argv, argc);
    }
    if (target & STORE_PROP_REPL) {
        store_repl_feed(st, dbid, argv, argc);
    }
}


/*
 * Redis's shouldPropagate: alsoPropagate drops a command that no sink
 * would take (the AOF off, and no backlog nor replica), so it does not
 * count towards the MULTI/EXEC wrapping either; "set, publish" in an EXEC
 * is written without MULTI when nobody replicates.  store_prop_targets
 * already leaves out the sinks that would not take it.
 */
static int
store_prop_should(store_t *st, unsigned target)
{
    (void) st;
    return target != 0;
}


/* Appends a copy of argv to the batch.  A failed allocation loses that
 * command (logged): the AOF and the replicas then miss one write, which
 * is what Redis's own out-of-memory abort would avoid by dying. */
static void
store_prop_add(store_t *st, struct store_prop_s *p, int dbid, unsigned target,
               const ob_str_t *argv, size_t argc)
{
    store_prop_op_t  *op, *ops;
    size_t            i, bytes, cap;
    uint8_t          *dst;

    if (target == 0 || argc == 0) {
        return;
    }
    if (p->nops == p->cap) {
        cap = p->cap ? p->cap * 2 : 8;
        ops = realloc(p->ops, cap * sizeof(*ops));
        if (ops == NULL) {
            goto oom;
        }
        p->ops = ops;
        p->cap = cap;
    }
    bytes = argc * sizeof(ob_str_t);
    for (i = 0; i < argc; i++) {
        bytes += argv[i].len;
    }
    op = &p->ops[p->nops];
    op->argv = malloc(bytes ? bytes : 1);
    if (op->argv == NULL) {
        goto oom;
    }
    dst = (uint8_t *) (op->argv + argc);
    for (i = 0; i < argc; i++) {
        if (argv[i].len) {
            memcpy(dst, argv[i].data, argv[i].len);
        }
        op->argv[i].data = dst;
        op->argv[i].len = argv[i].len;
        dst += argv[i].len;
    }
    op->argc = argc;
    op->dbid = dbid;
    op->target = target;
    op->counts = store_prop_should(st, target);
    p->nops++;
    return;

oom:
    ob_log_warning(&st->cy->log, "store: out of memory while propagating a "
                   "command: the AOF and the replicas miss it");
}


/* The batch goes to the sinks (Redis's propagatePendingCommands). */
static void
store_prop_flush(store_t *st, struct store_prop_s *p)
{
    static const ob_str_t  multi = { 5, (const uint8_t *) "MULTI" };
    static const ob_str_t  exec = { 4, (const uint8_t *) "EXEC" };
    size_t                 i, n;
    unsigned               wrap;

    if (p->nops == 0) {
        return;
    }
    /* MULTI and EXEC go to every sink, as Redis's (an EXEC of two
     * PUBLISHes leaves an empty MULTI/EXEC in the AOF). */
    for (i = 0, n = 0; i < p->nops; i++) {
        n += (size_t) p->ops[i].counts;
    }
    wrap = n > 1 ? store_prop_targets(st, NULL) : 0;
    if (wrap) {
        store_prop_feed(st, p->ops[0].dbid, wrap, &multi, 1);
    }
    for (i = 0; i < p->nops; i++) {
        store_prop_feed(st, p->ops[i].dbid, p->ops[i].target, p->ops[i].argv,
                        p->ops[i].argc);
    }
    if (wrap) {
        store_prop_feed(st, p->ops[p->nops - 1].dbid, wrap, &exec, 1);
    }
    for (i = 0; i < p->nops; i++) {
        free(p->ops[i].argv);
    }
    p->nops = 0;
}


static int
store_prop_is_publish(const store_client_t *c)
{
    return c->cmd != NULL
           && (strcmp(c->cmd->base.name, "publish") == 0
               || strcmp(c->cmd->base.name, "spublish") == 0);
}


void
store_propagate_begin(store_client_t *c)
{
    struct store_prop_s  *p = store_prop_get(c->st);
    unsigned              inherit;

    if (p == NULL) {
        return;
    }
    inherit = p->depth > 0 ? (*store_prop_frame(p) & STORE_PROP_F_LOADING) : 0;
    p->depth++;
    *store_prop_frame(p) = inherit
        | ((c->flags & STORE_CLIENT_LOADING) ? STORE_PROP_F_LOADING : 0);
}


void
store_propagate_end(store_client_t *c, uint64_t dirty_before)
{
    store_t              *st = c->st;
    struct store_prop_s  *p = st->prop;
    unsigned              f;
    size_t                i;

    if (p == NULL || p->depth == 0) {
        return;
    }
    f = *store_prop_frame(p);
    if (f & STORE_PROP_F_LOADING) {
        /* The loader replays the file: nothing of it (nor the DELs of
         * what it found expired) goes back into the file. */
        p->depth--;
        if (p->depth == 0) {
            for (i = 0; i < p->nops; i++) {
                free(p->ops[i].argv);
            }
            p->nops = 0;
        }
        return;
    }
    if (!(f & (STORE_PROP_F_REWRITTEN | STORE_PROP_F_NOTHING
               | STORE_PROP_F_CHILDREN)))
    {
        if (st->dirty != dirty_before) {
            store_prop_add(st, p, c->dbid, store_prop_targets(st, c),
                           c->argv, c->argc);
        } else if (store_prop_is_publish(c)) {
            store_prop_add(st, p, c->dbid,
                           store_prop_targets(st, c) & STORE_PROP_REPL,
                           c->argv, c->argc);
        }
    }
    p->depth--;
    if (p->depth > 0) {
        *store_prop_frame(p) |= STORE_PROP_F_CHILDREN;
        return;
    }
    store_prop_flush(st, p);
}


void
store_propagate_del(store_t *st, int dbid, const void *key, size_t nkey)
{
    struct store_prop_s  *p = store_prop_get(st);
    ob_str_t              argv[2];

    argv[0].data = (const uint8_t *) "DEL";
    argv[0].len = 3;
    argv[1].data = key;
    argv[1].len = nkey;
    if (p == NULL || p->depth == 0) {
        store_prop_feed(st, dbid, store_prop_targets(st, NULL), argv, 2);
        return;
    }
    /* Within a call it joins the batch, before the command that found
     * the key expired (Redis 7.0: "MULTI, DEL k, incr k, EXEC"). */
    store_prop_add(st, p, dbid, store_prop_targets(st, NULL), argv, 2);
}


void
store_propagate_now(store_t *st, int dbid, const ob_str_t *argv, size_t argc)
{
    store_prop_feed(st, dbid, store_prop_targets(st, NULL), argv, argc);
}


void
store_propagate_cmd(store_client_t *c, const ob_str_t *argv, size_t argc)
{
    store_t              *st = c->st;
    struct store_prop_s  *p = store_prop_get(st);

    if (p == NULL || p->depth == 0) {
        store_prop_feed(st, c->dbid, store_prop_targets(st, c), argv, argc);
        return;
    }
    *store_prop_frame(p) |= STORE_PROP_F_REWRITTEN;
    store_prop_add(st, p, c->dbid, store_prop_targets(st, c), argv, argc);
}


void
store_propagate_nothing(store_client_t *c)
{
    struct store_prop_s  *p = c->st->prop;

    if (p != NULL && p->depth > 0) {
        *store_prop_frame(p) |= STORE_PROP_F_NOTHING;
    }
}


/* The lead calls this from store_fini: the batch is empty between calls,
 * so only the array and the struct remain. */
void
store_propagate_fini(store_t *st)
{
    struct store_prop_s  *p = st->prop;
    size_t                i;

    if (p == NULL) {
        return;
    }
    for (i = 0; i < p->nops; i++) {
        free(p->ops[i].argv);
    }
    free(p->ops);
    free(p);
    st->prop = NULL;
}
