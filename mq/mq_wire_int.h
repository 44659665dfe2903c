/*
 * mq_wire_int.h: what the files of the AMQP codec (mq_frame.c,
 * mq_method.c, mq_props.c, mq_table.c, mq_topic.c) share with each other
 * and with nobody else: the error formatter that gives every parse
 * failure RabbitMQ's "NAME - text" shape, and the frame-error texts that
 * quote the offending payload the way Erlang prints a binary.
 */
#ifndef MQ_WIRE_INT_H
#define MQ_WIRE_INT_H

#include <stdarg.h>
#include "mq_wire.h"

/*
 * Fills err (when not NULL) with `code` and "NAME - <fmt...>" (just
 * "NAME" when fmt is empty), cut to 252 bytes and "..." when longer than
 * 255 as RabbitMQ cuts it, and returns OB_PROTO_ERR, so that a failing
 * parse reads `return mq_wire_error(err, MQ_FRAME_ERROR, "...", ...);`.
 */
int mq_wire_error(mq_wire_err_t *err, unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What RabbitMQ's reader says after a bad frame's payload. */
typedef enum {
    MQ_WIRE_UNKNOWN_FRAME,       /* ": unknown_frame" (501) */
    MQ_WIRE_BAD_END,             /* ": {invalid_frame_end_marker,A}" (501) */
    MQ_WIRE_TOO_LARGE,           /* ": {frame_too_large,A,B}" (501) */
    MQ_WIRE_UNEXPECTED           /* nothing: 505 UNEXPECTED_FRAME */
} mq_wire_frame_reason_t;

/*
 * RabbitMQ's frame error: "type T, all octets = <<...>>: REASON", or
 * "first 16 octets" for a longer payload, the binary and the reason laid
 * out as Erlang's ~p lays them out (line breaks included).  Returns
 * OB_PROTO_ERR.
 */
int mq_wire_frame_error(mq_wire_err_t *err, uint8_t type,
                        const uint8_t *payload, size_t size,
                        mq_wire_frame_reason_t reason, uint32_t a,
                        uint32_t b);

/*
 * Writes `p[0..len)` as Erlang's ~w prints a binary ("<<1,2,206>>"), at
 * most `cap` bytes including the NUL (cut short when it does not fit).
 * Returns dst.
 */
char *mq_wire_erl_binary(char *dst, size_t cap, const uint8_t *p, size_t len);

#endif /* MQ_WIRE_INT_H */
