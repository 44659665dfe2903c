/*
 * cache_module.c: the cache as a onebox module: its configuration section,
 * its life (init, start, stop, fini), its figures for /stats, and the
 * connection session that frames memcached's protocol.
 *
 * Framing, per connection (cache_on_read):
 *
 *   SWALLOW  -> discard the rest of a refused data block
 *   LINE     -> find "\n" (evbuffer_search_eol, no pullup); none yet:
 *               wait, unless more than CACHE_LINE_MAX bytes came without
 *               one and the line is not a get/gets: close, as memcached
 *   COPY     -> copy the line out (tokens then stay valid while the
 *               handler drains the input), tokenize
 *   DISPATCH -> text table, then meta table, else "ERROR"; the handler
 *               drains its line and data block, or answers OB_AGAIN when
 *               the block has not all arrived (nothing drained: the line
 *               is read again with the block next time)
 *
 * Every complete request in the buffer is handled in one call, so
 * pipelined requests cost one wakeup.  The core bounds the buffer: a
 * connection holding more than max_input unparsed bytes is closed, and
 * max_input is set from -I so that the largest legal set always fits.
 */
#include "cache_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "ob_cycle.h"

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

static const ob_conf_section_t cache_conf_section = {
    "cache", cache_conf_keys, 1
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


static void
cache_session_close(void *session, ob_conn_t *conn)
{
    cache_conn_t *cc = session;

    (void) conn;
    cc->cache->stats.curr_connections--;
    free(cc->line);
    free(cc);
}


/* Looks a command name up in a handler table. */
static const cache_cmd_t *
cache_cmd_find(const cache_cmd_t *table, const ob_str_t *name)
{
    const cache_cmd_t *cmd;

    for (cmd = table; cmd->name != NULL; cmd++) {
        if (strlen(cmd->name) == name->len
            && memcmp(cmd->name, name->data, name->len) == 0)
        {
            return cmd;
        }
    }
    return NULL;
}


/*
 * memcached closes, without a reply, a connection whose unknown command
 * ends in an "HTTP/..." token: a browser or an HTTP client pointed at the
 * cache port.  As in memcached's dispatch, which goes by the first letter,
 * names that start like a memcached command (g s a c i d t, or a two-letter
 * m command) answer ERROR instead.
 */
static int
cache_looks_like_http(const ob_str_t *tokens, size_t ntokens)
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


/* Copies `len` bytes of input into cc->line, growing it as needed. */
static int
cache_conn_copy_line(cache_conn_t *cc, struct evbuffer *in, size_t len)
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
    return evbuffer_copyout(in, cc->line, len) == (ev_ssize_t) len
           ? OB_OK : OB_ERR;
}


/*
 * Handles one request at the head of `in`.  Returns OB_OK (go on with the
 * next), OB_AGAIN (wait for more input), OB_DONE or OB_ERR (close).
 */
static int
cache_conn_one(cache_conn_t *cc, struct evbuffer *in, struct evbuffer *out)
{
    ob_str_t               tokens[CACHE_MAX_TOKENS];
    const cache_cmd_t     *cmd;
    struct evbuffer_ptr    eol;
    size_t                 have = evbuffer_get_length(in), n, line_len, used;
    size_t                 ntokens;

    eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
    if (eol.pos < 0) {
        /* No line yet: too long already unless it is a multiget. */
        n = OB_MIN(have, (size_t) CACHE_LINE_MAX + 1);
        if (cache_conn_copy_line(cc, in, n) != OB_OK) {
            return OB_ERR;
        }
        return cache_proto_line((const uint8_t *) cc->line, n, &line_len,
                                &used) == OB_PROTO_ERR ? OB_ERR : OB_AGAIN;
    }

    n = (size_t) eol.pos + 1;
    if (cache_conn_copy_line(cc, in, n) != OB_OK
        || cache_proto_line((const uint8_t *) cc->line, n, &line_len, &used)
           != OB_OK)
    {
        return OB_ERR;
    }

    ntokens = cache_proto_tokenize(cc->line, line_len, tokens,
                                   CACHE_MAX_TOKENS);
    cmd = NULL;
    if (ntokens > 0) {
        cmd = cache_cmd_find(cache_text_commands, &tokens[0]);
        if (cmd == NULL) {
            cmd = cache_cmd_find(cache_meta_commands, &tokens[0]);
        }
    }
    if (cmd == NULL) {
        evbuffer_drain(in, used);
        if (cache_looks_like_http(tokens, ntokens)) {
            return OB_ERR;
        }
        cache_reply(out, "ERROR", 0);
        return OB_OK;
    }
    return cmd->handler(cc, tokens, ntokens, used, in, out);
}


static int
cache_on_read(void *session, ob_conn_t *conn, struct evbuffer *in)
{
    cache_conn_t    *cc = session;
    cache_t         *c = cc->cache;
    struct evbuffer *out = ob_conn_output(conn);
    size_t           in_before = evbuffer_get_length(in);
    size_t           out_before = evbuffer_get_length(out);
    size_t           n;
    int              rc = OB_OK;

    cache_clock_update(c);

    while (evbuffer_get_length(in) > 0) {
        if (cc->swallow > 0) {
            n = OB_MIN(cc->swallow, evbuffer_get_length(in));
            evbuffer_drain(in, n);
            cc->swallow -= n;
            continue;
        }
        rc = cache_conn_one(cc, in, out);
        if (rc != OB_OK) {
            break;
        }
    }

    c->stats.bytes_read += in_before - evbuffer_get_length(in);
    c->stats.bytes_written += evbuffer_get_length(out) - out_before;
    return rc == OB_AGAIN ? OB_OK : rc;
}


int
cache_conn_take_block(struct evbuffer *in, size_t line_consumed,
                      size_t nbytes, void *dst)
{
    char crlf[2];

    if (evbuffer_get_length(in) < line_consumed + nbytes + 2) {
        return OB_AGAIN;
    }
    evbuffer_drain(in, line_consumed);
    if (dst != NULL) {
        evbuffer_remove(in, dst, nbytes);
    } else {
        evbuffer_drain(in, nbytes);
    }
    evbuffer_remove(in, crlf, 2);
    return crlf[0] == '\r' && crlf[1] == '\n' ? OB_OK : OB_PROTO_ERR;
}


void
cache_conn_swallow(cache_conn_t *cc, struct evbuffer *in,
                   size_t line_consumed, size_t nbytes)
{
    evbuffer_drain(in, line_consumed);
    cc->swallow = nbytes + 2;
}


void
cache_reply(struct evbuffer *out, const char *text, int noreply)
{
    if (!noreply) {
        evbuffer_add(out, text, strlen(text));
        evbuffer_add(out, "\r\n", 2);
    }
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
    /* The largest legal set must fit whole in the input buffer. */
    c->proto.max_input = c->max_item_size + CACHE_LINE_MAX + 64 * 1024;
    c->proto.session_new = cache_session_new;
    c->proto.on_read = cache_on_read;
    c->proto.on_close = cache_session_close;

    if (cache_items_init(c, err) != OB_OK) {
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
    ob_arena_stats_t  st;
    uint64_t          v;
    size_t            i;

    ob_arena_stats(c->arena, &st);
    json_object_set_new(out, "port", json_integer(c->port));
    json_object_set_new(out, "limit_maxbytes", json_integer((json_int_t) st.limit));
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
    "cache",
    &cache_conf_section,
    cache_init,
    cache_start,
    cache_stop,
    cache_fini,
    cache_stats_json
};
