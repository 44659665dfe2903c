/*
 * mq_log_rec.c: the message log's record codec, pure (no I/O), so that
 * the unit tests can build and break records by hand.  The layout is in
 * mq_log_int.h.  The checksum is XXH32 over the length, the type and the
 * payload: a torn tail shows as a record that runs past the end of the
 * file, a damaged one as a checksum that does not match.
 */
#include "mq_log_int.h"

#include <string.h>

#include <xxhash.h>


static uint8_t *
mq_log_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) v;
    p[1] = (uint8_t) (v >> 8);
    p[2] = (uint8_t) (v >> 16);
    p[3] = (uint8_t) (v >> 24);
    return p + 4;
}


static uint8_t *
mq_log_put64(uint8_t *p, uint64_t v)
{
    p = mq_log_put32(p, (uint32_t) v);
    return mq_log_put32(p, (uint32_t) (v >> 32));
}


static uint32_t
mq_log_get32(const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


static uint64_t
mq_log_get64(const uint8_t *p)
{
    return (uint64_t) mq_log_get32(p) | (uint64_t) mq_log_get32(p + 4) << 32;
}


size_t
mq_log_rec_msg_size(size_t exlen, size_t keylen, size_t props_len,
                    uint64_t body_len)
{
    return MQ_LOG_HDR + 8 + 1 + exlen + 1 + keylen + 4 + props_len + 8
           + (size_t) body_len;
}


/* Fills in the header of a record whose payload is already at p + HDR. */
static size_t
mq_log_rec_seal(uint8_t *p, uint8_t type, size_t payload)
{
    mq_log_put32(p + 4, (uint32_t) payload);
    p[8] = type;
    mq_log_put32(p, XXH32(p + 4, 5 + payload, 0));
    return MQ_LOG_HDR + payload;
}


/* Writes a MSG record at p (mq_log_rec_msg_size bytes); returns its size. */
size_t
mq_log_rec_put_msg(uint8_t *p, uint64_t id, ob_str_t exchange, ob_str_t key,
                   ob_str_t props, ob_str_t body)
{
    uint8_t *q = p + MQ_LOG_HDR;

    q = mq_log_put64(q, id);
    *q++ = (uint8_t) exchange.len;
    if (exchange.len > 0) {
        memcpy(q, exchange.data, exchange.len);
    }
    q += exchange.len;
    *q++ = (uint8_t) key.len;
    if (key.len > 0) {
        memcpy(q, key.data, key.len);
    }
    q += key.len;
    q = mq_log_put32(q, (uint32_t) props.len);
    if (props.len > 0) {
        memcpy(q, props.data, props.len);
    }
    q += props.len;
    q = mq_log_put64(q, body.len);
    if (body.len > 0) {
        memcpy(q, body.data, body.len);
    }
    q += body.len;
    return mq_log_rec_seal(p, MQ_LOG_REC_MSG, (size_t) (q - p) - MQ_LOG_HDR);
}


/* Writes an ENQ, DEL or DLV record at p (HDR + REF_LEN bytes). */
size_t
mq_log_rec_put_ref(uint8_t *p, uint8_t type, uint32_t qid, uint64_t id)
{
    mq_log_put64(mq_log_put32(p + MQ_LOG_HDR, qid), id);
    return mq_log_rec_seal(p, type, MQ_LOG_REF_LEN);
}


/* Takes n bytes of the payload as a slice; 0 when they are not there. */
static int
mq_log_take(const uint8_t **q, const uint8_t *end, size_t n, ob_str_t *out)
{
    if ((size_t) (end - *q) < n) {
        return 0;
    }
    out->data = *q;
    out->len = n;
    *q += n;
    return 1;
}


static int
mq_log_rec_parse_msg(const uint8_t *q, const uint8_t *end, mq_log_rec_t *rec)
{
    uint64_t blen;

    if (end - q < 9) {
        return OB_ERR;
    }
    rec->id = mq_log_get64(q);
    q += 8;
    if (!mq_log_take(&q, end, *q++, &rec->exchange) || end - q < 1
        || !mq_log_take(&q, end, *q++, &rec->key) || end - q < 4)
    {
        return OB_ERR;
    }
    q += 4;
    if (!mq_log_take(&q, end, mq_log_get32(q - 4), &rec->props)
        || end - q < 8)
    {
        return OB_ERR;
    }
    blen = mq_log_get64(q);
    q += 8;
    if (blen != (uint64_t) (end - q)) {
        return OB_ERR;
    }
    rec->body.data = q;
    rec->body.len = (size_t) blen;
    return OB_OK;
}


int
mq_log_rec_get(const uint8_t *p, size_t avail, mq_log_rec_t *rec,
               size_t *used)
{
    uint32_t len;

    if (avail < MQ_LOG_HDR) {
        return OB_AGAIN;
    }
    len = mq_log_get32(p + 4);
    if (len > MQ_LOG_REC_MAX || p[8] < MQ_LOG_REC_MSG
        || p[8] > MQ_LOG_REC_DLV)
    {
        return OB_ERR;
    }
    if (avail - MQ_LOG_HDR < len) {
        return OB_AGAIN;
    }
    if (XXH32(p + 4, 5 + (size_t) len, 0) != mq_log_get32(p)) {
        return OB_ERR;
    }
    memset(rec, 0, sizeof(*rec));
    rec->type = p[8];
    *used = MQ_LOG_HDR + len;
    if (rec->type == MQ_LOG_REC_MSG) {
        return mq_log_rec_parse_msg(p + MQ_LOG_HDR, p + MQ_LOG_HDR + len, rec);
    }
    if (len != MQ_LOG_REF_LEN) {
        return OB_ERR;
    }
    rec->qid = mq_log_get32(p + MQ_LOG_HDR);
    rec->id = mq_log_get64(p + MQ_LOG_HDR + 4);
    return OB_OK;
}
