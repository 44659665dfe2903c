/*
 * mq_props.c: the basic class's content properties (the property flags
 * and the values after them in a content header).
 *
 * The broker keeps a message's property list verbatim and replays it on
 * deliver, get-ok and return; it parses the list only to read the few
 * properties that change what it does (delivery-mode, priority,
 * expiration, headers) and to reject a list RabbitMQ would not decode.
 * Parsing borrows (slices into the list); encoding writes the properties
 * whose flag is set, in flag order, as a list the broker builds itself
 * (a dead-lettered message's new headers, say).
 */
#include "mq_wire_int.h"

#include <string.h>


/* The properties in wire order: flag, type ('s' shortstr, 'T' table,
 * 'o' octet, 't' timestamp) and where the value lives in mq_props_t. */
typedef struct mq_prop_desc_s {
    uint16_t  flag;
    char      type;
    size_t    off;
} mq_prop_desc_t;

#define MQ_PROP(flag, type, field) { flag, type, offsetof(mq_props_t, field) }

static const mq_prop_desc_t  mq_prop_descs[] = {
    MQ_PROP(MQ_PROP_CONTENT_TYPE,     's', content_type),
    MQ_PROP(MQ_PROP_CONTENT_ENCODING, 's', content_encoding),
    MQ_PROP(MQ_PROP_HEADERS,          'T', headers),
    MQ_PROP(MQ_PROP_DELIVERY_MODE,    'o', delivery_mode),
    MQ_PROP(MQ_PROP_PRIORITY,         'o', priority),
    MQ_PROP(MQ_PROP_CORRELATION_ID,   's', correlation_id),
    MQ_PROP(MQ_PROP_REPLY_TO,         's', reply_to),
    MQ_PROP(MQ_PROP_EXPIRATION,       's', expiration),
    MQ_PROP(MQ_PROP_MESSAGE_ID,       's', message_id),
    MQ_PROP(MQ_PROP_TIMESTAMP,        't', timestamp),
    MQ_PROP(MQ_PROP_TYPE,             's', type),
    MQ_PROP(MQ_PROP_USER_ID,          's', user_id),
    MQ_PROP(MQ_PROP_APP_ID,           's', app_id),
    MQ_PROP(MQ_PROP_CLUSTER_ID,       's', cluster_id),
};

#define MQ_PROP_COUNT  (sizeof(mq_prop_descs) / sizeof(mq_prop_descs[0]))


/*
 * RabbitMQ decodes the properties in the channel process, which crashes on
 * a list it cannot decode; the connection then closes with a bare
 * "INTERNAL_ERROR" (541, class and method 0).
 */
static int
mq_props_syntax(mq_wire_err_t *err)
{
    return mq_wire_error(err, MQ_INTERNAL_ERROR, "%s", "");
}


/* `out` may be NULL: the list is then only checked. */
int
mq_props_parse(const uint8_t *p, size_t len, mq_props_t *out,
    mq_wire_err_t *err)
{
    const mq_prop_desc_t  *d;
    const uint8_t         *q, *end;
    mq_props_t             scratch;
    ob_str_t              *str;
    uint16_t               flags;
    size_t                 i, n;

    if (out == NULL) {
        out = &scratch;
    }

    if (len < 2) {
        return mq_props_syntax(err);
    }

    flags = mq_get16(p);
    if (flags & 0x0001) {
        return mq_props_syntax(err);
    }

    memset(out, 0, sizeof(*out));
    out->flags = flags;
    q = p + 2;
    end = p + len;

    for (i = 0; i < MQ_PROP_COUNT; i++) {
        d = &mq_prop_descs[i];
        if ((flags & d->flag) == 0) {
            continue;
        }

        switch (d->type) {
        case 's':
            if (end - q < 1 || (size_t) (end - q) - 1 < q[0]) {
                return mq_props_syntax(err);
            }
            str = (ob_str_t *) ((char *) out + d->off);
            str->len = q[0];
            str->data = q + 1;
            q += 1 + q[0];
            break;

        case 'T':
            if (end - q < 4) {
                return mq_props_syntax(err);
            }
            n = mq_get32(q);
            if ((size_t) (end - q) - 4 < n
                || mq_table_validate(q + 4, n) != OB_OK)
            {
                return mq_props_syntax(err);
            }
            out->headers.len = n;
            out->headers.data = q + 4;
            q += 4 + n;
            break;

        case 'o':
            if (end - q < 1) {
                return mq_props_syntax(err);
            }
            *((uint8_t *) out + d->off) = *q++;
            break;

        case 't':
            if (end - q < 8) {
                return mq_props_syntax(err);
            }
            out->timestamp = mq_get64(q);
            q += 8;
            break;
        }
    }

    if (q != end) {
        return mq_props_syntax(err);
    }

    return OB_OK;
}


/* Walks the same descriptor table as the encoder, so the two agree. */
size_t
mq_props_size(const mq_props_t *pr)
{
    const mq_prop_desc_t  *d;
    const ob_str_t        *str;
    size_t                 i, n;

    n = 2;
    for (i = 0; i < MQ_PROP_COUNT; i++) {
        d = &mq_prop_descs[i];
        if ((pr->flags & d->flag) == 0) {
            continue;
        }
        switch (d->type) {
        case 's':
            str = (const ob_str_t *) ((const char *) pr + d->off);
            n += 1 + str->len;
            break;
        case 'T':
            n += 4 + pr->headers.len;
            break;
        case 'o':
            n += 1;
            break;
        case 't':
            n += 8;
            break;
        }
    }

    return n;
}


/* 0 when the list does not fit in cap or a shortstr is over 255 bytes. */
size_t
mq_props_encode(uint8_t *dst, size_t cap, const mq_props_t *pr)
{
    const mq_prop_desc_t  *d;
    const ob_str_t        *str;
    uint16_t               flags;
    uint8_t               *p;
    size_t                 i;

    if (mq_props_size(pr) > cap) {
        return 0;
    }

    flags = 0;
    for (i = 0; i < MQ_PROP_COUNT; i++) {
        flags |= pr->flags & mq_prop_descs[i].flag;
    }

    p = dst;
    mq_put16(p, flags);
    p += 2;

    for (i = 0; i < MQ_PROP_COUNT; i++) {
        d = &mq_prop_descs[i];
        if ((flags & d->flag) == 0) {
            continue;
        }
        switch (d->type) {
        case 's':
            str = (const ob_str_t *) ((const char *) pr + d->off);
            if (str->len > 255) {
                return 0;
            }
            *p++ = (uint8_t) str->len;
            if (str->len != 0) {
                memcpy(p, str->data, str->len);
                p += str->len;
            }
            break;
        case 'T':
            mq_put32(p, (uint32_t) pr->headers.len);
            p += 4;
            if (pr->headers.len != 0) {
                memcpy(p, pr->headers.data, pr->headers.len);
                p += pr->headers.len;
            }
            break;
        case 'o':
            *p++ = *((const uint8_t *) pr + d->off);
            break;
        case 't':
            mq_put64(p, pr->timestamp);
            p += 8;
            break;
        }
    }

    return (size_t) (p - dst);
}
