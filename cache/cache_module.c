/*
 * cache_module.c: the cache as a onebox module: its configuration section,
 * its life (init, start, stop, fini), its figures for /stats, and the
 * connection session that frames memcached's protocol.
 *
 * Framing, per connection (cache_on_read), a loop over these steps:
 *
 *   MGET     a multiget in progress emits its next keys (cache_mget_resume)
 *   SWALLOW  discard the rest of a refused data block
 *   UPLOAD   copy the data block of a set/ms into its item as it arrives;
 *            once whole, check its "\r\n" and store it (upload_done)
 *   BINARY   a request starting with 0x80 (the binary protocol, which we
 *            do not speak): one "unknown command" response, then close
 *   LINE     find "\n", searching only the bytes not searched before
 *            (cc->searched); none yet: wait, unless more than
 *            CACHE_LINE_MAX bytes came without one and the line is not a
 *            get/gets: close, as memcached
 *   COPY     copy the line out once (its tokens stay valid while the
 *            request lasts, across calls), drain it, tokenize
 *   DISPATCH one ob_cmd table of the text and meta commands: by hash,
 *            arity checked ("ERROR" for a miscounted line or an unknown
 *            name), then the handler
 *
 * Work per call is bounded as memcached's reqs_per_event bounds it: at most
 * ob_conn_reqs_per_event() requests, and none once the output is above its
 * soft limit (ob_conn_is_output_full): on_read then returns OB_BUSY and the
 * core calls again later, after other connections had their turn or once
 * the output drained.  A multiget yields between two keys, so a line that
 * names a 1 MB item 1,500 times never builds more than the soft limit of
 * reply; large values are referenced, not copied (cache_out_value).
 *
 * Input is bounded too: a data block goes straight into its item, which
 * was allocated (in the budget) when its line came, so the input buffer
 * holds at most a line and a read's worth of block; proto.max_input is
 * therefore CACHE_INPUT_MAX, the longest line we accept, not -I.
 */
#include "cache_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "ob_cycle.h"

/*
 * The most unparsed input a connection may hold: the longest line we
 * accept, since data blocks do not wait in the input (they are copied into
 * their items as they come).  Lines other than get/gets stop at 2,048
 * bytes (CACHE_LINE_MAX); a get/gets key list is unbounded in memcached.
 * 256 KiB takes 1,000 keys of the full 250 bytes, or about 30,000 short
 * ones, in one line, beyond what client libraries batch into one get,
 * while 1,000 connections can hold at most 256 MB of input between them
 * (against -I per connection before).  Plus one read chunk, so that a
 * line just under the bound is not cut by the read that completes it.
 */
#define CACHE_INPUT_MAX  (256 * 1024 + 16 * 1024)

/* Items the background crawler examines per clock tick. */
#define CACHE_CRAWL_PER_TICK  5000


static const ob_conf_key_t cache_conf_keys[] = {
    { .name = "port", .type = OB_CONF_INT, .imin = 0, .imax = 65535,
      .def = "11211",
      .help = "TCP port of the memcached protocol; 0: none (memcached -p)" },
    { .name = "unix_socket", .type = OB_CONF_STRING,
      .flags = OB_CONF_NULLABLE, .def = "null",
      .help = "listen on this unix socket instead of TCP (memcached -s)" },
    { .name = "unix_mask", .type = OB_CONF_INT, .imin = 0, .imax = 0777,
      .def = "448", .help = "permissions of the unix socket, 448 = 0700 "
      "(memcached -a)" },
    { .name = "max_item_size", .type = OB_CONF_INT, .imin = 1024,
      .imax = 1073741824, .def = "1048576",
      .help = "largest item in bytes, key and header included (memcached -I)" },
    { .name = "cas", .type = OB_CONF_BOOL, .def = "true",
      .help = "keep CAS values; false is memcached's -C" },
    { .name = "flush_enabled", .type = OB_CONF_BOOL, .def = "true",
      .help = "allow flush_all; false is memcached's -F" },
    { .name = "evictions", .type = OB_CONF_BOOL, .def = "true",
      .help = "evict live items when memory is short; false is memcached's "
      "-M: stores fail with SERVER_ERROR out of memory instead" },
    { .name = NULL }
};

/* memcached's flags for the cache's keys (the core's are in
 * core/ob_conf_args.c). */
static const ob_conf_alias_t cache_conf_aliases[] = {
    { .ch = 'p', .kind = OB_CONF_ALIAS_VALUE, .key = "port", .arg = "<num>",
      .help = "TCP port of the memcached protocol" },
    { .ch = 's', .kind = OB_CONF_ALIAS_VALUE, .key = "unix_socket",
      .arg = "<file>", .help = "listen on this unix socket instead of TCP" },
    { .ch = 'a', .kind = OB_CONF_ALIAS_OCTAL, .key = "unix_mask",
      .arg = "<mask>", .help = "permissions of the unix socket, octal (700)" },
    { .ch = 'I', .kind = OB_CONF_ALIAS_SIZE, .key = "max_item_size",
      .arg = "<size>", .help = "largest item, bytes or with a k/m suffix (1m)" },
    { .ch = 'C', .kind = OB_CONF_ALIAS_FIXED, .key = "cas", .fixed = "false",
      .help = "do not keep CAS values" },
    { .ch = 'F', .kind = OB_CONF_ALIAS_FIXED, .key = "flush_enabled",
      .fixed = "false", .help = "refuse flush_all" },
    { .ch = 'M', .kind = OB_CONF_ALIAS_FIXED, .key = "evictions",
      .fixed = "false",
      .help = "fail stores when memory is full instead of evicting" },
    { .ch = 0 }
};

static const ob_conf_section_t cache_conf_section = {
    .name = "cache",
    .keys = cache_conf_keys,
    .switchable = 1,
    .aliases = cache_conf_aliases
};


/* ---- the connection ------------------------------------------------------ */


static void *
cache_session_new(ob_conn_t *conn, void *ctx)
{
    cache_t      *c = ctx;
    cache_conn_t *cc;

    cc = calloc(1, sizeof(*cc));
    if (cc == NULL) {
        return NULL;
    }
    cc->cache = c;
    cc->conn = conn;
    c->stats.curr_connections++;
    c->stats.total_connections++;
    return cc;
}


/* The connection is going: a half-uploaded item goes back to the arena
 * (its replies, if any, were released by the core before this). */
static void
cache_session_close(void *session, ob_conn_t *conn)
{
    cache_conn_t *cc = session;

    (void) conn;
    if (cc->upload != NULL) {
        cache_item_free(cc->cache, cc->upload);
        cc->upload = NULL;
    }
    cc->cache->stats.curr_connections--;
    free(cc->line);
    free(cc);
}


/*
 * Joins the text and meta tables into one and indexes it (ob_cmd): one
 * hash lookup per request whatever the command, and the arity of every
 * command checked here rather than in each handler.
 */
static int
cache_cmds_init(cache_t *c, ob_err_t *err)
{
    const cache_cmd_t  *tables[2] = { cache_text_commands,
                                      cache_meta_commands };
    size_t              n, i, k;

    n = 0;
    for (i = 0; i < 2; i++) {
        for (k = 0; tables[i][k].base.name != NULL; k++) {
            n++;
        }
    }
    c->cmd_entries = calloc(n + 1, sizeof(cache_cmd_t));  /* + the end */
    if (c->cmd_entries == NULL) {
        return ob_err_set(err, "cache: out of memory");
    }
    n = 0;
    for (i = 0; i < 2; i++) {
        for (k = 0; tables[i][k].base.name != NULL; k++) {
            c->cmd_entries[n++] = tables[i][k];
        }
    }
    if (ob_cmd_table_init(&c->cmds, c->cmd_entries, sizeof(cache_cmd_t), 0,
                          err) != OB_OK)
    {
        free(c->cmd_entries);
        c->cmd_entries = NULL;
        return OB_ERR;
    }
    return OB_OK;
}


static void
cache_cmds_fini(cache_t *c)
{
    if (c->cmd_entries != NULL) {
        ob_cmd_table_fini(&c->cmds);
        free(c->cmd_entries);
        c->cmd_entries = NULL;
    }
}


/*
 * memcached closes, without a reply, a connection whose unknown command
 * ends in an "HTTP/..." token: a browser or an HTTP client pointed at the
 * cache port.  As in memcached's dispatch, which goes by the first letter,
 * names that start like a memcached command (g s a c i d t, or a two-letter
 * m command) answer ERROR instead.
 */
static int
cache_is_http_request(const ob_str_t *tokens, size_t ntokens)
{
    const ob_str_t *name, *last;

    if (ntokens < 2) {
        return 0;                       /* (an empty line has no tokens) */
    }
    name = &tokens[0];
    last = &tokens[ntokens - 1];
    if (last->len < 5 || memcmp(last->data, "HTTP/", 5) != 0) {
        return 0;
    }
    if (strchr("gsacidt", name->data[0]) != NULL
        || (name->data[0] == 'm' && name->len == 2))
    {
        return 0;
    }
    return 1;
}


/* Makes room for a line of `len` bytes in cc->line. */
static int
cache_conn_line_room(cache_conn_t *cc, size_t len)
{
    char   *grown;
    size_t  cap;

    if (len > cc->line_cap) {
        cap = cc->line_cap ? cc->line_cap : 256;
        while (cap < len) {
            cap *= 2;
        }
        grown = realloc(cc->line, cap);
        if (grown == NULL) {
            return OB_ERR;
        }
        cc->line = grown;
        cc->line_cap = cap;
    }
    return OB_OK;
}


/*
 * A binary-protocol request (magic 0x80).  memcached 1.6.18 speaks it; we
 * do not, so the request gets the binary protocol's "unknown command"
 * response (magic 0x81, the request's opcode and opaque, status 0x0081,
 * the text as its body), then the connection closes once it is written:
 * a client never waits on a request that will not be answered.
 */
#define CACHE_BIN_HEADER  24

static int
cache_conn_binary(cache_conn_t *cc, struct evbuffer *in)
{
    static const char  msg[] = "Unknown command";
    uint8_t            req[CACHE_BIN_HEADER], res[CACHE_BIN_HEADER];
    size_t             body = sizeof(msg) - 1;

    if (evbuffer_copyout(in, req, sizeof(req)) != (ev_ssize_t) sizeof(req)) {
        return OB_ERR;
    }
    evbuffer_drain(in, evbuffer_get_length(in));

    memset(res, 0, sizeof(res));
    res[0] = 0x81;                          /* response magic */
    res[1] = req[1];                        /* opcode */
    res[6] = 0x00;                          /* status 0x0081, big-endian */
    res[7] = 0x81;
    res[8] = (uint8_t) (body >> 24);        /* total body length */
    res[9] = (uint8_t) (body >> 16);
    res[10] = (uint8_t) (body >> 8);
    res[11] = (uint8_t) body;
    memcpy(res + 12, req + 12, 4);          /* opaque */

    if (cache_out(cc, res, sizeof(res)) != OB_OK
        || cache_out(cc, msg, body) != OB_OK)
    {
        return OB_ERR;
    }
    return OB_DONE;
}


/*
 * Looks for the next line.  OB_OK: it is copied into cc->line, drained
 * from `in` and tokenized.  OB_AGAIN: not all here (the bytes searched are
 * remembered).  OB_ERR: too long, close.
 */
static int
cache_conn_line(cache_conn_t *cc, struct evbuffer *in)
{
    struct evbuffer_ptr  start, eol;
    uint8_t              head[CACHE_LINE_HEAD];
    size_t               have, n, line_len;

    have = evbuffer_get_length(in);

    if (cc->searched >= have) {
        eol.pos = -1;                   /* nothing new since the last look */
    } else if (cc->searched > 0) {
        if (evbuffer_ptr_set(in, &start, cc->searched, EVBUFFER_PTR_SET)
            != 0)
        {
            return OB_ERR;
        }
        eol = evbuffer_search_eol(in, &start, NULL, EVBUFFER_EOL_LF);
    } else {
        eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
    }

    if (eol.pos < 0) {
        /* No line yet: too long already unless it is a multiget, which is
         * decided once, from the line's first bytes. */
        cc->searched = have;
        if (have > CACHE_LINE_MAX && !cc->long_ok) {
            n = OB_MIN(have, sizeof(head));
            if (evbuffer_copyout(in, head, n) != (ev_ssize_t) n
                || cache_proto_line_may_grow(head, n, have) != OB_AGAIN)
            {
                return OB_ERR;
            }
            cc->long_ok = 1;
        }
        return OB_AGAIN;
    }

    n = (size_t) eol.pos + 1;
    cc->searched = 0;
    cc->long_ok = 0;
    if (cache_conn_line_room(cc, n) != OB_OK
        || evbuffer_remove(in, cc->line, n) != (int) n)
    {
        return OB_ERR;
    }

    line_len = n - 1;
    if (line_len > 0 && cc->line[line_len - 1] == '\r') {
        line_len--;
    }
    cc->ntokens = cache_proto_tokenize(cc->line, line_len, cc->tokens,
                                       CACHE_MAX_TOKENS);
    return OB_OK;
}


/*
 * Handles one request at the head of `in`.  Returns OB_OK (go on with the
 * next), OB_AGAIN (wait for more input), OB_DONE or OB_ERR (close).
 */
static int
cache_conn_one(cache_conn_t *cc, struct evbuffer *in)
{
    const ob_cmd_t     *cmd;
    uint8_t             first;
    int                 rc;

    if (cc->searched == 0 && evbuffer_copyout(in, &first, 1) == 1
        && first == 0x80)
    {
        return evbuffer_get_length(in) < CACHE_BIN_HEADER
               ? OB_AGAIN : cache_conn_binary(cc, in);
    }

    rc = cache_conn_line(cc, in);
    if (rc != OB_OK) {
        return rc;
    }

    rc = OB_DECLINED;
    if (cc->ntokens > 0) {
        rc = ob_cmd_lookup(&cc->cache->cmds, cc->tokens[0].data,
                           cc->tokens[0].len, cc->ntokens, &cmd);
    }
    if (rc == OB_OK) {
        return ((const cache_cmd_t *) cmd)->handler(cc, cc->tokens,
                                                    cc->ntokens);
    }
    if (rc == OB_DECLINED && cache_is_http_request(cc->tokens, cc->ntokens)) {
        return OB_ERR;
    }
    /* no such command, or the wrong number of tokens */
    return cache_reply(cc, "ERROR", 0);
}


/*
 * Copies what has arrived of an upload's data block into its item, and
 * completes the store once it is whole.  OB_OK: done; OB_AGAIN: more to
 * come; OB_ERR: a reply could not be appended.
 */
static int
cache_conn_feed(cache_conn_t *cc, struct evbuffer *in)
{
    cache_item_t  *it = cc->upload;
    size_t         n;
    int            bad;

    /* the value into the item, then its "\r\n" aside: it is not stored */
    if (cc->upload_got < it->nbytes) {
        n = OB_MIN(evbuffer_get_length(in), it->nbytes - cc->upload_got);
        if (n > 0) {
            if (evbuffer_remove(in, CACHE_ITEM_value(it) + cc->upload_got, n)
                != (int) n)
            {
                return OB_ERR;
            }
            cc->upload_got += n;
        }
    }
    while (cc->upload_got >= it->nbytes && cc->upload_got < it->nbytes + 2
           && evbuffer_get_length(in) > 0)
    {
        if (evbuffer_remove(in, cc->upload_crlf + (cc->upload_got
                                                   - it->nbytes), 1) != 1)
        {
            return OB_ERR;
        }
        cc->upload_got++;
    }
    if (cc->upload_got < (size_t) it->nbytes + 2) {
        return OB_AGAIN;
    }

    bad = memcmp(cc->upload_crlf, "\r\n", 2) != 0;
    cc->upload = NULL;
    it = cache_item_settle(cc->cache, it);
    return cc->upload_done(cc, it, bad);
}


static int
cache_on_read(void *session, ob_conn_t *conn, struct evbuffer *in)
{
    cache_conn_t    *cc = session;
    cache_t         *c = cc->cache;
    size_t           in_before = evbuffer_get_length(in);
    size_t           n;
    unsigned         handled = 0, budget = ob_conn_reqs_per_event(conn);
    int              rc = OB_OK;

    cache_clock_update(c);

    for ( ;; ) {
        if (cc->mget_active) {
            if (ob_conn_is_output_full(conn)) {
                rc = OB_BUSY;
                break;
            }
            rc = cache_mget_resume(cc);
            if (rc != OB_OK) {
                break;
            }
            continue;
        }

        if (evbuffer_get_length(in) == 0) {
            break;
        }

        if (cc->swallow > 0) {
            n = OB_MIN(cc->swallow, evbuffer_get_length(in));
            evbuffer_drain(in, n);
            cc->swallow -= n;
            continue;
        }

        if (cc->upload != NULL) {
            rc = cache_conn_feed(cc, in);
            if (rc != OB_OK) {
                break;
            }
            continue;
        }

        /* A new request: only within this call's share of work, and not
         * while the replies already queued are over the soft limit. */
        if (handled >= budget) {
            c->stats.conn_yields++;
            rc = OB_BUSY;
            break;
        }
        if (ob_conn_is_output_full(conn)) {
            rc = OB_BUSY;
            break;
        }
        rc = cache_conn_one(cc, in);
        if (rc != OB_OK) {
            break;
        }
        handled++;
    }

    c->stats.bytes_read += in_before - evbuffer_get_length(in);
    if (cc->out_err) {
        return OB_ERR;
    }
    return rc == OB_AGAIN ? OB_OK : rc;
}


void
cache_conn_upload(cache_conn_t *cc, cache_item_t *it, cache_upload_pt done)
{
    cc->upload = it;
    cc->upload_got = 0;
    cc->upload_done = done;
}


void
cache_conn_swallow(cache_conn_t *cc, size_t nbytes)
{
    cc->swallow = nbytes + 2;
}


int
cache_out(cache_conn_t *cc, const void *data, size_t len)
{
    if (cc->out_err || ob_conn_add(cc->conn, data, len) != OB_OK) {
        cc->out_err = 1;
        return OB_ERR;
    }
    cc->cache->stats.bytes_written += len;
    return OB_OK;
}


/* What a referenced value holds until it is written: the item and the
 * cache to give it back to (release callbacks get one pointer). */
typedef struct cache_ref_s {
    cache_t       *cache;
    cache_item_t  *it;
} cache_ref_t;


static void
cache_ref_release(void *arg)
{
    cache_ref_t *ref = arg;

    cache_item_release(ref->cache, ref->it);
    free(ref);
}


/*
 * Values of at least CACHE_REF_MIN bytes are referenced; smaller ones are
 * copied, which for them is cheaper than a reference (a malloc'd record
 * and an evbuffer chain each) and bounded all the same: the caller checks
 * the soft limit between values.
 */
#define CACHE_REF_MIN  1024

int
cache_out_value(cache_conn_t *cc, cache_item_t *it)
{
    cache_ref_t  *ref;

    ref = NULL;
    if (it->nbytes >= CACHE_REF_MIN
        && cache_item_ref_count(cc->cache, it) < CACHE_ITEM_REF_MAX)
    {
        ref = malloc(sizeof(*ref));
    }
    if (ref != NULL && cache_item_ref(cc->cache, it) != OB_OK) {
        free(ref);
        ref = NULL;
    }
    if (ref == NULL) {
        /* small, too many references, or no memory for the record */
        if (cache_out(cc, CACHE_ITEM_value(it), it->nbytes) != OB_OK) {
            return OB_ERR;
        }
        return cache_out(cc, "\r\n", 2);
    }
    if (cc->out_err) {
        cache_item_release(cc->cache, it);
        free(ref);
        return OB_ERR;
    }
    ref->cache = cc->cache;
    ref->it = it;
    if (ob_conn_add_ref(cc->conn, CACHE_ITEM_value(it), it->nbytes,
                        cache_ref_release, ref) != OB_OK)
    {
        /* not appended, and release not called: the reference is ours */
        cache_item_release(cc->cache, it);
        free(ref);
        cc->out_err = 1;
        return OB_ERR;
    }
    cc->cache->stats.bytes_written += it->nbytes;
    return cache_out(cc, "\r\n", 2);
}


int
cache_reply(cache_conn_t *cc, const char *text, int noreply)
{
    size_t  n;
    char    buf[256];

    if (noreply) {
        return OB_OK;
    }
    n = strlen(text);
    if (n + 2 <= sizeof(buf)) {
        /* one append, so that a reply is never cut between its parts */
        memcpy(buf, text, n);
        memcpy(buf + n, "\r\n", 2);
        return cache_out(cc, buf, n + 2);
    }
    if (cache_out(cc, text, n) != OB_OK) {
        return OB_ERR;
    }
    return cache_out(cc, "\r\n", 2);
}


/* ---- the module ---------------------------------------------------------- */


/* Once a second: the clock, and the crawler reclaiming expired items. */
static void
cache_clock_cb(evutil_socket_t fd, short what, void *arg)
{
    cache_t *c = arg;

    (void) fd;
    (void) what;
    cache_clock_update(c);
    cache_items_crawl(c, CACHE_CRAWL_PER_TICK);
    cache_slabs_tick(c);
}


static int
cache_init(ob_cycle_t *cy, const json_t *conf, int owner, void **state,
           ob_err_t *err)
{
    const json_t *core = ob_conf_section(cy->conf, "core");
    size_t        budget = (size_t) ob_conf_int(core, "memory_mb") << 20;
    cache_t      *c;

    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return ob_err_set(err, "cache: out of memory");
    }
    c->cycle = cy;
    c->arena = cy->arena;
    c->owner = owner;
    c->port = (int) ob_conf_int(conf, "port");
    c->unix_socket = ob_conf_str(conf, "unix_socket");
    c->max_item_size = (size_t) ob_conf_int(conf, "max_item_size");
    c->cas_enabled = ob_conf_bool(conf, "cas");
    c->flush_enabled = ob_conf_bool(conf, "flush_enabled");
    c->evictions_enabled = ob_conf_bool(conf, "evictions");

    /* memcached refuses an item limit above half the memory. */
    if (c->max_item_size > budget / 2) {
        free(c);
        return ob_err_set(err, "cache.max_item_size: cannot be more than "
                          "half of core.memory_mb (%zu bytes)", budget / 2);
    }

    c->proto.name = "memcache";
    c->proto.reject_reply = "ERROR Too many open connections\r\n";
    /* Data blocks go straight into their items, so the input holds only
     * lines (and a read's worth of block): see CACHE_INPUT_MAX. */
    c->proto.max_input = CACHE_INPUT_MAX;
    c->proto.session_new = cache_session_new;
    c->proto.on_read = cache_on_read;
    c->proto.on_close = cache_session_close;

    if (cache_cmds_init(c, err) != OB_OK) {
        free(c);
        return OB_ERR;
    }
    if (cache_items_init(c, err) != OB_OK) {
        cache_cmds_fini(c);
        free(c);
        return OB_ERR;
    }
    cache_clock_update(c);
    *state = c;
    return OB_OK;
}


static int
cache_start(ob_cycle_t *cy, void *state, ob_err_t *err)
{
    const json_t   *core = ob_conf_section(cy->conf, "core");
    const json_t   *conf = ob_conf_section(cy->conf, "cache");
    cache_t        *c = state;
    struct timeval  tick = { 1, 0 };
    ob_err_t        inner;

    /* As memcached's -s, a unix socket replaces the TCP listener. */
    if (c->port != 0 && c->unix_socket == NULL
        && ob_listen_tcp(cy, &c->proto, c, ob_conf_str(core, "listen"),
                         c->port, NULL, &inner) != OB_OK)
    {
        return ob_err_set(err, "cache.port: %.480s", inner.msg);
    }
    if (c->unix_socket != NULL
        && ob_listen_unix(cy, &c->proto, c, c->unix_socket,
                          (int) ob_conf_int(conf, "unix_mask"), &inner)
           != OB_OK)
    {
        return ob_err_set(err, "cache.unix_socket: %.480s", inner.msg);
    }

    c->clock_ev = event_new(cy->base, -1, EV_PERSIST, cache_clock_cb, c);
    if (c->clock_ev == NULL || event_add(c->clock_ev, &tick) != 0) {
        return ob_err_set(err, "cache: cannot start the clock");
    }
    return OB_OK;
}


static void
cache_stop(ob_cycle_t *cy, void *state)
{
    cache_t *c = state;

    /* A cache keeps nothing on disk: stopping is closing the doors. */
    ob_listen_close_ctx(cy, c);
    if (c->clock_ev != NULL) {
        event_free(c->clock_ev);
        c->clock_ev = NULL;
    }
}


static void
cache_fini(void *state)
{
    cache_t *c = state;

    cache_items_fini(c);
    cache_cmds_fini(c);
    free(c);
}


/* The figures /stats shows for the cache, by their memcached names. */
static const struct {
    const char *name;
    size_t      offset;            /* of a uint64_t in cache_stats_t */
} cache_stats_json_fields[] = {
#define CACHE_JSON_FIELD(f) { #f, offsetof(cache_stats_t, f) }
    CACHE_JSON_FIELD(curr_connections), CACHE_JSON_FIELD(curr_items),
    CACHE_JSON_FIELD(total_items), CACHE_JSON_FIELD(bytes),
    CACHE_JSON_FIELD(cmd_get), CACHE_JSON_FIELD(cmd_set),
    CACHE_JSON_FIELD(get_hits), CACHE_JSON_FIELD(get_misses),
    CACHE_JSON_FIELD(evictions)
#undef CACHE_JSON_FIELD
};


static void
cache_stats_json(void *state, json_t *out)
{
    cache_t          *c = state;
    uint64_t          v;
    size_t            i;

    json_object_set_new(out, "port", json_integer(c->port));
    json_object_set_new(out, "limit_maxbytes",
                        json_integer((json_int_t) cache_mem_limit(c)));
    for (i = 0; i < sizeof(cache_stats_json_fields)
                    / sizeof(cache_stats_json_fields[0]); i++)
    {
        memcpy(&v, (const char *) &c->stats
                   + cache_stats_json_fields[i].offset, sizeof(v));
        json_object_set_new(out, cache_stats_json_fields[i].name,
                            json_integer((json_int_t) v));
    }
}


cache_t *
cache_of_cycle(ob_cycle_t *cy)
{
    return ob_cycle_module_state(cy, "cache");
}


const ob_module_t cache_module = {
    .name = "cache",
    .conf = &cache_conf_section,
    .init = cache_init,
    .start = cache_start,
    .stop = cache_stop,
    .fini = cache_fini,
    .stats = cache_stats_json
};
