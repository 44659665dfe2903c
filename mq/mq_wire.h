/*
 * mq_wire.h: AMQP 0-9-1 on the wire, as RabbitMQ 3.10 and its clients
 * speak it: the protocol header, frames, method arguments, content
 * headers and their basic properties, field tables, topic patterns.
 *
 * Everything here is a pure function over byte buffers (no sockets, no
 * allocation but the table builder's): the parsers return OB_OK with one
 * parsed item, OB_AGAIN when the buffer holds only part of it, or
 * OB_PROTO_ERR with the AMQP reply code and text that the connection (or
 * channel) must be closed with.  Encoders write into a caller's buffer and
 * return the bytes written, 0 when it does not fit.  All integers on the
 * wire are big-endian.  See ../shared/reference/amqp-research.md.
 */
#ifndef MQ_WIRE_H
#define MQ_WIRE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "ob_core.h"

/* ---------------------------------------------------------------- codes */

#define MQ_REPLY_SUCCESS           200
#define MQ_CONTENT_TOO_LARGE       311
#define MQ_NO_ROUTE                312
#define MQ_NO_CONSUMERS            313
#define MQ_CONNECTION_FORCED       320
#define MQ_INVALID_PATH            402
#define MQ_ACCESS_REFUSED          403
#define MQ_NOT_FOUND               404
#define MQ_RESOURCE_LOCKED         405
#define MQ_PRECONDITION_FAILED     406
#define MQ_FRAME_ERROR             501
#define MQ_SYNTAX_ERROR            502
#define MQ_COMMAND_INVALID         503
#define MQ_CHANNEL_ERROR           504
#define MQ_UNEXPECTED_FRAME        505
#define MQ_RESOURCE_ERROR          506
#define MQ_NOT_ALLOWED             530
#define MQ_NOT_IMPLEMENTED         540
#define MQ_INTERNAL_ERROR          541

/* The name RabbitMQ prefixes a close's reply-text with ("NOT_FOUND - ..."),
 * or NULL for a code it does not know. */
const char *mq_reply_name(unsigned code);

/* What a failed parse tells the connection: close with `code` (a
 * connection-level code, 5xx) and `text` (already prefixed with the code's
 * name, RabbitMQ's wording where we know it, cut to 255 bytes as RabbitMQ
 * cuts it: 252 and "..."). */
typedef struct mq_wire_err_s {
    uint16_t code;
    char     text[256];                /* a shortstr: 255 bytes at most */
} mq_wire_err_t;

/* ------------------------------------------------------ protocol header */

#define MQ_PROTOCOL_HEADER      "AMQP\x00\x00\x09\x01"
#define MQ_PROTOCOL_HEADER_LEN  8

/* OB_OK: buf starts with the 0-9-1 header (8 bytes); OB_AGAIN: fewer than
 * 8 bytes, all of them matching so far; OB_PROTO_ERR: anything else (the
 * broker writes MQ_PROTOCOL_HEADER back and closes). */
int mq_protocol_header_check(const uint8_t *buf, size_t len);

/* --------------------------------------------------------------- frames */

#define MQ_FRAME_METHOD      1
#define MQ_FRAME_HEADER      2
#define MQ_FRAME_BODY        3
#define MQ_FRAME_HEARTBEAT   8
#define MQ_FRAME_END         0xCE
#define MQ_FRAME_OVERHEAD    8        /* type, channel, size, end octet */
#define MQ_FRAME_MIN_SIZE    4096     /* the spec's frame-min-size */

typedef struct mq_frame_s {
    uint8_t         type;
    uint16_t        channel;
    uint32_t        size;            /* payload bytes */
    const uint8_t  *payload;         /* borrowed: into the parsed buffer */
} mq_frame_t;

/*
 * Parses one frame at buf[0..len).  `frame_max` is the connection's
 * frame_max (the negotiated one; before tune-ok RabbitMQ uses 4096, the
 * spec's frame-min-size; 0 means no limit).  Like RabbitMQ, the check is
 * on the payload: a payload of up to frame_max octets passes (its
 * FRAME_SIZE_FUDGE), one octet more is 501.  OB_OK: *f filled, *consumed
 * = 8 + size.  OB_AGAIN: need more bytes (the first 7 bytes already tell
 * how many: *consumed gets the total the frame needs when known, else 0).
 * OB_PROTO_ERR: 501 FRAME_ERROR for a frame over frame_max (known from
 * the first 7 bytes), an end octet that is not 0xCE, an unknown frame
 * type, a heartbeat with a payload; 505 UNEXPECTED_FRAME for a heartbeat
 * off channel 0.  The texts are RabbitMQ's, e.g. "FRAME_ERROR - type 1,
 * all octets = <<0,20,0,10,0>>: {invalid_frame_end_marker,0}"; the close
 * carries class 0, method 0.
 */
int mq_frame_parse(const uint8_t *buf, size_t len, uint32_t frame_max,
                   mq_frame_t *f /* OUT */, size_t *consumed /* OUT */,
                   mq_wire_err_t *err /* OUT */);

/*
 * Fills err with what RabbitMQ closes the connection with for a frame that
 * may not come on its channel, a content header or body on channel 0:
 * 505 "UNEXPECTED_FRAME - type 3, all octets = <<\"abc\">>" (the payload
 * quoted as in frame errors; class and method 0 in the close).  Returns
 * OB_PROTO_ERR.  (Added by the codec's author: the quoting is Erlang's and
 * lives in the codec.)
 */
int mq_frame_unexpected(const mq_frame_t *f, mq_wire_err_t *err /* OUT */);

/* Writes the 7-byte frame header (type, channel, size) at dst. */
void mq_frame_put_header(uint8_t dst[7], uint8_t type, uint16_t channel,
                         uint32_t size);

/* The 8 bytes of a heartbeat frame. */
extern const uint8_t mq_frame_heartbeat[8];

/* -------------------------------------------------------------- methods */

/*
 * Every method of AMQP 0-9-1 (and RabbitMQ's extensions), once:
 * X(ID, class-id, method-id, "name", "argument types").  Argument types,
 * one letter each, in wire order:
 *   o octet   h short (u16)   l long (u32)   L longlong (u64)
 *   t timestamp (u64)   b bit (runs of bits share octets, LSB first)
 *   s shortstr   S longstr   T field table
 */
#define MQ_METHODS(X) \
    X(CONNECTION_START,       10, 10, "connection.start",       "ooTSS")  \
    X(CONNECTION_START_OK,    10, 11, "connection.start-ok",    "TsSs")   \
    X(CONNECTION_SECURE,      10, 20, "connection.secure",      "S")      \
    X(CONNECTION_SECURE_OK,   10, 21, "connection.secure-ok",   "S")      \
    X(CONNECTION_TUNE,        10, 30, "connection.tune",        "hlh")    \
    X(CONNECTION_TUNE_OK,     10, 31, "connection.tune-ok",     "hlh")    \
    X(CONNECTION_OPEN,        10, 40, "connection.open",        "ssb")    \
    X(CONNECTION_OPEN_OK,     10, 41, "connection.open-ok",     "s")      \
    X(CONNECTION_CLOSE,       10, 50, "connection.close",       "hshh")   \
    X(CONNECTION_CLOSE_OK,    10, 51, "connection.close-ok",    "")       \
    X(CONNECTION_BLOCKED,     10, 60, "connection.blocked",     "s")      \
    X(CONNECTION_UNBLOCKED,   10, 61, "connection.unblocked",   "")       \
    X(CONNECTION_UPDATE_SECRET,    10, 70, "connection.update-secret", "Ss") \
    X(CONNECTION_UPDATE_SECRET_OK, 10, 71, "connection.update-secret-ok", "") \
    X(CHANNEL_OPEN,           20, 10, "channel.open",           "s")      \
    X(CHANNEL_OPEN_OK,        20, 11, "channel.open-ok",        "S")      \
    X(CHANNEL_FLOW,           20, 20, "channel.flow",           "b")      \
    X(CHANNEL_FLOW_OK,        20, 21, "channel.flow-ok",        "b")      \
    X(CHANNEL_CLOSE,          20, 40, "channel.close",          "hshh")   \
    X(CHANNEL_CLOSE_OK,       20, 41, "channel.close-ok",       "")       \
    X(ACCESS_REQUEST,         30, 10, "access.request",         "sbbbbb") \
    X(ACCESS_REQUEST_OK,      30, 11, "access.request-ok",      "h")      \
    X(EXCHANGE_DECLARE,       40, 10, "exchange.declare",       "hssbbbbbT") \
    X(EXCHANGE_DECLARE_OK,    40, 11, "exchange.declare-ok",    "")       \
    X(EXCHANGE_DELETE,        40, 20, "exchange.delete",        "hsbb")   \
    X(EXCHANGE_DELETE_OK,     40, 21, "exchange.delete-ok",     "")       \
    X(EXCHANGE_BIND,          40, 30, "exchange.bind",          "hsssbT") \
    X(EXCHANGE_BIND_OK,       40, 31, "exchange.bind-ok",       "")       \
    X(EXCHANGE_UNBIND,        40, 40, "exchange.unbind",        "hsssbT") \
    X(EXCHANGE_UNBIND_OK,     40, 51, "exchange.unbind-ok",     "")       \
    X(QUEUE_DECLARE,          50, 10, "queue.declare",          "hsbbbbbT") \
    X(QUEUE_DECLARE_OK,       50, 11, "queue.declare-ok",       "sll")    \
    X(QUEUE_BIND,             50, 20, "queue.bind",             "hsssbT") \
    X(QUEUE_BIND_OK,          50, 21, "queue.bind-ok",          "")       \
    X(QUEUE_PURGE,            50, 30, "queue.purge",            "hsb")    \
    X(QUEUE_PURGE_OK,         50, 31, "queue.purge-ok",         "l")      \
    X(QUEUE_DELETE,           50, 40, "queue.delete",           "hsbbb")  \
    X(QUEUE_DELETE_OK,        50, 41, "queue.delete-ok",        "l")      \
    X(QUEUE_UNBIND,           50, 50, "queue.unbind",           "hsssT")  \
    X(QUEUE_UNBIND_OK,        50, 51, "queue.unbind-ok",        "")       \
    X(BASIC_QOS,              60, 10, "basic.qos",              "lhb")    \
    X(BASIC_QOS_OK,           60, 11, "basic.qos-ok",           "")       \
    X(BASIC_CONSUME,          60, 20, "basic.consume",          "hssbbbbT") \
    X(BASIC_CONSUME_OK,       60, 21, "basic.consume-ok",       "s")      \
    X(BASIC_CANCEL,           60, 30, "basic.cancel",           "sb")     \
    X(BASIC_CANCEL_OK,        60, 31, "basic.cancel-ok",        "s")      \
    X(BASIC_PUBLISH,          60, 40, "basic.publish",          "hssbb")  \
    X(BASIC_RETURN,           60, 50, "basic.return",           "hsss")   \
    X(BASIC_DELIVER,          60, 60, "basic.deliver",          "sLbss")  \
    X(BASIC_GET,              60, 70, "basic.get",              "hsb")    \
    X(BASIC_GET_OK,           60, 71, "basic.get-ok",           "Lbssl")  \
    X(BASIC_GET_EMPTY,        60, 72, "basic.get-empty",        "s")      \
    X(BASIC_ACK,              60, 80, "basic.ack",              "Lb")     \
    X(BASIC_REJECT,           60, 90, "basic.reject",           "Lb")     \
    X(BASIC_RECOVER_ASYNC,    60, 100, "basic.recover-async",   "b")      \
    X(BASIC_RECOVER,          60, 110, "basic.recover",         "b")      \
    X(BASIC_RECOVER_OK,       60, 111, "basic.recover-ok",      "")       \
    X(BASIC_NACK,             60, 120, "basic.nack",            "Lbb")    \
    X(CONFIRM_SELECT,         85, 10, "confirm.select",         "b")      \
    X(CONFIRM_SELECT_OK,      85, 11, "confirm.select-ok",      "")       \
    X(TX_SELECT,              90, 10, "tx.select",              "")       \
    X(TX_SELECT_OK,           90, 11, "tx.select-ok",           "")       \
    X(TX_COMMIT,              90, 20, "tx.commit",              "")       \
    X(TX_COMMIT_OK,           90, 21, "tx.commit-ok",           "")       \
    X(TX_ROLLBACK,            90, 30, "tx.rollback",            "")       \
    X(TX_ROLLBACK_OK,         90, 31, "tx.rollback-ok",         "")

/* MQ_M_QUEUE_DECLARE ...: an index into mq_methods[]. */
typedef enum {
#define MQ_METHOD_ENUM(id, cls, mth, name, args) MQ_M_##id,
    MQ_METHODS(MQ_METHOD_ENUM)
#undef MQ_METHOD_ENUM
    MQ_M_COUNT
} mq_method_id_t;

#define MQ_CLASS_CONNECTION  10
#define MQ_CLASS_CHANNEL     20
#define MQ_CLASS_ACCESS      30
#define MQ_CLASS_EXCHANGE    40
#define MQ_CLASS_QUEUE       50
#define MQ_CLASS_BASIC       60
#define MQ_CLASS_CONFIRM     85
#define MQ_CLASS_TX          90

typedef struct mq_method_info_s {
    uint16_t     class_id;
    uint16_t     method_id;
    const char  *name;          /* "queue.declare" */
    const char  *args;          /* the types, as in MQ_METHODS */
} mq_method_info_t;

extern const mq_method_info_t mq_methods[MQ_M_COUNT];

/* The method's index for (class, method), or -1 when there is none. */
int mq_method_lookup(uint16_t class_id, uint16_t method_id);

#define MQ_METHOD_MAX_ARGS  12

/* One decoded argument: integers and bits in n, strings and tables in s
 * (a table's bytes WITHOUT its u32 length, already validated). */
typedef struct mq_arg_s {
    uint64_t  n;
    ob_str_t  s;
} mq_arg_t;

typedef struct mq_method_s {
    mq_method_id_t  id;
    uint16_t        class_id, method_id;
    unsigned        nargs;
    mq_arg_t        a[MQ_METHOD_MAX_ARGS];   /* borrowed: into the payload */
} mq_method_t;

/*
 * Decodes a method frame's payload.  OB_PROTO_ERR: 501 FRAME_ERROR
 * "cannot decode <<args>>" (RabbitMQ's code and text; the close carries
 * the method's class and method ids) for arguments that run past the
 * payload, a malformed table, or bytes left over; 501 "type 1, all octets
 * = ...: unknown_frame" for a payload under 4 octets; 540 NOT_IMPLEMENTED
 * for an unknown class or method (RabbitMQ 3.10.8 has no text for these:
 * its reader crashes and drops the connection without a close).  On a
 * "cannot decode", m->id, class_id and method_id are already filled: the
 * close names the method (e.g. 50/10), as RabbitMQ's does.  Unused
 * bits of a bit octet are ignored, as RabbitMQ ignores them.  Argument
 * indices follow MQ_METHODS; the names below spare the handlers the
 * counting.
 */
int mq_method_decode(const uint8_t *p, size_t len, mq_method_t *m /* OUT */,
                     mq_wire_err_t *err /* OUT */);

/* Argument indices of the methods a broker receives. */
enum { MQ_START_OK_CLIENT_PROPERTIES, MQ_START_OK_MECHANISM,
       MQ_START_OK_RESPONSE, MQ_START_OK_LOCALE };
enum { MQ_TUNE_CHANNEL_MAX, MQ_TUNE_FRAME_MAX, MQ_TUNE_HEARTBEAT };
enum { MQ_OPEN_VHOST, MQ_OPEN_CAPABILITIES, MQ_OPEN_INSIST };
enum { MQ_CLOSE_REPLY_CODE, MQ_CLOSE_REPLY_TEXT, MQ_CLOSE_CLASS_ID,
       MQ_CLOSE_METHOD_ID };
enum { MQ_FLOW_ACTIVE };
enum { MQ_EXCHANGE_DECLARE_TICKET, MQ_EXCHANGE_DECLARE_EXCHANGE,
       MQ_EXCHANGE_DECLARE_TYPE, MQ_EXCHANGE_DECLARE_PASSIVE,
       MQ_EXCHANGE_DECLARE_DURABLE, MQ_EXCHANGE_DECLARE_AUTO_DELETE,
       MQ_EXCHANGE_DECLARE_INTERNAL, MQ_EXCHANGE_DECLARE_NO_WAIT,
       MQ_EXCHANGE_DECLARE_ARGUMENTS };
enum { MQ_EXCHANGE_DELETE_TICKET, MQ_EXCHANGE_DELETE_EXCHANGE,
       MQ_EXCHANGE_DELETE_IF_UNUSED, MQ_EXCHANGE_DELETE_NO_WAIT };
/* exchange.bind and exchange.unbind */
enum { MQ_EXCHANGE_BIND_TICKET, MQ_EXCHANGE_BIND_DESTINATION,
       MQ_EXCHANGE_BIND_SOURCE, MQ_EXCHANGE_BIND_ROUTING_KEY,
       MQ_EXCHANGE_BIND_NO_WAIT, MQ_EXCHANGE_BIND_ARGUMENTS };
enum { MQ_QUEUE_DECLARE_TICKET, MQ_QUEUE_DECLARE_QUEUE,
       MQ_QUEUE_DECLARE_PASSIVE, MQ_QUEUE_DECLARE_DURABLE,
       MQ_QUEUE_DECLARE_EXCLUSIVE, MQ_QUEUE_DECLARE_AUTO_DELETE,
       MQ_QUEUE_DECLARE_NO_WAIT, MQ_QUEUE_DECLARE_ARGUMENTS };
enum { MQ_QUEUE_BIND_TICKET, MQ_QUEUE_BIND_QUEUE, MQ_QUEUE_BIND_EXCHANGE,
       MQ_QUEUE_BIND_ROUTING_KEY, MQ_QUEUE_BIND_NO_WAIT,
       MQ_QUEUE_BIND_ARGUMENTS };
/* queue.unbind has no no-wait: its arguments are index 4. */
enum { MQ_QUEUE_UNBIND_TICKET, MQ_QUEUE_UNBIND_QUEUE,
       MQ_QUEUE_UNBIND_EXCHANGE, MQ_QUEUE_UNBIND_ROUTING_KEY,
       MQ_QUEUE_UNBIND_ARGUMENTS };
enum { MQ_QUEUE_PURGE_TICKET, MQ_QUEUE_PURGE_QUEUE, MQ_QUEUE_PURGE_NO_WAIT };
enum { MQ_QUEUE_DELETE_TICKET, MQ_QUEUE_DELETE_QUEUE,
       MQ_QUEUE_DELETE_IF_UNUSED, MQ_QUEUE_DELETE_IF_EMPTY,
       MQ_QUEUE_DELETE_NO_WAIT };
enum { MQ_QOS_PREFETCH_SIZE, MQ_QOS_PREFETCH_COUNT, MQ_QOS_GLOBAL };
enum { MQ_CONSUME_TICKET, MQ_CONSUME_QUEUE, MQ_CONSUME_TAG,
       MQ_CONSUME_NO_LOCAL, MQ_CONSUME_NO_ACK, MQ_CONSUME_EXCLUSIVE,
       MQ_CONSUME_NO_WAIT, MQ_CONSUME_ARGUMENTS };
enum { MQ_CANCEL_TAG, MQ_CANCEL_NO_WAIT };
enum { MQ_PUBLISH_TICKET, MQ_PUBLISH_EXCHANGE, MQ_PUBLISH_ROUTING_KEY,
       MQ_PUBLISH_MANDATORY, MQ_PUBLISH_IMMEDIATE };
enum { MQ_GET_TICKET, MQ_GET_QUEUE, MQ_GET_NO_ACK };
/* basic.ack, basic.reject (requeue at index 1), basic.nack */
enum { MQ_ACK_DELIVERY_TAG, MQ_ACK_MULTIPLE };
enum { MQ_REJECT_DELIVERY_TAG, MQ_REJECT_REQUEUE };
enum { MQ_NACK_DELIVERY_TAG, MQ_NACK_MULTIPLE, MQ_NACK_REQUEUE };
enum { MQ_RECOVER_REQUEUE };
enum { MQ_CONFIRM_SELECT_NO_WAIT };

/*
 * Encodes a whole method frame (frame header, class and method ids, the
 * arguments, end octet) for method `id` on `channel` into dst.  The
 * arguments follow as varargs, one per type letter of the method:
 *   o h l   unsigned int        L t   uint64_t        b   int (0/1)
 *   s S     const ob_str_t *    (NULL: empty)
 *   T       const ob_str_t *    the table's bytes without their u32
 *                                length (NULL: an empty table)
 * Returns the frame's size, 0 when it does not fit in cap (or a shortstr
 * is over 255 bytes).
 */
size_t mq_frame_method(uint8_t *dst, size_t cap, uint16_t channel,
                       mq_method_id_t id, ...);

/* mq_frame_method with its arguments in a va_list (the caller's va_start
 * and va_end), for wrappers that take the arguments as their own. */
size_t mq_frame_vmethod(uint8_t *dst, size_t cap, uint16_t channel,
                        mq_method_id_t id, va_list ap);

/* ------------------------------------------------------------- content */

#define MQ_CONTENT_HEADER_FIXED  14   /* class, weight, body-size, flags */

/*
 * Parses a content-header frame's payload: class-id 60, weight 0, and a
 * property list that parses (mq_props_parse); the error code for each
 * failure is RabbitMQ's (checked against rabbitmq-server): under 12
 * octets 501 FRAME_ERROR (class/method 0 in the close); weight not 0 505
 * "UNEXPECTED_FRAME - expected content header for class 60, got non
 * content header frame instead", another class 505 "... got one for class
 * N instead" (both with the publish's 60/40 in the close); a property
 * list that does not decode, a bare 541 "INTERNAL_ERROR" (class/method
 * 0).  *props gets the property flags and list (the bytes after
 * body-size): a broker keeps them verbatim and replays them.
 */
int mq_content_header_parse(const uint8_t *p, size_t len,
                            uint64_t *body_size /* OUT */,
                            ob_str_t *props /* OUT */,
                            mq_wire_err_t *err /* OUT */);

/* Writes a content-header frame (7-byte frame header, class 60, weight 0,
 * body_size, then `props` verbatim, end octet).  0 when it does not fit. */
size_t mq_frame_content_header(uint8_t *dst, size_t cap, uint16_t channel,
                               uint64_t body_size, const uint8_t *props,
                               size_t props_len);

/* The basic class's property flags (bit 15 first). */
#define MQ_PROP_CONTENT_TYPE      0x8000
#define MQ_PROP_CONTENT_ENCODING  0x4000
#define MQ_PROP_HEADERS           0x2000
#define MQ_PROP_DELIVERY_MODE     0x1000
#define MQ_PROP_PRIORITY          0x0800
#define MQ_PROP_CORRELATION_ID    0x0400
#define MQ_PROP_REPLY_TO          0x0200
#define MQ_PROP_EXPIRATION        0x0100
#define MQ_PROP_MESSAGE_ID        0x0080
#define MQ_PROP_TIMESTAMP         0x0040
#define MQ_PROP_TYPE              0x0020
#define MQ_PROP_USER_ID           0x0010
#define MQ_PROP_APP_ID            0x0008
#define MQ_PROP_CLUSTER_ID        0x0004

/* The basic properties, parsed (slices into the property list). */
typedef struct mq_props_s {
    uint16_t  flags;               /* which are present */
    ob_str_t  content_type, content_encoding;
    ob_str_t  headers;             /* table bytes without their length */
    uint8_t   delivery_mode, priority;
    ob_str_t  correlation_id, reply_to, expiration, message_id;
    uint64_t  timestamp;
    ob_str_t  type, user_id, app_id, cluster_id;
} mq_props_t;

/* Parses a property list (flags + values); `out` may be NULL to check
 * only.  541 INTERNAL_ERROR (RabbitMQ's: its channel crashes) when it is
 * shorter than the flags, runs past len or short of it, a table is
 * malformed, or the continuation bit asks for more flags (never used by
 * the basic class).  Flag bit 1 is ignored, as RabbitMQ ignores it. */
int mq_props_parse(const uint8_t *p, size_t len, mq_props_t *out /* OUT */,
                   mq_wire_err_t *err /* OUT */);

/* Encodes `pr` as a property list (the fields whose flag is set). */
size_t mq_props_encode(uint8_t *dst, size_t cap, const mq_props_t *pr);

/* The bytes mq_props_encode needs for pr. */
size_t mq_props_size(const mq_props_t *pr);

/* ---------------------------------------------------------- field tables */

/*
 * A value of a field table or array.  Types as RabbitMQ parses them
 * (amqp-research.md 2.1): t b B s u I i l L f d D S x A T F V.
 * Integers are widened into i (signed types) or u (unsigned ones); S and
 * x give their bytes in s; A and F give their contents (without the u32
 * length) in s, to be walked with mq_table_next / mq_array_next.
 */
typedef struct mq_value_s {
    uint8_t   type;
    int64_t   i;
    uint64_t  u;
    double    d;
    uint8_t   scale;               /* D: decimal places; the value is in u */
    ob_str_t  s;
} mq_value_t;

/* 1 when the value is one of the integer types (b B s u I i l L). */
int mq_value_is_int(const mq_value_t *v);

/* Checks a table's contents (without the u32 length), nested tables and
 * arrays included, to a depth of 64.  OB_OK or OB_PROTO_ERR. */
int mq_table_validate(const uint8_t *p, size_t len);

typedef struct mq_table_iter_s {
    const uint8_t *p, *end;
} mq_table_iter_t;

void mq_table_iter_init(mq_table_iter_t *it, ob_str_t table);

/* The next entry of a validated table: 1 (key and value filled), 0 at
 * the end. */
int mq_table_next(mq_table_iter_t *it, ob_str_t *key /* OUT */,
                  mq_value_t *v /* OUT */);

/* The next value of a validated array's contents: 1, or 0 at the end. */
int mq_array_next(mq_table_iter_t *it, mq_value_t *v /* OUT */);

/* Finds `key` in a validated table: 1 (v filled) or 0. */
int mq_table_find(ob_str_t table, const char *key, mq_value_t *v /* OUT */);

/* 1 when two values are equal as RabbitMQ compares them (same type and
 * bytes; an integer equals an integer of another width with the same
 * value). */
int mq_value_equal(const mq_value_t *a, const mq_value_t *b);

/* 1 when two validated tables hold the same entries (any order). */
int mq_table_equal(ob_str_t a, ob_str_t b);

/*
 * A growable buffer that builds a table's (or array's) contents, for the
 * server properties and the x-death header.  Builders append; on a failed
 * malloc `failed` is set and later calls do nothing.  Containers nest:
 * mq_tbuf_open writes a type tag and a length placeholder (after the key
 * the caller wrote with mq_tbuf_key, or inside an array) and returns its
 * position; mq_tbuf_close(b, pos) patches the length.
 */
typedef struct mq_tbuf_s {
    uint8_t  *data;
    size_t    len, cap;
    int       failed;
} mq_tbuf_t;

void   mq_tbuf_init(mq_tbuf_t *b);
void   mq_tbuf_free(mq_tbuf_t *b);
void   mq_tbuf_key(mq_tbuf_t *b, const char *key, size_t klen);
void   mq_tbuf_longstr(mq_tbuf_t *b, const void *s, size_t len);   /* S */
void   mq_tbuf_i64(mq_tbuf_t *b, int64_t v);                      /* l */
void   mq_tbuf_i32(mq_tbuf_t *b, int32_t v);                      /* I */
void   mq_tbuf_bool(mq_tbuf_t *b, int v);                         /* t */
void   mq_tbuf_timestamp(mq_tbuf_t *b, uint64_t v);               /* T */
void   mq_tbuf_void(mq_tbuf_t *b);                                /* V */
void   mq_tbuf_value(mq_tbuf_t *b, const mq_value_t *v);   /* verbatim */
void   mq_tbuf_raw(mq_tbuf_t *b, const void *p, size_t len);
size_t mq_tbuf_open(mq_tbuf_t *b, uint8_t type /* 'F' or 'A' */);
void   mq_tbuf_close(mq_tbuf_t *b, size_t pos);

/* ---------------------------------------------------------------- topic */

/* 1 when routing key `key` matches topic binding `pattern`: words split
 * at '.', '*' matches exactly one word, '#' zero or more.  Iterative, no
 * recursion blow-up on patterns like "#.#.#.#.x". */
int mq_topic_match(ob_str_t pattern, ob_str_t key);

/* ------------------------------------------------------------ big-endian */

static inline uint16_t mq_get16(const uint8_t *p)
{ return (uint16_t) ((p[0] << 8) | p[1]); }
static inline uint32_t mq_get32(const uint8_t *p)
{ return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
       | ((uint32_t) p[2] << 8) | p[3]; }
static inline uint64_t mq_get64(const uint8_t *p)
{ return ((uint64_t) mq_get32(p) << 32) | mq_get32(p + 4); }
static inline void mq_put16(uint8_t *p, uint16_t v)
{ p[0] = (uint8_t) (v >> 8); p[1] = (uint8_t) v; }
static inline void mq_put32(uint8_t *p, uint32_t v)
{ p[0] = (uint8_t) (v >> 24); p[1] = (uint8_t) (v >> 16);
  p[2] = (uint8_t) (v >> 8); p[3] = (uint8_t) v; }
static inline void mq_put64(uint8_t *p, uint64_t v)
{ mq_put32(p, (uint32_t) (v >> 32)); mq_put32(p + 4, (uint32_t) v); }

#endif /* MQ_WIRE_H */
