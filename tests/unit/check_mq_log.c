/*
 * check_mq_log.c: the broker's message log apart from the entities
 * (mq/mq_log_rec.c, the scan of mq/mq_log_replay.c): records round-trip;
 * every prefix of a record reads as torn; a flipped bit or a bad type or
 * length reads as corrupt; the scan keeps the live entries of each queue
 * in message id order (settled ones gone, delivered ones marked, a copy
 * written forward by the compaction counted once), cuts a segment at a
 * torn or corrupt record (the file is truncated there) and goes on with
 * the next segment; a message whose records a cut copy left split between
 * segments is marked for a new home; a segment's settle records of older
 * segments' messages are known (it must not go before them).
 */
#include "check_suites.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mq/mq_log_int.h"
#include "check_mq_util.h"

typedef struct {
    uint8_t  data[65536];
    size_t   len;
} t_seg_t;


static void
t_msg(t_seg_t *s, uint64_t id, const char *body)
{
    /* a property list with a NUL in it: flags 0x1000, delivery-mode 2 */
    ob_str_t props = { 3, (const uint8_t *) "\x10\x00\x02" };

    s->len += mq_log_rec_put_msg(s->data + s->len, id, t_str("amq.direct"),
                                 t_str("key"), props, t_str(body));
}


static void
t_ref(t_seg_t *s, uint8_t type, uint32_t qid, uint64_t id)
{
    s->len += mq_log_rec_put_ref(s->data + s->len, type, qid, id);
}


static void
t_write(const char *dir, uint32_t num, const t_seg_t *s)
{
    char  path[4096];
    FILE *f;

    mq_log_seg_path(dir, num, path, sizeof(path));
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(s->data, 1, s->len, f), s->len);
    fclose(f);
}


/* Writes segment 1 from a and, when b is not NULL, segment 2 from b, and
 * scans them: the scan, which must succeed. */
static mq_log_scan_t *
t_scan(const char *dir, const t_seg_t *a, const t_seg_t *b)
{
    uint32_t        nums[] = { 1, 2 };
    mq_log_scan_t  *s;
    ob_err_t        err;

    t_write(dir, 1, a);
    if (b != NULL) {
        t_write(dir, 2, b);
    }
    s = mq_log_scan(dir, nums, b != NULL ? 2 : 1, NULL, &err);
    ck_assert_ptr_nonnull(s);
    return s;
}


static off_t
t_size(const char *dir, uint32_t num)
{
    char        path[4096];
    struct stat st;

    mq_log_seg_path(dir, num, path, sizeof(path));
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}


static char *
t_tmpdir(void)
{
    char tmpl[] = "/tmp/check_mq_log.XXXXXX";
    char *d = mkdtemp(tmpl);

    ck_assert_ptr_nonnull(d);
    return strdup(d);
}


static void
t_rmdir(char *dir)
{
    char cmd[4200];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}


START_TEST(test_record_roundtrip)
{
    t_seg_t       s = { .len = 0 };
    mq_log_rec_t  rec;
    size_t        used, n;

    t_msg(&s, 42, "hello");
    n = s.len;
    ck_assert_uint_eq(n, mq_log_rec_msg_size(10, 3, 3, 5));
    t_ref(&s, MQ_LOG_REC_ENQ, 7, 42);
    ck_assert_int_eq(mq_log_rec_get(s.data, s.len, &rec, &used), OB_OK);
    ck_assert_uint_eq(used, n);
    ck_assert_uint_eq(rec.type, MQ_LOG_REC_MSG);
    ck_assert_uint_eq(rec.id, 42);
    ck_assert_uint_eq(rec.exchange.len, 10);
    ck_assert_int_eq(memcmp(rec.exchange.data, "amq.direct", 10), 0);
    ck_assert_int_eq(memcmp(rec.key.data, "key", 3), 0);
    ck_assert_uint_eq(rec.props.len, 3);
    ck_assert_int_eq(memcmp(rec.props.data, "\x10\x00\x02", 3), 0);
    ck_assert_uint_eq(rec.body.len, 5);
    ck_assert_int_eq(memcmp(rec.body.data, "hello", 5), 0);
    ck_assert_int_eq(mq_log_rec_get(s.data + n, s.len - n, &rec, &used),
                     OB_OK);
    ck_assert_uint_eq(used, MQ_LOG_HDR + MQ_LOG_REF_LEN);
    ck_assert_uint_eq(rec.type, MQ_LOG_REC_ENQ);
    ck_assert_uint_eq(rec.qid, 7);
    ck_assert_uint_eq(rec.id, 42);
}
END_TEST


START_TEST(test_record_empty_fields)
{
    uint8_t       buf[128];
    mq_log_rec_t  rec;
    ob_str_t      none = { 0, NULL };
    size_t        n, used;

    n = mq_log_rec_put_msg(buf, 1, none, none, none, none);
    ck_assert_uint_eq(n, mq_log_rec_msg_size(0, 0, 0, 0));
    ck_assert_int_eq(mq_log_rec_get(buf, n, &rec, &used), OB_OK);
    ck_assert_uint_eq(rec.body.len, 0);
    ck_assert_uint_eq(rec.exchange.len, 0);
}
END_TEST


START_TEST(test_record_torn_prefixes)
{
    t_seg_t       s = { .len = 0 };
    mq_log_rec_t  rec;
    size_t        i, used;

    t_msg(&s, 9, "a body of some length");
    for (i = 0; i < s.len; i++) {
        ck_assert_int_eq(mq_log_rec_get(s.data, i, &rec, &used), OB_AGAIN);
    }
    ck_assert_int_eq(mq_log_rec_get(s.data, s.len, &rec, &used), OB_OK);
}
END_TEST


START_TEST(test_record_corrupt)
{
    t_seg_t       s = { .len = 0 };
    mq_log_rec_t  rec;
    size_t        i, used;
    uint8_t       save;

    t_msg(&s, 9, "body");
    /* any single flipped bit anywhere is caught */
    for (i = 0; i < s.len; i++) {
        save = s.data[i];
        s.data[i] ^= 0x20;
        ck_assert_int_ne(mq_log_rec_get(s.data, s.len, &rec, &used), OB_OK);
        s.data[i] = save;
    }
    /* an unknown type and an absurd length, even with a matching crc */
    s.len = 0;
    t_ref(&s, MQ_LOG_REC_DEL, 1, 1);
    s.data[8] = 9;
    ck_assert_int_eq(mq_log_rec_get(s.data, s.len, &rec, &used), OB_ERR);
    s.data[8] = MQ_LOG_REC_DEL;
    s.data[7] = 0xff;
    ck_assert_int_eq(mq_log_rec_get(s.data, s.len, &rec, &used), OB_ERR);
}
END_TEST


START_TEST(test_scan_replay_order)
{
    char              *dir = t_tmpdir();
    t_seg_t            a = { .len = 0 }, b = { .len = 0 };
    mq_log_scan_t     *s;
    mq_log_rentry_t  **v;
    size_t             n;

    t_msg(&a, 1, "one");
    t_ref(&a, MQ_LOG_REC_ENQ, 1, 1);
    t_msg(&a, 3, "three");           /* ids give the order, not the records */
    t_ref(&a, MQ_LOG_REC_ENQ, 1, 3);
    t_msg(&a, 2, "two");
    t_ref(&a, MQ_LOG_REC_ENQ, 1, 2);
    t_ref(&a, MQ_LOG_REC_ENQ, 2, 2);
    t_ref(&a, MQ_LOG_REC_DLV, 1, 2);
    t_ref(&a, MQ_LOG_REC_DEL, 1, 1);
    t_ref(&b, MQ_LOG_REC_DEL, 2, 2);
    t_ref(&b, MQ_LOG_REC_ENQ, 3, 99); /* no such message: dropped */
    t_msg(&b, 4, "four");
    t_ref(&b, MQ_LOG_REC_ENQ, 1, 4);
    s = t_scan(dir, &a, &b);
    n = mq_log_scan_queue(s, 1, &v);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(v[0]->id, 2);
    ck_assert(v[0]->delivered);
    ck_assert_uint_eq(v[0]->msg->rec.body.len, 3);
    ck_assert_int_eq(memcmp(v[0]->msg->rec.body.data, "two", 3), 0);
    ck_assert_uint_eq(v[1]->id, 3);
    ck_assert(!v[1]->delivered);
    ck_assert_uint_eq(v[2]->id, 4);
    ck_assert_uint_eq(v[2]->msg->seg, 2);
    ck_assert_uint_eq(mq_log_scan_queue(s, 2, &v), 0);
    ck_assert_uint_eq(mq_log_scan_queue(s, 3, &v), 0);
    ck_assert_uint_eq(mq_log_scan_max_id(s), 4);
    mq_log_scan_free(s);
    t_rmdir(dir);
}
END_TEST


START_TEST(test_scan_torn_tail_cut)
{
    char              *dir = t_tmpdir();
    t_seg_t            a = { .len = 0 };
    mq_log_scan_t     *s;
    mq_log_rentry_t  **v;
    size_t             good;

    t_msg(&a, 1, "one");
    t_ref(&a, MQ_LOG_REC_ENQ, 1, 1);
    good = a.len;
    t_msg(&a, 2, "two");
    a.len -= 3;                        /* the write was torn */
    s = t_scan(dir, &a, NULL);
    ck_assert_uint_eq(mq_log_scan_queue(s, 1, &v), 1);
    ck_assert_uint_eq(mq_log_scan_bytes(s, 1), good);
    mq_log_scan_free(s);
    ck_assert_int_eq(t_size(dir, 1), (off_t) good);
    t_rmdir(dir);
}
END_TEST


START_TEST(test_scan_corrupt_middle)
{
    char              *dir = t_tmpdir();
    t_seg_t            a = { .len = 0 }, b = { .len = 0 };
    mq_log_scan_t     *s;
    mq_log_rentry_t  **v;
    size_t             bad;

    t_msg(&a, 1, "one");
    t_ref(&a, MQ_LOG_REC_ENQ, 1, 1);
    bad = a.len;
    t_msg(&a, 2, "two");
    t_ref(&a, MQ_LOG_REC_ENQ, 1, 2);
    t_msg(&a, 3, "three");
    t_ref(&a, MQ_LOG_REC_ENQ, 1, 3);
    a.data[bad + MQ_LOG_HDR + 3] ^= 1; /* message 2's record is damaged */
    t_msg(&b, 4, "four");
    t_ref(&b, MQ_LOG_REC_ENQ, 1, 4);
    s = t_scan(dir, &a, &b);
    /* the rest of segment 1 is not trusted; segment 2 is read */
    ck_assert_uint_eq(mq_log_scan_queue(s, 1, &v), 2);
    ck_assert_uint_eq(v[0]->id, 1);
    ck_assert_uint_eq(v[1]->id, 4);
    mq_log_scan_free(s);
    ck_assert_int_eq(t_size(dir, 1), (off_t) bad);
    ck_assert_int_eq(t_size(dir, 2), (off_t) b.len);
    t_rmdir(dir);
}
END_TEST


START_TEST(test_scan_forward_copy)
{
    char              *dir = t_tmpdir();
    t_seg_t            a = { .len = 0 }, b = { .len = 0 };
    mq_log_scan_t     *s;
    mq_log_rentry_t  **v;

    /* the compaction copied message 5 (delivered on queue 1) forward,
     * and crashed before unlinking segment 1 */
    t_msg(&a, 5, "five");
    t_ref(&a, MQ_LOG_REC_ENQ, 1, 5);
    t_ref(&a, MQ_LOG_REC_ENQ, 2, 5);
    t_ref(&a, MQ_LOG_REC_DLV, 1, 5);
    t_msg(&b, 5, "five");
    t_ref(&b, MQ_LOG_REC_ENQ, 1, 5);
    t_ref(&b, MQ_LOG_REC_DLV, 1, 5);
    t_ref(&b, MQ_LOG_REC_ENQ, 2, 5);
    s = t_scan(dir, &a, &b);
    ck_assert_uint_eq(mq_log_scan_queue(s, 1, &v), 1);
    ck_assert(v[0]->delivered);
    ck_assert_uint_eq(v[0]->msg->seg, 2);
    ck_assert_uint_eq(mq_log_scan_queue(s, 2, &v), 1);
    ck_assert(!v[0]->delivered);
    mq_log_scan_free(s);
    t_rmdir(dir);
}
END_TEST


START_TEST(test_scan_split_copy_rehomed)
{
    char              *dir = t_tmpdir();
    t_seg_t            a = { .len = 0 }, b = { .len = 0 };
    mq_log_scan_t     *s;
    mq_log_rentry_t  **v;

    /* the copy forward was cut after queue 1's ENQ: queue 2's entry is
     * only in segment 1, so the message needs a whole new copy */
    t_msg(&a, 5, "five");
    t_ref(&a, MQ_LOG_REC_ENQ, 1, 5);
    t_ref(&a, MQ_LOG_REC_ENQ, 2, 5);
    t_msg(&a, 6, "six");
    t_ref(&a, MQ_LOG_REC_ENQ, 1, 6);
    t_msg(&b, 5, "five");
    t_ref(&b, MQ_LOG_REC_ENQ, 1, 5);
    t_ref(&b, MQ_LOG_REC_DEL, 1, 6);    /* settles a message of segment 1 */
    s = t_scan(dir, &a, &b);
    ck_assert_uint_eq(mq_log_scan_queue(s, 2, &v), 1);
    ck_assert_uint_eq(v[0]->enq_seg, 1);
    ck_assert_uint_eq(v[0]->msg->seg, 2);
    ck_assert(v[0]->msg->rehome);
    ck_assert_uint_eq(mq_log_scan_queue(s, 1, &v), 1);
    ck_assert_uint_eq(v[0]->id, 5);
    /* segment 2 must not go before segment 1: it settles message 6 */
    ck_assert_uint_eq(mq_log_scan_min_ref(s, 2), 1);
    ck_assert_uint_eq(mq_log_scan_min_ref(s, 1), 1);
    mq_log_scan_free(s);
    t_rmdir(dir);
}
END_TEST


START_TEST(test_list_segments)
{
    char      *dir = t_tmpdir();
    t_seg_t    a = { .len = 0 };
    uint32_t  *nums;
    size_t     n;
    ob_err_t   err;
    char       path[4200];
    FILE      *f;

    t_write(dir, 12, &a);
    t_write(dir, 3, &a);
    t_write(dir, 100, &a);
    snprintf(path, sizeof(path), "%s/msgs.junk", dir);
    f = fopen(path, "w");
    fclose(f);
    ck_assert_int_eq(mq_log_list_segments(dir, &nums, &n, &err), OB_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(nums[0], 3);
    ck_assert_uint_eq(nums[1], 12);
    ck_assert_uint_eq(nums[2], 100);
    free(nums);
    t_rmdir(dir);
}
END_TEST


Suite *
mq_log_suite(void)
{
    Suite *s = suite_create("mq_log");
    TCase *tc = tcase_create("log");

    tcase_add_test(tc, test_record_roundtrip);
    tcase_add_test(tc, test_record_empty_fields);
    tcase_add_test(tc, test_record_torn_prefixes);
    tcase_add_test(tc, test_record_corrupt);
    tcase_add_test(tc, test_scan_replay_order);
    tcase_add_test(tc, test_scan_torn_tail_cut);
    tcase_add_test(tc, test_scan_corrupt_middle);
    tcase_add_test(tc, test_scan_forward_copy);
    tcase_add_test(tc, test_scan_split_copy_rehomed);
    tcase_add_test(tc, test_list_segments);
    suite_add_tcase(s, tc);
    return s;
}
