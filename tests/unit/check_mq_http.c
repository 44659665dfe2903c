/*
 * check_mq_http.c: the management API's documents (mq_http_json.c):
 * field tables as RabbitMQ shows them, and bindings' properties_key; and
 * the login check the API shares with AMQP (mq_user_check, mq_handshake.c).
 */
#include <string.h>

#include "check_suites.h"
#include "mq/mq_http.h"


/* The JSON text of doc (compact, sorted keys), doc released. */
static char *
dump(json_t *doc)
{
    char *s;

    ck_assert_ptr_nonnull(doc);
    s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    return s;
}


START_TEST(table_types)
{
    mq_tbuf_t  b, inner;
    size_t     pos;
    ob_str_t   t;
    char      *s;
    uint8_t    raw[] = { 0xff, 0xff, 0xff, 0xff };

    mq_tbuf_init(&b);
    mq_tbuf_key(&b, "str", 3);
    mq_tbuf_longstr(&b, "v", 1);
    mq_tbuf_key(&b, "long", 4);
    mq_tbuf_i64(&b, -5);
    mq_tbuf_key(&b, "int", 3);
    mq_tbuf_i32(&b, -7);
    mq_tbuf_key(&b, "bool", 4);
    mq_tbuf_bool(&b, 1);
    mq_tbuf_key(&b, "void", 4);
    mq_tbuf_void(&b);
    /* 'i': an unsigned 32-bit integer, RabbitMQ's reading */
    mq_tbuf_key(&b, "u32", 3);
    mq_tbuf_raw(&b, "i", 1);
    mq_tbuf_raw(&b, raw, sizeof(raw));
    mq_tbuf_key(&b, "nested", 6);
    pos = mq_tbuf_open(&b, 'F');
    mq_tbuf_key(&b, "a", 1);
    mq_tbuf_longstr(&b, "b", 1);
    mq_tbuf_close(&b, pos);
    mq_tbuf_key(&b, "list", 4);
    pos = mq_tbuf_open(&b, 'A');
    mq_tbuf_i32(&b, 1);
    mq_tbuf_longstr(&b, "x", 1);
    mq_tbuf_bool(&b, 0);
    mq_tbuf_close(&b, pos);
    ck_assert_int_eq(b.failed, 0);
    ck_assert_int_eq(mq_table_validate(b.data, b.len), OB_OK);

    t.data = b.data;
    t.len = b.len;
    s = dump(mq_http_table_json(t));
    ck_assert_str_eq(s, "{\"bool\":true,\"int\":-7,\"list\":[1,\"x\",false],"
                     "\"long\":-5,\"nested\":{\"a\":\"b\"},\"str\":\"v\","
                     "\"u32\":4294967295,\"void\":null}");
    free(s);
    mq_tbuf_free(&b);

    /* an empty table is an empty object */
    mq_tbuf_init(&inner);
    t.data = inner.data;
    t.len = 0;
    s = dump(mq_http_table_json(t));
    ck_assert_str_eq(s, "{}");
    free(s);
    mq_tbuf_free(&inner);
}
END_TEST


START_TEST(binding_properties_key)
{
    mq_vhost_t     vh;
    mq_exchange_t  x;
    mq_queue_t     q;
    mq_binding_t   bd;
    json_t        *doc;
    const char    *key;
    mq_tbuf_t      args;

    memset(&vh, 0, sizeof(vh));
    memset(&x, 0, sizeof(x));
    memset(&q, 0, sizeof(q));
    memset(&bd, 0, sizeof(bd));
    strcpy(vh.name, "/");
    strcpy(x.name, "amq.direct");
    x.name_len = 10;
    x.vhost = &vh;
    strcpy(q.name, "q1");
    q.name_len = 2;
    q.vhost = &vh;
    bd.source = &x;
    bd.queue = &q;

    /* RabbitMQ's own: "x y/z" -> "x+y%2Fz", "" -> "~" */
    strcpy(bd.key, "x y/z");
    bd.key_len = 5;
    doc = mq_http_binding(&bd, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "properties_key")),
                     "x+y%2Fz");
    ck_assert_str_eq(json_string_value(json_object_get(doc,
                                                       "destination_type")),
                     "queue");
    json_decref(doc);

    bd.key[0] = '\0';
    bd.key_len = 0;
    doc = mq_http_binding(&bd, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "properties_key")),
                     "~");
    json_decref(doc);

    /* with arguments: the key, "~" and a hash of them */
    mq_tbuf_init(&args);
    mq_tbuf_key(&args, "k", 1);
    mq_tbuf_longstr(&args, "v", 1);
    strcpy(bd.key, "a.#");
    bd.key_len = 3;
    bd.args = args.data;
    bd.args_len = args.len;
    doc = mq_http_binding(&bd, NULL);
    key = json_string_value(json_object_get(doc, "properties_key"));
    ck_assert_int_eq(strncmp(key, "a.%23~", 6), 0);
    ck_assert_uint_eq(strlen(key), 12);
    ck_assert_str_eq(json_string_value(json_object_get(
        json_object_get(doc, "arguments"), "k")), "v");
    json_decref(doc);
    mq_tbuf_free(&args);

    /* the default exchange's implicit binding */
    doc = mq_http_binding(NULL, &q);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "source")), "");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "routing_key")),
                     "q1");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "properties_key")),
                     "q1");
    json_decref(doc);
}
END_TEST


/* A user's name and password must both match, NULs and lengths counted;
 * a loopback-only user is declined from elsewhere (OB_DECLINED, which the
 * API turns into "User can only log in via localhost"). */
START_TEST(user_check)
{
    mq_t              mq;
    mq_user_t         users[2];
    const mq_user_t  *u = NULL;
    ob_str_t          guest = { 5, (const uint8_t *) "guest" };
    ob_str_t          bob = { 3, (const uint8_t *) "bob" };
    ob_str_t          pw = { 2, (const uint8_t *) "pw" };
    ob_str_t          pw_nul = { 3, (const uint8_t *) "pw\0" };
    ob_str_t          pw_short = { 1, (const uint8_t *) "p" };

    memset(&mq, 0, sizeof(mq));
    users[0].name = "guest";
    users[0].password = "guest";
    users[1].name = "bob";
    users[1].password = "pw";
    mq.users = users;
    mq.nusers = 2;
    mq.loopback_users = "alice,guest";

    ck_assert_int_eq(mq_user_check(&mq, bob, pw, 0, &u), OB_OK);
    ck_assert_ptr_eq(u, &users[1]);
    ck_assert_int_eq(mq_user_check(&mq, bob, pw_nul, 1, &u), OB_ERR);
    ck_assert_int_eq(mq_user_check(&mq, bob, pw_short, 1, &u), OB_ERR);
    ck_assert_int_eq(mq_user_check(&mq, guest, pw, 1, &u), OB_ERR);
    ck_assert_int_eq(mq_user_check(&mq, guest, guest, 0, &u), OB_DECLINED);
    u = NULL;
    ck_assert_int_eq(mq_user_check(&mq, guest, guest, 1, &u), OB_OK);
    ck_assert_ptr_eq(u, &users[0]);
    mq.loopback_users = "gue,guests,";
    ck_assert_int_eq(mq_user_check(&mq, guest, guest, 0, &u), OB_OK);
}
END_TEST


Suite *
mq_http_suite(void)
{
    Suite *s = suite_create("mq_http");
    TCase *tc = tcase_create("documents");

    tcase_add_test(tc, table_types);
    tcase_add_test(tc, binding_properties_key);
    tcase_add_test(tc, user_check);
    suite_add_tcase(s, tc);
    return s;
}
