/*
 * mq_wire_err.c: the texts the AMQP codec closes a connection with, worded
 * as RabbitMQ 3.10.8 words them, byte for byte.
 *
 * RabbitMQ builds a close's reply-text as "NAME - explanation", cuts it to
 * 252 bytes and "..." when it is over 255 (a shortstr), and sends just
 * "NAME" when there is no explanation (INTERNAL_ERROR).  Its frame errors
 * (rabbit_reader:frame_error) quote up to 16 octets of the payload with
 * io_lib:format("type ~p, ~s octets = ~p: ~p"), and ~p is Erlang's pretty
 * printer: a binary of printable latin-1 reads as a string (<<"abc">>),
 * anything else as octets (<<0,1,2>>), and a term that does not fit on the
 * 80-column line is broken over several.  The layout rules below were
 * measured against erl (OTP 25, the Erlang RabbitMQ 3.10.8 runs on here):
 *
 *   - a binary of octets stays on one line when it ends at column 81 or
 *     before; otherwise octets fill lines, each "N," ending at column 79
 *     at most and the last "N>>" at 80 at most, the next lines indented to
 *     two columns past the "<<";
 *   - {invalid_frame_end_marker,N} stays on one line when it ends at
 *     column 78 or before; otherwise N goes on the next line, indented one
 *     column past the "{";
 *   - a string binary, {frame_too_large,A,B} and atoms always fit.
 *
 * Clients show these texts to people; matching them keeps onebox's errors
 * searchable with RabbitMQ's.
 */
#include "mq_wire_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MQ_ERL_LINE  80


/*
 * The names of RabbitMQ's exception table (rabbit_framing_amqp_0_9_1:
 * lookup_amqp_exception).  It has none for 200: a normal close carries
 * the closer's own text, and close-ok carries none.
 */
const char *
mq_reply_name(unsigned code)
{
    switch (code) {
    case MQ_CONTENT_TOO_LARGE:    return "CONTENT_TOO_LARGE";
    case MQ_NO_ROUTE:             return "NO_ROUTE";
    case MQ_NO_CONSUMERS:         return "NO_CONSUMERS";
    case MQ_CONNECTION_FORCED:    return "CONNECTION_FORCED";
    case MQ_INVALID_PATH:         return "INVALID_PATH";
    case MQ_ACCESS_REFUSED:       return "ACCESS_REFUSED";
    case MQ_NOT_FOUND:            return "NOT_FOUND";
    case MQ_RESOURCE_LOCKED:      return "RESOURCE_LOCKED";
    case MQ_PRECONDITION_FAILED:  return "PRECONDITION_FAILED";
    case MQ_FRAME_ERROR:          return "FRAME_ERROR";
    case MQ_SYNTAX_ERROR:         return "SYNTAX_ERROR";
    case MQ_COMMAND_INVALID:      return "COMMAND_INVALID";
    case MQ_CHANNEL_ERROR:        return "CHANNEL_ERROR";
    case MQ_UNEXPECTED_FRAME:     return "UNEXPECTED_FRAME";
    case MQ_RESOURCE_ERROR:       return "RESOURCE_ERROR";
    case MQ_NOT_ALLOWED:          return "NOT_ALLOWED";
    case MQ_NOT_IMPLEMENTED:      return "NOT_IMPLEMENTED";
    case MQ_INTERNAL_ERROR:       return "INTERNAL_ERROR";
    default:                      return NULL;
    }
}


/* A text being built: bytes, and the column the next one lands in. */
typedef struct mq_erl_out_s {
    char    buf[512];
    size_t  len;
    size_t  col;
} mq_erl_out_t;


static void
mq_erl_put(mq_erl_out_t *o, const char *s, size_t n)
{
    size_t  i;

    for (i = 0; i < n && o->len < sizeof(o->buf) - 1; i++) {
        o->buf[o->len++] = s[i];
        o->col = s[i] == '\n' ? 0 : o->col + 1;
    }
    o->buf[o->len] = '\0';
}


static void
mq_erl_puts(mq_erl_out_t *o, const char *s)
{
    mq_erl_put(o, s, strlen(s));
}


static void
mq_erl_indent(mq_erl_out_t *o, size_t col)
{
    mq_erl_put(o, "\n", 1);
    while (o->col < col && o->len < sizeof(o->buf) - 1) {
        mq_erl_put(o, " ", 1);
    }
}


/* 1 when Erlang's ~p prints the bytes as a string: io_lib's printable
 * latin-1 (space to '~', 160 to 255, and the escapable controls). */
static int
mq_erl_printable(const uint8_t *p, size_t len)
{
    size_t  i;

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((p[i] >= 32 && p[i] <= 126) || p[i] >= 160) {
            continue;
        }
        switch (p[i]) {
        case '\n': case '\r': case '\t': case '\v': case '\b': case '\f':
        case 27:
            continue;
        default:
            return 0;
        }
    }

    return 1;
}


static void
mq_erl_string_binary(mq_erl_out_t *o, const uint8_t *p, size_t len)
{
    const char  *esc;
    char         c;
    size_t       i;

    mq_erl_puts(o, "<<\"");
    for (i = 0; i < len; i++) {
        switch (p[i]) {
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\v': esc = "\\v"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case 27:   esc = "\\e"; break;
        case '"':  esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        default:   esc = NULL; break;
        }
        if (esc != NULL) {
            mq_erl_puts(o, esc);
        } else {
            c = (char) p[i];
            mq_erl_put(o, &c, 1);
        }
    }
    mq_erl_puts(o, "\">>");
}


/* The octets form, flat or filled over lines (see the top of the file). */
static void
mq_erl_octets_binary(mq_erl_out_t *o, const uint8_t *p, size_t len)
{
    char    num[4];
    size_t  i, flat, start, w;

    flat = 4;                                 /* "<<" ">>" */
    for (i = 0; i < len; i++) {
        flat += (size_t) snprintf(num, sizeof(num), "%u", p[i])
                + (i + 1 < len);
    }

    start = o->col;
    mq_erl_puts(o, "<<");

    for (i = 0; i < len; i++) {
        w = (size_t) snprintf(num, sizeof(num), "%u", p[i]);

        if (start + flat > MQ_ERL_LINE + 1 && i > 0) {
            if (i + 1 < len ? o->col + w + 1 > MQ_ERL_LINE - 1
                            : o->col + w + 2 > MQ_ERL_LINE)
            {
                mq_erl_indent(o, start + 2);
            }
        }

        mq_erl_put(o, num, w);
        mq_erl_puts(o, i + 1 < len ? "," : ">>");
    }

    if (len == 0) {
        mq_erl_puts(o, ">>");
    }
}


static void
mq_erl_pretty_binary(mq_erl_out_t *o, const uint8_t *p, size_t len)
{
    if (mq_erl_printable(p, len)) {
        mq_erl_string_binary(o, p, len);
    } else {
        mq_erl_octets_binary(o, p, len);
    }
}


/* Copies the finished text into err, cut as RabbitMQ cuts it. */
static int
mq_wire_set(mq_wire_err_t *err, unsigned code, const char *text, size_t len)
{
    err->code = (uint16_t) code;
    if (len > 255) {
        memcpy(err->text, text, 252);
        memcpy(err->text + 252, "...", 4);
    } else {
        memcpy(err->text, text, len);
        err->text[len] = '\0';
    }

    return OB_PROTO_ERR;
}


int
mq_wire_error(mq_wire_err_t *err, unsigned code, const char *fmt, ...)
{
    const char  *name;
    char         expl[512], text[600];
    va_list      ap;
    int          n;

    if (err == NULL) {
        return OB_PROTO_ERR;
    }

    va_start(ap, fmt);
    n = vsnprintf(expl, sizeof(expl), fmt, ap);
    va_end(ap);
    if (n < 0) {
        expl[0] = '\0';
    }

    name = mq_reply_name(code);
    n = snprintf(text, sizeof(text), expl[0] != '\0' ? "%s - %s" : "%s%s",
                 name != NULL ? name : "UNKNOWN", expl);
    if (n < 0) {
        n = 0;
    }

    return mq_wire_set(err, code, text,
                       OB_MIN((size_t) n, sizeof(text) - 1));
}


int
mq_wire_frame_error(mq_wire_err_t *err, uint8_t type, const uint8_t *payload,
    size_t size, mq_wire_frame_reason_t reason, uint32_t a, uint32_t b)
{
    mq_erl_out_t  o;
    char          num[64];
    size_t        shown, w;
    unsigned      code;

    if (err == NULL) {
        return OB_PROTO_ERR;
    }

    code = reason == MQ_WIRE_UNEXPECTED ? MQ_UNEXPECTED_FRAME
                                        : MQ_FRAME_ERROR;
    shown = OB_MIN(size, (size_t) 16);

    /* Columns count from the explanation: the name is added after. */
    o.len = 0;
    o.col = 0;
    o.buf[0] = '\0';
    snprintf(num, sizeof(num), "type %u, %s octets = ", type,
             size <= 16 ? "all" : "first 16");
    mq_erl_puts(&o, num);
    mq_erl_pretty_binary(&o, payload, shown);

    switch (reason) {
    case MQ_WIRE_UNKNOWN_FRAME:
        mq_erl_puts(&o, ": unknown_frame");
        break;

    case MQ_WIRE_BAD_END:
        mq_erl_puts(&o, ": ");
        w = (size_t) snprintf(num, sizeof(num), "%u}", a);
        if (o.col + sizeof("{invalid_frame_end_marker,") - 1 + w
            > MQ_ERL_LINE - 2)
        {
            size_t  col = o.col;

            mq_erl_puts(&o, "{invalid_frame_end_marker,");
            mq_erl_indent(&o, col + 1);
        } else {
            mq_erl_puts(&o, "{invalid_frame_end_marker,");
        }
        mq_erl_puts(&o, num);
        break;

    case MQ_WIRE_TOO_LARGE:
        snprintf(num, sizeof(num), ": {frame_too_large,%u,%u}", a, b);
        mq_erl_puts(&o, num);
        break;

    case MQ_WIRE_UNEXPECTED:
        break;
    }

    return mq_wire_error(err, code, "%s", o.buf);
}


char *
mq_wire_erl_binary(char *dst, size_t cap, const uint8_t *p, size_t len)
{
    size_t  i, n;
    int     w;

    if (cap == 0) {
        return dst;
    }

    dst[0] = '\0';
    w = snprintf(dst, cap, "<<");
    if (w < 0 || (size_t) w >= cap) {
        return dst;
    }
    n = (size_t) w;

    for (i = 0; i < len; i++) {
        w = snprintf(dst + n, cap - n, i == 0 ? "%u" : ",%u", p[i]);
        if (w < 0 || (size_t) w >= cap - n) {
            return dst;
        }
        n += (size_t) w;
    }

    snprintf(dst + n, cap - n, ">>");

    return dst;
}
