/*
 * mq_frame.c: AMQP 0-9-1 framing: the protocol header, the frame layout
 * (type, channel, size, payload, 0xCE), heartbeats, the encoder of whole
 * method frames, and content-header frames.
 *
 * Everything is pure: the parsers read a caller's buffer and hand back
 * slices into it (no allocation, no copy), the encoders write into a
 * caller's buffer and return 0 when it is too small.  Errors carry the
 * reply code and the text RabbitMQ 3.10.8 closes the connection with for
 * the same input (checked with a raw socket against rabbitmq-server; the
 * texts are built in mq_wire_err.c), so that a client sees the same close
 * from onebox as from RabbitMQ.
 *
 * RabbitMQ's frame checks, in the order it makes them (rabbit_reader):
 *   1. size > frame_max (the first 7 octets are enough to tell);
 *   2. the end octet (once the whole frame is in);
 *   3. the type, and a heartbeat's channel and payload.
 * Its size limit allows a payload of up to frame_max octets, header and
 * end octet not counted (FRAME_SIZE_FUDGE): a frame of frame_max + 8
 * octets passes.  We do the same, in the same order.  A heartbeat with a
 * payload is a frame it cannot analyse (501); one on a channel other than
 * 0 is 505 UNEXPECTED_FRAME.
 */
#include "mq_wire_int.h"

#include <stdarg.h>
#include <string.h>


const uint8_t mq_frame_heartbeat[8] = {
    MQ_FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, MQ_FRAME_END
};


/* Compares only what has arrived: a client that sends its header in
 * pieces waits, and a wrong octet is refused at once. */
int
mq_protocol_header_check(const uint8_t *buf, size_t len)
{
    size_t  n;

    n = OB_MIN(len, (size_t) MQ_PROTOCOL_HEADER_LEN);
    if (memcmp(buf, MQ_PROTOCOL_HEADER, n) != 0) {
        return OB_PROTO_ERR;
    }

    return n == MQ_PROTOCOL_HEADER_LEN ? OB_OK : OB_AGAIN;
}


/*
 * An oversized frame is refused from its first 7 octets, before the
 * connection buffers a payload it would refuse anyway; the payload is
 * then only pointed at, never copied.
 */
int
mq_frame_parse(const uint8_t *buf, size_t len, uint32_t frame_max,
    mq_frame_t *f, size_t *consumed, mq_wire_err_t *err)
{
    uint8_t         type;
    uint16_t        channel;
    uint32_t        size;
    uint64_t        total;
    const uint8_t  *payload;

    *consumed = 0;
    if (len < 7) {
        return OB_AGAIN;
    }

    type = buf[0];
    channel = mq_get16(buf + 1);
    size = mq_get32(buf + 3);

    if (frame_max != 0 && size > frame_max) {
        return mq_wire_frame_error(err, type, NULL, 0, MQ_WIRE_TOO_LARGE,
                                   size, frame_max >= MQ_FRAME_OVERHEAD
                                         ? frame_max - MQ_FRAME_OVERHEAD : 0);
    }

    total = (uint64_t) size + MQ_FRAME_OVERHEAD;
    if (len < total) {
        *consumed = (size_t) total;
        return OB_AGAIN;
    }

    payload = buf + 7;
    if (payload[size] != MQ_FRAME_END) {
        return mq_wire_frame_error(err, type, payload, size, MQ_WIRE_BAD_END,
                                   payload[size], 0);
    }

    switch (type) {
    case MQ_FRAME_METHOD:
    case MQ_FRAME_HEADER:
    case MQ_FRAME_BODY:
        break;

    case MQ_FRAME_HEARTBEAT:
        if (size != 0) {
            return mq_wire_frame_error(err, type, payload, size,
                                       MQ_WIRE_UNKNOWN_FRAME, 0, 0);
        }
        if (channel != 0) {
            return mq_wire_frame_error(err, type, payload, 0,
                                       MQ_WIRE_UNEXPECTED, 0, 0);
        }
        break;

    default:
        return mq_wire_frame_error(err, type, payload, size,
                                   MQ_WIRE_UNKNOWN_FRAME, 0, 0);
    }

    f->type = type;
    f->channel = channel;
    f->size = size;
    f->payload = payload;
    *consumed = (size_t) total;

    return OB_OK;
}


int
mq_frame_unexpected(const mq_frame_t *f, mq_wire_err_t *err)
{
    return mq_wire_frame_error(err, f->type, f->payload, f->size,
                               MQ_WIRE_UNEXPECTED, 0, 0);
}


/* For the encoders that write a payload first and its header after. */
void
mq_frame_put_header(uint8_t dst[7], uint8_t type, uint16_t channel,
    uint32_t size)
{
    dst[0] = type;
    mq_put16(dst + 1, channel);
    mq_put32(dst + 3, size);
}


/*
 * One loop over the method's argument letters: integers are written
 * straight, strings after their length, and bits are gathered into the
 * current octet (LSB first) until a non-bit argument or the eighth bit
 * closes it.  The frame header's size is patched at the end.  The caller
 * owns ap (va_start and va_end are its own), so that mq_frame_method and
 * the connection's mq_send_method share this one encoder.
 */
size_t
mq_frame_vmethod(uint8_t *dst, size_t cap, uint16_t channel,
    mq_method_id_t id, va_list ap)
{
    const mq_method_info_t  *mi;
    const ob_str_t          *str;
    const char              *a;
    uint8_t                 *p, *end, *bits;
    unsigned                 bit, v;
    uint64_t                 v64;
    size_t                   n;

    if ((unsigned) id >= MQ_M_COUNT || cap < 7 + 4 + 1) {
        return 0;
    }

    mi = &mq_methods[id];
    p = dst + 7;
    end = dst + cap - 1;            /* keep room for the end octet */
    mq_put16(p, mi->class_id);
    mq_put16(p + 2, mi->method_id);
    p += 4;

    bits = NULL;
    bit = 0;

    for (a = mi->args; *a != '\0'; a++) {
        if (*a != 'b') {
            bits = NULL;
        }

        switch (*a) {
        case 'o':
            v = va_arg(ap, unsigned);
            if (end - p < 1) {
                return 0;
            }
            *p++ = (uint8_t) v;
            break;

        case 'h':
            v = va_arg(ap, unsigned);
            if (end - p < 2) {
                return 0;
            }
            mq_put16(p, (uint16_t) v);
            p += 2;
            break;

        case 'l':
            v = va_arg(ap, unsigned);
            if (end - p < 4) {
                return 0;
            }
            mq_put32(p, (uint32_t) v);
            p += 4;
            break;

        case 'L':
        case 't':
            v64 = va_arg(ap, uint64_t);
            if (end - p < 8) {
                return 0;
            }
            mq_put64(p, v64);
            p += 8;
            break;

        case 'b':
            v = (unsigned) va_arg(ap, int);
            if (bits == NULL || bit == 8) {
                if (end - p < 1) {
                    return 0;
                }
                bits = p++;
                *bits = 0;
                bit = 0;
            }
            if (v) {
                *bits |= (uint8_t) (1u << bit);
            }
            bit++;
            break;

        case 's':
            str = va_arg(ap, const ob_str_t *);
            n = str != NULL ? str->len : 0;
            if (n > 255 || (size_t) (end - p) < 1 + n) {
                return 0;
            }
            *p++ = (uint8_t) n;
            if (n != 0) {
                memcpy(p, str->data, n);
                p += n;
            }
            break;

        case 'S':
        case 'T':
            str = va_arg(ap, const ob_str_t *);
            n = str != NULL ? str->len : 0;
            if (n > UINT32_MAX || (size_t) (end - p) < 4 + n) {
                return 0;
            }
            mq_put32(p, (uint32_t) n);
            p += 4;
            if (n != 0) {
                memcpy(p, str->data, n);
                p += n;
            }
            break;

        default:
            return 0;
        }
    }

    *p++ = MQ_FRAME_END;
    n = (size_t) (p - dst);
    mq_frame_put_header(dst, MQ_FRAME_METHOD, channel,
                        (uint32_t) (n - MQ_FRAME_OVERHEAD));

    return n;
}


size_t
mq_frame_method(uint8_t *dst, size_t cap, uint16_t channel,
    mq_method_id_t id, ...)
{
    size_t   n;
    va_list  ap;

    va_start(ap, id);
    n = mq_frame_vmethod(dst, cap, channel, id, ap);
    va_end(ap);

    return n;
}


/*
 * RabbitMQ's checks, in its order: a payload too short for class, weight
 * and body size is a frame it cannot analyse (501); then the header must
 * belong to the method it follows (rabbit_command_assembler): a weight
 * other than 0 is "non content header", a class other than basic's names
 * both classes (505, with the method's class and method ids in the
 * close); then the property list must decode, or the channel process
 * crashes and the connection closes with a bare 541 INTERNAL_ERROR
 * (mq_props_parse's error).
 */
int
mq_content_header_parse(const uint8_t *p, size_t len, uint64_t *body_size,
    ob_str_t *props, mq_wire_err_t *err)
{
    uint16_t  class_id, weight;

    if (len < 12) {
        return mq_wire_frame_error(err, MQ_FRAME_HEADER, p, len,
                                   MQ_WIRE_UNKNOWN_FRAME, 0, 0);
    }

    class_id = mq_get16(p);
    weight = mq_get16(p + 2);

    if (weight != 0) {
        return mq_wire_error(err, MQ_UNEXPECTED_FRAME,
                             "expected content header for class %u, "
                             "got non content header frame instead",
                             MQ_CLASS_BASIC);
    }

    if (class_id != MQ_CLASS_BASIC) {
        return mq_wire_error(err, MQ_UNEXPECTED_FRAME,
                             "expected content header for class %u, "
                             "got one for class %u instead",
                             MQ_CLASS_BASIC, class_id);
    }

    *body_size = mq_get64(p + 4);
    props->data = p + 12;
    props->len = len - 12;

    return mq_props_parse(props->data, props->len, NULL, err);
}


/* The property list goes out as it came in (the broker replays it). */
size_t
mq_frame_content_header(uint8_t *dst, size_t cap, uint16_t channel,
    uint64_t body_size, const uint8_t *props, size_t props_len)
{
    size_t  total;

    if (props_len > cap || cap - props_len < 7 + 12 + 1) {
        return 0;
    }

    total = 7 + 12 + props_len + 1;
    mq_frame_put_header(dst, MQ_FRAME_HEADER, channel,
                        (uint32_t) (12 + props_len));
    mq_put16(dst + 7, MQ_CLASS_BASIC);
    mq_put16(dst + 9, 0);
    mq_put64(dst + 11, body_size);
    if (props_len != 0) {
        memcpy(dst + 19, props, props_len);
    }
    dst[total - 1] = MQ_FRAME_END;

    return total;
}
