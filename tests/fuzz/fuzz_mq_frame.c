/*
 * fuzz_mq_frame.c: libFuzzer harness for the broker's AMQP codec (the pure
 * files of mq/: mq_frame.c, mq_method.c, mq_props.c, mq_table.c,
 * mq_topic.c, mq_wire_err.c).
 *
 * The input is what a client could send: it is checked as a protocol
 * header, then cut into frames with mq_frame_parse (frame_max 131072, as
 * RabbitMQ tunes it) until the bytes run out or a frame is refused.  Each
 * method frame is decoded and, when it decodes, encoded again with
 * mq_frame_method, parsed and decoded again: the arguments must come back
 * the same.  Tables met on the way are walked to the bottom, compared with
 * themselves and rebuilt with the table builder, which must give the same
 * bytes.  Each content header is parsed with its properties, and the
 * properties encoded again must give the same list.  Every error must
 * carry a code and a text RabbitMQ could send (named, at most 255 bytes).
 * The input is also split into a topic pattern and a routing key, and
 * mq_topic_match must agree with a plain dynamic-programming matcher.
 * Built and run by `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mq/mq_wire.h"
#include "tests/unit/check_mq_util.h"

#define FUZZ_FRAME_MAX  131072


static void
fuzz_check_err(const mq_wire_err_t *err)
{
    size_t       len;
    const char  *name;

    len = strnlen(err->text, sizeof(err->text));
    name = mq_reply_name(err->code);
    if (len == 0 || len > 255 || name == NULL
        || strncmp(err->text, name, strlen(name)) != 0)
    {
        abort();
    }
}


static void fuzz_walk_table(ob_str_t t, int depth);


/* Walks one value's insides (arrays and tables), to the bottom. */
static void
fuzz_walk_value(const mq_value_t *v, int depth)
{
    mq_table_iter_t  it;
    mq_value_t       e;

    if (depth > 70) {
        abort();                    /* validation stops at 64 */
    }
    /* NaN is the one value unequal to itself. */
    if (!mq_value_equal(v, v) && v->type != 'f' && v->type != 'd') {
        abort();
    }
    if (v->type == 'F') {
        fuzz_walk_table(v->s, depth + 1);
    } else if (v->type == 'A') {
        mq_table_iter_init(&it, v->s);
        while (mq_array_next(&it, &e)) {
            fuzz_walk_value(&e, depth + 1);
        }
        if (it.p != it.end) {
            abort();
        }
    }
}


/* 1 when a float or a double hides somewhere in the table. */
static int
fuzz_has_float(ob_str_t t)
{
    size_t  i;

    /* Crude but safe: any 'f' or 'd' octet at all. */
    for (i = 0; i < t.len; i++) {
        if (t.data[i] == 'f' || t.data[i] == 'd') {
            return 1;
        }
    }

    return 0;
}


/*
 * Walks a validated table, rebuilding it with the builder as it goes: the
 * copy must be the same bytes, and equal to it.
 */
static void
fuzz_walk_table(ob_str_t t, int depth)
{
    mq_table_iter_t  it;
    mq_value_t       v, f;
    mq_tbuf_t        b;
    ob_str_t         k;
    char             key[256];

    mq_tbuf_init(&b);
    mq_table_iter_init(&it, t);
    while (mq_table_next(&it, &k, &v)) {
        if (k.len > 255 || it.p > it.end) {
            abort();
        }
        fuzz_walk_value(&v, depth);
        mq_tbuf_key(&b, (const char *) k.data, k.len);
        mq_tbuf_value(&b, &v);

        /* A key without a NUL in it is found (maybe an earlier twin). */
        if (memchr(k.data, 0, k.len) == NULL) {
            memcpy(key, k.data, k.len);
            key[k.len] = '\0';
            if (!mq_table_find(t, key, &f)) {
                abort();
            }
        }
    }
    if (it.p != it.end) {
        abort();
    }

    if (b.failed || b.len != t.len || mq_table_validate(b.data, b.len)
                                      != OB_OK)
    {
        abort();
    }

    /*
     * The copy is the same bytes but where reading normalises: a bool
     * octet other than 0 and 1 reads as true and is written back as 1 (as
     * RabbitMQ reads it), and a float may be a NaN, which converting
     * quiets and which equals nothing.  The copy must still be equal.
     */
    if (t.len != 0 && memcmp(b.data, t.data, t.len) != 0) {
        ob_str_t  copy = { b.len, b.data };

        if (!mq_table_equal(t, copy) && !fuzz_has_float(t)) {
            abort();
        }
    }
    mq_tbuf_free(&b);
}

/*
 * Encodes m again through t_mq_frame_method (tests/unit/check_mq_util.h,
 * shared with the unit tests); a layout it does not know is a bug.
 */
static size_t
fuzz_encode(uint8_t *dst, size_t cap, uint16_t ch, const mq_method_t *m)
{
    size_t  n;

    n = t_mq_frame_method(dst, cap, ch, m->id, m->a);
    if (n == T_MQ_NO_LAYOUT) {
        abort();
    }

    return n;
}


static void
fuzz_method(const mq_frame_t *f)
{
    static uint8_t   out[FUZZ_FRAME_MAX + 8];
    mq_method_t      m, m2;
    mq_wire_err_t    err;
    mq_frame_t       f2;
    const char      *a;
    size_t           n, consumed;
    unsigned         i;

    if (mq_method_decode(f->payload, f->size, &m, &err) != OB_OK) {
        fuzz_check_err(&err);
        if (err.code != MQ_FRAME_ERROR && err.code != MQ_NOT_IMPLEMENTED) {
            abort();
        }
        return;
    }

    if (m.nargs != strlen(mq_methods[m.id].args)
        || mq_method_lookup(m.class_id, m.method_id) != (int) m.id)
    {
        abort();
    }

    for (a = mq_methods[m.id].args, i = 0; *a != '\0'; a++, i++) {
        if (*a == 'T') {
            fuzz_walk_table(m.a[i].s, 1);
            (void) mq_table_equal(m.a[i].s, m.a[i].s);
        }
        if (*a == 'b' && m.a[i].n > 1) {
            abort();
        }
    }

    n = fuzz_encode(out, sizeof(out), f->channel, &m);
    if (n == 0) {
        abort();                    /* it fitted as it came in */
    }
    if (mq_frame_parse(out, n, FUZZ_FRAME_MAX, &f2, &consumed, &err) != OB_OK
        || consumed != n || f2.channel != f->channel
        || mq_method_decode(f2.payload, f2.size, &m2, &err) != OB_OK
        || m2.id != m.id || m2.nargs != m.nargs)
    {
        abort();
    }
    for (a = mq_methods[m.id].args, i = 0; *a != '\0'; a++, i++) {
        if (m2.a[i].n != m.a[i].n || m2.a[i].s.len != m.a[i].s.len
            || (m.a[i].s.len != 0
                && memcmp(m2.a[i].s.data, m.a[i].s.data, m.a[i].s.len) != 0))
        {
            abort();
        }
    }
    /* Unused bits aside, the encoding is the input. */
    if (f2.size != f->size) {
        abort();
    }
}


static void
fuzz_header(const mq_frame_t *f)
{
    static uint8_t   out[FUZZ_FRAME_MAX + 8];
    mq_props_t       pr;
    mq_wire_err_t    err;
    ob_str_t         props;
    uint64_t         size;
    size_t           n;

    if (mq_content_header_parse(f->payload, f->size, &size, &props, &err)
        != OB_OK)
    {
        fuzz_check_err(&err);
        return;
    }
    if (mq_props_parse(props.data, props.len, &pr, &err) != OB_OK) {
        abort();                    /* the header parse checked them */
    }
    if (pr.flags & MQ_PROP_HEADERS) {
        fuzz_walk_table(pr.headers, 1);
    }

    n = mq_props_encode(out, sizeof(out), &pr);
    if (n != mq_props_size(&pr) || n != props.len
        || memcmp(out + 2, props.data + 2, n - 2) != 0
        || mq_get16(out) != (pr.flags & 0xfffc))
    {
        abort();
    }

    n = mq_frame_content_header(out, sizeof(out), f->channel, size,
                                props.data, props.len);
    if (n != f->size + 8 || memcmp(out + 7, f->payload, f->size) != 0) {
        abort();
    }
}


/* Splits s into RabbitMQ's words: none for "", else one more than dots. */
static size_t
fuzz_words(ob_str_t s, ob_str_t *w, size_t max)
{
    size_t  n, start, i;

    if (s.len == 0) {
        return 0;
    }
    n = 0;
    start = 0;
    for (i = 0; i <= s.len && n < max; i++) {
        if (i == s.len || s.data[i] == '.') {
            w[n].data = s.data + start;
            w[n].len = i - start;
            n++;
            start = i + 1;
        }
    }

    return n;
}


static int
fuzz_is(ob_str_t w, char c)
{
    return w.len == 1 && w.data[0] == (uint8_t) c;
}


/* The textbook matcher: m[i][j] = pattern words i.. match key words j.. */
static int
fuzz_topic_dp(ob_str_t pattern, ob_str_t key)
{
    ob_str_t  pw[600], kw[600];
    uint8_t  *m;
    size_t    np, nk, i, j, w;
    int       r;

    np = fuzz_words(pattern, pw, 600);
    nk = fuzz_words(key, kw, 600);
    w = nk + 1;
    m = calloc((np + 1) * w, 1);
    if (m == NULL) {
        abort();
    }

    m[np * w + nk] = 1;
    for (i = np; i-- > 0; ) {
        for (j = nk + 1; j-- > 0; ) {
            if (fuzz_is(pw[i], '#')) {
                r = m[(i + 1) * w + j] || (j < nk && m[i * w + j + 1]);
            } else if (j == nk) {
                r = 0;
            } else if (fuzz_is(pw[i], '*')
                       || (pw[i].len == kw[j].len
                           && memcmp(pw[i].data, kw[j].data, pw[i].len) == 0))
            {
                r = m[(i + 1) * w + j + 1];
            } else {
                r = 0;
            }
            m[i * w + j] = (uint8_t) r;
        }
    }

    r = m[0];
    free(m);

    return r;
}


static void
fuzz_topic(const uint8_t *data, size_t size)
{
    const uint8_t  *nl;
    ob_str_t        pattern, key;

    nl = memchr(data, '\n', size);
    if (nl == NULL || size > 590) {
        return;
    }
    pattern.data = data;
    pattern.len = (size_t) (nl - data);
    key.data = nl + 1;
    key.len = size - pattern.len - 1;

    if (mq_topic_match(pattern, key) != fuzz_topic_dp(pattern, key)) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t  *p;
    mq_frame_t      f;
    mq_wire_err_t   err;
    size_t          left, consumed;
    int             rc;

    fuzz_topic(data, size);

    if (mq_table_validate(data, size) == OB_OK) {
        ob_str_t  t = { size, data };

        fuzz_walk_table(t, 1);
    }

    p = data;
    left = size;
    rc = mq_protocol_header_check(data, size);
    if (rc == OB_OK) {
        p += MQ_PROTOCOL_HEADER_LEN;
        left -= MQ_PROTOCOL_HEADER_LEN;
    } else if (rc == OB_AGAIN && size >= MQ_PROTOCOL_HEADER_LEN) {
        abort();
    }

    for (;;) {
        rc = mq_frame_parse(p, left, FUZZ_FRAME_MAX, &f, &consumed, &err);

        if (rc == OB_AGAIN) {
            if (left < 7 ? consumed != 0 : consumed <= left) {
                abort();
            }
            break;
        }

        if (rc == OB_PROTO_ERR) {
            fuzz_check_err(&err);
            if (err.code != MQ_FRAME_ERROR
                && err.code != MQ_UNEXPECTED_FRAME)
            {
                abort();
            }
            break;
        }

        if (rc != OB_OK || consumed != (size_t) f.size + 8 || consumed > left
            || f.payload != p + 7)
        {
            abort();
        }

        switch (f.type) {
        case MQ_FRAME_METHOD:
            fuzz_method(&f);
            break;
        case MQ_FRAME_HEADER:
            fuzz_header(&f);
            break;
        case MQ_FRAME_BODY:
            break;
        case MQ_FRAME_HEARTBEAT:
            if (f.channel != 0 || f.size != 0) {
                abort();
            }
            break;
        default:
            abort();
        }

        p += consumed;
        left -= consumed;
    }

    return 0;
}
