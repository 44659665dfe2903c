/*
 * check_mq_table.c: unit tests of AMQP field tables (mq/mq_table.c) and
 * topic matching (mq/mq_topic.c).
 *
 * Tables: every value type RabbitMQ's parser knows (t b B s u I i l L f d
 * D S x A T F V), nested ones, malformed ones, lookup, comparison across
 * orders and integer widths, and the builder.  Topics: a grid of patterns
 * and routing keys whose answers are RabbitMQ 3.10.8's (each pattern bound
 * to its own queue on a topic exchange, each key published once, with
 * pika), and patterns built to make a naive matcher explode.
 */
#include "check_suites.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mq/mq_wire.h"
#include "check_mq_util.h"


static ob_str_t
t_bytes(const void *p, size_t len)
{
    ob_str_t  t;

    t.data = p;
    t.len = len;

    return t;
}


/* One of each type, in the order of the comment in mq_table.c. */
static const uint8_t  t_all[] =
    "\x01" "t" "t\x01"
    "\x01" "b" "b\xff"                                  /* -1 */
    "\x01" "B" "B\xff"                                  /* 255 */
    "\x01" "s" "s\xff\xfe"                              /* -2 */
    "\x01" "u" "u\xff\xff"                              /* 65535 */
    "\x01" "I" "I\xff\xff\xff\xfd"                      /* -3 */
    "\x01" "i" "i\xff\xff\xff\xff"                      /* 4294967295 */
    "\x01" "l" "l\xff\xff\xff\xff\xff\xff\xff\xfb"      /* -5 */
    "\x01" "L" "L\xff\xff\xff\xff\xff\xff\xff\xfa"      /* -6 */
    "\x01" "f" "f\x3f\xc0\x00\x00"                      /* 1.5 */
    "\x01" "d" "d\x40\x02\x00\x00\x00\x00\x00\x00"      /* 2.25 */
    "\x01" "D" "D\x02\x00\x00\x30\x39"                  /* 123.45 */
    "\x01" "S" "S\x00\x00\x00\x02" "hi"
    "\x01" "x" "x\x00\x00\x00\x03" "\x00\x01\x02"
    "\x01" "A" "A\x00\x00\x00\x0a" "I\x00\x00\x00\x01" "S\x00\x00\x00\x00"
    "\x01" "T" "T\x00\x00\x00\x00\x65\x53\xf1\x00"      /* 1700000000 */
    "\x01" "F" "F\x00\x00\x00\x04" "\x01" "k" "t\x01"
    "\x01" "V" "V";

#define T_ALL  t_bytes(t_all, sizeof(t_all) - 1)


START_TEST(t_table_types)
{
    mq_table_iter_t  it, ia;
    mq_value_t       v, e;
    ob_str_t         k;
    unsigned         n;

    ck_assert_int_eq(mq_table_validate(t_all, sizeof(t_all) - 1), OB_OK);

    mq_table_iter_init(&it, T_ALL);
    n = 0;
    while (mq_table_next(&it, &k, &v)) {
        ck_assert_uint_eq(k.len, 1);
        ck_assert_uint_eq(k.data[0], v.type);
        n++;
        switch (v.type) {
        case 't': ck_assert_uint_eq(v.u, 1); break;
        case 'b': ck_assert_int_eq(v.i, -1); break;
        case 'B': ck_assert_uint_eq(v.u, 255); ck_assert_int_eq(v.i, 255);
                  break;
        case 's': ck_assert_int_eq(v.i, -2); break;
        case 'u': ck_assert_uint_eq(v.u, 65535); break;
        case 'I': ck_assert_int_eq(v.i, -3); break;
        case 'i': ck_assert_uint_eq(v.u, 4294967295u);
                  ck_assert_int_eq(v.i, 4294967295ll); break;
        case 'l': ck_assert_int_eq(v.i, -5); break;
        case 'L': ck_assert_int_eq(v.i, -6); break;
        case 'f': ck_assert_double_eq(v.d, 1.5); break;
        case 'd': ck_assert_double_eq(v.d, 2.25); break;
        case 'D': ck_assert_uint_eq(v.scale, 2); ck_assert_uint_eq(v.u, 12345);
                  break;
        case 'S': ck_assert_uint_eq(v.s.len, 2);
                  ck_assert_int_eq(memcmp(v.s.data, "hi", 2), 0); break;
        case 'x': ck_assert_uint_eq(v.s.len, 3);
                  ck_assert_int_eq(memcmp(v.s.data, "\x00\x01\x02", 3), 0);
                  break;
        case 'A':
            mq_table_iter_init(&ia, v.s);
            ck_assert_int_eq(mq_array_next(&ia, &e), 1);
            ck_assert_uint_eq(e.type, 'I');
            ck_assert_int_eq(e.i, 1);
            ck_assert_int_eq(mq_array_next(&ia, &e), 1);
            ck_assert_uint_eq(e.type, 'S');
            ck_assert_uint_eq(e.s.len, 0);
            ck_assert_int_eq(mq_array_next(&ia, &e), 0);
            break;
        case 'T': ck_assert_uint_eq(v.u, 1700000000u); break;
        case 'F':
            ck_assert_int_eq(mq_table_find(v.s, "k", &e), 1);
            ck_assert_uint_eq(e.type, 't');
            ck_assert_uint_eq(e.u, 1);
            break;
        case 'V': break;
        default: ck_abort_msg("type %c", v.type);
        }
        ck_assert_int_eq(mq_value_is_int(&v), strchr("bBsuIilL", v.type)
                                              != NULL);
    }
    ck_assert_uint_eq(n, 18);

    ck_assert_int_eq(mq_table_find(T_ALL, "V", &v), 1);
    ck_assert_uint_eq(v.type, 'V');
    ck_assert_int_eq(mq_table_find(T_ALL, "S", &v), 1);
    ck_assert_uint_eq(v.type, 'S');
    ck_assert_int_eq(mq_table_find(T_ALL, "nope", &v), 0);
    ck_assert_int_eq(mq_table_find(t_str(""), "a", &v), 0);
    ck_assert_int_eq(mq_table_validate(NULL, 0), OB_OK);
}
END_TEST


/* Nesting: tables in arrays in tables, to the depth limit and past it. */
START_TEST(t_table_nested)
{
    uint8_t  *buf;
    size_t    n, depth, i, len;

    for (depth = 60; depth <= 70; depth++) {
        /* depth nested "F": {k: {k: ... {} }} */
        len = depth * 7;
        buf = malloc(len);
        ck_assert_ptr_nonnull(buf);
        for (i = 0; i < depth; i++) {
            n = len - (i + 1) * 7;        /* the bytes inside this one */
            buf[i * 7] = 1;
            buf[i * 7 + 1] = 'k';
            buf[i * 7 + 2] = 'F';
            mq_put32(buf + i * 7 + 3, (uint32_t) n);
        }
        ck_assert_int_eq(mq_table_validate(buf, len),
                         depth < 64 ? OB_OK : OB_PROTO_ERR);
        free(buf);
    }

    /* {a: [ {b: [1, "x"]}, [] ], c: void}, and the same with a stray
     * octet in the outer array (an array's items have no keys, so 0 is
     * an unknown type there). */
    {
        static const uint8_t  ok[] =
            "\x01" "aA\x00\x00\x00\x1c"
              "F\x00\x00\x00\x12"
                "\x01" "bA\x00\x00\x00\x0b" "I\x00\x00\x00\x01"
                                            "S\x00\x00\x00\x01" "x"
              "A\x00\x00\x00\x00"
            "\x01" "cV";
        static const uint8_t  bad[] =
            "\x01" "aA\x00\x00\x00\x1d"
              "F\x00\x00\x00\x12"
                "\x01" "bA\x00\x00\x00\x0b" "I\x00\x00\x00\x01"
                                            "S\x00\x00\x00\x01" "x"
              "A\x00\x00\x00\x00"
              "\x00"
            "\x01" "cV";
        mq_value_t  v;

        ck_assert_int_eq(mq_table_validate(ok, sizeof(ok) - 1), OB_OK);
        ck_assert_int_eq(mq_table_validate(bad, sizeof(bad) - 1),
                         OB_PROTO_ERR);
        ck_assert_int_eq(mq_table_find(t_bytes(ok, sizeof(ok) - 1), "c", &v),
                         1);
        ck_assert_uint_eq(v.type, 'V');
    }
}
END_TEST


START_TEST(t_table_malformed)
{
    static const struct {
        const char  *bytes;
        size_t       len;
    } bad[] = {
        { "\x05" "ab", 3 },                             /* key past end */
        { "\x01" "a", 2 },                              /* no value */
        { "\x01" "aZ", 3 },                             /* unknown tag */
        { "\x01" "aU\x00\x01", 5 },                     /* not RabbitMQ's */
        { "\x01" "aS\x00\x00\x00\x05" "abc", 10 },      /* longstr past end */
        { "\x01" "ax\x00\x00\x01\x00", 7 },
        { "\x01" "aS\x00\x00", 5 },                     /* short length */
        { "\x01" "aI\x00\x00\x01", 6 },                 /* short int */
        { "\x01" "al\x00\x00\x00\x00\x00\x00\x00", 10 },
        { "\x01" "aD\x02\x00\x00\x00", 7 },
        { "\x01" "at", 3 },
        { "\x01" "aF\x00\x00\x00\x03" "\x05" "ab", 10 }, /* bad inside */
        { "\x01" "aA\x00\x00\x00\x01" "Z", 8 },
        { "\x01" "aA\x00\x00\x00\x02" "I\x00", 9 },
        { "\x01" "aF\xff\xff\xff\xff", 7 },
        { "\x01" "aV\x01", 4 },                         /* key past end */
    };
    size_t  i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(mq_table_validate((const uint8_t *) bad[i].bytes,
                                        bad[i].len) == OB_PROTO_ERR,
                      "case %zu", i);
    }

    /* A prefix of the all-types table is refused unless it ends on an
     * entry's end; none crashes (ASan watches the reads). */
    for (i = 0; i < sizeof(t_all) - 1; i++) {
        (void) mq_table_validate(t_all, i);
    }
    ck_assert_int_eq(mq_table_validate(t_all, 4), OB_OK);
    ck_assert_int_eq(mq_table_validate(t_all, 3), OB_PROTO_ERR);
    ck_assert_int_eq(mq_table_validate(t_all, 5), OB_PROTO_ERR);
}
END_TEST


START_TEST(t_table_equal)
{
    static const uint8_t  a[] = "\x01" "xI\x00\x00\x00\x05"
                                "\x01" "yS\x00\x00\x00\x02" "hi"
                                "\x01" "zF\x00\x00\x00\x07"
                                    "\x01" "pt\x01" "\x01" "qV";
    static const uint8_t  b[] = "\x01" "zF\x00\x00\x00\x07"
                                    "\x01" "qV" "\x01" "pt\x01"
                                "\x01" "yS\x00\x00\x00\x02" "hi"
                                "\x01" "xb\x05";
    static const uint8_t  c[] = "\x01" "xI\x00\x00\x00\x05"
                                "\x01" "yS\x00\x00\x00\x02" "ho"
                                "\x01" "zF\x00\x00\x00\x07"
                                    "\x01" "pt\x01" "\x01" "qV";
    static const uint8_t  d[] = "\x01" "xI\x00\x00\x00\x05"
                                "\x01" "yS\x00\x00\x00\x02" "hi";
    ob_str_t  ta = t_bytes(a, sizeof(a) - 1), tb = t_bytes(b, sizeof(b) - 1);
    ob_str_t  tc = t_bytes(c, sizeof(c) - 1), td = t_bytes(d, sizeof(d) - 1);

    ck_assert_int_eq(mq_table_validate(a, sizeof(a) - 1), OB_OK);
    ck_assert_int_eq(mq_table_validate(b, sizeof(b) - 1), OB_OK);
    ck_assert_int_eq(mq_table_validate(c, sizeof(c) - 1), OB_OK);
    ck_assert_int_eq(mq_table_equal(ta, tb), 1);
    ck_assert_int_eq(mq_table_equal(tb, ta), 1);
    ck_assert_int_eq(mq_table_equal(ta, ta), 1);
    ck_assert_int_eq(mq_table_equal(ta, tc), 0);
    ck_assert_int_eq(mq_table_equal(ta, td), 0);
    ck_assert_int_eq(mq_table_equal(td, ta), 0);
    ck_assert_int_eq(mq_table_equal(t_str(""), t_str("")), 1);
    ck_assert_int_eq(mq_table_equal(t_str(""), td), 0);
    ck_assert_int_eq(mq_table_equal(T_ALL, T_ALL), 1);

    /* A key twice (found by the fuzzer: the first match is not enough). */
    {
        static const uint8_t  d1[] = "\x01" "ab\x01" "\x01" "ab\x02";
        static const uint8_t  d2[] = "\x01" "ab\x02" "\x01" "ab\x01";
        static const uint8_t  d3[] = "\x01" "ab\x01" "\x01" "ab\x01";
        static const uint8_t  d4[] = "\x01" "ab\x01" "\x01" "aI\x00\x00"
                                     "\x00\x02";
        ob_str_t  t1 = t_bytes(d1, 8), t2 = t_bytes(d2, 8);
        ob_str_t  t3 = t_bytes(d3, 8), t4 = t_bytes(d4, 11);

        ck_assert_int_eq(mq_table_validate(d1, 8), OB_OK);
        ck_assert_int_eq(mq_table_validate(d4, 11), OB_OK);
        ck_assert_int_eq(mq_table_equal(t1, t2), 1);
        ck_assert_int_eq(mq_table_equal(t2, t4), 1);
        ck_assert_int_eq(mq_table_equal(t1, t3), 0);
        ck_assert_int_eq(mq_table_equal(t3, t1), 0);
    }
}
END_TEST


/* Reads the single value of a one-entry table "\x01" "v" <value>. */
static mq_value_t
t_value(const char *bytes, size_t len)
{
    uint8_t          buf[64];
    mq_table_iter_t  it;
    mq_value_t       v;
    ob_str_t         k;

    buf[0] = 1;
    buf[1] = 'v';
    memcpy(buf + 2, bytes, len);
    ck_assert_int_eq(mq_table_validate(buf, len + 2), OB_OK);
    mq_table_iter_init(&it, t_bytes(buf, len + 2));
    ck_assert_int_eq(mq_table_next(&it, &k, &v), 1);
    v.s.data = NULL;        /* buf is gone after the return */

    return v;
}


START_TEST(t_value_equal)
{
    mq_value_t  b5 = t_value("b\x05", 2), B5 = t_value("B\x05", 2);
    mq_value_t  s5 = t_value("s\x00\x05", 3), u5 = t_value("u\x00\x05", 3);
    mq_value_t  I5 = t_value("I\x00\x00\x00\x05", 5);
    mq_value_t  i5 = t_value("i\x00\x00\x00\x05", 5);
    mq_value_t  l5 = t_value("l\x00\x00\x00\x00\x00\x00\x00\x05", 9);
    mq_value_t  L5 = t_value("L\x00\x00\x00\x00\x00\x00\x00\x05", 9);
    mq_value_t  bm1 = t_value("b\xff", 2), B255 = t_value("B\xff", 2);
    mq_value_t  Im1 = t_value("I\xff\xff\xff\xff", 5);
    mq_value_t  imax = t_value("i\xff\xff\xff\xff", 5);
    mq_value_t  lmax = t_value("l\x00\x00\x00\x00\xff\xff\xff\xff", 9);
    mq_value_t  t1 = t_value("t\x01", 2), T5 = t_value("T\x00\x00\x00\x00"
                                                      "\x00\x00\x00\x05", 9);
    mq_value_t  d5 = t_value("d\x40\x14\x00\x00\x00\x00\x00\x00", 9);
    mq_value_t  f5 = t_value("f\x40\xa0\x00\x00", 5);
    mq_value_t  V = t_value("V", 1), V2 = t_value("V", 1);
    mq_value_t  all[8];
    size_t      i, j;

    all[0] = b5; all[1] = B5; all[2] = s5; all[3] = u5;
    all[4] = I5; all[5] = i5; all[6] = l5; all[7] = L5;
    for (i = 0; i < 8; i++) {
        for (j = 0; j < 8; j++) {
            ck_assert_int_eq(mq_value_equal(&all[i], &all[j]), 1);
        }
        ck_assert_int_eq(mq_value_equal(&all[i], &bm1), 0);
        ck_assert_int_eq(mq_value_equal(&all[i], &T5), 0);
        ck_assert_int_eq(mq_value_equal(&all[i], &d5), 0);
        ck_assert_int_eq(mq_value_equal(&all[i], &t1), 0);
    }
    ck_assert_int_eq(mq_value_equal(&bm1, &Im1), 1);
    ck_assert_int_eq(mq_value_equal(&bm1, &B255), 0);
    ck_assert_int_eq(mq_value_equal(&imax, &lmax), 1);
    ck_assert_int_eq(mq_value_equal(&imax, &Im1), 0);
    ck_assert_int_eq(mq_value_equal(&d5, &f5), 0);
    ck_assert_int_eq(mq_value_equal(&V, &V2), 1);
    ck_assert_int_eq(mq_value_equal(&T5, &T5), 1);

    /* Strings: bytes and type; S and x differ. */
    {
        static const uint8_t  t[] = "\x01" "aS\x00\x00\x00\x02" "hi"
                                    "\x01" "bx\x00\x00\x00\x02" "hi"
                                    "\x01" "cS\x00\x00\x00\x02" "hi"
                                    "\x01" "dS\x00\x00\x00\x02" "ho";
        mq_value_t  a, b, c, d;
        ob_str_t    tt = t_bytes(t, sizeof(t) - 1);

        ck_assert_int_eq(mq_table_find(tt, "a", &a), 1);
        ck_assert_int_eq(mq_table_find(tt, "b", &b), 1);
        ck_assert_int_eq(mq_table_find(tt, "c", &c), 1);
        ck_assert_int_eq(mq_table_find(tt, "d", &d), 1);
        ck_assert_int_eq(mq_value_equal(&a, &c), 1);
        ck_assert_int_eq(mq_value_equal(&a, &b), 0);
        ck_assert_int_eq(mq_value_equal(&a, &d), 0);
    }
}
END_TEST


/* The builder: server properties as the broker writes them, then every
 * type of t_all copied verbatim gives t_all back. */
START_TEST(t_tbuf)
{
    mq_tbuf_t        b;
    mq_table_iter_t  it;
    mq_value_t       v, e;
    ob_str_t         k, t;
    size_t           caps, arr;

    mq_tbuf_init(&b);
    mq_tbuf_key(&b, "capabilities", 12);
    caps = mq_tbuf_open(&b, 'F');
    mq_tbuf_key(&b, "publisher_confirms", 18);
    mq_tbuf_bool(&b, 1);
    mq_tbuf_key(&b, "basic.nack", 10);
    mq_tbuf_bool(&b, 1);
    mq_tbuf_close(&b, caps);
    mq_tbuf_key(&b, "product", 7);
    mq_tbuf_longstr(&b, "RabbitMQ", 8);
    mq_tbuf_key(&b, "count", 5);
    mq_tbuf_i64(&b, -7);
    mq_tbuf_key(&b, "n32", 3);
    mq_tbuf_i32(&b, -8);
    mq_tbuf_key(&b, "time", 4);
    mq_tbuf_timestamp(&b, 1700000000);
    mq_tbuf_key(&b, "nothing", 7);
    mq_tbuf_void(&b);
    mq_tbuf_key(&b, "x-death", 7);
    arr = mq_tbuf_open(&b, 'A');
    caps = mq_tbuf_open(&b, 'F');
    mq_tbuf_key(&b, "queue", 5);
    mq_tbuf_longstr(&b, "q1", 2);
    mq_tbuf_close(&b, caps);
    mq_tbuf_close(&b, arr);
    ck_assert_int_eq(b.failed, 0);

    ck_assert_int_eq(mq_table_validate(b.data, b.len), OB_OK);
    t = t_bytes(b.data, b.len);
    ck_assert_int_eq(mq_table_find(t, "capabilities", &v), 1);
    ck_assert_uint_eq(v.type, 'F');
    ck_assert_int_eq(mq_table_find(v.s, "basic.nack", &e), 1);
    ck_assert_uint_eq(e.type, 't');
    ck_assert_uint_eq(e.u, 1);
    ck_assert_int_eq(mq_table_find(t, "product", &v), 1);
    ck_assert_uint_eq(v.s.len, 8);
    ck_assert_int_eq(mq_table_find(t, "count", &v), 1);
    ck_assert_uint_eq(v.type, 'l');
    ck_assert_int_eq(v.i, -7);
    ck_assert_int_eq(mq_table_find(t, "n32", &v), 1);
    ck_assert_uint_eq(v.type, 'I');
    ck_assert_int_eq(v.i, -8);
    ck_assert_int_eq(mq_table_find(t, "time", &v), 1);
    ck_assert_uint_eq(v.type, 'T');
    ck_assert_uint_eq(v.u, 1700000000);
    ck_assert_int_eq(mq_table_find(t, "nothing", &v), 1);
    ck_assert_uint_eq(v.type, 'V');
    ck_assert_int_eq(mq_table_find(t, "x-death", &v), 1);
    ck_assert_uint_eq(v.type, 'A');
    mq_table_iter_init(&it, v.s);
    ck_assert_int_eq(mq_array_next(&it, &e), 1);
    ck_assert_uint_eq(e.type, 'F');
    ck_assert_int_eq(mq_table_find(e.s, "queue", &v), 1);
    ck_assert_int_eq(mq_array_next(&it, &e), 0);
    mq_tbuf_free(&b);
    ck_assert_ptr_null(b.data);

    mq_tbuf_init(&b);
    mq_table_iter_init(&it, T_ALL);
    while (mq_table_next(&it, &k, &v)) {
        mq_tbuf_key(&b, (const char *) k.data, k.len);
        mq_tbuf_value(&b, &v);
    }
    ck_assert_int_eq(b.failed, 0);
    ck_assert_uint_eq(b.len, sizeof(t_all) - 1);
    ck_assert_int_eq(memcmp(b.data, t_all, b.len), 0);

    /* Growth past the first allocation. */
    for (caps = 0; caps < 1000; caps++) {
        mq_tbuf_key(&b, "k", 1);
        mq_tbuf_longstr(&b, t_all, sizeof(t_all) - 1);
    }
    ck_assert_int_eq(b.failed, 0);
    ck_assert_int_eq(mq_table_validate(b.data, b.len), OB_OK);
    mq_tbuf_raw(&b, "\x01", 1);
    ck_assert_int_eq(mq_table_validate(b.data, b.len), OB_PROTO_ERR);
    mq_tbuf_free(&b);
}
END_TEST


/* ---- topics ------------------------------------------------------------- */

/* Pattern, routing key, and whether RabbitMQ 3.10.8 routed the key to a
 * queue bound with the pattern (a topic exchange, checked with pika). */
static const struct {
    const char  *pattern, *key;
    int          match;
} t_topic_cases[] = {
    { "a.*.c", "", 0 },
    { "a.*.c", "a", 0 },
    { "a.*.c", "b", 0 },
    { "a.*.c", "c", 0 },
    { "a.*.c", "a.b", 0 },
    { "a.*.c", "a.c", 0 },
    { "a.*.c", "a.b.c", 1 },
    { "a.*.c", "a.x.c", 1 },
    { "a.*.c", "a.b.b.c", 0 },
    { "a.*.c", "a..b", 0 },
    { "a.*.c", "a...b", 0 },
    { "a.*.c", ".", 0 },
    { "a.*.c", "..", 0 },
    { "a.*.c", "a.", 0 },
    { "a.*.c", ".a", 0 },
    { "a.*.c", "a.b.c.d", 0 },
    { "a.*.c", "x.a.y", 0 },
    { "a.*.c", "a.a", 0 },
    { "a.*.c", "a.b.a.b", 0 },
    { "a.*.c", "a.b.x.b.y.c", 0 },
    { "a.*.c", "b.b", 0 },
    { "a.*.c", "a.b.b", 0 },
    { "#", "", 1 },
    { "#", "a", 1 },
    { "#", "b", 1 },
    { "#", "c", 1 },
    { "#", "a.b", 1 },
    { "#", "a.c", 1 },
    { "#", "a.b.c", 1 },
    { "#", "a.x.c", 1 },
    { "#", "a.b.b.c", 1 },
    { "#", "a..b", 1 },
    { "#", "a...b", 1 },
    { "#", ".", 1 },
    { "#", "..", 1 },
    { "#", "a.", 1 },
    { "#", ".a", 1 },
    { "#", "a.b.c.d", 1 },
    { "#", "x.a.y", 1 },
    { "#", "a.a", 1 },
    { "#", "a.b.a.b", 1 },
    { "#", "a.b.x.b.y.c", 1 },
    { "#", "b.b", 1 },
    { "#", "a.b.b", 1 },
    { "a.#", "", 0 },
    { "a.#", "a", 1 },
    { "a.#", "b", 0 },
    { "a.#", "c", 0 },
    { "a.#", "a.b", 1 },
    { "a.#", "a.c", 1 },
    { "a.#", "a.b.c", 1 },
    { "a.#", "a.x.c", 1 },
    { "a.#", "a.b.b.c", 1 },
    { "a.#", "a..b", 1 },
    { "a.#", "a...b", 1 },
    { "a.#", ".", 0 },
    { "a.#", "..", 0 },
    { "a.#", "a.", 1 },
    { "a.#", ".a", 0 },
    { "a.#", "a.b.c.d", 1 },
    { "a.#", "x.a.y", 0 },
    { "a.#", "a.a", 1 },
    { "a.#", "a.b.a.b", 1 },
    { "a.#", "a.b.x.b.y.c", 1 },
    { "a.#", "b.b", 0 },
    { "a.#", "a.b.b", 1 },
    { "#.c", "", 0 },
    { "#.c", "a", 0 },
    { "#.c", "b", 0 },
    { "#.c", "c", 1 },
    { "#.c", "a.b", 0 },
    { "#.c", "a.c", 1 },
    { "#.c", "a.b.c", 1 },
    { "#.c", "a.x.c", 1 },
    { "#.c", "a.b.b.c", 1 },
    { "#.c", "a..b", 0 },
    { "#.c", "a...b", 0 },
    { "#.c", ".", 0 },
    { "#.c", "..", 0 },
    { "#.c", "a.", 0 },
    { "#.c", ".a", 0 },
    { "#.c", "a.b.c.d", 0 },
    { "#.c", "x.a.y", 0 },
    { "#.c", "a.a", 0 },
    { "#.c", "a.b.a.b", 0 },
    { "#.c", "a.b.x.b.y.c", 1 },
    { "#.c", "b.b", 0 },
    { "#.c", "a.b.b", 0 },
    { "*.*", "", 0 },
    { "*.*", "a", 0 },
    { "*.*", "b", 0 },
    { "*.*", "c", 0 },
    { "*.*", "a.b", 1 },
    { "*.*", "a.c", 1 },
    { "*.*", "a.b.c", 0 },
    { "*.*", "a.x.c", 0 },
    { "*.*", "a.b.b.c", 0 },
    { "*.*", "a..b", 0 },
    { "*.*", "a...b", 0 },
    { "*.*", ".", 1 },
    { "*.*", "..", 0 },
    { "*.*", "a.", 1 },
    { "*.*", ".a", 1 },
    { "*.*", "a.b.c.d", 0 },
    { "*.*", "x.a.y", 0 },
    { "*.*", "a.a", 1 },
    { "*.*", "a.b.a.b", 0 },
    { "*.*", "a.b.x.b.y.c", 0 },
    { "*.*", "b.b", 1 },
    { "*.*", "a.b.b", 0 },
    { "", "", 1 },
    { "", "a", 0 },
    { "", "b", 0 },
    { "", "c", 0 },
    { "", "a.b", 0 },
    { "", "a.c", 0 },
    { "", "a.b.c", 0 },
    { "", "a.x.c", 0 },
    { "", "a.b.b.c", 0 },
    { "", "a..b", 0 },
    { "", "a...b", 0 },
    { "", ".", 0 },
    { "", "..", 0 },
    { "", "a.", 0 },
    { "", ".a", 0 },
    { "", "a.b.c.d", 0 },
    { "", "x.a.y", 0 },
    { "", "a.a", 0 },
    { "", "a.b.a.b", 0 },
    { "", "a.b.x.b.y.c", 0 },
    { "", "b.b", 0 },
    { "", "a.b.b", 0 },
    { "*", "", 0 },
    { "*", "a", 1 },
    { "*", "b", 1 },
    { "*", "c", 1 },
    { "*", "a.b", 0 },
    { "*", "a.c", 0 },
    { "*", "a.b.c", 0 },
    { "*", "a.x.c", 0 },
    { "*", "a.b.b.c", 0 },
    { "*", "a..b", 0 },
    { "*", "a...b", 0 },
    { "*", ".", 0 },
    { "*", "..", 0 },
    { "*", "a.", 0 },
    { "*", ".a", 0 },
    { "*", "a.b.c.d", 0 },
    { "*", "x.a.y", 0 },
    { "*", "a.a", 0 },
    { "*", "a.b.a.b", 0 },
    { "*", "a.b.x.b.y.c", 0 },
    { "*", "b.b", 0 },
    { "*", "a.b.b", 0 },
    { "a..b", "", 0 },
    { "a..b", "a", 0 },
    { "a..b", "b", 0 },
    { "a..b", "c", 0 },
    { "a..b", "a.b", 0 },
    { "a..b", "a.c", 0 },
    { "a..b", "a.b.c", 0 },
    { "a..b", "a.x.c", 0 },
    { "a..b", "a.b.b.c", 0 },
    { "a..b", "a..b", 1 },
    { "a..b", "a...b", 0 },
    { "a..b", ".", 0 },
    { "a..b", "..", 0 },
    { "a..b", "a.", 0 },
    { "a..b", ".a", 0 },
    { "a..b", "a.b.c.d", 0 },
    { "a..b", "x.a.y", 0 },
    { "a..b", "a.a", 0 },
    { "a..b", "a.b.a.b", 0 },
    { "a..b", "a.b.x.b.y.c", 0 },
    { "a..b", "b.b", 0 },
    { "a..b", "a.b.b", 0 },
    { "a.#.#.b", "", 0 },
    { "a.#.#.b", "a", 0 },
    { "a.#.#.b", "b", 0 },
    { "a.#.#.b", "c", 0 },
    { "a.#.#.b", "a.b", 1 },
    { "a.#.#.b", "a.c", 0 },
    { "a.#.#.b", "a.b.c", 0 },
    { "a.#.#.b", "a.x.c", 0 },
    { "a.#.#.b", "a.b.b.c", 0 },
    { "a.#.#.b", "a..b", 1 },
    { "a.#.#.b", "a...b", 1 },
    { "a.#.#.b", ".", 0 },
    { "a.#.#.b", "..", 0 },
    { "a.#.#.b", "a.", 0 },
    { "a.#.#.b", ".a", 0 },
    { "a.#.#.b", "a.b.c.d", 0 },
    { "a.#.#.b", "x.a.y", 0 },
    { "a.#.#.b", "a.a", 0 },
    { "a.#.#.b", "a.b.a.b", 1 },
    { "a.#.#.b", "a.b.x.b.y.c", 0 },
    { "a.#.#.b", "b.b", 0 },
    { "a.#.#.b", "a.b.b", 1 },
    { "#.#", "", 1 },
    { "#.#", "a", 1 },
    { "#.#", "b", 1 },
    { "#.#", "c", 1 },
    { "#.#", "a.b", 1 },
    { "#.#", "a.c", 1 },
    { "#.#", "a.b.c", 1 },
    { "#.#", "a.x.c", 1 },
    { "#.#", "a.b.b.c", 1 },
    { "#.#", "a..b", 1 },
    { "#.#", "a...b", 1 },
    { "#.#", ".", 1 },
    { "#.#", "..", 1 },
    { "#.#", "a.", 1 },
    { "#.#", ".a", 1 },
    { "#.#", "a.b.c.d", 1 },
    { "#.#", "x.a.y", 1 },
    { "#.#", "a.a", 1 },
    { "#.#", "a.b.a.b", 1 },
    { "#.#", "a.b.x.b.y.c", 1 },
    { "#.#", "b.b", 1 },
    { "#.#", "a.b.b", 1 },
    { "a.*", "", 0 },
    { "a.*", "a", 0 },
    { "a.*", "b", 0 },
    { "a.*", "c", 0 },
    { "a.*", "a.b", 1 },
    { "a.*", "a.c", 1 },
    { "a.*", "a.b.c", 0 },
    { "a.*", "a.x.c", 0 },
    { "a.*", "a.b.b.c", 0 },
    { "a.*", "a..b", 0 },
    { "a.*", "a...b", 0 },
    { "a.*", ".", 0 },
    { "a.*", "..", 0 },
    { "a.*", "a.", 1 },
    { "a.*", ".a", 0 },
    { "a.*", "a.b.c.d", 0 },
    { "a.*", "x.a.y", 0 },
    { "a.*", "a.a", 1 },
    { "a.*", "a.b.a.b", 0 },
    { "a.*", "a.b.x.b.y.c", 0 },
    { "a.*", "b.b", 0 },
    { "a.*", "a.b.b", 0 },
    { "*.a", "", 0 },
    { "*.a", "a", 0 },
    { "*.a", "b", 0 },
    { "*.a", "c", 0 },
    { "*.a", "a.b", 0 },
    { "*.a", "a.c", 0 },
    { "*.a", "a.b.c", 0 },
    { "*.a", "a.x.c", 0 },
    { "*.a", "a.b.b.c", 0 },
    { "*.a", "a..b", 0 },
    { "*.a", "a...b", 0 },
    { "*.a", ".", 0 },
    { "*.a", "..", 0 },
    { "*.a", "a.", 0 },
    { "*.a", ".a", 1 },
    { "*.a", "a.b.c.d", 0 },
    { "*.a", "x.a.y", 0 },
    { "*.a", "a.a", 1 },
    { "*.a", "a.b.a.b", 0 },
    { "*.a", "a.b.x.b.y.c", 0 },
    { "*.a", "b.b", 0 },
    { "*.a", "a.b.b", 0 },
    { "#.a.#", "", 0 },
    { "#.a.#", "a", 1 },
    { "#.a.#", "b", 0 },
    { "#.a.#", "c", 0 },
    { "#.a.#", "a.b", 1 },
    { "#.a.#", "a.c", 1 },
    { "#.a.#", "a.b.c", 1 },
    { "#.a.#", "a.x.c", 1 },
    { "#.a.#", "a.b.b.c", 1 },
    { "#.a.#", "a..b", 1 },
    { "#.a.#", "a...b", 1 },
    { "#.a.#", ".", 0 },
    { "#.a.#", "..", 0 },
    { "#.a.#", "a.", 1 },
    { "#.a.#", ".a", 1 },
    { "#.a.#", "a.b.c.d", 1 },
    { "#.a.#", "x.a.y", 1 },
    { "#.a.#", "a.a", 1 },
    { "#.a.#", "a.b.a.b", 1 },
    { "#.a.#", "a.b.x.b.y.c", 1 },
    { "#.a.#", "b.b", 0 },
    { "#.a.#", "a.b.b", 1 },
    { "a.*.#", "", 0 },
    { "a.*.#", "a", 0 },
    { "a.*.#", "b", 0 },
    { "a.*.#", "c", 0 },
    { "a.*.#", "a.b", 1 },
    { "a.*.#", "a.c", 1 },
    { "a.*.#", "a.b.c", 1 },
    { "a.*.#", "a.x.c", 1 },
    { "a.*.#", "a.b.b.c", 1 },
    { "a.*.#", "a..b", 1 },
    { "a.*.#", "a...b", 1 },
    { "a.*.#", ".", 0 },
    { "a.*.#", "..", 0 },
    { "a.*.#", "a.", 1 },
    { "a.*.#", ".a", 0 },
    { "a.*.#", "a.b.c.d", 1 },
    { "a.*.#", "x.a.y", 0 },
    { "a.*.#", "a.a", 1 },
    { "a.*.#", "a.b.a.b", 1 },
    { "a.*.#", "a.b.x.b.y.c", 1 },
    { "a.*.#", "b.b", 0 },
    { "a.*.#", "a.b.b", 1 },
    { "a.#.*", "", 0 },
    { "a.#.*", "a", 0 },
    { "a.#.*", "b", 0 },
    { "a.#.*", "c", 0 },
    { "a.#.*", "a.b", 1 },
    { "a.#.*", "a.c", 1 },
    { "a.#.*", "a.b.c", 1 },
    { "a.#.*", "a.x.c", 1 },
    { "a.#.*", "a.b.b.c", 1 },
    { "a.#.*", "a..b", 1 },
    { "a.#.*", "a...b", 1 },
    { "a.#.*", ".", 0 },
    { "a.#.*", "..", 0 },
    { "a.#.*", "a.", 1 },
    { "a.#.*", ".a", 0 },
    { "a.#.*", "a.b.c.d", 1 },
    { "a.#.*", "x.a.y", 0 },
    { "a.#.*", "a.a", 1 },
    { "a.#.*", "a.b.a.b", 1 },
    { "a.#.*", "a.b.x.b.y.c", 1 },
    { "a.#.*", "b.b", 0 },
    { "a.#.*", "a.b.b", 1 },
    { "*.#.*", "", 0 },
    { "*.#.*", "a", 0 },
    { "*.#.*", "b", 0 },
    { "*.#.*", "c", 0 },
    { "*.#.*", "a.b", 1 },
    { "*.#.*", "a.c", 1 },
    { "*.#.*", "a.b.c", 1 },
    { "*.#.*", "a.x.c", 1 },
    { "*.#.*", "a.b.b.c", 1 },
    { "*.#.*", "a..b", 1 },
    { "*.#.*", "a...b", 1 },
    { "*.#.*", ".", 1 },
    { "*.#.*", "..", 1 },
    { "*.#.*", "a.", 1 },
    { "*.#.*", ".a", 1 },
    { "*.#.*", "a.b.c.d", 1 },
    { "*.#.*", "x.a.y", 1 },
    { "*.#.*", "a.a", 1 },
    { "*.#.*", "a.b.a.b", 1 },
    { "*.#.*", "a.b.x.b.y.c", 1 },
    { "*.#.*", "b.b", 1 },
    { "*.#.*", "a.b.b", 1 },
    { ".", "", 0 },
    { ".", "a", 0 },
    { ".", "b", 0 },
    { ".", "c", 0 },
    { ".", "a.b", 0 },
    { ".", "a.c", 0 },
    { ".", "a.b.c", 0 },
    { ".", "a.x.c", 0 },
    { ".", "a.b.b.c", 0 },
    { ".", "a..b", 0 },
    { ".", "a...b", 0 },
    { ".", ".", 1 },
    { ".", "..", 0 },
    { ".", "a.", 0 },
    { ".", ".a", 0 },
    { ".", "a.b.c.d", 0 },
    { ".", "x.a.y", 0 },
    { ".", "a.a", 0 },
    { ".", "a.b.a.b", 0 },
    { ".", "a.b.x.b.y.c", 0 },
    { ".", "b.b", 0 },
    { ".", "a.b.b", 0 },
    { "a.", "", 0 },
    { "a.", "a", 0 },
    { "a.", "b", 0 },
    { "a.", "c", 0 },
    { "a.", "a.b", 0 },
    { "a.", "a.c", 0 },
    { "a.", "a.b.c", 0 },
    { "a.", "a.x.c", 0 },
    { "a.", "a.b.b.c", 0 },
    { "a.", "a..b", 0 },
    { "a.", "a...b", 0 },
    { "a.", ".", 0 },
    { "a.", "..", 0 },
    { "a.", "a.", 1 },
    { "a.", ".a", 0 },
    { "a.", "a.b.c.d", 0 },
    { "a.", "x.a.y", 0 },
    { "a.", "a.a", 0 },
    { "a.", "a.b.a.b", 0 },
    { "a.", "a.b.x.b.y.c", 0 },
    { "a.", "b.b", 0 },
    { "a.", "a.b.b", 0 },
    { ".a", "", 0 },
    { ".a", "a", 0 },
    { ".a", "b", 0 },
    { ".a", "c", 0 },
    { ".a", "a.b", 0 },
    { ".a", "a.c", 0 },
    { ".a", "a.b.c", 0 },
    { ".a", "a.x.c", 0 },
    { ".a", "a.b.b.c", 0 },
    { ".a", "a..b", 0 },
    { ".a", "a...b", 0 },
    { ".a", ".", 0 },
    { ".a", "..", 0 },
    { ".a", "a.", 0 },
    { ".a", ".a", 1 },
    { ".a", "a.b.c.d", 0 },
    { ".a", "x.a.y", 0 },
    { ".a", "a.a", 0 },
    { ".a", "a.b.a.b", 0 },
    { ".a", "a.b.x.b.y.c", 0 },
    { ".a", "b.b", 0 },
    { ".a", "a.b.b", 0 },
    { "#.", "", 0 },
    { "#.", "a", 0 },
    { "#.", "b", 0 },
    { "#.", "c", 0 },
    { "#.", "a.b", 0 },
    { "#.", "a.c", 0 },
    { "#.", "a.b.c", 0 },
    { "#.", "a.x.c", 0 },
    { "#.", "a.b.b.c", 0 },
    { "#.", "a..b", 0 },
    { "#.", "a...b", 0 },
    { "#.", ".", 1 },
    { "#.", "..", 1 },
    { "#.", "a.", 1 },
    { "#.", ".a", 0 },
    { "#.", "a.b.c.d", 0 },
    { "#.", "x.a.y", 0 },
    { "#.", "a.a", 0 },
    { "#.", "a.b.a.b", 0 },
    { "#.", "a.b.x.b.y.c", 0 },
    { "#.", "b.b", 0 },
    { "#.", "a.b.b", 0 },
    { ".#", "", 0 },
    { ".#", "a", 0 },
    { ".#", "b", 0 },
    { ".#", "c", 0 },
    { ".#", "a.b", 0 },
    { ".#", "a.c", 0 },
    { ".#", "a.b.c", 0 },
    { ".#", "a.x.c", 0 },
    { ".#", "a.b.b.c", 0 },
    { ".#", "a..b", 0 },
    { ".#", "a...b", 0 },
    { ".#", ".", 1 },
    { ".#", "..", 1 },
    { ".#", "a.", 0 },
    { ".#", ".a", 1 },
    { ".#", "a.b.c.d", 0 },
    { ".#", "x.a.y", 0 },
    { ".#", "a.a", 0 },
    { ".#", "a.b.a.b", 0 },
    { ".#", "a.b.x.b.y.c", 0 },
    { ".#", "b.b", 0 },
    { ".#", "a.b.b", 0 },
    { "*.", "", 0 },
    { "*.", "a", 0 },
    { "*.", "b", 0 },
    { "*.", "c", 0 },
    { "*.", "a.b", 0 },
    { "*.", "a.c", 0 },
    { "*.", "a.b.c", 0 },
    { "*.", "a.x.c", 0 },
    { "*.", "a.b.b.c", 0 },
    { "*.", "a..b", 0 },
    { "*.", "a...b", 0 },
    { "*.", ".", 1 },
    { "*.", "..", 0 },
    { "*.", "a.", 1 },
    { "*.", ".a", 0 },
    { "*.", "a.b.c.d", 0 },
    { "*.", "x.a.y", 0 },
    { "*.", "a.a", 0 },
    { "*.", "a.b.a.b", 0 },
    { "*.", "a.b.x.b.y.c", 0 },
    { "*.", "b.b", 0 },
    { "*.", "a.b.b", 0 },
    { "a.b.c", "", 0 },
    { "a.b.c", "a", 0 },
    { "a.b.c", "b", 0 },
    { "a.b.c", "c", 0 },
    { "a.b.c", "a.b", 0 },
    { "a.b.c", "a.c", 0 },
    { "a.b.c", "a.b.c", 1 },
    { "a.b.c", "a.x.c", 0 },
    { "a.b.c", "a.b.b.c", 0 },
    { "a.b.c", "a..b", 0 },
    { "a.b.c", "a...b", 0 },
    { "a.b.c", ".", 0 },
    { "a.b.c", "..", 0 },
    { "a.b.c", "a.", 0 },
    { "a.b.c", ".a", 0 },
    { "a.b.c", "a.b.c.d", 0 },
    { "a.b.c", "x.a.y", 0 },
    { "a.b.c", "a.a", 0 },
    { "a.b.c", "a.b.a.b", 0 },
    { "a.b.c", "a.b.x.b.y.c", 0 },
    { "a.b.c", "b.b", 0 },
    { "a.b.c", "a.b.b", 0 },
    { "#.*", "", 0 },
    { "#.*", "a", 1 },
    { "#.*", "b", 1 },
    { "#.*", "c", 1 },
    { "#.*", "a.b", 1 },
    { "#.*", "a.c", 1 },
    { "#.*", "a.b.c", 1 },
    { "#.*", "a.x.c", 1 },
    { "#.*", "a.b.b.c", 1 },
    { "#.*", "a..b", 1 },
    { "#.*", "a...b", 1 },
    { "#.*", ".", 1 },
    { "#.*", "..", 1 },
    { "#.*", "a.", 1 },
    { "#.*", ".a", 1 },
    { "#.*", "a.b.c.d", 1 },
    { "#.*", "x.a.y", 1 },
    { "#.*", "a.a", 1 },
    { "#.*", "a.b.a.b", 1 },
    { "#.*", "a.b.x.b.y.c", 1 },
    { "#.*", "b.b", 1 },
    { "#.*", "a.b.b", 1 },
    { "*.#", "", 0 },
    { "*.#", "a", 1 },
    { "*.#", "b", 1 },
    { "*.#", "c", 1 },
    { "*.#", "a.b", 1 },
    { "*.#", "a.c", 1 },
    { "*.#", "a.b.c", 1 },
    { "*.#", "a.x.c", 1 },
    { "*.#", "a.b.b.c", 1 },
    { "*.#", "a..b", 1 },
    { "*.#", "a...b", 1 },
    { "*.#", ".", 1 },
    { "*.#", "..", 1 },
    { "*.#", "a.", 1 },
    { "*.#", ".a", 1 },
    { "*.#", "a.b.c.d", 1 },
    { "*.#", "x.a.y", 1 },
    { "*.#", "a.a", 1 },
    { "*.#", "a.b.a.b", 1 },
    { "*.#", "a.b.x.b.y.c", 1 },
    { "*.#", "b.b", 1 },
    { "*.#", "a.b.b", 1 },
    { "#.#.b", "", 0 },
    { "#.#.b", "a", 0 },
    { "#.#.b", "b", 1 },
    { "#.#.b", "c", 0 },
    { "#.#.b", "a.b", 1 },
    { "#.#.b", "a.c", 0 },
    { "#.#.b", "a.b.c", 0 },
    { "#.#.b", "a.x.c", 0 },
    { "#.#.b", "a.b.b.c", 0 },
    { "#.#.b", "a..b", 1 },
    { "#.#.b", "a...b", 1 },
    { "#.#.b", ".", 0 },
    { "#.#.b", "..", 0 },
    { "#.#.b", "a.", 0 },
    { "#.#.b", ".a", 0 },
    { "#.#.b", "a.b.c.d", 0 },
    { "#.#.b", "x.a.y", 0 },
    { "#.#.b", "a.a", 0 },
    { "#.#.b", "a.b.a.b", 1 },
    { "#.#.b", "a.b.x.b.y.c", 0 },
    { "#.#.b", "b.b", 1 },
    { "#.#.b", "a.b.b", 1 },
    { "a.#.b.#.c", "", 0 },
    { "a.#.b.#.c", "a", 0 },
    { "a.#.b.#.c", "b", 0 },
    { "a.#.b.#.c", "c", 0 },
    { "a.#.b.#.c", "a.b", 0 },
    { "a.#.b.#.c", "a.c", 0 },
    { "a.#.b.#.c", "a.b.c", 1 },
    { "a.#.b.#.c", "a.x.c", 0 },
    { "a.#.b.#.c", "a.b.b.c", 1 },
    { "a.#.b.#.c", "a..b", 0 },
    { "a.#.b.#.c", "a...b", 0 },
    { "a.#.b.#.c", ".", 0 },
    { "a.#.b.#.c", "..", 0 },
    { "a.#.b.#.c", "a.", 0 },
    { "a.#.b.#.c", ".a", 0 },
    { "a.#.b.#.c", "a.b.c.d", 0 },
    { "a.#.b.#.c", "x.a.y", 0 },
    { "a.#.b.#.c", "a.a", 0 },
    { "a.#.b.#.c", "a.b.a.b", 0 },
    { "a.#.b.#.c", "a.b.x.b.y.c", 1 },
    { "a.#.b.#.c", "b.b", 0 },
    { "a.#.b.#.c", "a.b.b", 0 },
    { "*..*", "", 0 },
    { "*..*", "a", 0 },
    { "*..*", "b", 0 },
    { "*..*", "c", 0 },
    { "*..*", "a.b", 0 },
    { "*..*", "a.c", 0 },
    { "*..*", "a.b.c", 0 },
    { "*..*", "a.x.c", 0 },
    { "*..*", "a.b.b.c", 0 },
    { "*..*", "a..b", 1 },
    { "*..*", "a...b", 0 },
    { "*..*", ".", 0 },
    { "*..*", "..", 1 },
    { "*..*", "a.", 0 },
    { "*..*", ".a", 0 },
    { "*..*", "a.b.c.d", 0 },
    { "*..*", "x.a.y", 0 },
    { "*..*", "a.a", 0 },
    { "*..*", "a.b.a.b", 0 },
    { "*..*", "a.b.x.b.y.c", 0 },
    { "*..*", "b.b", 0 },
    { "*..*", "a.b.b", 0 },
};


START_TEST(t_topic_rabbitmq)
{
    size_t  i;

    for (i = 0; i < sizeof(t_topic_cases) / sizeof(t_topic_cases[0]); i++) {
        ck_assert_msg(mq_topic_match(t_str(t_topic_cases[i].pattern),
                                     t_str(t_topic_cases[i].key))
                      == t_topic_cases[i].match,
                      "pattern '%s' key '%s': want %d",
                      t_topic_cases[i].pattern, t_topic_cases[i].key,
                      t_topic_cases[i].match);
    }
}
END_TEST


/*
 * Patterns of many '#' against long keys that almost match: a recursive
 * matcher takes exponential time here; this one must finish at once.
 */
START_TEST(t_topic_pathological)
{
    char           *key, *pat;
    size_t          i, n;
    struct timespec a, b;
    double          secs;

    n = 20000;
    key = malloc(2 * n + 1);
    pat = malloc(4 * 200 + 16);
    ck_assert_ptr_nonnull(key);
    ck_assert_ptr_nonnull(pat);
    for (i = 0; i < n; i++) {
        key[2 * i] = 'a';
        key[2 * i + 1] = '.';
    }
    key[2 * n - 1] = '\0';                  /* "a.a.a...a" */

    clock_gettime(CLOCK_MONOTONIC, &a);

    ck_assert_int_eq(mq_topic_match(t_str("#.#.#.#.#.#.#.#.x"), t_str(key)),
                     0);
    ck_assert_int_eq(mq_topic_match(t_str("#.#.#.#.#.#.#.#.a"), t_str(key)),
                     1);
    ck_assert_int_eq(mq_topic_match(t_str("#.a.#.a.#.a.#.b.#"), t_str(key)),
                     0);
    ck_assert_int_eq(mq_topic_match(t_str("*.#.*.#.*"), t_str(key)), 1);

    /* 200 "#." then "x". */
    for (i = 0; i < 200; i++) {
        memcpy(pat + 2 * i, "#.", 2);
    }
    memcpy(pat + 400, "x", 2);
    ck_assert_int_eq(mq_topic_match(t_str(pat), t_str(key)), 0);
    /* 200 "a.#." then "b". */
    for (i = 0; i < 200; i++) {
        memcpy(pat + 4 * i, "a.#.", 4);
    }
    memcpy(pat + 800, "b", 2);
    ck_assert_int_eq(mq_topic_match(t_str(pat), t_str(key)), 0);

    clock_gettime(CLOCK_MONOTONIC, &b);
    secs = (double) (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    ck_assert_msg(secs < 2.0, "topic matching took %.3f s", secs);

    free(key);
    free(pat);
}
END_TEST


Suite *
mq_table_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("mq_table");

    tc = tcase_create("tables");
    tcase_add_test(tc, t_table_types);
    tcase_add_test(tc, t_table_nested);
    tcase_add_test(tc, t_table_malformed);
    tcase_add_test(tc, t_table_equal);
    tcase_add_test(tc, t_value_equal);
    tcase_add_test(tc, t_tbuf);
    suite_add_tcase(s, tc);

    tc = tcase_create("topics");
    tcase_add_test(tc, t_topic_rabbitmq);
    tcase_add_test(tc, t_topic_pathological);
    tcase_set_timeout(tc, 10);
    suite_add_tcase(s, tc);

    return s;
}
