/*
 * mq_module.c: the broker as a onebox module: its configuration section
 * (RabbitMQ's setting names where one exists), its life (init, start,
 * stop, fini), the 100 ms tick (heartbeats, message TTLs, queue expiry,
 * the memory alarm) and its figures for /stats.
 *
 * The broker is a firm owner of the shared budget.  RabbitMQ's memory
 * alarm becomes a watermark on what the broker holds in the arena: above
 * vm_memory_high_watermark of the budget (or when the budget has less
 * room left than one twentieth of it, after the elastic cache gave what
 * it could), publishers are blocked (connection.blocked, their sockets no
 * longer read) until it drains below again.
 */
#include "mq_int.h"
#include "mq.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "ob_arena.h"
#include "ob_cycle.h"
#include "ob_log.h"

#define MQ_TICK_MS  100

static const ob_conf_key_t mq_conf_keys[] = {
    { .name = "port", .type = OB_CONF_INT, .imin = 0, .imax = 65535,
      .def = "5672", .help = "TCP port of AMQP 0-9-1; 0: none" },
    { .name = "users", .type = OB_CONF_OBJECT,
      .def = "{\"guest\": \"guest\"}",
      .help = "users and their passwords (PLAIN and AMQPLAIN logins)" },
    { .name = "loopback_users", .type = OB_CONF_STRING, .def = "\"guest\"",
      .help = "comma-separated users allowed to log in from loopback "
      "addresses only (RabbitMQ's loopback_users); \"\": none" },
    { .name = "vhosts", .type = OB_CONF_STRING, .def = "\"/\"",
      .help = "comma-separated virtual hosts; every user may use each" },
    { .name = "channel_max", .type = OB_CONF_INT, .imin = 1, .imax = 65535,
      .def = "2047", .help = "channels per connection, proposed in tune" },
    { .name = "frame_max", .type = OB_CONF_INT, .imin = 4096,
      .imax = 16777216, .def = "131072",
      .help = "largest frame in bytes, proposed in tune" },
    { .name = "heartbeat", .type = OB_CONF_INT, .imin = 0, .imax = 65535,
      .def = "60", .help = "heartbeat interval in seconds proposed in tune; "
      "0: none" },
    { .name = "handshake_timeout", .type = OB_CONF_INT, .imin = 1,
      .imax = 3600000, .def = "10000", .help = "milliseconds a new "
      "connection has to finish the handshake (RabbitMQ's "
      "handshake_timeout)" },
    { .name = "max_message_size", .type = OB_CONF_INT, .imin = 1,
      .imax = 536870912, .def = "134217728",
      .help = "largest message body in bytes" },
    { .name = "vm_memory_high_watermark", .type = OB_CONF_DOUBLE,
      .dmin = 0.01, .dmax = 1.0, .def = "0.4",
      .help = "fraction of core.memory_mb that queued messages may hold "
      "before publishers are blocked" },
    { .name = "data_dir", .type = OB_CONF_STRING, .flags = OB_CONF_NULLABLE,
      .def = "null", .help = "directory of the definitions and the message "
      "log; null: <core.data_dir>/mq" },
    { .name = NULL }
};

static const ob_conf_section_t mq_conf_section = {
    .name = "mq",
    .keys = mq_conf_keys,
    .switchable = 1,
    .aliases = NULL
};


int64_t
mq_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


int64_t
mq_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* Creates each vhost of the comma-separated list; "/" is always there. */
static int
mq_vhosts_init(mq_t *mq, const char *list, ob_err_t *err)
{
    const char *p = list, *end;
    char        name[MQ_NAME_MAX + 1];
    size_t      len;

    if (mq_vhost_new(mq, MQ_DEFAULT_VHOST) == NULL) {
        return ob_err_set(err, "mq: out of memory");
    }
    while (*p != '\0') {
        end = strchr(p, ',');
        len = end != NULL ? (size_t) (end - p) : strlen(p);
        if (len > MQ_NAME_MAX) {
            return ob_err_set(err, "mq.vhosts: a name is over %d bytes",
                              MQ_NAME_MAX);
        }
        memcpy(name, p, len);
        name[len] = '\0';
        if (len > 0 && mq_vhost_find(mq, name, len) == NULL
            && mq_vhost_new(mq, name) == NULL)
        {
            return ob_err_set(err, "mq: out of memory");
        }
        p += len + (end != NULL);
    }
    return OB_OK;
}


static int
mq_users_init(mq_t *mq, const json_t *users, ob_err_t *err)
{
    const char *name;
    json_t     *pass;

    mq->users = calloc(json_object_size(users) + 1, sizeof(mq_user_t));
    if (mq->users == NULL) {
        return ob_err_set(err, "mq: out of memory");
    }
    json_object_foreach((json_t *) users, name, pass) {
        mq_user_t *u = &mq->users[mq->nusers++];

        u->name = strdup(name);
        u->password = strdup(json_string_value(pass));
        if (u->name == NULL || u->password == NULL) {
            return ob_err_set(err, "mq: out of memory");
        }
    }
    return OB_OK;
}


static void mq_fini(void *state);


static int
mq_init(ob_cycle_t *cy, const json_t *conf, int owner, void **state,
        ob_err_t *err)
{
    const json_t *core = ob_conf_section(cy->conf, "core");
    const char   *s;
    mq_t         *mq;

    mq = calloc(1, sizeof(*mq));
    if (mq == NULL) {
        return ob_err_set(err, "mq: out of memory");
    }
    *state = mq;
    mq->cy = cy;
    mq->arena_owner = owner;
    mq_list_init(&mq->conns);
    mq->port = (int) ob_conf_int(conf, "port");
    mq->channel_max = (uint16_t) ob_conf_int(conf, "channel_max");
    mq->frame_max = (uint32_t) ob_conf_int(conf, "frame_max");
    mq->heartbeat = (uint16_t) ob_conf_int(conf, "heartbeat");
    mq->max_message_size = (uint64_t) ob_conf_int(conf, "max_message_size");
    mq->handshake_timeout = ob_conf_int(conf, "handshake_timeout");
    mq->high_watermark = json_real_value(json_object_get(conf,
                                         "vm_memory_high_watermark"));
    if (json_is_integer(json_object_get(conf, "vm_memory_high_watermark"))) {
        mq->high_watermark = (double) json_integer_value(
            json_object_get(conf, "vm_memory_high_watermark"));
    }
    s = ob_conf_str(conf, "data_dir");
    if (s != NULL) {
        mq->data_dir = strdup(s);
    } else {
        const char *d = ob_conf_str(core, "data_dir");
        size_t      n = strlen(d) + sizeof("/mq");

        mq->data_dir = malloc(n);
        if (mq->data_dir != NULL) {
            snprintf(mq->data_dir, n, "%s/mq", d);
        }
    }
    if (mq->data_dir == NULL) {
        mq_fini(mq);
        *state = NULL;
        return ob_err_set(err, "mq: out of memory");
    }
    mq->loopback_users = strdup(ob_conf_str(conf, "loopback_users"));
    if (mq->loopback_users == NULL
        || mq_users_init(mq, json_object_get(conf, "users"), err) != OB_OK
        || mq_vhosts_init(mq, ob_conf_str(conf, "vhosts"), err) != OB_OK)
    {
        if (mq->loopback_users == NULL) {
            ob_err_set(err, "mq: out of memory");
        }
        mq_fini(mq);
        *state = NULL;
        return OB_ERR;
    }
    return OB_OK;
}


/*
 * The memory alarm.  Raised when the broker's arena bytes pass the
 * watermark, or when the budget has less than 1/20 of itself left for the
 * broker (what elastic owners hold counts as room: the cache yields
 * first).  Cleared when neither holds.
 */
void
mq_flow_check(mq_t *mq)
{
    ob_arena_owner_stats_t os;
    ob_arena_stats_t       as;
    size_t                 headroom;
    int                    on;

    ob_arena_owner_stats(mq->cy->arena, mq->arena_owner, &os);
    ob_arena_stats(mq->cy->arena, &as);
    mq->mem_bytes = os.bytes;
    headroom = ob_arena_owner_headroom(mq->cy->arena, mq->arena_owner);
    on = (double) os.bytes > mq->high_watermark * (double) as.limit
         || headroom < as.limit / 20;
    if (on != mq->alarm) {
        mq->alarm = on;
        ob_log_notice(&mq->cy->log, "mq: memory alarm %s (%zu bytes of "
                      "messages, %zu bytes of room)", on ? "set" : "cleared",
                      os.bytes, headroom);
        mq_conn_set_alarm(mq, on);
    }
}


/*
 * Once a second, a snapshot of the publish, deliver/get, ack and confirm
 * counters goes into a ring; each rate is the growth between the newest
 * and the oldest snapshot (MQ_RATE_WINDOW seconds apart once the ring is
 * full) over the time between them, as the management plugin's
 * *_details.rate shows.
 */
static void
mq_rates_sample(mq_t *mq, int64_t now_mono)
{
    unsigned  n = MQ_RATE_WINDOW + 1, newest, oldest, i;
    uint64_t *snap;
    double    secs;
    double   *out[4] = { &mq->rates.publish, &mq->rates.deliver_get,
                         &mq->rates.ack, &mq->rates.confirm };

    if (mq->rates.count > 0) {
        newest = (mq->rates.next + n - 1) % n;
        if (now_mono - mq->rates.snap_mono[newest] < 1000) {
            return;
        }
    }
    snap = mq->rates.snap[mq->rates.next];
    snap[0] = mq->stats.published;
    snap[1] = mq->stats.delivered + mq->stats.delivered_get;
    snap[2] = mq->stats.acked;
    snap[3] = mq->stats.confirmed;
    mq->rates.snap_mono[mq->rates.next] = now_mono;
    newest = mq->rates.next;
    mq->rates.next = (mq->rates.next + 1) % n;
    if (mq->rates.count < n) {
        mq->rates.count++;
    }
    oldest = mq->rates.count < n ? 0 : mq->rates.next;
    secs = (double) (now_mono - mq->rates.snap_mono[oldest]) / 1000.0;
    for (i = 0; i < 4; i++) {
        *out[i] = secs > 0 ? (double) (mq->rates.snap[newest][i]
                                       - mq->rates.snap[oldest][i]) / secs
                           : 0.0;
    }
}


static void
mq_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    mq_t        *mq = arg;
    int64_t      now = mq_now_ms(), now_mono = mq_mono_ms();
    mq_link_t   *l, *next;
    mq_vhost_t  *vh;

    (void) fd;
    (void) what;
    for (vh = mq->vhosts; vh != NULL; vh = vh->next) {
        mq_vhost_tick(vh, now, now_mono);
    }
    for (l = mq->conns.next; l != &mq->conns; l = next) {
        next = l->next;
        mq_conn_tick(MQ_ENTRY(l, mq_conn_t, link), now_mono);
    }
    mq_flow_check(mq);
    mq_rates_sample(mq, now_mono);
}


static int
mq_start(ob_cycle_t *cy, void *state, ob_err_t *err)
{
    const json_t   *core = ob_conf_section(cy->conf, "core");
    mq_t           *mq = state;
    struct timeval  tick = { 0, MQ_TICK_MS * 1000 };
    ob_err_t        inner;

    /* Durable definitions and messages are back before the port opens,
     * as RabbitMQ recovers its queues before it accepts connections. */
    if (mq_log_open(mq, err) != OB_OK) {
        return OB_ERR;
    }
    if (mq->port != 0
        && ob_listen_tcp(cy, &mq_proto, mq, ob_conf_str(core, "listen"),
                         mq->port, NULL, &inner) != OB_OK)
    {
        return ob_err_set(err, "mq.port: %.480s", inner.msg);
    }
    if (mq_http_start(mq, err) != OB_OK) {
        return OB_ERR;
    }
    mq->tick_ev = event_new(cy->base, -1, EV_PERSIST, mq_tick_cb, mq);
    if (mq->tick_ev == NULL || event_add(mq->tick_ev, &tick) != 0) {
        return ob_err_set(err, "mq: cannot start the tick");
    }
    return OB_OK;
}


static void
mq_stop(ob_cycle_t *cy, void *state)
{
    mq_t *mq = state;

    ob_listen_close_ctx(cy, mq);
    if (mq->tick_ev != NULL) {
        event_free(mq->tick_ev);
        mq->tick_ev = NULL;
    }
    mq_conn_close_all(mq, "CONNECTION_FORCED - broker forced connection "
                      "closure with reason 'shutdown'");
    mq_log_close(mq);
}


static void
mq_fini(void *state)
{
    mq_t        *mq = state;
    mq_vhost_t  *vh, *next;
    size_t       i;

    if (mq == NULL) {
        return;
    }
    if (mq->tick_ev != NULL) {
        event_free(mq->tick_ev);
    }
    for (vh = mq->vhosts; vh != NULL; vh = next) {
        next = vh->next;
        mq_vhost_free(vh);
    }
    for (i = 0; i < mq->nusers; i++) {
        free(mq->users[i].name);
        free(mq->users[i].password);
    }
    free(mq->users);
    free(mq->loopback_users);
    free(mq->data_dir);
    free(mq);
}


const ob_module_t mq_module = {
    .name = "mq",
    .conf = &mq_conf_section,
    .init = mq_init,
    .start = mq_start,
    .stop = mq_stop,
    .fini = mq_fini,
    .stats = mq_stats
};
