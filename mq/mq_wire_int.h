/*
 * mq_wire_int.h: what the files of the AMQP codec (mq_frame.c,
 * mq_method.c, mq_props.c, mq_table.c, mq_topic.c) share with each other
 * and with nobody else: the error formatter that gives every parse
 * failure RabbitMQ's "NAME - text" shape, and the Erlang-style rendering
 * of a binary that RabbitMQ puts in its frame errors.
 */
#ifndef MQ_WIRE_INT_H
#define MQ_WIRE_INT_H

#include <stdarg.h>
#include "mq_wire.h"

/*
 * Fills err (when not NULL) with `code` and "NAME - <fmt...>" and returns
 * OB_PROTO_ERR, so that a failing parse reads
 * `return mq_wire_error(err, MQ_SYNTAX_ERROR, "...", ...);`.
 */
int mq_wire_error(mq_wire_err_t *err, unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Writes `p[0..len)` as Erlang's ~w prints a binary ("<<1,2,206>>"), at
 * most `cap` bytes including the NUL; RabbitMQ quotes the first 16 octets
 * of a bad frame's payload this way.  Returns dst.
 */
char *mq_wire_erl_binary(char *dst, size_t cap, const uint8_t *p, size_t len);

#endif /* MQ_WIRE_INT_H */
