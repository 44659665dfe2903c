/*
 * mq_perf.c: an AMQP 0-9-1 load generator for bench/mq.sh (rabbitmq-c).
 *
 * P producer threads, each on its own connection, publish N messages
 * each through the default exchange to one queue; one consumer thread on
 * its own connection consumes them (prefetch, acks every A deliveries
 * with `multiple`) and checks each producer's sequence numbers, embedded
 * at the start of every body, for losses, duplicates and reordering.
 *
 *   transient: delivery-mode 1 into a non-durable queue, no confirms
 *   persistent (-d): delivery-mode 2 into a durable queue
 *   confirms (-w W): confirm.select, at most W unconfirmed messages per
 *     producer (pipelined: acks are read while publishing)
 *
 * It prints one line of figures, "key=value" pairs, for the script:
 *   published=… publish_rate=… consumed=… consume_rate=… lost=… dup=…
 * publish_rate counts from the start to the last producer's last confirm
 * (or last publish); consume_rate from the start to the last delivery,
 * that is end to end.  With -k (keep) no consumer runs and the queue is
 * left holding the messages (for the memory-per-message figure).  Exit
 * status 1 when anything was lost, duplicated, nacked or timed out.
 *
 * Bodies fit one frame (up to 131064 bytes: frame_max 131072).
 *
 * Usage: mq_perf [-h host] [-p port] [-q queue] [-P producers] [-n count]
 *                [-s size] [-d] [-w window] [-f prefetch] [-a ack_every]
 *                [-t timeout_s] [-k]
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#define PERF_HEADER  12            /* u32 producer, u64 sequence */

typedef struct perf_conf_s {
    const char  *host;
    int          port;
    const char  *queue;
    unsigned     producers;
    uint64_t     count;            /* per producer */
    size_t       size;             /* body bytes */
    int          persistent;
    unsigned     window;           /* 0: no confirms */
    unsigned     prefetch;
    unsigned     ack_every;
    int          timeout;          /* seconds, the whole run */
    int          keep;             /* no consumer; the queue stays */
    double       start;            /* when the producers were let go
                                    * (monotonic s), set before they are */
} perf_conf_t;

typedef struct perf_producer_s {
    const perf_conf_t *conf;
    uint32_t           id;
    double             done_at;    /* seconds since start */
    uint64_t           nacked;
    uint8_t           *out;            /* publishes not yet written */
    size_t             out_len;
    int                fd;             /* the connection's socket */
    uint8_t           *settled_map;    /* by delivery tag: confirmed */
    uint64_t           settled;        /* tags confirmed */
    uint64_t           floor;          /* every tag up to it is confirmed */
    int                failed;
    pthread_t          thread;
} perf_producer_t;

typedef struct perf_consumer_s {
    const perf_conf_t *conf;
    uint64_t          *expected;   /* next sequence number, per producer */
    uint64_t           received, dup;
    uint64_t           gaps;       /* sequence numbers skipped over */
    double             last_at;
    int                failed;
    int                ready;      /* consume-ok received */
    pthread_mutex_t    lock;
    pthread_cond_t     cond;
    pthread_t          thread;
} perf_consumer_t;

static double
perf_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


/* 0 when an RPC reply is normal, else prints what went wrong. */
static int
perf_check(amqp_rpc_reply_t r, const char *what)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return 0;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        fprintf(stderr, "mq_perf: %s: %s\n", what,
                amqp_error_string2(r.library_error));
        return -1;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD
            || r.reply.id == AMQP_CHANNEL_CLOSE_METHOD)
        {
            amqp_connection_close_t *c = r.reply.decoded;

            fprintf(stderr, "mq_perf: %s: server closed: %u %.*s\n", what,
                    c->reply_code, (int) c->reply_text.len,
                    (char *) c->reply_text.bytes);
            return -1;
        }
        fprintf(stderr, "mq_perf: %s: server exception %08x\n", what,
                r.reply.id);
        return -1;
    default:
        fprintf(stderr, "mq_perf: %s: no reply\n", what);
        return -1;
    }
}


/* A logged-in connection with channel 1 open, or NULL. */
static amqp_connection_state_t
perf_connect(const perf_conf_t *conf)
{
    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t          *sock = amqp_tcp_socket_new(conn);

    if (sock == NULL || amqp_socket_open(sock, conf->host, conf->port) != 0) {
        fprintf(stderr, "mq_perf: cannot connect to %s:%d\n", conf->host,
                conf->port);
        amqp_destroy_connection(conn);
        return NULL;
    }
    if (perf_check(amqp_login(conn, "/", 0, 131072, 0,
                              AMQP_SASL_METHOD_PLAIN, "guest", "guest"),
                   "login") != 0)
    {
        amqp_destroy_connection(conn);
        return NULL;
    }
    amqp_channel_open(conn, 1);
    if (perf_check(amqp_get_rpc_reply(conn), "channel.open") != 0) {
        amqp_destroy_connection(conn);
        return NULL;
    }
    return conn;
}


static void
perf_close(amqp_connection_state_t conn)
{
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
}


/* ------------------------------------------------------------- producer */

/*
 * Publishes are framed here and written in batches of PERF_BATCH bytes,
 * one write for many messages, as RabbitMQ's own PerfTest does through a
 * buffered stream: rabbitmq-c's amqp_basic_publish makes three system
 * calls per message, which would make the load generator, not the
 * broker, the bottleneck.  Frames (AMQP 0-9-1, 4.2.3):
 *   method  1 ch size | 60 40 | ticket 0 | exchange "" | key | bits 0 | CE
 *   header  2 ch size | 60 0  | body size u64 | flags 0x1000 | mode | CE
 *   body    3 ch size | bytes | CE
 * Reads (confirms, RPC replies) stay rabbitmq-c's; the buffer is written
 * out before any of them is awaited.
 */
#define PERF_BATCH  65536


static int
perf_flush(perf_producer_t *p)
{
    size_t  off = 0;
    ssize_t n;

    while (off < p->out_len) {
        n = write(p->fd, p->out + off, p->out_len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* rabbitmq-c's sockets are non-blocking. */
            struct pollfd pfd = { p->fd, POLLOUT, 0 };

            if (poll(&pfd, 1, p->conf->timeout * 1000) == 1) {
                continue;
            }
            errno = ETIMEDOUT;
        }
        if (n <= 0) {
            fprintf(stderr, "mq_perf: producer %u: write: %s\n", p->id,
                    strerror(errno));
            return -1;
        }
        off += (size_t) n;
    }
    p->out_len = 0;
    return 0;
}


static uint8_t *
perf_put_frame_head(uint8_t *w, uint8_t type, uint32_t size)
{
    *w++ = type;
    *w++ = 0;
    *w++ = 1;                                  /* channel 1 */
    *w++ = (uint8_t) (size >> 24);
    *w++ = (uint8_t) (size >> 16);
    *w++ = (uint8_t) (size >> 8);
    *w++ = (uint8_t) size;
    return w;
}


/* Appends one basic.publish with its header and body; flushes when the
 * batch is full. */
static int
perf_publish(perf_producer_t *p, const uint8_t *body, size_t len)
{
    const perf_conf_t *conf = p->conf;
    size_t             qlen = strlen(conf->queue), i;
    uint8_t           *w;

    if (p->out_len + len + qlen + 64 > PERF_BATCH + conf->size + 320
        || p->out_len >= PERF_BATCH)
    {
        if (perf_flush(p) != 0) {
            return -1;
        }
    }
    w = p->out + p->out_len;
    w = perf_put_frame_head(w, 1, (uint32_t) (4 + 2 + 1 + 1 + qlen + 1));
    *w++ = 0; *w++ = 60; *w++ = 0; *w++ = 40;  /* basic.publish */
    *w++ = 0; *w++ = 0;                        /* ticket */
    *w++ = 0;                                  /* exchange "" */
    *w++ = (uint8_t) qlen;
    memcpy(w, conf->queue, qlen);
    w += qlen;
    *w++ = 0;                                  /* mandatory, immediate */
    *w++ = 0xce;
    w = perf_put_frame_head(w, 2, 2 + 2 + 8 + 2 + 1);
    *w++ = 0; *w++ = 60; *w++ = 0; *w++ = 0;   /* class, weight */
    for (i = 0; i < 8; i++) {
        *w++ = (uint8_t) ((uint64_t) len >> (56 - 8 * i));
    }
    *w++ = 0x10; *w++ = 0x00;                  /* delivery-mode present */
    *w++ = conf->persistent ? 2 : 1;
    *w++ = 0xce;
    w = perf_put_frame_head(w, 3, (uint32_t) len);
    memcpy(w, body, len);
    w += len;
    *w++ = 0xce;
    p->out_len = (size_t) (w - p->out);
    return 0;
}


/*
 * Marks delivery tags first..last confirmed (acked or, when nack,
 * nacked) that were not already: RabbitMQ may confirm out of order
 * (persistent messages reach the disk queue by queue), and `multiple`
 * covers every tag up to the one given.
 */
static void
perf_settle(perf_producer_t *p, uint64_t first, uint64_t last, int nack)
{
    uint64_t tag;

    for (tag = first; tag <= last && tag <= p->conf->count; tag++) {
        if (!p->settled_map[tag]) {
            p->settled_map[tag] = 1;
            p->settled++;
            p->nacked += nack != 0;
        }
    }
    while (p->floor + 1 <= p->conf->count && p->settled_map[p->floor + 1]) {
        p->floor++;
    }
}


/*
 * Reads confirms until at most `limit` are outstanding.  Under the limit
 * the socket is looked at only every 64 publishes (or when frames are
 * already buffered), so that the pipelined case costs no extra system
 * call per message.  -1 on a broken connection or a timeout.
 */
static int
perf_read_confirms(amqp_connection_state_t conn, perf_producer_t *p,
                   uint64_t published, uint64_t limit)
{
    amqp_frame_t    frame;
    struct timeval  tv;
    uint64_t        tag;
    int             rc, must_wait, multiple, nack;

    for (;;) {
        must_wait = published - p->settled > limit;
        if (!must_wait && published % 64 != 0
            && !amqp_frames_enqueued(conn) && !amqp_data_in_buffer(conn))
        {
            return 0;
        }
        if (must_wait && p->out_len > 0 && perf_flush(p) != 0) {
            return -1;
        }
        tv.tv_sec = must_wait ? p->conf->timeout : 0;
        tv.tv_usec = 0;
        rc = amqp_simple_wait_frame_noblock(conn, &frame, &tv);
        if (rc == AMQP_STATUS_TIMEOUT && !must_wait) {
            return 0;
        }
        if (rc != AMQP_STATUS_OK) {
            fprintf(stderr, "mq_perf: producer %u: waiting for confirms: "
                    "%s\n", p->id, amqp_error_string2(rc));
            return -1;
        }
        if (frame.frame_type != AMQP_FRAME_METHOD) {
            continue;
        }
        if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            amqp_basic_ack_t *a = frame.payload.method.decoded;

            tag = a->delivery_tag;
            multiple = a->multiple;
            nack = 0;
        } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            amqp_basic_nack_t *n = frame.payload.method.decoded;

            tag = n->delivery_tag;
            multiple = n->multiple;
            nack = 1;
        } else {
            fprintf(stderr, "mq_perf: producer %u: unexpected method "
                    "%08x\n", p->id, frame.payload.method.id);
            return -1;
        }
        perf_settle(p, multiple ? p->floor + 1 : tag, tag, nack);
    }
}


static void *
perf_producer_run(void *arg)
{
    perf_producer_t            *p = arg;
    const perf_conf_t          *conf = p->conf;
    amqp_connection_state_t     conn = perf_connect(conf);
    uint8_t                    *buf;
    uint64_t                    seq;

    if (conn == NULL) {
        p->failed = 1;
        return NULL;
    }
    buf = calloc(1, conf->size);
    p->settled_map = calloc(conf->count + 1, 1);
    p->out = malloc(PERF_BATCH + conf->size + 320);
    p->fd = amqp_get_sockfd(conn);
    if (buf == NULL || p->settled_map == NULL || p->out == NULL) {
        p->failed = 1;
        perf_close(conn);
        return NULL;
    }
    memset(buf + PERF_HEADER, 'x', conf->size - PERF_HEADER);
    memcpy(buf, &p->id, 4);
    if (conf->window > 0) {
        amqp_confirm_select(conn, 1);
        if (perf_check(amqp_get_rpc_reply(conn), "confirm.select") != 0) {
            p->failed = 1;
            goto done;
        }
    }
    for (seq = 0; seq < conf->count; seq++) {
        memcpy(buf + 4, &seq, 8);
        if (perf_publish(p, buf, conf->size) != 0) {
            p->failed = 1;
            goto done;
        }
        if (conf->window > 0) {
            if (perf_read_confirms(conn, p, seq + 1, conf->window - 1) != 0) {
                p->failed = 1;
                goto done;
            }
        }
    }
    if (perf_flush(p) != 0) {
        p->failed = 1;
        goto done;
    }
    if (conf->window > 0) {
        if (perf_read_confirms(conn, p, conf->count, 0) != 0) {
            p->failed = 1;
            goto done;
        }
    } else {
        /* A round trip, so that every publish before it has reached the
         * broker when the clock stops. */
        amqp_queue_declare(conn, 1, amqp_cstring_bytes(conf->queue), 1, 0,
                           0, 0, amqp_empty_table);
        if (perf_check(amqp_get_rpc_reply(conn), "queue.declare") != 0) {
            p->failed = 1;
        }
    }
    p->done_at = perf_now() - conf->start;
done:
    free(buf);
    free(p->out);
    free(p->settled_map);
    perf_close(conn);
    return NULL;
}


/* ------------------------------------------------------------- consumer */

/* Records one delivery's producer and sequence number. */
static void
perf_consumer_note(perf_consumer_t *c, const uint8_t *body, size_t len)
{
    uint32_t id;
    uint64_t seq;

    if (len < PERF_HEADER) {
        c->failed = 1;
        return;
    }
    memcpy(&id, body, 4);
    memcpy(&seq, body + 4, 8);
    if (id >= c->conf->producers) {
        c->failed = 1;
        return;
    }
    if (seq == c->expected[id]) {
        c->expected[id]++;
    } else if (seq < c->expected[id]) {
        c->dup++;
    } else {
        /* A gap: those messages are lost (a FIFO queue never reorders
         * one producer's messages; if one came later it would count as a
         * duplicate, so a reordering shows too). */
        c->gaps += seq - c->expected[id];
        c->expected[id] = seq + 1;
    }
}


static void
perf_consumer_ready(perf_consumer_t *c)
{
    pthread_mutex_lock(&c->lock);
    c->ready = 1;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}


static void *
perf_consumer_run(void *arg)
{
    perf_consumer_t           *c = arg;
    const perf_conf_t         *conf = c->conf;
    amqp_connection_state_t    conn = perf_connect(conf);
    amqp_envelope_t            env;
    amqp_rpc_reply_t           r;
    struct timeval             tv;
    uint64_t                   total = conf->count * conf->producers,
                               unacked = 0, last_tag = 0;
    double                     deadline;

    if (conn == NULL) {
        c->failed = 1;
        perf_consumer_ready(c);
        return NULL;
    }
    amqp_basic_qos(conn, 1, 0, (uint16_t) conf->prefetch, 0);
    if (perf_check(amqp_get_rpc_reply(conn), "basic.qos") != 0) {
        goto fail;
    }
    amqp_basic_consume(conn, 1, amqp_cstring_bytes(conf->queue),
                       amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    if (perf_check(amqp_get_rpc_reply(conn), "basic.consume") != 0) {
        goto fail;
    }
    perf_consumer_ready(c);
    deadline = perf_now() + conf->timeout;
    while (c->received < total) {
        if (perf_now() > deadline) {
            fprintf(stderr, "mq_perf: consumer timed out after %" PRIu64
                    " of %" PRIu64 " messages\n", c->received, total);
            c->failed = 1;
            break;
        }
        amqp_maybe_release_buffers(conn);
        tv.tv_sec = 1;
        tv.tv_usec = 0;
        r = amqp_consume_message(conn, &env, &tv, 0);
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
            && r.library_error == AMQP_STATUS_TIMEOUT)
        {
            continue;
        }
        if (perf_check(r, "consume") != 0) {
            c->failed = 1;
            break;
        }
        perf_consumer_note(c, env.message.body.bytes, env.message.body.len);
        c->received++;
        last_tag = env.delivery_tag;
        amqp_destroy_envelope(&env);
        if (++unacked >= conf->ack_every) {
            amqp_basic_ack(conn, 1, last_tag, 1);
            unacked = 0;
        }
    }
    c->last_at = perf_now() - conf->start;
    if (unacked > 0) {
        amqp_basic_ack(conn, 1, last_tag, 1);
    }
    perf_close(conn);
    return NULL;
fail:
    c->failed = 1;
    perf_consumer_ready(c);
    perf_close(conn);
    return NULL;
}


/* ----------------------------------------------------------------- main */

static int
perf_setup_queue(const perf_conf_t *conf)
{
    amqp_connection_state_t conn = perf_connect(conf);
    int                     rc;

    if (conn == NULL) {
        return -1;
    }
    amqp_queue_delete(conn, 1, amqp_cstring_bytes(conf->queue), 0, 0);
    rc = perf_check(amqp_get_rpc_reply(conn), "queue.delete");
    if (rc == 0) {
        amqp_queue_declare(conn, 1, amqp_cstring_bytes(conf->queue), 0,
                           conf->persistent, 0, 0, amqp_empty_table);
        rc = perf_check(amqp_get_rpc_reply(conn), "queue.declare");
    }
    perf_close(conn);
    return rc;
}


static void
perf_delete_queue(const perf_conf_t *conf)
{
    amqp_connection_state_t conn = perf_connect(conf);

    if (conn != NULL) {
        amqp_queue_delete(conn, 1, amqp_cstring_bytes(conf->queue), 0, 0);
        (void) perf_check(amqp_get_rpc_reply(conn), "queue.delete");
        perf_close(conn);
    }
}


static void
perf_usage(void)
{
    fprintf(stderr, "usage: mq_perf [-h host] [-p port] [-q queue] "
            "[-P producers] [-n count per producer] [-s body bytes] [-d] "
            "[-w confirm window] [-f prefetch] [-a ack every] "
            "[-t timeout s] [-k]\n");
    exit(2);
}


int
main(int argc, char **argv)
{
    perf_conf_t      conf = { "127.0.0.1", 5672, "mq_perf", 1, 100000, 16,
                              0, 0, 1000, 100, 300, 0, 0 };
    perf_producer_t *prod;
    perf_consumer_t  cons;
    uint64_t         total, nacked = 0, lost = 0;
    double           pub_end = 0;
    unsigned         i;
    int              opt, failed = 0;

    while ((opt = getopt(argc, argv, "h:p:q:P:n:s:dw:f:a:t:k")) != -1) {
        switch (opt) {
        case 'h': conf.host = optarg; break;
        case 'p': conf.port = atoi(optarg); break;
        case 'q': conf.queue = optarg; break;
        case 'P': conf.producers = (unsigned) atoi(optarg); break;
        case 'n': conf.count = strtoull(optarg, NULL, 10); break;
        case 's': conf.size = (size_t) strtoull(optarg, NULL, 10); break;
        case 'd': conf.persistent = 1; break;
        case 'w': conf.window = (unsigned) atoi(optarg); break;
        case 'f': conf.prefetch = (unsigned) atoi(optarg); break;
        case 'a': conf.ack_every = (unsigned) atoi(optarg); break;
        case 't': conf.timeout = atoi(optarg); break;
        case 'k': conf.keep = 1; break;
        default: perf_usage();
        }
    }
    if (conf.producers == 0 || conf.count == 0 || conf.size < PERF_HEADER
        || conf.size > 131072 - 8 || strlen(conf.queue) > 255
        || conf.prefetch == 0 || conf.prefetch > 65535
        || conf.ack_every == 0 || conf.timeout <= 0)
    {
        perf_usage();
    }
    total = conf.count * conf.producers;
    if (perf_setup_queue(&conf) != 0) {
        return 1;
    }

    memset(&cons, 0, sizeof(cons));
    cons.conf = &conf;
    cons.expected = calloc(conf.producers, sizeof(uint64_t));
    prod = calloc(conf.producers, sizeof(*prod));
    if (cons.expected == NULL || prod == NULL) {
        fprintf(stderr, "mq_perf: out of memory\n");
        return 1;
    }
    pthread_mutex_init(&cons.lock, NULL);
    pthread_cond_init(&cons.cond, NULL);
    if (!conf.keep) {
        pthread_create(&cons.thread, NULL, perf_consumer_run, &cons);
        pthread_mutex_lock(&cons.lock);
        while (!cons.ready) {
            pthread_cond_wait(&cons.cond, &cons.lock);
        }
        pthread_mutex_unlock(&cons.lock);
    }
    conf.start = perf_now();
    for (i = 0; i < conf.producers; i++) {
        prod[i].conf = &conf;
        prod[i].id = i;
        pthread_create(&prod[i].thread, NULL, perf_producer_run, &prod[i]);
    }
    for (i = 0; i < conf.producers; i++) {
        pthread_join(prod[i].thread, NULL);
        failed |= prod[i].failed;
        nacked += prod[i].nacked;
        if (prod[i].done_at > pub_end) {
            pub_end = prod[i].done_at;
        }
    }
    if (!conf.keep) {
        pthread_join(cons.thread, NULL);
        failed |= cons.failed;
        lost = cons.gaps;
        for (i = 0; i < conf.producers; i++) {
            lost += conf.count - (cons.expected[i] < conf.count
                                  ? cons.expected[i] : conf.count);
        }
        perf_delete_queue(&conf);
    }
    printf("published=%" PRIu64 " publish_secs=%.3f publish_rate=%.0f",
           total, pub_end, pub_end > 0 ? (double) total / pub_end : 0.0);
    if (!conf.keep) {
        printf(" consumed=%" PRIu64 " consume_secs=%.3f consume_rate=%.0f"
               " lost=%" PRIu64 " dup=%" PRIu64,
               cons.received, cons.last_at,
               cons.last_at > 0 ? (double) cons.received / cons.last_at
                                : 0.0,
               lost, cons.dup);
    }
    printf(" nacked=%" PRIu64 " failed=%d\n", nacked, failed);
    free(prod);
    free(cons.expected);
    return failed || lost > 0 || cons.dup > 0 || nacked > 0;
}
