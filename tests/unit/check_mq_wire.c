/*
 * check_mq_wire.c: unit tests of the AMQP 0-9-1 codec's framing and
 * methods (mq/mq_frame.c, mq/mq_method.c, mq/mq_props.c,
 * mq/mq_wire_err.c): the protocol header, frames fed at every length,
 * every method of MQ_METHODS encoded and decoded back, bit packing,
 * content headers and the basic properties.
 *
 * The expected error codes and texts are the ones RabbitMQ 3.10.8 closed
 * the connection with when a raw socket sent it the same bytes (the texts
 * are quoted here as it sent them, line breaks included).  Where RabbitMQ
 * sends no close at all (an unknown class or method, a malformed table in
 * a method: its reader crashes and drops the socket), the tests hold the
 * codes mq_wire.h promises instead.
 */
#include "check_suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mq/mq_wire.h"
#include "check_mq_util.h"


/* ---- helpers ------------------------------------------------------------ */

/* Writes a whole frame (header, payload, end octet) into dst. */
static size_t
t_frame(uint8_t *dst, uint8_t type, uint16_t ch, const void *payload,
    size_t len, uint8_t end)
{
    mq_frame_put_header(dst, type, ch, (uint32_t) len);
    if (len != 0) {
        memcpy(dst + 7, payload, len);
    }
    dst[7 + len] = end;

    return len + 8;
}


/* Parses exactly buf[0..len) as one frame and expects an error. */
static void
t_frame_err(const uint8_t *buf, size_t len, uint32_t frame_max,
    unsigned code, const char *text)
{
    mq_frame_t     f;
    mq_wire_err_t  err;
    size_t         consumed;
    int            rc;

    memset(&err, 0, sizeof(err));
    rc = mq_frame_parse(buf, len, frame_max, &f, &consumed, &err);
    ck_assert_int_eq(rc, OB_PROTO_ERR);
    ck_assert_uint_eq(err.code, code);
    ck_assert_str_eq(err.text, text);
}


/* Decodes payload p and expects an error. */
static void
t_method_err(const void *p, size_t len, unsigned code, const char *text)
{
    mq_method_t    m;
    mq_wire_err_t  err;

    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(mq_method_decode(p, len, &m, &err), OB_PROTO_ERR);
    ck_assert_uint_eq(err.code, code);
    if (text != NULL) {
        ck_assert_str_eq(err.text, text);
    }
}


/* ---- protocol header ---------------------------------------------------- */

START_TEST(t_protocol_header)
{
    const uint8_t  *h = (const uint8_t *) MQ_PROTOCOL_HEADER;
    size_t          i;

    ck_assert_int_eq(mq_protocol_header_check(h, 8), OB_OK);
    for (i = 0; i < 8; i++) {
        ck_assert_int_eq(mq_protocol_header_check(h, i), OB_AGAIN);
    }
    ck_assert_int_eq(mq_protocol_header_check((const uint8_t *)
                     "AMQP\x00\x00\x09\x00", 8), OB_PROTO_ERR);
    ck_assert_int_eq(mq_protocol_header_check((const uint8_t *)
                     "AMQP\x01\x01\x00\x09", 8), OB_PROTO_ERR);
    ck_assert_int_eq(mq_protocol_header_check((const uint8_t *) "GET / H",
                     7), OB_PROTO_ERR);
    ck_assert_int_eq(mq_protocol_header_check((const uint8_t *) "AMQX", 4),
                     OB_PROTO_ERR);
}
END_TEST


/* ---- frames ------------------------------------------------------------- */

/* Every prefix of a frame asks for more, and says how much once the
 * header is in; the whole frame (and anything after it) parses. */
START_TEST(t_frame_prefixes)
{
    uint8_t         buf[256];
    ob_str_t        q = t_str("orders");
    mq_frame_t      f;
    mq_wire_err_t   err;
    size_t          n, i, consumed;

    n = mq_frame_method(buf, sizeof(buf), 7, MQ_M_QUEUE_DECLARE, 0u, &q,
                        0, 1, 0, 0, 0, NULL);
    ck_assert_uint_gt(n, 8);

    for (i = 0; i < n; i++) {
        consumed = 12345;
        ck_assert_int_eq(mq_frame_parse(buf, i, 131072, &f, &consumed, &err),
                         OB_AGAIN);
        ck_assert_uint_eq(consumed, i < 7 ? 0 : n);
    }

    memcpy(buf + n, "\x01\x02\x03", 3);
    for (i = n; i <= n + 3; i++) {
        ck_assert_int_eq(mq_frame_parse(buf, i, 131072, &f, &consumed, &err),
                         OB_OK);
        ck_assert_uint_eq(consumed, n);
        ck_assert_uint_eq(f.type, MQ_FRAME_METHOD);
        ck_assert_uint_eq(f.channel, 7);
        ck_assert_uint_eq(f.size, n - 8);
        ck_assert_ptr_eq(f.payload, buf + 7);
    }
}
END_TEST


START_TEST(t_frame_bad_end)
{
    uint8_t  buf[64], payload[20];
    size_t   n, i;

    /* As RabbitMQ sent them back. */
    n = t_frame(buf, 1, 1, "\x00\x14\x00\x0a\x00", 5, 0x00);
    t_frame_err(buf, n, 131072, 501, "FRAME_ERROR - type 1, all octets = "
                "<<0,20,0,10,0>>: {invalid_frame_end_marker,0}");

    for (i = 0; i < 20; i++) {
        payload[i] = (uint8_t) i;
    }
    n = t_frame(buf, 1, 1, payload, 20, 0x00);
    t_frame_err(buf, n, 131072, 501, "FRAME_ERROR - type 1, first 16 octets"
                " = <<0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15>>: "
                "{invalid_frame_end_marker,\n"
                "                                                        "
                "              0}");
    n = t_frame(buf, 1, 1, payload, 16, 0x00);
    t_frame_err(buf, n, 131072, 501, "FRAME_ERROR - type 1, all octets = "
                "<<0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15>>: "
                "{invalid_frame_end_marker,\n"
                "                                                        "
                "         0}");

    payload[0] = 0;
    memset(payload + 1, 100, 15);
    n = t_frame(buf, 1, 1, payload, 16, 0x00);
    t_frame_err(buf, n, 131072, 501, "FRAME_ERROR - type 1, all octets = "
                "<<0,100,100,100,100,100,100,100,100,100,100,100,100,100,\n"
                "                       100,100>>: "
                "{invalid_frame_end_marker,0}");

    memset(payload, 'a', 20);
    n = t_frame(buf, 1, 1, payload, 20, 0x01);
    t_frame_err(buf, n, 131072, 501, "FRAME_ERROR - type 1, first 16 octets"
                " = <<\"aaaaaaaaaaaaaaaa\">>: {invalid_frame_end_marker,1}");

    n = t_frame(buf, 1, 1, "a\nb", 3, 0x01);
    t_frame_err(buf, n, 131072, 501, "FRAME_ERROR - type 1, all octets = "
                "<<\"a\\nb\">>: {invalid_frame_end_marker,1}");

    payload[0] = 0;
    payload[1] = 1;
    payload[2] = 2;
    memset(payload + 3, 255, 17);
    n = t_frame(buf, 3, 1, payload, 20, 7);
    t_frame_err(buf, n, 131072, 501, "FRAME_ERROR - type 3, first 16 octets"
                " = <<0,1,2,255,255,255,255,255,255,255,255,255,255,255,\n"
                "                            255,255>>: "
                "{invalid_frame_end_marker,7}");

    /* A quote, a backslash and DEL: octets, not a string. */
    n = t_frame(buf, 1, 1, "a\"b\\c\x1b" "d\te\x7f", 10, 1);
    t_frame_err(buf, n, 131072, 501, "FRAME_ERROR - type 1, all octets = "
                "<<97,34,98,92,99,27,100,9,101,127>>: "
                "{invalid_frame_end_marker,\n"
                "                                                        "
                "   1}");

    n = t_frame(buf, 3, 1, "\x00\x01\x02", 3, 0xff);
    t_frame_err(buf, n, 131072, 501, "FRAME_ERROR - type 3, all octets = "
                "<<0,1,2>>: {invalid_frame_end_marker,255}");

    payload[0] = 0;
    memset(payload + 1, 200, 15);
    n = t_frame(buf, 200, 1, payload, 16, MQ_FRAME_END);
    t_frame_err(buf, n, 131072, 501, "FRAME_ERROR - type 200, all octets = "
                "<<0,200,200,200,200,200,200,200,200,200,200,200,200,200,\n"
                "                         200,200>>: unknown_frame");
}
END_TEST


START_TEST(t_frame_type_and_heartbeat)
{
    uint8_t         buf[64];
    mq_frame_t      f;
    mq_wire_err_t   err;
    size_t          n, consumed;

    n = t_frame(buf, 7, 1, "abc", 3, MQ_FRAME_END);
    t_frame_err(buf, n, 131072, 501, "FRAME_ERROR - type 7, all octets = "
                "<<\"abc\">>: unknown_frame");
    n = t_frame(buf, 0, 1, "\xe9t\xe9", 3, MQ_FRAME_END);
    t_frame_err(buf, n, 131072, 501, "FRAME_ERROR - type 0, all octets = "
                "<<\"\xe9t\xe9\">>: unknown_frame");

    ck_assert_int_eq(mq_frame_parse(mq_frame_heartbeat, 8, 131072, &f,
                                    &consumed, &err), OB_OK);
    ck_assert_uint_eq(f.type, MQ_FRAME_HEARTBEAT);
    ck_assert_uint_eq(f.channel, 0);
    ck_assert_uint_eq(f.size, 0);
    ck_assert_uint_eq(consumed, 8);

    n = t_frame(buf, 8, 1, NULL, 0, MQ_FRAME_END);
    t_frame_err(buf, n, 131072, 505,
                "UNEXPECTED_FRAME - type 8, all octets = <<>>");
    n = t_frame(buf, 8, 0, "ab", 2, MQ_FRAME_END);
    t_frame_err(buf, n, 131072, 501, "FRAME_ERROR - type 8, all octets = "
                "<<\"ab\">>: unknown_frame");

    /* Body and header frames pass through untouched. */
    n = t_frame(buf, 3, 9, "xyz", 3, MQ_FRAME_END);
    ck_assert_int_eq(mq_frame_parse(buf, n, 131072, &f, &consumed, &err),
                     OB_OK);
    ck_assert_uint_eq(f.type, MQ_FRAME_BODY);
    ck_assert_uint_eq(f.channel, 9);
    ck_assert_int_eq(memcmp(f.payload, "xyz", 3), 0);

    /* A body on channel 0, as RabbitMQ refused it. */
    n = t_frame(buf, 3, 0, "abc", 3, MQ_FRAME_END);
    ck_assert_int_eq(mq_frame_parse(buf, n, 131072, &f, &consumed, &err),
                     OB_OK);
    ck_assert_int_eq(mq_frame_unexpected(&f, &err), OB_PROTO_ERR);
    ck_assert_uint_eq(err.code, 505);
    ck_assert_str_eq(err.text,
                     "UNEXPECTED_FRAME - type 3, all octets = <<\"abc\">>");
}
END_TEST


/* RabbitMQ lets a payload of frame_max octets through (its fudge) and
 * refuses one more, from the header alone. */
START_TEST(t_frame_max)
{
    uint8_t         hdr[7], *buf;
    mq_frame_t      f;
    mq_wire_err_t   err;
    size_t          consumed;

    mq_frame_put_header(hdr, MQ_FRAME_BODY, 1, 131073);
    t_frame_err(hdr, 7, 131072, 501, "FRAME_ERROR - type 3, all octets = "
                "<<>>: {frame_too_large,131073,131064}");
    mq_frame_put_header(hdr, MQ_FRAME_METHOD, 1, 4097);
    t_frame_err(hdr, 7, 4096, 501, "FRAME_ERROR - type 1, all octets = "
                "<<>>: {frame_too_large,4097,4088}");
    mq_frame_put_header(hdr, MQ_FRAME_METHOD, 1, 0xffffffffu);
    t_frame_err(hdr, 7, 131072, 501, "FRAME_ERROR - type 1, all octets = "
                "<<>>: {frame_too_large,4294967295,131064}");

    buf = calloc(1, 131072 + 8);
    ck_assert_ptr_nonnull(buf);
    mq_frame_put_header(buf, MQ_FRAME_BODY, 1, 131072);
    buf[131072 + 7] = MQ_FRAME_END;
    ck_assert_int_eq(mq_frame_parse(buf, 7, 131072, &f, &consumed, &err),
                     OB_AGAIN);
    ck_assert_uint_eq(consumed, 131072 + 8);
    ck_assert_int_eq(mq_frame_parse(buf, 131072 + 8, 131072, &f, &consumed,
                                    &err), OB_OK);
    ck_assert_uint_eq(f.size, 131072);
    /* 0: no limit. */
    ck_assert_int_eq(mq_frame_parse(buf, 131072 + 8, 0, &f, &consumed, &err),
                     OB_OK);
    free(buf);
}
END_TEST


START_TEST(t_reply_names)
{
    ck_assert_str_eq(mq_reply_name(404), "NOT_FOUND");
    ck_assert_str_eq(mq_reply_name(406), "PRECONDITION_FAILED");
    ck_assert_str_eq(mq_reply_name(501), "FRAME_ERROR");
    ck_assert_str_eq(mq_reply_name(502), "SYNTAX_ERROR");
    ck_assert_str_eq(mq_reply_name(503), "COMMAND_INVALID");
    ck_assert_str_eq(mq_reply_name(504), "CHANNEL_ERROR");
    ck_assert_str_eq(mq_reply_name(505), "UNEXPECTED_FRAME");
    ck_assert_str_eq(mq_reply_name(506), "RESOURCE_ERROR");
    ck_assert_str_eq(mq_reply_name(530), "NOT_ALLOWED");
    ck_assert_str_eq(mq_reply_name(540), "NOT_IMPLEMENTED");
    ck_assert_str_eq(mq_reply_name(541), "INTERNAL_ERROR");
    ck_assert_str_eq(mq_reply_name(403), "ACCESS_REFUSED");
    ck_assert_str_eq(mq_reply_name(405), "RESOURCE_LOCKED");
    ck_assert_str_eq(mq_reply_name(320), "CONNECTION_FORCED");
    ck_assert_str_eq(mq_reply_name(311), "CONTENT_TOO_LARGE");
    ck_assert_str_eq(mq_reply_name(312), "NO_ROUTE");
    ck_assert_str_eq(mq_reply_name(313), "NO_CONSUMERS");
    ck_assert_str_eq(mq_reply_name(402), "INVALID_PATH");
    /* RabbitMQ's exception table has no name for 200 (a normal close
     * carries the closer's own text) nor for made-up codes. */
    ck_assert_ptr_null(mq_reply_name(200));
    ck_assert_ptr_null(mq_reply_name(999));
}
END_TEST


/* ---- methods ------------------------------------------------------------ */

/*
 * t_mq_frame_method (check_mq_util.h) with a failed test for a layout it
 * does not know.
 */
static size_t
t_encode(uint8_t *dst, size_t cap, uint16_t ch, mq_method_id_t id,
    const mq_arg_t *v)
{
    size_t  n;

    n = t_mq_frame_method(dst, cap, ch, id, v);
    if (n == T_MQ_NO_LAYOUT) {
        ck_abort_msg("no encoder for layout %s", mq_methods[id].args);
    }

    return n;
}


/*
 * The test's own encoder of a method's payload, straight from the spec
 * (class, method, then each argument; bit runs packed LSB first), to hold
 * mq_frame_method's bytes against.
 */
static size_t
t_ref_payload(uint8_t *dst, mq_method_id_t id, const mq_arg_t *v)
{
    const char  *a;
    uint8_t     *p, *bits;
    unsigned     bit, i;

    p = dst;
    mq_put16(p, mq_methods[id].class_id);
    mq_put16(p + 2, mq_methods[id].method_id);
    p += 4;
    bits = NULL;
    bit = 0;

    for (a = mq_methods[id].args, i = 0; *a != '\0'; a++, i++) {
        if (*a == 'b') {
            if (bits == NULL || bit == 8) {
                bits = p++;
                *bits = 0;
                bit = 0;
            }
            *bits |= (uint8_t) ((v[i].n & 1) << bit++);
            continue;
        }
        bits = NULL;
        switch (*a) {
        case 'o': *p++ = (uint8_t) v[i].n; break;
        case 'h': mq_put16(p, (uint16_t) v[i].n); p += 2; break;
        case 'l': mq_put32(p, (uint32_t) v[i].n); p += 4; break;
        case 'L': case 't': mq_put64(p, v[i].n); p += 8; break;
        case 's':
            *p++ = (uint8_t) v[i].s.len;
            memcpy(p, v[i].s.data, v[i].s.len);
            p += v[i].s.len;
            break;
        default:
            mq_put32(p, (uint32_t) v[i].s.len);
            p += 4;
            memcpy(p, v[i].s.data, v[i].s.len);
            p += v[i].s.len;
            break;
        }
    }

    return (size_t) (p - dst);
}


/* A table for 'T' arguments: {"k": S "v", "n": I 7}. */
static const uint8_t  t_table[] = "\x01kS\x00\x00\x00\x01v"
                                  "\x01nI\x00\x00\x00\x07";
static uint8_t        t_long[300];
static uint8_t        t_short[255];


/* Distinct values for every argument of method id; `bits` picks the bit
 * pattern (0 all clear, 1 all set, 2 alternating). */
static void
t_fill_args(mq_method_id_t id, int bits, mq_arg_t *v)
{
    const char  *a;
    unsigned     i;

    memset(t_long, 'L', sizeof(t_long));
    memset(t_short, 'z', sizeof(t_short));

    for (a = mq_methods[id].args, i = 0; *a != '\0'; a++, i++) {
        v[i].n = 0;
        v[i].s.len = 0;
        v[i].s.data = NULL;
        switch (*a) {
        case 'o': v[i].n = 0x80 + i; break;
        case 'h': v[i].n = 0xf000 + i * 7; break;
        case 'l': v[i].n = 0xfedcba00u + i; break;
        case 'L': case 't': v[i].n = 0xf102030405060700ull + i; break;
        case 'b': v[i].n = bits == 2 ? (i & 1) : (unsigned) bits; break;
        case 's':
            v[i].s.data = t_short;
            v[i].s.len = (i % 3 == 0) ? 255 : i;
            break;
        case 'S':
            v[i].s.data = t_long;
            v[i].s.len = (i & 1) ? sizeof(t_long) : 0;
            break;
        case 'T':
            v[i].s.data = t_table;
            v[i].s.len = sizeof(t_table) - 1;
            break;
        }
    }
}


/* Every method: encode, compare with the spec's bytes, parse the frame,
 * decode, and get the same arguments back. */
START_TEST(t_method_round_trip)
{
    static uint8_t     buf[4096], ref[4096];
    mq_arg_t           v[MQ_METHOD_MAX_ARGS];
    mq_method_t        m;
    mq_frame_t         f;
    mq_wire_err_t      err;
    const char        *a;
    size_t             n, rn, consumed;
    unsigned           i;
    int                id, bits;

    for (id = 0; id < MQ_M_COUNT; id++) {
        ck_assert_int_eq(mq_method_lookup(mq_methods[id].class_id,
                                          mq_methods[id].method_id), id);
        ck_assert_uint_le(strlen(mq_methods[id].args), MQ_METHOD_MAX_ARGS);

        for (bits = 0; bits < 3; bits++) {
            t_fill_args((mq_method_id_t) id, bits, v);
            n = t_encode(buf, sizeof(buf), 5, (mq_method_id_t) id, v);
            ck_assert_msg(n > 0, "%s did not encode", mq_methods[id].name);

            rn = t_ref_payload(ref, (mq_method_id_t) id, v);
            ck_assert_msg(n == rn + 8, "%s: %zu bytes, the spec's %zu",
                          mq_methods[id].name, n, rn + 8);
            ck_assert_int_eq(memcmp(buf + 7, ref, rn), 0);

            ck_assert_int_eq(mq_frame_parse(buf, n, 131072, &f, &consumed,
                                            &err), OB_OK);
            ck_assert_uint_eq(f.channel, 5);
            ck_assert_int_eq(mq_method_decode(f.payload, f.size, &m, &err),
                             OB_OK);
            ck_assert_int_eq(m.id, id);
            ck_assert_uint_eq(m.class_id, mq_methods[id].class_id);
            ck_assert_uint_eq(m.method_id, mq_methods[id].method_id);
            ck_assert_uint_eq(m.nargs, strlen(mq_methods[id].args));

            for (a = mq_methods[id].args, i = 0; *a != '\0'; a++, i++) {
                if (strchr("sST", *a) != NULL) {
                    ck_assert_uint_eq(m.a[i].s.len, v[i].s.len);
                    ck_assert_int_eq(memcmp(m.a[i].s.data, v[i].s.data,
                                            v[i].s.len), 0);
                    ck_assert_int_eq(m.a[i].s.data >= f.payload
                                     && m.a[i].s.data <= f.payload + f.size,
                                     1);
                } else {
                    ck_assert_msg(m.a[i].n == v[i].n, "%s arg %u",
                                  mq_methods[id].name, i);
                }
            }

            /* Every cap short of the frame fails cleanly. */
            for (consumed = 0; consumed < n; consumed++) {
                ck_assert_uint_eq(t_encode(buf, consumed, 5,
                                           (mq_method_id_t) id, v), 0);
            }
        }
    }

    ck_assert_int_eq(mq_method_lookup(99, 10), -1);
    ck_assert_int_eq(mq_method_lookup(50, 99), -1);
    ck_assert_int_eq(mq_method_lookup(40, 41), -1);    /* unbind-ok is 51 */
    ck_assert_int_eq(mq_method_lookup(40, 51), MQ_M_EXCHANGE_UNBIND_OK);
    ck_assert_str_eq(mq_methods[MQ_M_QUEUE_DECLARE].name, "queue.declare");
}
END_TEST


/* Every prefix of every method's arguments is short, and one octet more
 * is too many: both are RabbitMQ's "cannot decode". */
START_TEST(t_method_truncated_and_trailing)
{
    static uint8_t     buf[4096];
    mq_arg_t           v[MQ_METHOD_MAX_ARGS];
    mq_method_t        m;
    mq_wire_err_t      err;
    size_t             n, i;
    int                id;

    memset(&err, 0, sizeof(err));

    for (id = 0; id < MQ_M_COUNT; id++) {
        t_fill_args((mq_method_id_t) id, 1, v);
        n = t_ref_payload(buf, (mq_method_id_t) id, v);
        for (i = 4; i < n; i++) {
            t_method_err(buf, i, 501, NULL);
        }
        buf[n] = 0;
        t_method_err(buf, n + 1, 501, NULL);
        ck_assert_int_eq(mq_method_decode(buf, n, &m, &err), OB_OK);
    }

    /* As RabbitMQ sent them back (close class/method 50/10, 90/10). */
    t_method_err("\x00\x32\x00\x0a\x00\x00\x03" "ab", 9, 501,
                 "FRAME_ERROR - cannot decode <<0,0,3,97,98>>");
    t_method_err("\x00\x32\x00\x0a\x00\x00\x02q1\x00\x00\x00\x00\x00XX", 16,
                 501, "FRAME_ERROR - cannot decode "
                 "<<0,0,2,113,49,0,0,0,0,0,88,88>>");
    t_method_err("\x00\x5a\x00\x0a\x00", 5, 501,
                 "FRAME_ERROR - cannot decode <<0>>");
    t_method_err("\x00\x32", 2, 501,
                 "FRAME_ERROR - type 1, all octets = <<0,50>>: unknown_frame");
    t_method_err("", 0, 501,
                 "FRAME_ERROR - type 1, all octets = <<>>: unknown_frame");
}
END_TEST


/* RabbitMQ cuts the text at 252 bytes and "..." (it sent exactly this
 * for queue.declare with a shortstr of 255 and 100 octets after it). */
START_TEST(t_method_long_text)
{
    uint8_t        p[4 + 3 + 100];
    char           want[1024];
    size_t         n, i;
    mq_wire_err_t  err;
    mq_method_t    m;

    memcpy(p, "\x00\x32\x00\x0a\x00\x00\xff", 7);
    memset(p + 7, 'a', 100);
    n = (size_t) snprintf(want, sizeof(want),
                          "FRAME_ERROR - cannot decode <<0,0,255");
    for (i = 0; i < 100; i++) {
        n += (size_t) snprintf(want + n, sizeof(want) - n, ",97");
    }
    memcpy(want + 252, "...", 4);

    ck_assert_int_eq(mq_method_decode(p, sizeof(p), &m, &err), OB_PROTO_ERR);
    ck_assert_uint_eq(err.code, 501);
    /* The close names the method (RabbitMQ sent class 50, method 10). */
    ck_assert_int_eq(m.id, MQ_M_QUEUE_DECLARE);
    ck_assert_uint_eq(m.class_id, 50);
    ck_assert_uint_eq(m.method_id, 10);
    ck_assert_uint_eq(strlen(err.text), 255);
    ck_assert_str_eq(err.text, want);
    ck_assert_str_eq(err.text + 248, "97,9...");
}
END_TEST


/* RabbitMQ 3.10.8 drops the connection on these without a close; the
 * contract's code is 540. */
START_TEST(t_method_unknown)
{
    t_method_err("\x00\x63\x00\x0a", 4, 540, NULL);
    t_method_err("\x00\x32\x00\x63", 4, 540, NULL);
    t_method_err("\x00\x0a\x00\x63", 4, 540, NULL);
    t_method_err("\x00\x28\x00\x29", 4, 540, NULL);
}
END_TEST


START_TEST(t_method_bad_table)
{
    /* queue.declare "q1" with a table whose value tag is unknown. */
    t_method_err("\x00\x32\x00\x0a\x00\x00\x02q1\x00\x00\x00\x00\x03\x01" "aZ",
                 17, 501, "FRAME_ERROR - cannot decode "
                 "<<0,0,2,113,49,0,0,0,0,3,1,97,90>>");
    /* A table length past the payload. */
    t_method_err("\x00\x32\x00\x0a\x00\x00\x02q1\x00\x00\x00\x00\x09\x01" "aV",
                 17, 501, NULL);
}
END_TEST


/* queue.declare's five flags share one octet, passive first (0x01). */
START_TEST(t_method_bits)
{
    static const unsigned  idx[5] = {
        MQ_QUEUE_DECLARE_PASSIVE, MQ_QUEUE_DECLARE_DURABLE,
        MQ_QUEUE_DECLARE_EXCLUSIVE, MQ_QUEUE_DECLARE_AUTO_DELETE,
        MQ_QUEUE_DECLARE_NO_WAIT
    };
    uint8_t        buf[64];
    ob_str_t       q = t_str("q");
    mq_method_t    m;
    mq_wire_err_t  err;
    size_t         n;
    unsigned       i, j;
    int            flag[5];

    for (i = 0; i < 5; i++) {
        for (j = 0; j < 5; j++) {
            flag[j] = (i == j);
        }
        n = mq_frame_method(buf, sizeof(buf), 1, MQ_M_QUEUE_DECLARE, 0u, &q,
                            flag[0], flag[1], flag[2], flag[3], flag[4],
                            NULL);
        /* header 7, ids 4, ticket 2, "q" 2, flags 1, table 4, end 1 */
        ck_assert_uint_eq(n, 21);
        ck_assert_uint_eq(buf[15], 1u << i);
        ck_assert_int_eq(mq_method_decode(buf + 7, n - 8, &m, &err), OB_OK);
        for (j = 0; j < 5; j++) {
            ck_assert_uint_eq(m.a[idx[j]].n, i == j);
        }
    }

    /* Unused bits are ignored, as RabbitMQ ignores them. */
    buf[15] = 0xff;
    ck_assert_int_eq(mq_method_decode(buf + 7, n - 8, &m, &err), OB_OK);
    for (j = 0; j < 5; j++) {
        ck_assert_uint_eq(m.a[idx[j]].n, 1);
    }
    ck_assert_uint_eq(m.a[MQ_QUEUE_DECLARE_ARGUMENTS].s.len, 0);

    /* basic.deliver: a bit between a longlong and a shortstr. */
    {
        ob_str_t  tag = t_str("ctag"), ex = t_str("x"), rk = t_str("rk");

        n = mq_frame_method(buf, sizeof(buf), 1, MQ_M_BASIC_DELIVER, &tag,
                            (uint64_t) 42, 1, &ex, &rk);
        ck_assert_uint_gt(n, 0);
        ck_assert_int_eq(mq_method_decode(buf + 7, n - 8, &m, &err), OB_OK);
        ck_assert_uint_eq(m.a[1].n, 42);
        ck_assert_uint_eq(m.a[2].n, 1);
        ck_assert_uint_eq(m.a[3].s.len, 1);
        ck_assert_uint_eq(m.a[4].s.len, 2);
    }

    /* basic.nack: multiple and requeue in one octet. */
    n = mq_frame_method(buf, sizeof(buf), 1, MQ_M_BASIC_NACK, (uint64_t) 7,
                        0, 1);
    ck_assert_uint_eq(n, 7 + 4 + 8 + 1 + 1);
    ck_assert_uint_eq(buf[19], 0x02);
    ck_assert_int_eq(mq_method_decode(buf + 7, n - 8, &m, &err), OB_OK);
    ck_assert_uint_eq(m.a[MQ_NACK_MULTIPLE].n, 0);
    ck_assert_uint_eq(m.a[MQ_NACK_REQUEUE].n, 1);
}
END_TEST


START_TEST(t_method_encode_limits)
{
    uint8_t   buf[600], big[256];
    ob_str_t  s;

    memset(big, 'x', sizeof(big));
    s.data = big;
    s.len = 256;
    ck_assert_uint_eq(mq_frame_method(buf, sizeof(buf), 1,
                                      MQ_M_BASIC_CONSUME_OK, &s), 0);
    s.len = 255;
    ck_assert_uint_eq(mq_frame_method(buf, sizeof(buf), 1,
                                      MQ_M_BASIC_CONSUME_OK, &s),
                      7 + 4 + 1 + 255 + 1);
    ck_assert_uint_eq(mq_frame_method(buf, sizeof(buf), 1, MQ_M_COUNT), 0);

    /* channel.open-ok's reserved longstr: payload 00 14 00 0b 00000000. */
    ck_assert_uint_eq(mq_frame_method(buf, sizeof(buf), 1,
                                      MQ_M_CHANNEL_OPEN_OK, NULL), 16);
    ck_assert_int_eq(memcmp(buf, "\x01\x00\x01\x00\x00\x00\x08"
                            "\x00\x14\x00\x0b\x00\x00\x00\x00\xce", 16), 0);
    /* connection.tune as RabbitMQ sends it. */
    ck_assert_uint_eq(mq_frame_method(buf, sizeof(buf), 0,
                                      MQ_M_CONNECTION_TUNE, 2047u, 131072u,
                                      60u), 20);
    ck_assert_int_eq(memcmp(buf, "\x01\x00\x00\x00\x00\x00\x0c\x00\x0a\x00"
                            "\x1e\x07\xff\x00\x02\x00\x00\x00\x3c\xce", 20),
                     0);
}
END_TEST


/* ---- content headers and properties ------------------------------------ */

/* A content header's payload: class, weight, size, then `props`. */
static size_t
t_header_payload(uint8_t *dst, uint16_t cls, uint16_t weight, uint64_t size,
    const void *props, size_t len)
{
    mq_put16(dst, cls);
    mq_put16(dst + 2, weight);
    mq_put64(dst + 4, size);
    memcpy(dst + 12, props, len);

    return 12 + len;
}


static void
t_header_err(const uint8_t *p, size_t len, unsigned code, const char *text)
{
    mq_wire_err_t  err;
    ob_str_t       props;
    uint64_t       size;

    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(mq_content_header_parse(p, len, &size, &props, &err),
                     OB_PROTO_ERR);
    ck_assert_uint_eq(err.code, code);
    ck_assert_str_eq(err.text, text);
}


START_TEST(t_content_header)
{
    uint8_t         frame[128], p[64];
    mq_frame_t      f;
    mq_wire_err_t   err;
    ob_str_t        props;
    uint64_t        size;
    size_t          n, consumed;
    static const uint8_t  list[] = { 0x90, 0x00, 0x0a, 't', 'e', 'x', 't',
                                     '/', 'p', 'l', 'a', 'i', 'n', 0x02 };

    n = mq_frame_content_header(frame, sizeof(frame), 3, 1ull << 40, list,
                                sizeof(list));
    ck_assert_uint_eq(n, 7 + 12 + sizeof(list) + 1);
    ck_assert_int_eq(mq_frame_parse(frame, n, 131072, &f, &consumed, &err),
                     OB_OK);
    ck_assert_uint_eq(f.type, MQ_FRAME_HEADER);
    ck_assert_uint_eq(f.channel, 3);
    ck_assert_int_eq(mq_content_header_parse(f.payload, f.size, &size, &props,
                                             &err), OB_OK);
    ck_assert_uint_eq(size, 1ull << 40);
    ck_assert_uint_eq(props.len, sizeof(list));
    ck_assert_int_eq(memcmp(props.data, list, sizeof(list)), 0);
    for (consumed = 0; consumed < n; consumed++) {
        ck_assert_uint_eq(mq_frame_content_header(frame, consumed, 3, 0, list,
                                                  sizeof(list)), 0);
    }

    /* No properties at all: flags 0. */
    n = t_header_payload(p, 60, 0, 0, "\x00\x00", 2);
    ck_assert_int_eq(mq_content_header_parse(p, n, &size, &props, &err),
                     OB_OK);
    ck_assert_uint_eq(size, 0);
    /* Flag bit 1 means nothing to RabbitMQ. */
    n = t_header_payload(p, 60, 0, 0, "\x00\x02", 2);
    ck_assert_int_eq(mq_content_header_parse(p, n, &size, &props, &err),
                     OB_OK);

    /* As RabbitMQ sent them back. */
    t_header_err(p, 10, 501, "FRAME_ERROR - type 2, all octets = "
                 "<<0,60,0,0,0,0,0,0,0,0>>: unknown_frame");
    n = t_header_payload(p, 60, 0, 0, "", 0);
    t_header_err(p, n, 541, "INTERNAL_ERROR");
    n = t_header_payload(p, 50, 0, 0, "\x00\x00", 2);
    t_header_err(p, n, 505, "UNEXPECTED_FRAME - expected content header for "
                 "class 60, got one for class 50 instead");
    n = t_header_payload(p, 60, 1, 0, "\x00\x00", 2);
    t_header_err(p, n, 505, "UNEXPECTED_FRAME - expected content header for "
                 "class 60, got non content header frame instead");
    n = t_header_payload(p, 60, 0, 0, "\x80\x00\x05" "ab", 5);
    t_header_err(p, n, 541, "INTERNAL_ERROR");
    n = t_header_payload(p, 60, 0, 0, "\x00\x00zz", 4);
    t_header_err(p, n, 541, "INTERNAL_ERROR");
    n = t_header_payload(p, 60, 0, 0, "\x00\x01\x00\x00", 4);
    t_header_err(p, n, 541, "INTERNAL_ERROR");
    n = t_header_payload(p, 60, 0, 0, "\x20\x00\x00\x00\x00\x03\x01" "aZ", 9);
    t_header_err(p, n, 541, "INTERNAL_ERROR");
}
END_TEST


static void
t_props_all(mq_props_t *pr)
{
    memset(pr, 0, sizeof(*pr));
    pr->flags = 0xfffc;
    pr->content_type = t_str("application/json");
    pr->content_encoding = t_str("gzip");
    pr->headers.data = t_table;
    pr->headers.len = sizeof(t_table) - 1;
    pr->delivery_mode = 2;
    pr->priority = 9;
    pr->correlation_id = t_str("corr-1");
    pr->reply_to = t_str("amq.rabbitmq.reply-to");
    pr->expiration = t_str("60000");
    pr->message_id = t_str("m-42");
    pr->timestamp = 1700000000;
    pr->type = t_str("task");
    pr->user_id = t_str("guest");
    pr->app_id = t_str("onebox");
    pr->cluster_id = t_str("c");
}


static void
t_str_eq(ob_str_t a, ob_str_t b)
{
    ck_assert_uint_eq(a.len, b.len);
    if (a.len != 0) {
        ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
    }
}


/* All 14 properties, then each one alone, there and back. */
START_TEST(t_props_round_trip)
{
    static const uint16_t  flags[14] = {
        MQ_PROP_CONTENT_TYPE, MQ_PROP_CONTENT_ENCODING, MQ_PROP_HEADERS,
        MQ_PROP_DELIVERY_MODE, MQ_PROP_PRIORITY, MQ_PROP_CORRELATION_ID,
        MQ_PROP_REPLY_TO, MQ_PROP_EXPIRATION, MQ_PROP_MESSAGE_ID,
        MQ_PROP_TIMESTAMP, MQ_PROP_TYPE, MQ_PROP_USER_ID, MQ_PROP_APP_ID,
        MQ_PROP_CLUSTER_ID
    };
    uint8_t         buf[512];
    mq_props_t      in, out;
    mq_wire_err_t   err;
    size_t          n, i, cut;

    for (i = 0; i <= 14; i++) {
        t_props_all(&in);
        if (i < 14) {
            in.flags = flags[i];
        }
        n = mq_props_encode(buf, sizeof(buf), &in);
        ck_assert_uint_gt(n, 0);
        ck_assert_uint_eq(n, mq_props_size(&in));
        ck_assert_int_eq(mq_props_parse(buf, n, &out, &err), OB_OK);
        ck_assert_uint_eq(out.flags, in.flags);

#define T_PROP_STR(f, field)                                        \
        if (in.flags & (f)) {                                       \
            t_str_eq(out.field, in.field);                          \
        } else {                                                    \
            ck_assert_uint_eq(out.field.len, 0);                    \
        }
        T_PROP_STR(MQ_PROP_CONTENT_TYPE, content_type);
        T_PROP_STR(MQ_PROP_CONTENT_ENCODING, content_encoding);
        T_PROP_STR(MQ_PROP_HEADERS, headers);
        T_PROP_STR(MQ_PROP_CORRELATION_ID, correlation_id);
        T_PROP_STR(MQ_PROP_REPLY_TO, reply_to);
        T_PROP_STR(MQ_PROP_EXPIRATION, expiration);
        T_PROP_STR(MQ_PROP_MESSAGE_ID, message_id);
        T_PROP_STR(MQ_PROP_TYPE, type);
        T_PROP_STR(MQ_PROP_USER_ID, user_id);
        T_PROP_STR(MQ_PROP_APP_ID, app_id);
        T_PROP_STR(MQ_PROP_CLUSTER_ID, cluster_id);
#undef T_PROP_STR
        ck_assert_uint_eq(out.delivery_mode,
                          in.flags & MQ_PROP_DELIVERY_MODE ? 2 : 0);
        ck_assert_uint_eq(out.priority, in.flags & MQ_PROP_PRIORITY ? 9 : 0);
        ck_assert_uint_eq(out.timestamp,
                          in.flags & MQ_PROP_TIMESTAMP ? 1700000000 : 0);

        /* Every shorter list, and one octet more, are refused. */
        for (cut = 0; cut < n; cut++) {
            ck_assert_int_eq(mq_props_parse(buf, cut, &out, &err),
                             OB_PROTO_ERR);
            ck_assert_uint_eq(err.code, 541);
        }
        buf[n] = 0;
        ck_assert_int_eq(mq_props_parse(buf, n + 1, &out, &err),
                         OB_PROTO_ERR);

        /* Too small a buffer. */
        ck_assert_uint_eq(mq_props_encode(buf, n - 1, &in), 0);
    }

    /* pika's delivery_mode=2 + content_type: flags 0x9000. */
    ck_assert_int_eq(mq_props_parse((const uint8_t *) "\x90\x00\x04text\x02",
                                    8, &out, &err), OB_OK);
    ck_assert_uint_eq(out.flags, 0x9000);
    ck_assert_uint_eq(out.delivery_mode, 2);
    ck_assert_uint_eq(out.content_type.len, 4);

    /* A shortstr over 255 does not encode. */
    t_props_all(&in);
    in.flags = MQ_PROP_TYPE;
    in.type.len = 256;
    in.type.data = buf;
    ck_assert_uint_eq(mq_props_encode(buf + 256, 256, &in), 0);
}
END_TEST


Suite *
mq_wire_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("mq_wire");

    tc = tcase_create("frames");
    tcase_add_test(tc, t_protocol_header);
    tcase_add_test(tc, t_frame_prefixes);
    tcase_add_test(tc, t_frame_bad_end);
    tcase_add_test(tc, t_frame_type_and_heartbeat);
    tcase_add_test(tc, t_frame_max);
    tcase_add_test(tc, t_reply_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("methods");
    tcase_add_test(tc, t_method_round_trip);
    tcase_add_test(tc, t_method_truncated_and_trailing);
    tcase_add_test(tc, t_method_long_text);
    tcase_add_test(tc, t_method_unknown);
    tcase_add_test(tc, t_method_bad_table);
    tcase_add_test(tc, t_method_bits);
    tcase_add_test(tc, t_method_encode_limits);
    suite_add_tcase(s, tc);

    tc = tcase_create("content");
    tcase_add_test(tc, t_content_header);
    tcase_add_test(tc, t_props_round_trip);
    suite_add_tcase(s, tc);

    return s;
}
