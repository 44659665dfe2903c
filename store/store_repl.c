/*
 * store_repl.c: replication, master side (Redis 7.0's replication.c, the
 * half a master runs): the replication ids and offset, the backlog, the
 * replicas' links and the stream they get, WAIT, ROLE, INFO replication.
 * How a client becomes a replica (REPLCONF, PSYNC, SYNC, the RDB child
 * and the transfer) is store_repl_sync.c; both share store_repl_int.h.
 *
 * A replica is an ordinary store client whose PSYNC (or SYNC) turned it
 * into a link.  From then on its replies are off (its later input is
 * REPLCONF ACK, which answers nothing) and what it is sent is written to
 * its connection directly, never through the reply writer:
 *
 *   REPLCONF listening-port / capa     -> NONE (a record, not a replica yet)
 *   PSYNC id off, in the backlog       -> ONLINE  [+CONTINUE, backlog bytes]
 *   PSYNC ? -1 / SYNC                  -> WAIT_BGSAVE_START
 *   no child running: fork             -> WAIT_BGSAVE_END  [+FULLRESYNC id off]
 *       (a replica that arrives while our child runs joins it: it copies
 *        the stream buffered by one that waits, and the same offset)
 *   the child wrote the RDB            -> SEND_BULK  [$len, then the file in
 *                                          chunks as the socket drains]
 *   the whole file is queued           -> ONLINE  [the buffered stream]
 *
 * While a replica waits for its RDB, the stream fed meanwhile is kept in
 * its own evbuffer (`pending`), because it must follow the file on the
 * wire.  Every replica's output is bounded as Redis's
 * client-output-buffer-limit replica 256mb 64mb 60: past 256 MB, or past
 * 64 MB for 60 seconds, the replica is dropped (it will resync).
 *
 * Offsets: every byte fed (commands, SELECTs, PINGs, GETACKs) advances
 * master_repl_offset, but only while a backlog exists; the backlog is
 * created when the first replica asks to sync (with a fresh replid, as
 * Redis does) and freed after repl-backlog-ttl (3600 s) without replicas.
 * After a full resync the stream's db is forgotten, so the next command
 * is preceded by a SELECT; a partial resync keeps it.
 *
 * Differences from Redis, on purpose: disk-based sync only (a replica
 * that offers capa eof gets $<len> as well, which it accepts); the RDB
 * for replicas is a temporary file in `dir`, not dump.rdb (so a sync does
 * not count as a save).
 */
#include "store_repl_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "ob_log.h"


/* 40 random hex characters (Redis's getRandomHexChars), from
 * /dev/urandom, else from the store's own random stream. */
void
store_repl_random_id(store_t *st, char *out /* [41] */)
{
    static const char  hex[] = "0123456789abcdef";
    unsigned char      raw[20];
    ssize_t            n = -1;
    int                fd;
    size_t             i;

    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, raw, sizeof(raw));
        close(fd);
    }
    if (n != (ssize_t) sizeof(raw)) {
        for (i = 0; i < sizeof(raw); i++) {
            st->rng += 0x9e3779b97f4a7c15ULL;
            raw[i] = (unsigned char) ((st->rng ^ (st->rng >> 31)) >> 17);
        }
    }
    for (i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[40] = '\0';
}


void
store_repl_clear_id2(store_repl_t *r)
{
    memset(r->replid2, '0', 40);
    r->replid2[40] = '\0';
    r->second_repl_offset = -1;
}


/* "ip:listening-port", the name Redis gives a replica in its logs. */
const char *
store_repl_name(const store_repl_link_t *l, char *buf, size_t size)
{
    snprintf(buf, size, "%s:%lld", l->ip, l->port);
    return buf;
}


/* ---- the links ------------------------------------------------------------ */

store_repl_link_t *
store_repl_link_find(store_repl_t *r, const store_client_t *c)
{
    size_t i;

    for (i = 0; i < r->nlinks; i++) {
        if (r->links[i]->c == c) {
            return r->links[i];
        }
    }
    return NULL;
}


/* The client's record, made on its first REPLCONF or SYNC; NULL on
 * malloc failure. */
store_repl_link_t *
store_repl_link_get(store_t *st, store_client_t *c)
{
    store_repl_t       *r = st->repl;
    store_repl_link_t  *l, **grown;
    const char         *peer, *colon;
    size_t              n;

    l = store_repl_link_find(r, c);
    if (l != NULL) {
        return l;
    }
    if (r->nlinks == r->links_cap) {
        size_t cap = r->links_cap ? r->links_cap * 2 : 8;

        grown = realloc(r->links, cap * sizeof(*grown));
        if (grown == NULL) {
            return NULL;
        }
        r->links = grown;
        r->links_cap = cap;
    }
    l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return NULL;
    }
    l->c = c;
    l->rdb_fd = -1;
    /* The peer's address without its port ("127.0.0.1:51234"); an IPv6
     * peer may be written "[::1]:51234". */
    peer = store_client_peer(c);
    colon = strrchr(peer, ':');
    n = colon != NULL ? (size_t) (colon - peer) : strlen(peer);
    if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']') {
        peer++;
        n -= 2;
    }
    if (n > STORE_REPL_IP_MAX) {
        n = STORE_REPL_IP_MAX;
    }
    memcpy(l->ip, peer, n);
    l->ip[n] = '\0';
    r->links[r->nlinks++] = l;
    return l;
}


static void
store_repl_link_free(store_repl_link_t *l)
{
    if (l->pending != NULL) {
        evbuffer_free(l->pending);
    }
    if (l->rdb_fd >= 0) {
        close(l->rdb_fd);
    }
    free(l);
}


/* Drops a replica: its connection closes at once (what it was owed is
 * lost; it will resync), and it gets nothing more meanwhile. */
void
store_repl_link_drop(store_t *st, store_repl_link_t *l, const char *why)
{
    char name[STORE_REPL_IP_MAX + 32];

    if (l->closing) {
        return;
    }
    ob_log_warning(&st->cy->log, "Disconnecting replica %s: %s",
                   store_repl_name(l, name, sizeof(name)), why);
    l->closing = 1;
    if (l->c->conn != NULL) {
        ob_conn_close(l->c->conn, 0);
    }
}


/* Writes to a replica's connection, bypassing its (switched off) reply
 * writer.  Not counted in total_net_output_bytes: Redis counts the
 * replication stream apart (total_net_repl_output_bytes). */
int
store_repl_link_write(store_repl_link_t *l, const void *p, size_t len)
{
    if (l->closing || l->c->conn == NULL) {
        return OB_ERR;
    }
    return ob_conn_add(l->c->conn, p, len);
}


int
store_repl_link_write_cb(void *arg, const void *p, size_t len)
{
    return store_repl_link_write(arg, p, len);
}


/* Redis's client-output-buffer-limit replica: over the hard limit, or
 * over the soft one for too long, the replica goes. */
void
store_repl_check_limits(store_t *st, store_repl_link_t *l)
{
    long long used;

    if (l->closing || l->c->conn == NULL) {
        return;
    }
    used = (long long) ob_conn_output_pending(l->c->conn);
    if (l->pending != NULL) {
        used += (long long) evbuffer_get_length(l->pending);
    }
    if (used > STORE_REPL_OUT_HARD) {
        store_repl_link_drop(st, l, "over the output buffer hard limit "
                             "(client-output-buffer-limit replica)");
        return;
    }
    if (used <= STORE_REPL_OUT_SOFT) {
        l->soft_since_ms = 0;
        return;
    }
    if (l->soft_since_ms == 0) {
        l->soft_since_ms = st->now_ms;
    } else if (st->now_ms - l->soft_since_ms
               > STORE_REPL_OUT_SOFT_SECS * 1000)
    {
        store_repl_link_drop(st, l, "over the output buffer soft limit "
                             "for too long (client-output-buffer-limit "
                             "replica)");
    }
}


void
store_repl_schedule_flush(store_repl_t *r)
{
    if (!r->flush_pending && r->flush_ev != NULL) {
        r->flush_pending = 1;
        event_active(r->flush_ev, EV_TIMEOUT, 1);
    }
}


/* ---- the stream ----------------------------------------------------------- */

/* Bytes of the stream: the offset, the backlog, every replica past
 * WAIT_BGSAVE_START (those that wait for their RDB keep them). */
static void
store_repl_feed_bytes(store_t *st, const void *p, size_t len)
{
    store_repl_t  *r = st->repl;
    size_t         i;

    r->master_repl_offset += (long long) len;
    if (r->backlog != NULL) {
        store_backlog_feed(r->backlog, p, len);
    }
    for (i = 0; i < r->nlinks; i++) {
        store_repl_link_t *l = r->links[i];

        if (l->closing) {
            continue;
        }
        switch (l->state) {
        case STORE_REPL_WAIT_BGSAVE_END:
        case STORE_REPL_SEND_BULK:
            if (evbuffer_add(l->pending, p, len) != 0) {
                store_repl_link_drop(st, l, "out of memory");
                continue;
            }
            store_repl_check_limits(st, l);
            break;
        case STORE_REPL_ONLINE:
            if (store_repl_link_write(l, p, len) != OB_OK) {
                l->closing = 1;         /* the core closes it */
                continue;
            }
            store_repl_check_limits(st, l);
            store_repl_schedule_flush(r);
            break;
        default:
            break;
        }
    }
}


/* argv as a RESP array into r->enc; returns its length, 0 on OOM. */
static size_t
store_repl_encode(store_repl_t *r, const ob_str_t *argv, size_t argc)
{
    size_t  need = 32, i, n;
    char   *grown, *p;

    for (i = 0; i < argc; i++) {
        need += argv[i].len + 32;
    }
    if (need > r->enc_cap) {
        grown = realloc(r->enc, need);
        if (grown == NULL) {
            return 0;
        }
        r->enc = grown;
        r->enc_cap = need;
    }
    p = r->enc;
    p += sprintf(p, "*%zu\r\n", argc);
    for (i = 0; i < argc; i++) {
        n = argv[i].len;
        p += sprintf(p, "$%zu\r\n", n);
        if (n > 0) {
            memcpy(p, argv[i].data, n);
        }
        p += n;
        *p++ = '\r';
        *p++ = '\n';
    }
    return (size_t) (p - r->enc);
}


int
store_repl_streaming(const store_t *st)
{
    const store_repl_t *r = st->repl;

    return r != NULL && (r->backlog != NULL || r->nreplicas > 0);
}


/* A command in the stream's current db (PING, REPLCONF GETACK). */
static void
store_repl_feed_here(store_t *st, const ob_str_t *argv, size_t argc)
{
    size_t len = store_repl_encode(st->repl, argv, argc);

    if (len > 0) {
        store_repl_feed_bytes(st, st->repl->enc, len);
    }
}


void
store_repl_feed(store_t *st, int dbid, const ob_str_t *argv, size_t argc)
{
    store_repl_t  *r = st->repl;
    char           num[16];
    ob_str_t       sel[2];

    /* A replica passes its master's stream on as it came
     * (store_repl_feed_raw); its own writes are not replicated. */
    if (!store_repl_streaming(st) || store_replica_is_replica(st)) {
        return;
    }
    if (dbid != r->stream_db) {
        sel[0].data = (const uint8_t *) "SELECT";
        sel[0].len = 6;
        sel[1].data = (const uint8_t *) num;
        sel[1].len = (size_t) snprintf(num, sizeof(num), "%d", dbid);
        store_repl_feed_here(st, sel, 2);
        r->stream_db = dbid;
    }
    store_repl_feed_here(st, argv, argc);
}


int
store_repl_backlog_create(store_t *st)
{
    store_repl_t *r = st->repl;

    store_backlog_free(r->backlog);
    r->backlog = store_backlog_new((size_t) st->repl_backlog_size,
                                   r->master_repl_offset + 1);
    return r->backlog != NULL ? OB_OK : OB_ERR;
}


/*
 * A replica forwards its master's stream untouched, but must know which
 * db that stream is in: a replica of ours that syncs from us gets it in
 * its RDB (AUX repl-stream-db), since the stream that follows says
 * nothing until the master's next SELECT.  The replica side hands us
 * one whole command per call, so a SELECT is recognised by its bytes.
 */
static void
store_repl_note_select(store_repl_t *r, const char *p, size_t len)
{
    static const char  head[] = "*2\r\n$6\r\nselect\r\n$";
    char               tail[32], *end;
    long               n, db;

    if (len < sizeof(head) + 4 || len - (sizeof(head) - 1) >= sizeof(tail)
        || strncasecmp(p, head, sizeof(head) - 1) != 0)
    {
        return;
    }
    memcpy(tail, p + sizeof(head) - 1, len - (sizeof(head) - 1));
    tail[len - (sizeof(head) - 1)] = '\0';
    n = strtol(tail, &end, 10);
    if (n <= 0 || n > 10 || end[0] != '\r' || end[1] != '\n') {
        return;
    }
    db = strtol(end + 2, &end, 10);
    if (end[0] == '\r' && end[1] == '\n' && db >= 0 && db < INT_MAX) {
        r->raw_db = (int) db;
    }
}


void
store_repl_feed_raw(store_t *st, const void *data, size_t len)
{
    store_repl_t *r = st->repl;

    if (r == NULL || len == 0) {
        return;
    }
    store_repl_note_select(r, data, len);
    if (r->backlog == NULL) {
        (void) store_repl_backlog_create(st);
    }
    store_repl_feed_bytes(st, data, len);
}


/* Drops every replica (the dataset or the history changed under them). */
void
store_repl_drop_replicas(store_t *st)
{
    store_repl_t  *r = st->repl;
    size_t         i;

    if (r == NULL) {
        return;
    }
    for (i = 0; i < r->nlinks; i++) {
        if (r->links[i]->state != STORE_REPL_NONE) {
            store_repl_link_drop(st, r->links[i],
                                 "this server's replication changed");
        }
    }
}


void
store_repl_set_history(store_t *st, const char *replid, long long offset)
{
    store_repl_t *r = st->repl;

    if (r == NULL) {
        return;
    }
    store_repl_drop_replicas(st);
    snprintf(r->replid, sizeof(r->replid), "%.40s", replid);
    store_repl_clear_id2(r);
    r->master_repl_offset = offset;
    r->stream_db = -1;
    r->raw_db = 0;
    if (store_repl_backlog_create(st) != OB_OK) {
        ob_log_warning(&st->cy->log, "Can't allocate the replication "
                       "backlog (%lld bytes)", st->repl_backlog_size);
    }
}


/*
 * +CONTINUE with a new id (the master was promoted): the old id becomes
 * the secondary one, valid up to here, and the backlog stays, so that
 * our own replicas, which are dropped to follow the new history, can
 * continue from it (Redis's replicationResurrectProvisionalMaster and
 * the replid2 shift in it).
 */
void
store_repl_adopt_id(store_t *st, const char *replid)
{
    store_repl_t *r = st->repl;

    if (r == NULL) {
        return;
    }
    store_repl_drop_replicas(st);
    memcpy(r->replid2, r->replid, sizeof(r->replid));
    r->second_repl_offset = r->master_repl_offset + 1;
    snprintf(r->replid, sizeof(r->replid), "%.40s", replid);
}


void
store_repl_shift_ids(store_t *st)
{
    store_repl_t *r = st->repl;

    if (r == NULL) {
        return;
    }
    memcpy(r->replid2, r->replid, sizeof(r->replid));
    r->second_repl_offset = r->master_repl_offset + 1;
    store_repl_random_id(st, r->replid);
    /* Our own stream starts here: its db is not known to the replicas. */
    r->stream_db = -1;
    ob_log_notice(&st->cy->log, "Setting secondary replication ID to %s, "
                  "valid up to offset: %lld. New replication ID is %s",
                  r->replid2, r->second_repl_offset, r->replid);
}


const char *
store_repl_id(const store_t *st)
{
    return st->repl != NULL ? st->repl->replid : st->run_id;
}


long long
store_repl_offset(const store_t *st)
{
    return st->repl != NULL ? st->repl->master_repl_offset : 0;
}


/*
 * What a snapshot records of the history (Redis's rdbPopulateSaveInfo):
 * a master that has a backlog, or a replica, writes its replid and
 * offset, so that after a restart its replicas (or it, from its master)
 * can continue with a partial resync.  The stream's db is the one the
 * next command of the stream is in.
 */
int
store_repl_save_info(const store_t *st, int *stream_db)
{
    const store_repl_t *r = st->repl;

    if (r == NULL) {
        return 0;
    }
    if (store_replica_is_replica(st)) {
        *stream_db = r->raw_db >= 0 ? r->raw_db : 0;
        return 1;
    }
    if (r->backlog != NULL) {
        *stream_db = r->stream_db >= 0 ? r->stream_db : 0;
        return 1;
    }
    return 0;
}


/* ---- the flush at the end of a loop pass --------------------------------- */

static void
store_repl_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    store_t       *st = arg;
    store_repl_t  *r = st->repl;
    size_t         i;
    ob_str_t       getack[3] = {
        { .data = (const uint8_t *) "REPLCONF", .len = 8 },
        { .data = (const uint8_t *) "GETACK", .len = 6 },
        { .data = (const uint8_t *) "*", .len = 1 }
    };

    (void) fd;
    (void) what;
    r->flush_pending = 0;
    if (r->get_ack) {
        r->get_ack = 0;
        if (r->nreplicas > 0 && !store_replica_is_replica(st)) {
            store_repl_feed_here(st, getack, 3);
        }
    }
    for (i = 0; i < r->nlinks; i++) {
        store_repl_link_t *l = r->links[i];

        if (l->state == STORE_REPL_ONLINE && !l->closing
            && l->c->conn != NULL)
        {
            ob_conn_flush(l->c->conn);
        }
    }
}


/* ---- WAIT ------------------------------------------------------------------ */

/* Online replicas that acknowledged `offset` (Redis's
 * replicationCountAcksByOffset). */
static long long
store_repl_count_acks(const store_repl_t *r, long long offset)
{
    long long  n = 0;
    size_t     i;

    for (i = 0; i < r->nlinks; i++) {
        const store_repl_link_t *l = r->links[i];

        if (l->state == STORE_REPL_ONLINE && !l->closing
            && l->ack_off >= offset)
        {
            n++;
        }
    }
    return n;
}


static void
store_repl_wait_remove(store_repl_t *r, size_t i)
{
    r->waits[i] = r->waits[--r->nwaits];
}


/* The end of a WAIT (enough ACKs, or the timeout): the count. */
static void
store_repl_wait_reply(store_client_t *c)
{
    store_repl_t  *r = c->st->repl;
    long long      offset = r->master_repl_offset;
    size_t         i;

    for (i = 0; i < r->nwaits; i++) {
        if (r->waits[i].c == c) {
            offset = r->waits[i].offset;
            store_repl_wait_remove(r, i);
            break;
        }
    }
    store_reply_int(&c->r, store_repl_count_acks(r, offset));
}


/* After an ACK: the WAITs now satisfied are answered. */
void
store_repl_serve_waits(store_t *st)
{
    store_repl_t  *r = st->repl;
    size_t         i;

    for (i = 0; i < r->nwaits; ) {
        store_repl_wait_t *w = &r->waits[i];

        if (store_repl_count_acks(r, w->offset) >= w->numreplicas
            && store_block_abort(w->c, 0))
        {
            i = 0;                  /* the reply removed it */
            continue;
        }
        i++;
    }
}


static void
store_cmd_wait(store_client_t *c)
{
    store_t            *st = c->st;
    store_repl_t       *r = st->repl;
    long long           num, offset, acks;
    int64_t             deadline;
    store_repl_wait_t  *grown;
    size_t              i;

    if (store_replica_is_replica(st)) {
        store_add_err(c, "ERR WAIT cannot be used with replica instances. "
                      "Please also note that since Redis 4.0 if a replica "
                      "is configured to be writable (which is not the "
                      "default) writes to replicas are just local and are "
                      "not propagated.");
        return;
    }
    if (store_get_ll_or_reply(c, &c->argv[1], &num, NULL) != OB_OK
        || store_get_timeout_ms_or_reply(c, &c->argv[2], &deadline)
           != OB_OK)
    {
        return;
    }
    /* The offset after the client's own last write (Redis's c->woff):
     * a client that wrote nothing is answered at once. */
    offset = c->ext->woff;
    acks = store_repl_count_acks(r, offset);
    if (acks >= num || (c->flags & (STORE_CLIENT_MULTI
                                    | STORE_CLIENT_IN_EXEC)))
    {
        store_reply_int(&c->r, acks);
        return;
    }
    for (i = 0; i < r->nwaits; i++) {
        if (r->waits[i].c == c) {
            store_repl_wait_remove(r, i);
            break;
        }
    }
    if (r->nwaits == r->waits_cap) {
        size_t cap = r->waits_cap ? r->waits_cap * 2 : 8;

        grown = realloc(r->waits, cap * sizeof(*grown));
        if (grown == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        r->waits = grown;
        r->waits_cap = cap;
    }
    r->waits[r->nwaits].c = c;
    r->waits[r->nwaits].offset = offset;
    r->waits[r->nwaits].numreplicas = num;
    r->nwaits++;
    store_block(c, NULL, 0, deadline, store_repl_wait_reply);
    if (!(c->flags & STORE_CLIENT_BLOCKED)) {
        /* store_block could not block (out of memory): it replied */
        for (i = 0; i < r->nwaits; i++) {
            if (r->waits[i].c == c) {
                store_repl_wait_remove(r, i);
                break;
            }
        }
        return;
    }
    /* Ask the replicas for their offsets at the end of this pass. */
    r->get_ack = 1;
    store_repl_schedule_flush(r);
}


/* One line of the replica side's INFO fields ("master_link_status"), for
 * ROLE and SYNC on a replica; 0 when it is not there. */
int
store_repl_replica_field(store_t *st, const char *name, char *out,
                         size_t size)
{
    store_text_t  t;
    const char   *p, *e;
    size_t        nlen = strlen(name), n;
    int           found = 0;

    memset(&t, 0, sizeof(t));
    store_replica_info(st, &t);
    if (t.data == NULL) {
        return 0;
    }
    for (p = t.data; p < t.data + t.len; p = e + 1) {
        e = memchr(p, '\n', (size_t) (t.data + t.len - p));
        if (e == NULL) {
            e = t.data + t.len;
        }
        if ((size_t) (e - p) > nlen && memcmp(p, name, nlen) == 0
            && p[nlen] == ':')
        {
            n = (size_t) (e - p) - nlen - 1;
            if (n > 0 && p[nlen + n] == '\r') {
                n--;
            }
            if (n >= size) {
                n = size - 1;
            }
            memcpy(out, p + nlen + 1, n);
            out[n] = '\0';
            found = 1;
            break;
        }
    }
    free(t.data);
    return found;
}


/* ---- ROLE ------------------------------------------------------------------ */

static void
store_cmd_role(store_client_t *c)
{
    store_t       *st = c->st;
    store_repl_t  *r = st->repl;
    char           host[256], port[32], link[32], sync[8], off[32], num[32];
    const char    *state;
    size_t         i, n = 0, len;

    if (store_replica_is_replica(st)) {
        if (!store_repl_replica_field(st, "master_host", host, sizeof(host))) {
            host[0] = '\0';
        }
        if (!store_repl_replica_field(st, "master_port", port, sizeof(port))) {
            snprintf(port, sizeof(port), "0");
        }
        if (!store_repl_replica_field(st, "master_link_status", link,
                                      sizeof(link)))
        {
            link[0] = '\0';
        }
        if (!store_repl_replica_field(st, "master_sync_in_progress", sync,
                                      sizeof(sync)))
        {
            sync[0] = '\0';
        }
        state = strcmp(link, "up") == 0 ? "connected"
                : strcmp(sync, "1") == 0 ? "sync" : "connect";
        store_reply_array(&c->r, 5);
        store_reply_bulk(&c->r, "slave", 5);
        store_reply_str(c, host);
        store_reply_int(&c->r, atoll(port));
        store_reply_str(c, state);
        store_reply_int(&c->r, strcmp(state, "connected") == 0
                               ? r->master_repl_offset : -1);
        return;
    }
    for (i = 0; i < r->nlinks; i++) {
        if (r->links[i]->state == STORE_REPL_ONLINE) {
            n++;
        }
    }
    store_reply_array(&c->r, 3);
    store_reply_bulk(&c->r, "master", 6);
    store_reply_int(&c->r, r->master_repl_offset);
    store_reply_array(&c->r, n);
    for (i = 0; i < r->nlinks; i++) {
        store_repl_link_t *l = r->links[i];

        if (l->state != STORE_REPL_ONLINE) {
            continue;
        }
        store_reply_array(&c->r, 3);
        store_reply_str(c, l->ip);
        len = (size_t) snprintf(num, sizeof(num), "%lld", l->port);
        store_reply_bulk(&c->r, num, len);
        len = (size_t) snprintf(off, sizeof(off), "%lld", l->ack_off);
        store_reply_bulk(&c->r, off, len);
    }
}


/* Redis 7.0.15's COMMAND INFO: REPLCONF -1 admin noscript loading stale
 * allow_busy; PSYNC -3 and SYNC 1 admin noscript (no_async_loading
 * no_multi are not among the flags store_int.h has); WAIT 3 noscript;
 * ROLE 1 noscript loading stale fast. */
const store_cmd_t store_cmds_repl[] = {
    { .base = { .name = "replconf", .arity_min = 1, .arity_max = -1,
                .flags = OB_CMD_ADMIN | STORE_CMD_NOSCRIPT
                         | STORE_CMD_LOADING | STORE_CMD_STALE
                         | STORE_CMD_ALLOW_BUSY },
      .handler = store_repl_cmd_replconf, .acl = "@admin @slow @dangerous" },
    { .base = { .name = "psync", .arity_min = 3, .arity_max = -1,
                .flags = OB_CMD_ADMIN | STORE_CMD_NOSCRIPT
                         | STORE_CMD_NO_ASYNC_LOADING | STORE_CMD_NO_MULTI },
      .handler = store_repl_cmd_sync, .acl = "@admin @slow @dangerous" },
    { .base = { .name = "sync", .arity_min = 1, .arity_max = 1,
                .flags = OB_CMD_ADMIN | STORE_CMD_NOSCRIPT
                         | STORE_CMD_NO_ASYNC_LOADING | STORE_CMD_NO_MULTI },
      .handler = store_repl_cmd_sync, .acl = "@admin @slow @dangerous" },
    { .base = { .name = "wait", .arity_min = 3, .arity_max = 3,
                .flags = STORE_CMD_NOSCRIPT },
      .handler = store_cmd_wait, .acl = "@slow @connection" },
    { .base = { .name = "role", .arity_min = 1, .arity_max = 1,
                .flags = STORE_CMD_NOSCRIPT | STORE_CMD_LOADING
                         | STORE_CMD_STALE | OB_CMD_FAST },
      .handler = store_cmd_role, .acl = "@admin @fast @dangerous" },
    { .base = { .name = NULL } }
};


/* ---- life cycle, cron, INFO ---------------------------------------------- */

int
store_repl_init(store_t *st, ob_err_t *err)
{
    store_repl_t *r;

    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return ob_err_set(err, "store: out of memory");
    }
    st->repl = r;
    r->chunk = malloc(STORE_REPL_CHUNK);
    r->flush_ev = event_new(st->cy->base, -1, 0, store_repl_flush_cb, st);
    if (r->chunk == NULL || r->flush_ev == NULL) {
        return ob_err_set(err, "store: out of memory");
    }
    store_repl_random_id(st, r->replid);
    store_repl_clear_id2(r);
    r->stream_db = -1;
    r->no_replicas_since = store_repl_now_s();
    r->backlog_size_seen = st->repl_backlog_size;
    /* The store's connections call us when a replica's output drains
     * (the RDB goes out in chunks); nobody else sets a drain mark on
     * them.  Without the hook the cron still sends, more slowly. */
    if (st->proto.on_drain == NULL) {
        st->proto.on_drain = store_repl_on_drain;
    }
    return OB_OK;
}


/* repl-backlog-size changed (CONFIG SET): at least 16 kB, as Redis's
 * resizeReplicationBacklog (the start-up value is taken as it is), and a
 * ring of the new size with as much of the history as fits. */
static void
store_repl_backlog_resize(store_t *st)
{
    store_repl_t     *r = st->repl;
    store_backlog_t  *b = r->backlog, *nb;
    size_t            size, keep;
    long long         end, from;

    if (st->repl_backlog_size != r->backlog_size_seen) {
        if (st->repl_backlog_size < STORE_REPL_BACKLOG_MIN) {
            st->repl_backlog_size = STORE_REPL_BACKLOG_MIN;
        }
        r->backlog_size_seen = st->repl_backlog_size;
    }
    size = (size_t) st->repl_backlog_size;
    if (b == NULL || st->repl_backlog_size <= 0 || b->size == size) {
        return;
    }
    end = b->start + (long long) b->histlen;
    keep = b->histlen < size ? b->histlen : size;
    from = end - (long long) keep;
    nb = store_backlog_new(size, from);
    if (nb == NULL) {
        return;
    }
    if (keep > 0) {
        size_t pos = (b->idx + b->size - keep) % b->size;
        size_t n = b->size - pos < keep ? b->size - pos : keep;

        store_backlog_feed(nb, b->buf + pos, n);
        if (keep > n) {
            store_backlog_feed(nb, b->buf, keep - n);
        }
    }
    store_backlog_free(b);
    r->backlog = nb;
}


void
store_repl_cron(store_t *st)
{
    store_repl_t  *r = st->repl;
    int64_t        now = store_repl_now_s();
    size_t         i;
    char           name[STORE_REPL_IP_MAX + 32];
    ob_str_t       ping = { .data = (const uint8_t *) "ping", .len = 4 };

    if (r == NULL) {
        return;
    }
    store_repl_backlog_resize(st);
    /* A replica waits for a child that is not running: fork now. */
    if (!r->child_active && store_child_running(st) == STORE_CHILD_NONE) {
        store_repl_start_bgsave(st);
    }
    for (i = 0; i < r->nlinks; i++) {
        store_repl_link_t *l = r->links[i];

        if (l->state == STORE_REPL_SEND_BULK && !l->closing
            && ob_conn_output_pending(l->c->conn) <= STORE_REPL_BULK_LOW)
        {
            store_repl_pump(st, l);
        }
    }
    /* WAITs that a CLIENT UNBLOCK ended (their client no longer waits
     * for us) are forgotten. */
    for (i = 0; i < r->nwaits; ) {
        store_client_t *c = r->waits[i].c;

        if (!(c->flags & STORE_CLIENT_BLOCKED)
            || c->ext->blk_timeout_reply != store_repl_wait_reply)
        {
            store_repl_wait_remove(r, i);
            continue;
        }
        i++;
    }

    if (now == r->last_second) {
        return;
    }
    r->last_second = now;

    /* PING the replicas every repl-ping-replica-period seconds, so that
     * they can tell a dead link from a quiet one (it counts in the
     * offset, as everything in the stream).  As Redis, on the seconds of
     * the cron that are multiples of the period, the first one included:
     * a replica that attaches at once is pinged within a second. */
    if (r->nreplicas > 0 && !store_replica_is_replica(st)
        && st->repl_ping_replica_period > 0
        && r->cron_loops % st->repl_ping_replica_period == 0)
    {
        store_repl_feed_here(st, &ping, 1);
    }
    r->cron_loops++;
    for (i = 0; i < r->nlinks; i++) {
        store_repl_link_t *l = r->links[i];

        if (l->closing) {
            continue;
        }
        switch (l->state) {
        case STORE_REPL_WAIT_BGSAVE_START:
        case STORE_REPL_WAIT_BGSAVE_END:
            /* A newline keeps the replica's read timeout away while the
             * RDB is made. */
            if (store_repl_link_write(l, "\n", 1) == OB_OK) {
                ob_conn_flush(l->c->conn);
            }
            break;
        case STORE_REPL_ONLINE:
            if (!l->pre_psync && now - l->ack_time > st->repl_timeout) {
                ob_log_warning(&st->cy->log, "Disconnecting timedout "
                               "replica (streaming sync): %s",
                               store_repl_name(l, name, sizeof(name)));
                l->closing = 1;
                ob_conn_close(l->c->conn, 0);
                continue;
            }
            break;
        default:
            break;
        }
        if (l->state != STORE_REPL_NONE) {
            store_repl_check_limits(st, l);
        }
    }
    /* No replica for repl-backlog-ttl: the backlog goes, and with it the
     * history (a new replid). */
    if (r->nreplicas == 0 && r->backlog != NULL
        && !store_replica_is_replica(st)
        && now - r->no_replicas_since > STORE_REPL_BACKLOG_TTL)
    {
        store_repl_random_id(st, r->replid);
        store_repl_clear_id2(r);
        store_backlog_free(r->backlog);
        r->backlog = NULL;
        ob_log_notice(&st->cy->log, "Replication backlog freed after %d "
                      "seconds without connected replicas.",
                      STORE_REPL_BACKLOG_TTL);
    }
}


void
store_repl_stop(store_t *st)
{
    store_repl_t  *r = st->repl;
    size_t         i;

    if (r == NULL) {
        return;
    }
    for (i = 0; i < r->nlinks; i++) {
        store_repl_link_t *l = r->links[i];

        if (l->state == STORE_REPL_ONLINE && !l->closing
            && l->c->conn != NULL)
        {
            ob_conn_flush(l->c->conn);
        }
    }
}


void
store_repl_fini(store_t *st)
{
    store_repl_t  *r = st->repl;
    size_t         i;

    if (r == NULL) {
        return;
    }
    if (st->proto.on_drain == store_repl_on_drain) {
        st->proto.on_drain = NULL;
    }
    for (i = 0; i < r->nlinks; i++) {
        store_repl_link_free(r->links[i]);
    }
    if (r->child_active && r->rdb_path[0] != '\0') {
        unlink(r->rdb_path);
    }
    if (r->flush_ev != NULL) {
        event_free(r->flush_ev);
    }
    store_backlog_free(r->backlog);
    free(r->links);
    free(r->waits);
    free(r->enc);
    free(r->chunk);
    free(r);
    st->repl = NULL;
}


void
store_repl_info(store_t *st, store_text_t *t)
{
    store_repl_t  *r = st->repl;
    int64_t        now = store_repl_now_s();
    size_t         i;
    int            id = 0;
    const char    *state;

    if (r == NULL) {
        return;
    }
    store_repl_backlog_resize(st);      /* a CONFIG SET shows at once */
    if (store_replica_is_replica(st)) {
        store_text_add(t, "role:slave\r\n");
        store_replica_info(st, t);
    } else {
        store_text_add(t, "role:master\r\n");
    }
    store_text_add(t, "connected_slaves:%zu\r\n", r->nreplicas);
    for (i = 0; i < r->nlinks; i++) {
        store_repl_link_t *l = r->links[i];

        switch (l->state) {
        case STORE_REPL_WAIT_BGSAVE_START:
        case STORE_REPL_WAIT_BGSAVE_END:
            state = "wait_bgsave";
            break;
        case STORE_REPL_SEND_BULK:
            state = "send_bulk";
            break;
        case STORE_REPL_ONLINE:
            state = "online";
            break;
        default:
            continue;
        }
        store_text_add(t, "slave%d:ip=%s,port=%lld,state=%s,offset=%lld,"
                       "lag=%lld\r\n", id++, l->ip, l->port, state,
                       l->ack_off, l->state == STORE_REPL_ONLINE
                       ? (long long) (now - l->ack_time) : 0LL);
    }
    store_text_add(t, "master_failover_state:no-failover\r\n"
        "master_replid:%s\r\nmaster_replid2:%s\r\n"
        "master_repl_offset:%lld\r\nsecond_repl_offset:%lld\r\n"
        "repl_backlog_active:%d\r\nrepl_backlog_size:%lld\r\n"
        "repl_backlog_first_byte_offset:%lld\r\n"
        "repl_backlog_histlen:%lld\r\n",
        r->replid, r->replid2, r->master_repl_offset,
        r->second_repl_offset, r->backlog != NULL,
        st->repl_backlog_size,
        r->backlog != NULL ? r->backlog->start : 0LL,
        r->backlog != NULL ? (long long) r->backlog->histlen : 0LL);
}


void
store_repl_stats(const store_t *st, uint64_t *full, uint64_t *ok,
                 uint64_t *err)
{
    const store_repl_t *r = st->repl;

    if (r == NULL) {
        *full = *ok = *err = 0;
        return;
    }
    *full = r->sync_full;
    *ok = r->sync_partial_ok;
    *err = r->sync_partial_err;
}


void
store_repl_client_closed(store_t *st, store_client_t *c)
{
    store_repl_t  *r = st->repl;
    size_t         i;
    char           name[STORE_REPL_IP_MAX + 32];

    if (r == NULL) {
        return;
    }
    for (i = 0; i < r->nwaits; ) {
        if (r->waits[i].c == c) {
            store_repl_wait_remove(r, i);
            continue;
        }
        i++;
    }
    for (i = 0; i < r->nlinks; i++) {
        store_repl_link_t *l = r->links[i];

        if (l->c != c) {
            continue;
        }
        if (l->state != STORE_REPL_NONE) {
            ob_log_notice(&st->cy->log, "Connection with replica %s lost.",
                          store_repl_name(l, name, sizeof(name)));
            r->nreplicas--;
            if (r->nreplicas == 0) {
                r->no_replicas_since = store_repl_now_s();
            }
        }
        store_repl_link_free(l);
        r->links[i] = r->links[--r->nlinks];
        break;
    }
}
