/*
 * check_store_replica.c: unit tests of the replica side's pure parts
 * (store/store_replica_sync.c): the +FULLRESYNC line, the "$" line before
 * the RDB, and the search for a diskless payload's EOF mark, fed in every
 * split so that a mark straddling two reads is found and no byte of it
 * reaches the file.
 */
#include "check_suites.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "store/store_replica_int.h"


START_TEST(test_parse_fullresync)
{
    char       id[41];
    long long  off = -7;

    ck_assert_int_eq(store_replica_parse_fullresync(
        "+FULLRESYNC 14e6c4ee40cf8ceb23da72e07478e5f1e72bb7c1 183", id, &off),
        OB_OK);
    ck_assert_str_eq(id, "14e6c4ee40cf8ceb23da72e07478e5f1e72bb7c1");
    ck_assert_int_eq(off, 183);
    ck_assert_int_eq(store_replica_parse_fullresync(
        "+FULLRESYNC aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 0", id, &off),
        OB_OK);
    ck_assert_int_eq(off, 0);
    /* a short id, no offset, a bad offset, another reply */
    ck_assert_int_eq(store_replica_parse_fullresync(
        "+FULLRESYNC abc 5", id, &off), OB_ERR);
    ck_assert_int_eq(store_replica_parse_fullresync(
        "+FULLRESYNC aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", id, &off),
        OB_ERR);
    ck_assert_int_eq(store_replica_parse_fullresync(
        "+FULLRESYNC aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa x", id, &off),
        OB_ERR);
    ck_assert_int_eq(store_replica_parse_fullresync(
        "+CONTINUE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", id, &off),
        OB_ERR);
}
END_TEST


START_TEST(test_parse_bulk_head)
{
    char       mark[40];
    long long  size = -5;
    int        eof = -1;

    ck_assert_int_eq(store_replica_parse_bulk_head("$209", &eof, mark, &size),
                     OB_OK);
    ck_assert_int_eq(eof, 0);
    ck_assert_int_eq(size, 209);
    ck_assert_int_eq(store_replica_parse_bulk_head(
        "$EOF:3021e66040dce1a0bc58eac55ace2928bee18da2", &eof, mark, &size),
        OB_OK);
    ck_assert_int_eq(eof, 1);
    ck_assert_int_eq(size, 0);
    ck_assert_int_eq(memcmp(mark, "3021e66040dce1a0bc58eac55ace2928bee18da2",
                            40), 0);
    ck_assert_int_eq(store_replica_parse_bulk_head("$EOF:short", &eof, mark,
                                                   &size), OB_ERR);
    ck_assert_int_eq(store_replica_parse_bulk_head("$-1", &eof, mark, &size),
                     OB_ERR);
    ck_assert_int_eq(store_replica_parse_bulk_head("$12x", &eof, mark, &size),
                     OB_ERR);
    ck_assert_int_eq(store_replica_parse_bulk_head("$", &eof, mark, &size),
                     OB_ERR);
    ck_assert_int_eq(store_replica_parse_bulk_head("-ERR x", &eof, mark,
                                                   &size), OB_ERR);
}
END_TEST


/*
 * A payload, the mark, then stream bytes, fed in two pieces split at
 * every offset: what is "spilled" (written to the file) is exactly the
 * payload, and what is left after the mark is the stream.
 */
START_TEST(test_eof_scan_every_split)
{
    const char  *mark = "0123456789abcdefghij0123456789ABCDEFGHIJ";
    char         all[400];
    size_t       plen = 300, total, split, n, spilled;
    int          found;

    for (n = 0; n < plen; n++) {
        all[n] = (char) ('a' + n % 7);     /* never the mark */
    }
    memcpy(all + plen, mark, 40);
    memcpy(all + plen + 40, "*1\r\n$4\r\nPING\r\n", 14);
    total = plen + 40 + 14;

    for (split = 0; split <= total; split++) {
        struct evbuffer *in = evbuffer_new();
        char             rest[64];

        ck_assert_ptr_nonnull(in);
        spilled = 0;
        evbuffer_add(in, all, split);
        found = store_replica_eof_scan(in, mark, &n);
        evbuffer_drain(in, n);
        spilled += n;
        if (!found) {
            ck_assert_uint_le(spilled, plen);
            evbuffer_add(in, all + split, total - split);
            found = store_replica_eof_scan(in, mark, &n);
            evbuffer_drain(in, n);
            spilled += n;
        } else {
            evbuffer_add(in, all + split, total - split);
        }
        ck_assert_int_eq(found, 1);
        ck_assert_uint_eq(spilled, plen);
        evbuffer_drain(in, 40);
        ck_assert_uint_eq(evbuffer_get_length(in), 14);
        evbuffer_remove(in, rest, sizeof(rest));
        ck_assert_int_eq(memcmp(rest, "*1\r\n$4\r\nPING\r\n", 14), 0);
        evbuffer_free(in);
    }
}
END_TEST


/* Bytes arriving one at a time: at most 39 stay buffered. */
START_TEST(test_eof_scan_bytewise)
{
    const char       *mark = "MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMZ";
    struct evbuffer  *in = evbuffer_new();
    char              payload[100];
    size_t            i, n, spilled = 0;
    int               found = 0;

    memset(payload, 'M', sizeof(payload));    /* a near-miss prefix */
    for (i = 0; i < sizeof(payload) + 40 && !found; i++) {
        char b = i < sizeof(payload) ? payload[i]
                                     : mark[i - sizeof(payload)];

        evbuffer_add(in, &b, 1);
        found = store_replica_eof_scan(in, mark, &n);
        evbuffer_drain(in, n);
        spilled += n;
        ck_assert_uint_le(evbuffer_get_length(in), found ? 40 : 39);
    }
    ck_assert_int_eq(found, 1);
    ck_assert_uint_eq(spilled, sizeof(payload));
    evbuffer_free(in);
}
END_TEST


Suite *
store_replica_suite(void)
{
    Suite  *s = suite_create("store_replica");
    TCase  *tc = tcase_create("link");

    tcase_add_test(tc, test_parse_fullresync);
    tcase_add_test(tc, test_parse_bulk_head);
    tcase_add_test(tc, test_eof_scan_every_split);
    tcase_add_test(tc, test_eof_scan_bytewise);
    suite_add_tcase(s, tc);
    return s;
}
