/*
 * mq_table.c: AMQP field tables and arrays: validation, walking, lookup,
 * comparison, and a small builder.
 *
 * The value types are RabbitMQ's (rabbit_binary_parser.erl), not the
 * 0-9-1 spec's, since that is what clients send (amqp-research.md 2.1):
 *
 *   t bool u8      b int8       B uint8       s int16      u uint16
 *   I int32        i uint32     l int64       L int64      f float32
 *   d float64      D u8 scale + u32          S longstr    x bytes (u32)
 *   A array (u32 length, tagged values)      T timestamp u64
 *   F table (u32 length, entries)            V void
 *
 * A table entry is a shortstr key then a tagged value.  A table is
 * validated once (mq_table_validate: lengths, tags, nesting to depth 64)
 * when it arrives; after that the walkers trust it and never check a
 * bound again.  Nothing is allocated but by the builder (mq_tbuf_t), which
 * the broker uses for its own tables (server properties, x-death).
 */
#include "mq_wire_int.h"

#include <stdlib.h>
#include <string.h>

#define MQ_TABLE_DEPTH_MAX  64


/*
 * The size of the value of type `type` at p[0..avail), tag not included,
 * or 0 when it does not fit or the tag is unknown (no value is 0 octets
 * but V, which is handled by the caller).
 */
static size_t
mq_value_size(uint8_t type, const uint8_t *p, size_t avail)
{
    size_t  n;

    switch (type) {
    case 't': case 'b': case 'B':
        n = 1;
        break;
    case 's': case 'u':
        n = 2;
        break;
    case 'I': case 'i': case 'f':
        n = 4;
        break;
    case 'l': case 'L': case 'd': case 'T':
        n = 8;
        break;
    case 'D':
        n = 5;
        break;
    case 'S': case 'x': case 'A': case 'F':
        if (avail < 4) {
            return 0;
        }
        n = mq_get32(p);
        if (avail - 4 < n) {
            return 0;
        }
        return 4 + n;
    default:
        return 0;
    }

    return n <= avail ? n : 0;
}


static int mq_table_check(const uint8_t *p, size_t len, int depth);
static int mq_array_check(const uint8_t *p, size_t len, int depth);


/* Checks one tagged value at p[0..len); *used gets its size. */
static int
mq_value_check(const uint8_t *p, size_t len, int depth, size_t *used)
{
    uint8_t  type;
    size_t   n;

    if (len < 1) {
        return OB_PROTO_ERR;
    }

    type = p[0];
    if (type == 'V') {
        *used = 1;
        return OB_OK;
    }

    n = mq_value_size(type, p + 1, len - 1);
    if (n == 0) {
        return OB_PROTO_ERR;
    }

    if (type == 'F' || type == 'A') {
        if (depth >= MQ_TABLE_DEPTH_MAX) {
            return OB_PROTO_ERR;
        }
        if ((type == 'F' ? mq_table_check : mq_array_check)
                (p + 5, n - 4, depth + 1) != OB_OK)
        {
            return OB_PROTO_ERR;
        }
    }

    *used = 1 + n;

    return OB_OK;
}


static int
mq_table_check(const uint8_t *p, size_t len, int depth)
{
    size_t  klen, used;

    while (len > 0) {
        klen = p[0];
        if (len - 1 < klen) {
            return OB_PROTO_ERR;
        }
        p += 1 + klen;
        len -= 1 + klen;

        if (mq_value_check(p, len, depth, &used) != OB_OK) {
            return OB_PROTO_ERR;
        }
        p += used;
        len -= used;
    }

    return OB_OK;
}


static int
mq_array_check(const uint8_t *p, size_t len, int depth)
{
    size_t  used;

    while (len > 0) {
        if (mq_value_check(p, len, depth, &used) != OB_OK) {
            return OB_PROTO_ERR;
        }
        p += used;
        len -= used;
    }

    return OB_OK;
}


/* The top table is depth 1; a table or an array nested 64 deep is
 * refused, which bounds the checker's recursion (RabbitMQ has no limit,
 * but no client nests that deep). */
int
mq_table_validate(const uint8_t *p, size_t len)
{
    return mq_table_check(p, len, 1);
}


int
mq_value_is_int(const mq_value_t *v)
{
    switch (v->type) {
    case 'b': case 'B': case 's': case 'u':
    case 'I': case 'i': case 'l': case 'L':
        return 1;
    default:
        return 0;
    }
}


void
mq_table_iter_init(mq_table_iter_t *it, ob_str_t table)
{
    it->p = table.data;
    it->end = table.data + table.len;
}


/*
 * Reads one validated tagged value and advances.  Integers land in both
 * i and u (every type RabbitMQ parses fits in an int64, L included: it
 * reads L as signed), so callers can read either.
 */
static void
mq_value_read(mq_table_iter_t *it, mq_value_t *v)
{
    const uint8_t  *p;
    uint32_t        f32;
    uint64_t        f64;
    float           f;
    size_t          n;

    p = it->p;
    memset(v, 0, sizeof(*v));
    v->type = *p++;

    switch (v->type) {
    case 't':
        v->u = p[0] != 0;
        v->i = (int64_t) v->u;
        p += 1;
        break;
    case 'b':
        v->i = (int8_t) p[0];
        v->u = (uint64_t) v->i;
        p += 1;
        break;
    case 'B':
        v->u = p[0];
        v->i = (int64_t) v->u;
        p += 1;
        break;
    case 's':
        v->i = (int16_t) mq_get16(p);
        v->u = (uint64_t) v->i;
        p += 2;
        break;
    case 'u':
        v->u = mq_get16(p);
        v->i = (int64_t) v->u;
        p += 2;
        break;
    case 'I':
        v->i = (int32_t) mq_get32(p);
        v->u = (uint64_t) v->i;
        p += 4;
        break;
    case 'i':
        v->u = mq_get32(p);
        v->i = (int64_t) v->u;
        p += 4;
        break;
    case 'l':
    case 'L':
        v->u = mq_get64(p);
        v->i = (int64_t) v->u;
        p += 8;
        break;
    case 'T':
        v->u = mq_get64(p);
        v->i = (int64_t) v->u;
        p += 8;
        break;
    case 'f':
        f32 = mq_get32(p);
        memcpy(&f, &f32, sizeof(f));
        v->d = f;
        p += 4;
        break;
    case 'd':
        f64 = mq_get64(p);
        memcpy(&v->d, &f64, sizeof(v->d));
        p += 8;
        break;
    case 'D':
        v->scale = p[0];
        v->u = mq_get32(p + 1);
        v->i = (int64_t) v->u;
        p += 5;
        break;
    case 'S':
    case 'x':
    case 'A':
    case 'F':
        n = mq_get32(p);
        v->s.len = n;
        v->s.data = p + 4;
        p += 4 + n;
        break;
    case 'V':
    default:
        break;
    }

    it->p = p;
}


/* No bound checks: the table was validated when it arrived. */
int
mq_table_next(mq_table_iter_t *it, ob_str_t *key, mq_value_t *v)
{
    if (it->p >= it->end) {
        return 0;
    }

    key->len = it->p[0];
    key->data = it->p + 1;
    it->p += 1 + key->len;
    mq_value_read(it, v);

    return 1;
}


int
mq_array_next(mq_table_iter_t *it, mq_value_t *v)
{
    if (it->p >= it->end) {
        return 0;
    }

    mq_value_read(it, v);

    return 1;
}


/* The first entry under the key, as RabbitMQ's table_lookup finds it. */
int
mq_table_find(ob_str_t table, const char *key, mq_value_t *v)
{
    mq_table_iter_t  it;
    ob_str_t         k;
    size_t           klen;

    klen = strlen(key);
    mq_table_iter_init(&it, table);
    while (mq_table_next(&it, &k, v)) {
        if (k.len == klen && memcmp(k.data, key, klen) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
mq_array_equal(ob_str_t a, ob_str_t b)
{
    mq_table_iter_t  ia, ib;
    mq_value_t       va, vb;
    int              ha, hb;

    mq_table_iter_init(&ia, a);
    mq_table_iter_init(&ib, b);
    for (;;) {
        ha = mq_array_next(&ia, &va);
        hb = mq_array_next(&ib, &vb);
        if (ha != hb) {
            return 0;
        }
        if (!ha) {
            return 1;
        }
        if (!mq_value_equal(&va, &vb)) {
            return 0;
        }
    }
}


int
mq_value_equal(const mq_value_t *a, const mq_value_t *b)
{
    if (mq_value_is_int(a) && mq_value_is_int(b)) {
        return a->i == b->i;
    }

    if (a->type != b->type) {
        return 0;
    }

    switch (a->type) {
    case 't':
    case 'T':
        return a->u == b->u;
    case 'f':
    case 'd':
        return a->d == b->d;
    case 'D':
        return a->scale == b->scale && a->u == b->u;
    case 'S':
    case 'x':
        return a->s.len == b->s.len
               && (a->s.len == 0
                   || memcmp(a->s.data, b->s.data, a->s.len) == 0);
    case 'A':
        return mq_array_equal(a->s, b->s);
    case 'F':
        return mq_table_equal(a->s, b->s);
    case 'V':
        return 1;
    default:
        return 0;
    }
}


/* Counts a's entries into *n; 1 when each has an equal one (same key, equal
 * value) somewhere in b. */
static int
mq_table_within(ob_str_t a, ob_str_t b, size_t *n)
{
    mq_table_iter_t  ia, ib;
    mq_value_t       va, vb;
    ob_str_t         ka, kb;
    int              found;

    *n = 0;
    mq_table_iter_init(&ia, a);
    while (mq_table_next(&ia, &ka, &va)) {
        (*n)++;
        found = 0;
        mq_table_iter_init(&ib, b);
        while (!found && mq_table_next(&ib, &kb, &vb)) {
            found = ka.len == kb.len
                    && (ka.len == 0 || memcmp(ka.data, kb.data, ka.len) == 0)
                    && mq_value_equal(&va, &vb);
        }
        if (!found) {
            return 0;
        }
    }

    return 1;
}


/*
 * Same entries in any order: as many on each side, and each entry of
 * either has an equal one (same key, equal value) in the other; checking
 * both ways keeps a key that is there twice honest.  Tables are small
 * (arguments, headers), so the quadratic walk is cheaper than any index;
 * identical bytes, the common case of a redeclaration, skip it.
 */
int
mq_table_equal(ob_str_t a, ob_str_t b)
{
    size_t  na, nb;

    if (a.len == b.len
        && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0))
    {
        return 1;
    }

    return mq_table_within(a, b, &na) && mq_table_within(b, a, &nb)
           && na == nb;
}


/* ---- the builder -------------------------------------------------------- */

/* The builder starts empty and allocates on the first append. */
void
mq_tbuf_init(mq_tbuf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
}


void
mq_tbuf_free(mq_tbuf_t *b)
{
    free(b->data);
    mq_tbuf_init(b);
}


/* Room for n more bytes: a pointer to them, or NULL (and failed set). */
static uint8_t *
mq_tbuf_room(mq_tbuf_t *b, size_t n)
{
    uint8_t  *data;
    size_t    cap;

    if (b->failed) {
        return NULL;
    }

    if (b->cap - b->len < n) {
        cap = b->cap != 0 ? b->cap : 64;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = 1;
                return NULL;
            }
            cap *= 2;
        }
        data = realloc(b->data, cap);
        if (data == NULL) {
            b->failed = 1;
            return NULL;
        }
        b->data = data;
        b->cap = cap;
    }

    return b->data + b->len;
}


void
mq_tbuf_raw(mq_tbuf_t *b, const void *p, size_t len)
{
    uint8_t  *d;

    d = mq_tbuf_room(b, len);
    if (d == NULL) {
        return;
    }
    if (len != 0) {
        memcpy(d, p, len);
    }
    b->len += len;
}


/* Keys are shortstrs: a longer key is cut at 255 bytes. */
void
mq_tbuf_key(mq_tbuf_t *b, const char *key, size_t klen)
{
    uint8_t  *d;

    klen = OB_MIN(klen, (size_t) 255);
    d = mq_tbuf_room(b, 1 + klen);
    if (d == NULL) {
        return;
    }
    d[0] = (uint8_t) klen;
    if (klen != 0) {
        memcpy(d + 1, key, klen);
    }
    b->len += 1 + klen;
}


/* A tag and a fixed-size big-endian integer of `size` octets. */
static void
mq_tbuf_int(mq_tbuf_t *b, uint8_t type, uint64_t v, unsigned size)
{
    uint8_t   *d;
    unsigned   i;

    d = mq_tbuf_room(b, 1 + size);
    if (d == NULL) {
        return;
    }
    d[0] = type;
    for (i = 0; i < size; i++) {
        d[size - i] = (uint8_t) (v >> (8 * i));
    }
    b->len += 1 + size;
}


/* A tag and a u32-length-prefixed run of bytes (S x A F). */
static void
mq_tbuf_blob(mq_tbuf_t *b, uint8_t type, const void *s, size_t len)
{
    uint8_t  *d;

    if (len > UINT32_MAX) {
        b->failed = 1;
        return;
    }
    d = mq_tbuf_room(b, 5 + len);
    if (d == NULL) {
        return;
    }
    d[0] = type;
    mq_put32(d + 1, (uint32_t) len);
    if (len != 0) {
        memcpy(d + 5, s, len);
    }
    b->len += 5 + len;
}


void
mq_tbuf_longstr(mq_tbuf_t *b, const void *s, size_t len)
{
    mq_tbuf_blob(b, 'S', s, len);
}


void
mq_tbuf_i64(mq_tbuf_t *b, int64_t v)
{
    mq_tbuf_int(b, 'l', (uint64_t) v, 8);
}


void
mq_tbuf_i32(mq_tbuf_t *b, int32_t v)
{
    mq_tbuf_int(b, 'I', (uint64_t) (uint32_t) v, 4);
}


void
mq_tbuf_bool(mq_tbuf_t *b, int v)
{
    mq_tbuf_int(b, 't', v != 0, 1);
}


void
mq_tbuf_timestamp(mq_tbuf_t *b, uint64_t v)
{
    mq_tbuf_int(b, 'T', v, 8);
}


void
mq_tbuf_void(mq_tbuf_t *b)
{
    uint8_t  tag = 'V';

    mq_tbuf_raw(b, &tag, 1);
}


/* Writes v back as it was read (type and width kept). */
void
mq_tbuf_value(mq_tbuf_t *b, const mq_value_t *v)
{
    uint32_t  f32;
    uint64_t  f64;
    float     f;
    uint8_t  *d;

    switch (v->type) {
    case 't': case 'b': case 'B':
        mq_tbuf_int(b, v->type, v->u, 1);
        break;
    case 's': case 'u':
        mq_tbuf_int(b, v->type, v->u, 2);
        break;
    case 'I': case 'i':
        mq_tbuf_int(b, v->type, v->u, 4);
        break;
    case 'l': case 'L': case 'T':
        mq_tbuf_int(b, v->type, v->u, 8);
        break;
    case 'f':
        f = (float) v->d;
        memcpy(&f32, &f, sizeof(f32));
        mq_tbuf_int(b, 'f', f32, 4);
        break;
    case 'd':
        memcpy(&f64, &v->d, sizeof(f64));
        mq_tbuf_int(b, 'd', f64, 8);
        break;
    case 'D':
        d = mq_tbuf_room(b, 6);
        if (d == NULL) {
            return;
        }
        d[0] = 'D';
        d[1] = v->scale;
        mq_put32(d + 2, (uint32_t) v->u);
        b->len += 6;
        break;
    case 'S': case 'x': case 'A': case 'F':
        mq_tbuf_blob(b, v->type, v->s.data, v->s.len);
        break;
    case 'V':
        mq_tbuf_void(b);
        break;
    default:
        b->failed = 1;
        break;
    }
}


/* The length is patched by mq_tbuf_close, once the contents are in; the
 * position returned stays valid however the buffer grows. */
size_t
mq_tbuf_open(mq_tbuf_t *b, uint8_t type)
{
    uint8_t  *d;
    size_t    pos;

    d = mq_tbuf_room(b, 5);
    if (d == NULL) {
        return 0;
    }
    d[0] = type;
    pos = b->len + 1;
    mq_put32(d + 1, 0);
    b->len += 5;

    return pos;
}


void
mq_tbuf_close(mq_tbuf_t *b, size_t pos)
{
    if (b->failed || pos + 4 > b->len) {
        return;
    }
    mq_put32(b->data + pos, (uint32_t) (b->len - pos - 4));
}
