/*
 * mq_method.c: the AMQP 0-9-1 method table and the method decoder.
 *
 * The table is MQ_METHODS (mq_wire.h) expanded once; the decoder and the
 * encoder (mq_frame_method, mq_frame.c) both walk a method's argument
 * letters, so a method's layout is written down in one place only.
 *
 * Decoding borrows: strings and tables are slices into the payload, no
 * byte is copied and nothing is allocated.  Field tables are validated
 * here, once, so that the handlers can walk them without checks.  Bits
 * follow the spec's packing: a run of consecutive bit arguments shares
 * octets, the first bit in the least significant position, and any other
 * argument ends the run.
 */
#include "mq_wire_int.h"

#include <string.h>


const mq_method_info_t mq_methods[MQ_M_COUNT] = {
#define MQ_METHOD_INFO(id, cls, mth, name, args) \
    [MQ_M_##id] = { cls, mth, name, args },
    MQ_METHODS(MQ_METHOD_INFO)
#undef MQ_METHOD_INFO
};


/* A switch the compiler turns into a jump table or a binary search. */
int
mq_method_lookup(uint16_t class_id, uint16_t method_id)
{
    switch (((uint32_t) class_id << 16) | method_id) {
#define MQ_METHOD_CASE(id, cls, mth, name, args) \
    case ((uint32_t) (cls) << 16) | (mth): return MQ_M_##id;
    MQ_METHODS(MQ_METHOD_CASE)
#undef MQ_METHOD_CASE
    default:
        return -1;
    }
}


/* 1 when RabbitMQ knows the class (unknown methods of it read differently). */
static int
mq_class_known(uint16_t class_id)
{
    switch (class_id) {
    case MQ_CLASS_CONNECTION:
    case MQ_CLASS_CHANNEL:
    case MQ_CLASS_ACCESS:
    case MQ_CLASS_EXCHANGE:
    case MQ_CLASS_QUEUE:
    case MQ_CLASS_BASIC:
    case MQ_CLASS_CONFIRM:
    case MQ_CLASS_TX:
        return 1;
    default:
        return 0;
    }
}


/*
 * RabbitMQ cannot decode the arguments: its generated decoder matches the
 * payload against the whole layout at once, so a short payload and
 * trailing octets read alike: 501 "cannot decode <<...>>", the arguments
 * (after the class and method ids) printed in full as Erlang's ~w prints
 * a binary, the text cut at 255 bytes.  128 octets print in no fewer than
 * 256 bytes, so more are never needed.
 *
 * A malformed table crashes RabbitMQ's reader instead (it drops the
 * connection without a close); onebox closes it with the same 501.
 */
static int
mq_method_syntax_error(mq_wire_err_t *err, const uint8_t *args, size_t len)
{
    char  bin[128 * 4 + 8];

    if (err == NULL) {
        return OB_PROTO_ERR;
    }

    mq_wire_erl_binary(bin, sizeof(bin), args, OB_MIN(len, (size_t) 128));

    return mq_wire_error(err, MQ_FRAME_ERROR, "cannot decode %s", bin);
}


/*
 * One pass over the method's argument letters, bounds checked at each
 * argument, nothing copied: the handlers get slices into the payload,
 * which the connection keeps until the method is handled.
 */
int
mq_method_decode(const uint8_t *p, size_t len, mq_method_t *m,
    mq_wire_err_t *err)
{
    const mq_method_info_t  *mi;
    const uint8_t           *q, *end;
    const char              *a;
    mq_arg_t                *arg;
    uint16_t                 class_id, method_id;
    unsigned                 bit, octet;
    size_t                   n;
    int                      id;

    if (len < 4) {
        return mq_wire_frame_error(err, MQ_FRAME_METHOD, p, len,
                                   MQ_WIRE_UNKNOWN_FRAME, 0, 0);
    }

    class_id = mq_get16(p);
    method_id = mq_get16(p + 2);
    id = mq_method_lookup(class_id, method_id);
    if (id < 0) {
        /* RabbitMQ's reader crashes on these ({unknown_method_id,{C,M}})
         * and drops the connection without a close. */
        if (mq_class_known(class_id)) {
            return mq_wire_error(err, MQ_NOT_IMPLEMENTED,
                                 "unknown method %u for class %u",
                                 method_id, class_id);
        }
        return mq_wire_error(err, MQ_NOT_IMPLEMENTED,
                             "unknown class %u", class_id);
    }

    mi = &mq_methods[id];
    m->id = (mq_method_id_t) id;
    m->class_id = class_id;
    m->method_id = method_id;

    q = p + 4;
    end = p + len;
    arg = m->a;
    bit = 8;
    octet = 0;

    for (a = mi->args; *a != '\0'; a++, arg++) {
        if (*a != 'b') {
            bit = 8;
        }
        arg->n = 0;
        arg->s.len = 0;
        arg->s.data = NULL;

        switch (*a) {
        case 'o':
            if (end - q < 1) {
                goto syntax;
            }
            arg->n = *q++;
            break;

        case 'h':
            if (end - q < 2) {
                goto syntax;
            }
            arg->n = mq_get16(q);
            q += 2;
            break;

        case 'l':
            if (end - q < 4) {
                goto syntax;
            }
            arg->n = mq_get32(q);
            q += 4;
            break;

        case 'L':
        case 't':
            if (end - q < 8) {
                goto syntax;
            }
            arg->n = mq_get64(q);
            q += 8;
            break;

        case 'b':
            if (bit == 8) {
                if (end - q < 1) {
                    goto syntax;
                }
                octet = *q++;
                bit = 0;
            }
            arg->n = (octet >> bit) & 1;
            bit++;
            break;

        case 's':
            if (end - q < 1 || (size_t) (end - q) - 1 < q[0]) {
                goto syntax;
            }
            arg->s.len = q[0];
            arg->s.data = q + 1;
            q += 1 + arg->s.len;
            break;

        case 'S':
        case 'T':
            if (end - q < 4) {
                goto syntax;
            }
            n = mq_get32(q);
            if ((size_t) (end - q) - 4 < n) {
                goto syntax;
            }
            arg->s.len = n;
            arg->s.data = q + 4;
            q += 4 + n;
            if (*a == 'T' && mq_table_validate(arg->s.data, n) != OB_OK) {
                goto syntax;
            }
            break;

        default:
            goto syntax;
        }
    }

    m->nargs = (unsigned) (arg - m->a);

    if (q != end) {
        goto syntax;
    }

    return OB_OK;

syntax:

    return mq_method_syntax_error(err, p + 4, len - 4);
}
