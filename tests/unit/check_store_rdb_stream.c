/*
 * check_store_rdb_stream.c: unit tests of store/store_rdb_stream.c:
 * streams saved and loaded back (several nodes, tombstones, empty
 * streams, groups with PELs and consumers, unknown read counters), stream
 * payloads redis-server 7.0.15 wrote (LZF-compressed and plain) loading
 * with the right entries and groups, our bytes equal to Redis's for the
 * same stream, the v1 type (15), and truncated or corrupt payloads
 * failing cleanly with every byte back to the arena.
 *
 * The payloads are what follows the type byte and the key in a dump.rdb
 * that redis-server 7.0.15 wrote (SAVE), captured with od.
 */
#include "check_suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_store_util.h"
#include "store/store_listpack.h"
#include "store/store_rdb_int.h"
#include "store/store_stream.h"


/*
 * XADD s 1-1 a 1 b 2; XADD s 1-2 a 3 b x; XADD s 2-0 c hello; XDEL s 1-2;
 * XGROUP CREATE s g 0; XREADGROUP GROUP g alice COUNT 2 STREAMS s >;
 * XGROUP CREATECONSUMER s g bob.  rdbcompression yes: the listpack is
 * LZF-compressed, and keeps the tombstone of 1-2.
 */
static const uint8_t t_redis_lzf[] =
    "\x01\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    "\x00\x01\xc3\x3e\x40\x43\x12\x43\x00\x00\x00\x19\x00\x02\x01\x01"
    "\x01\x02\x01\x81\x61\x02\x81\x62\x02\x00\x20\x09\x00\x00\x20\x01"
    "\x40\x11\x02\x05\x01\x03\x60\x09\x05\x03\x01\x81\x78\x02\x05\x60"
    "\x0a\x01\xdf\xff\x20\x2c\x0c\x81\x63\x02\x85\x68\x65\x6c\x6c\x6f"
    "\x06\x06\x01\xff\x02\x02\x00\x01\x01\x01\x02\x03\x01\x01\x67\x02"
    "\x00\x03\x02\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00"
    "\x00\x00\x01\x0f\xd6\x95\x2a\xa2\x01\x00\x00\x01\x00\x00\x00\x00"
    "\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x0f\xd6\x95\x2a"
    "\xa2\x01\x00\x00\x01\x02\x05\x61\x6c\x69\x63\x65\x0f\xd6\x95\x2a"
    "\xa2\x01\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
    "\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x03\x62\x6f\x62\x17\xd6\x95\x2a\xa2\x01\x00"
    "\x00\x00";

/*
 * XADD x 5-1 a 1 b 2; 5-2 a 3 b x; 6-0 c hello; 6-1 a -7 b "";
 * XGROUP CREATE x g 0; XGROUP CREATE x h $ ENTRIESREAD 2;
 * XREADGROUP GROUP g alice COUNT 3 STREAMS x >; XCLAIM x g bob 0 5-2;
 * XGROUP CREATECONSUMER x g carol.  rdbcompression no.
 */
static const uint8_t t_redis_plain[] =
    "\x01\x10\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00"
    "\x00\x01\x40\x50\x50\x00\x00\x00\x1f\x00\x04\x01\x00\x01\x02\x01"
    "\x81\x61\x02\x81\x62\x02\x00\x01\x02\x01\x00\x01\x00\x01\x01\x01"
    "\x02\x01\x05\x01\x02\x01\x00\x01\x01\x01\x03\x01\x81\x78\x02\x05"
    "\x01\x00\x01\x01\x01\xdf\xff\x02\x01\x01\x81\x63\x02\x85\x68\x65"
    "\x6c\x6c\x6f\x06\x06\x01\x02\x01\x01\x01\x00\x01\xdf\xf9\x02\x80"
    "\x01\x05\x01\xff\x04\x06\x01\x05\x01\x00\x00\x04\x02\x01\x67\x06"
    "\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00"
    "\x00\x00\x01\xec\xd6\x95\x2a\xa2\x01\x00\x00\x01\x00\x00\x00\x00"
    "\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x02\xf4\xd6\x95\x2a"
    "\xa2\x01\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x06\x00\x00\x00"
    "\x00\x00\x00\x00\x00\xec\xd6\x95\x2a\xa2\x01\x00\x00\x01\x03\x05"
    "\x61\x6c\x69\x63\x65\xec\xd6\x95\x2a\xa2\x01\x00\x00\x02\x00\x00"
    "\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00"
    "\x00\x00\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00\x00\x03\x62"
    "\x6f\x62\xf4\xd6\x95\x2a\xa2\x01\x00\x00\x01\x00\x00\x00\x00\x00"
    "\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x02\x05\x63\x61\x72\x6f"
    "\x6c\xfc\xd6\x95\x2a\xa2\x01\x00\x00\x00\x01\x68\x06\x01\x02\x00"
    "\x00";

/* The same stream as type 15 (v1): no first ID, max deleted ID, entries
 * added, no groups' read counters. */
static const uint8_t t_redis_v1[] =
    "\x01\x10\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00"
    "\x00\x01\x40\x50\x50\x00\x00\x00\x1f\x00\x04\x01\x00\x01\x02\x01"
    "\x81\x61\x02\x81\x62\x02\x00\x01\x02\x01\x00\x01\x00\x01\x01\x01"
    "\x02\x01\x05\x01\x02\x01\x00\x01\x01\x01\x03\x01\x81\x78\x02\x05"
    "\x01\x00\x01\x01\x01\xdf\xff\x02\x01\x01\x81\x63\x02\x85\x68\x65"
    "\x6c\x6c\x6f\x06\x06\x01\x02\x01\x01\x01\x00\x01\xdf\xf9\x02\x80"
    "\x01\x05\x01\xff\x04\x06\x01\x02\x01\x67\x06\x00\x03\x00\x00\x00"
    "\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x01\xec\xd6\x95"
    "\x2a\xa2\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00"
    "\x00\x00\x00\x00\x00\x02\xf4\xd6\x95\x2a\xa2\x01\x00\x00\x02\x00"
    "\x00\x00\x00\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00\x00\xec"
    "\xd6\x95\x2a\xa2\x01\x00\x00\x01\x03\x05\x61\x6c\x69\x63\x65\xec"
    "\xd6\x95\x2a\xa2\x01\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x05"
    "\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x06"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x03\x62\x6f\x62\xf4\xd6\x95\x2a"
    "\xa2\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00"
    "\x00\x00\x00\x00\x02\x05\x63\x61\x72\x6f\x6c\xfc\xd6\x95\x2a\xa2"
    "\x01\x00\x00\x00\x01\x68\x06\x01\x00\x00";

/* The times in the captures (ms). */
#define T_LZF_TIME    0x1a22a95d60fLL
#define T_ALICE_TIME  0x1a22a95d6ecLL
#define T_BOB_TIME    0x1a22a95d6f4LL
#define T_CAROL_TIME  0x1a22a95d6fcLL


/* ---- bytes in and out -------------------------------------------------- */

/* A temporary file the writer writes to and the reader reads from. */
static int
t_tmpfd(void)
{
    char  path[] = "/tmp/check_rdb_stream.XXXXXX";
    int   fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    unlink(path);
    return fd;
}


/* The payload of o as store_rdb_save_stream writes it (malloc'd, *n). */
static uint8_t *
t_save(const store_obj_t *o, int compress, size_t *n)
{
    store_rdb_out_t  w;
    uint8_t         *out;
    off_t            end;
    int              fd = t_tmpfd();

    /* A small buffer, so that the writer flushes mid-value too; what
     * stays in it at the end is written here (store_rdb.c's flush is its
     * own). */
    memset(&w, 0, sizeof(w));
    w.fd = fd;
    w.compress = compress;
    w.cap = 1000;
    w.buf = malloc(w.cap);
    ck_assert_ptr_nonnull(w.buf);
    ck_assert_int_eq(store_rdb_save_stream(&w, o), OB_OK);
    ck_assert_int_eq(w.err_no, 0);
    ck_assert_int_eq(write(fd, w.buf, w.len), (ssize_t) w.len);
    free(w.buf);
    end = lseek(fd, 0, SEEK_END);
    ck_assert_int_ge(end, 0);
    *n = (size_t) end;
    out = malloc(*n + 1);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(pread(fd, out, *n, 0), (ssize_t) *n);
    close(fd);
    return out;
}


/* Loads a payload of the given type; NULL with err filled on failure.
 * *used gets the bytes consumed. */
static store_obj_t *
t_load(t_fix_t *f, const uint8_t *p, size_t n, int type, ob_err_t *err,
       size_t *used)
{
    store_rdb_in_t  r;
    store_obj_t    *o;
    int             fd = t_tmpfd();

    ck_assert_int_eq(write(fd, p, n), (ssize_t) n);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    memset(&r, 0, sizeof(r));
    memset(err, 0, sizeof(*err));
    r.fd = fd;
    r.err = err;
    r.arena = f->a;
    r.owner = f->owner;
    r.cap = 13;                 /* refills everywhere */
    r.buf = malloc(r.cap);
    ck_assert_ptr_nonnull(r.buf);
    o = store_rdb_load_stream(&r, type);
    if (o == NULL) {
        ck_assert_int_ne(r.failed, 0);
        ck_assert_int_ne(err->msg[0], '\0');
    }
    if (used != NULL) {
        *used = (size_t) r.offset;
    }
    free(r.buf);
    close(fd);
    return o;
}


/* The object and its stream (store_types.c frees the payload). */
static void
t_obj_free(t_fix_t *f, store_obj_t *o)
{
    store_obj_free(f->a, f->owner, o);
}


/* ---- building and comparing streams ------------------------------------ */

static store_obj_t *
t_obj(t_fix_t *f, store_stream_t *s)
{
    store_obj_t  *o = store_obj_payload_new(f->a, f->owner, STORE_OBJ_STREAM,
                                            STORE_ENC_STREAM, s);

    ck_assert_ptr_nonnull(o);
    return o;
}


static void
t_add(store_stream_t *s, uint64_t ms, uint64_t seq, const char *const *fv,
      size_t nfv)
{
    ob_str_t     a[16];
    store_sid_t  id = { ms, seq };
    size_t       i;

    ck_assert_uint_le(nfv, 16);
    for (i = 0; i < nfv; i++) {
        a[i].data = (const uint8_t *) fv[i];
        a[i].len = strlen(fv[i]);
    }
    ck_assert_int_eq(store_stream_append(s, &id, a, nfv), OB_OK);
}


/* Entries, metadata, nodes, groups, PELs and consumers all equal. */
static void
t_same(const store_stream_t *a, const store_stream_t *b)
{
    static const store_sid_t  lo = { 0, 0 };
    static const store_sid_t  hi = { UINT64_MAX, UINT64_MAX };
    store_stream_iter_t       ia, ib;
    store_sentry_t            ea, eb;
    store_spairs_t            pa, pb;
    store_smap_iter_t         ma, mb;
    store_sid_t               ida, idb;
    const uint8_t            *fa, *va, *fb, *vb;
    size_t                    fla, vla, flb, vlb, i, j;
    void                     *xa, *xb;
    int                       more;

    ck_assert_uint_eq(a->length, b->length);
    ck_assert_uint_eq(store_stream_nodes(a), store_stream_nodes(b));
    ck_assert_int_eq(store_sid_cmp(&a->last_id, &b->last_id), 0);
    ck_assert_int_eq(store_sid_cmp(&a->first_id, &b->first_id), 0);
    ck_assert_int_eq(store_sid_cmp(&a->max_deleted, &b->max_deleted), 0);
    ck_assert_uint_eq(a->entries_added, b->entries_added);

    store_stream_iter_start(a, &ia, &lo, &hi, 0);
    store_stream_iter_start(b, &ib, &lo, &hi, 0);
    for ( ;; ) {
        more = store_stream_iter_next(&ia, &ea);
        ck_assert_int_eq(store_stream_iter_next(&ib, &eb), more);
        if (!more) {
            break;
        }
        ck_assert_int_eq(store_sid_cmp(&ea.id, &eb.id), 0);
        ck_assert_uint_eq(ea.nfields, eb.nfields);
        /* the same node boundaries */
        ck_assert_uint_eq(ia.last_node - a->head, ib.last_node - b->head);
        store_sentry_pairs(&ea, &pa);
        store_sentry_pairs(&eb, &pb);
        for (i = 0; i < ea.nfields; i++) {
            store_spairs_next(&pa, &fa, &fla, &va, &vla);
            store_spairs_next(&pb, &fb, &flb, &vb, &vlb);
            ck_assert_uint_eq(fla, flb);
            ck_assert_uint_eq(vla, vlb);
            ck_assert(fla == 0 || memcmp(fa, fb, fla) == 0);
            ck_assert(vla == 0 || memcmp(va, vb, vla) == 0);
        }
    }

    ck_assert_uint_eq(a->ngroups, b->ngroups);
    for (i = 0; i < a->ngroups; i++) {
        const store_sgroup_t  *ga = a->groups[i], *gb = b->groups[i];

        ck_assert_uint_eq(ga->nname, gb->nname);
        ck_assert(memcmp(ga->name, gb->name, ga->nname) == 0);
        ck_assert_int_eq(store_sid_cmp(&ga->last_id, &gb->last_id), 0);
        ck_assert_int_eq(ga->entries_read, gb->entries_read);
        ck_assert_uint_eq(store_sgroup_pel_count(ga),
                          store_sgroup_pel_count(gb));
        store_smap_seek(ga->pel, &lo, &ma);
        store_smap_seek(gb->pel, &lo, &mb);
        while (store_smap_next(&ma, &ida, &xa)) {
            const store_snack_t  *na = xa, *nb;

            ck_assert(store_smap_next(&mb, &idb, &xb));
            nb = xb;
            ck_assert_int_eq(store_sid_cmp(&ida, &idb), 0);
            ck_assert_int_eq(na->delivery_time, nb->delivery_time);
            ck_assert_uint_eq(na->delivery_count, nb->delivery_count);
            ck_assert_uint_eq(na->consumer->nname, nb->consumer->nname);
            ck_assert(memcmp(na->consumer->name, nb->consumer->name,
                             na->consumer->nname) == 0);
        }
        ck_assert_uint_eq(ga->nconsumers, gb->nconsumers);
        for (j = 0; j < ga->nconsumers; j++) {
            const store_sconsumer_t  *ca = ga->consumers[j];
            const store_sconsumer_t  *cb = gb->consumers[j];

            ck_assert_uint_eq(ca->nname, cb->nname);
            ck_assert(memcmp(ca->name, cb->name, ca->nname) == 0);
            ck_assert_int_eq(ca->seen_time, cb->seen_time);
            ck_assert_uint_eq(store_sconsumer_pel_count(ca),
                              store_sconsumer_pel_count(cb));
        }
    }
}


/* Checks one entry: its ID and its pairs "f=v" ... */
static void
t_entry(const store_stream_t *s, uint64_t ms, uint64_t seq,
        const char *const *fv, size_t nfv)
{
    store_sid_t      id = { ms, seq };
    store_sentry_t   e;
    store_spairs_t   p;
    const uint8_t   *f, *v;
    size_t           fl, vl, i;

    ck_assert_msg(store_stream_lookup(s, &id, &e), "no entry %llu-%llu",
                  (unsigned long long) ms, (unsigned long long) seq);
    ck_assert_uint_eq(e.nfields * 2, nfv);
    store_sentry_pairs(&e, &p);
    for (i = 0; i < nfv; i += 2) {
        store_spairs_next(&p, &f, &fl, &v, &vl);
        ck_assert_uint_eq(fl, strlen(fv[i]));
        ck_assert(fl == 0 || memcmp(f, fv[i], fl) == 0);
        ck_assert_uint_eq(vl, strlen(fv[i + 1]));
        ck_assert(vl == 0 || memcmp(v, fv[i + 1], vl) == 0);
    }
}


static const store_snack_t *
t_nack(const store_sgroup_t *g, uint64_t ms, uint64_t seq, const char *who)
{
    store_sid_t           id = { ms, seq };
    const store_snack_t  *n = store_sgroup_pel_find(g, &id);

    ck_assert_ptr_nonnull(n);
    ck_assert_uint_eq(n->consumer->nname, strlen(who));
    ck_assert(memcmp(n->consumer->name, who, strlen(who)) == 0);
    return n;
}


/* A stream over several nodes (by count and by bytes), with tombstones
 * (XDEL, exact XTRIM), groups, PELs, consumers. */
static store_stream_t *
t_big_stream(t_fix_t *f)
{
    static char               big[3000], huge[5000];
    store_stream_t           *s = store_stream_new(f->a, f->owner);
    store_sgroup_t           *g, *g2;
    store_sconsumer_t        *c1, *c2;
    store_snack_t            *n;
    store_sid_t               id, gid = { 1100, 0 };
    char                      v[32], w[32];
    uint64_t                  i;

    ck_assert_ptr_nonnull(s);
    memset(big, 'b', sizeof(big) - 1);
    memset(huge, 'h', sizeof(huge) - 1);
    for (i = 1; i <= 330; i++) {
        snprintf(v, sizeof(v), "v%llu", (unsigned long long) i);
        snprintf(w, sizeof(w), "%lld", -(long long) i * 1000);
        if (i % 7 == 0) {
            const char  *fv[] = { "n", v, "12", w, "", "" };

            t_add(s, 1000 + i / 2, i % 2, fv, 6);
        } else if (i >= 300 && i < 305) {
            const char  *fv[] = { "blob", big };

            t_add(s, 1000 + i / 2, i % 2, fv, 2);
        } else if (i == 310) {
            /* every integer width, and a string over 4095 bytes */
            const char  *fv[] = { "i64", "9223372036854775807",
                                  "min", "-9223372036854775808",
                                  "i32", "-2147483648", "i24", "8388607",
                                  "i16", "-32768", "i13", "-4096",
                                  "huge", huge };

            t_add(s, 1000 + i / 2, i % 2, fv, 14);
        } else {
            const char  *fv[] = { "f1", v, "f2", w };

            t_add(s, 1000 + i / 2, i % 2, fv, 4);
        }
    }
    for (i = 3; i <= 330; i += 11) {
        id.ms = 1000 + i / 2;
        id.seq = i % 2;
        ck_assert_int_eq(store_stream_delete(s, &id), 1);
    }
    (void) store_stream_trim(s, STORE_STREAM_TRIM_MAXLEN, 280, NULL, 0, 0);
    ck_assert_uint_ge(store_stream_nodes(s), 4);

    g = store_stream_group_create(s, "grp", 3, &gid, 77);
    g2 = store_stream_group_create(s, "another", 7, &gid,
                                   STORE_STREAM_ENTRIES_INVALID);
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_nonnull(g2);
    c1 = store_sgroup_consumer_create(s, g, "alice", 5, 1700000000123LL);
    c2 = store_sgroup_consumer_create(s, g, "bob", 3, 1700000000456LL);
    ck_assert_ptr_nonnull(c1);
    ck_assert_ptr_nonnull(c2);
    ck_assert_ptr_nonnull(store_sgroup_consumer_create(s, g2, "idle", 4,
                                                       1700000000789LL));
    for (i = 0; i < 20; i++) {
        id.ms = 1080 + i;
        id.seq = 1;
        n = store_sgroup_pel_add(s, g, i % 3 ? c1 : c2, &id,
                                 1700000001000LL + (int64_t) i);
        ck_assert_ptr_nonnull(n);
        n->delivery_count = i + 1;
    }
    return s;
}


/* ---- tests ------------------------------------------------------------- */

START_TEST(t_roundtrip)
{
    t_fix_t         f;
    store_obj_t    *o, *l;
    uint8_t        *p, *p2;
    size_t          n, n2, used;
    ob_err_t        err;
    int             compress;

    for (compress = 0; compress <= 1; compress++) {
        t_fix_init(&f, 64 * T_MIB, 64 * 1024);
        o = t_obj(&f, t_big_stream(&f));
        p = t_save(o, compress, &n);
        l = t_load(&f, p, n, STORE_RDB_TYPE_STREAM_LISTPACKS_2, &err, &used);
        ck_assert_msg(l != NULL, "load: %s", err.msg);
        ck_assert_uint_eq(used, n);
        t_same(o->v.ptr, l->v.ptr);
        /* and what was loaded saves to the same bytes */
        p2 = t_save(l, compress, &n2);
        ck_assert_uint_eq(n, n2);
        ck_assert(memcmp(p, p2, n) == 0);
        free(p);
        free(p2);
        t_obj_free(&f, o);
        t_obj_free(&f, l);
        t_fix_fini(&f);
    }
}
END_TEST


/* Every listpack written is one store_listpack.c builds from the same
 * elements, byte for byte, and passes its deep check. */
START_TEST(t_listpacks_canonical)
{
    t_fix_t          f;
    store_obj_t     *o;
    store_rdb_in_t   r;
    ob_err_t         err;
    uint8_t         *p, *key, *lp, *lp2;
    size_t           n, klen, lplen, k;
    uint64_t         nodes, i;
    store_lp_pos_t   pos;
    store_lp_val_t   v;
    int              fd = t_tmpfd();

    t_fix_init(&f, 64 * T_MIB, 64 * 1024);
    o = t_obj(&f, t_big_stream(&f));
    p = t_save(o, 0, &n);
    ck_assert_int_eq(write(fd, p, n), (ssize_t) n);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    memset(&r, 0, sizeof(r));
    r.fd = fd;
    r.err = &err;
    r.arena = f.a;
    r.owner = f.owner;
    r.cap = 4096;
    r.buf = malloc(r.cap);
    ck_assert_int_eq(store_rdb_get_len(&r, &nodes, NULL), OB_OK);
    ck_assert_uint_eq(nodes, store_stream_nodes(o->v.ptr));
    for (i = 0; i < nodes; i++) {
        ck_assert_int_eq(store_rdb_get_string(&r, &key, &klen), OB_OK);
        ck_assert_uint_eq(klen, 16);
        ck_assert_int_eq(store_rdb_get_string(&r, &lp, &lplen), OB_OK);
        ck_assert(store_lp_validate(lp, lplen, 1));
        lp2 = store_lp_new(f.a, f.owner);
        ck_assert_ptr_nonnull(lp2);
        k = 0;
        for (pos = store_lp_first(lp); pos != 0; pos = store_lp_next(lp, pos))
        {
            store_lp_get(lp, pos, &v);
            ck_assert_int_eq(store_lp_splice(f.a, f.owner, &lp2, 0, 0, &v, 1,
                                             NULL), OB_OK);
            k++;
        }
        ck_assert_uint_eq(store_lp_count(lp), k);
        ck_assert_uint_eq(store_lp_bytes(lp2), lplen);
        ck_assert(memcmp(lp, lp2, lplen) == 0);
        store_lp_free(f.a, f.owner, lp2);
        free(key);
        free(lp);
    }
    free(r.buf);
    close(fd);
    free(p);
    t_obj_free(&f, o);
    t_fix_fini(&f);
}
END_TEST


START_TEST(t_empty_streams)
{
    t_fix_t          f;
    store_stream_t  *s, *ls;
    store_obj_t     *o, *l;
    store_sid_t      id = { 9, 1 };
    const char      *fv[] = { "a", "b" };
    uint8_t         *p;
    size_t           n;
    ob_err_t         err;

    t_fix_init(&f, 16 * T_MIB, 64 * 1024);
    /* all entries deleted: still a stream, with its counters and group */
    s = store_stream_new(f.a, f.owner);
    t_add(s, 9, 1, fv, 2);
    ck_assert_int_eq(store_stream_delete(s, &id), 1);
    ck_assert_ptr_nonnull(store_stream_group_create(s, "g", 1, &id, 1));
    o = t_obj(&f, s);
    p = t_save(o, 1, &n);
    ck_assert_uint_ge(n, 1);
    ck_assert_uint_eq(p[0], 0);                 /* no nodes */
    l = t_load(&f, p, n, STORE_RDB_TYPE_STREAM_LISTPACKS_2, &err, NULL);
    ck_assert_msg(l != NULL, "load: %s", err.msg);
    t_same(s, l->v.ptr);
    ls = l->v.ptr;
    ck_assert_uint_eq(ls->length, 0);
    ck_assert_uint_eq(ls->entries_added, 1);
    ck_assert_uint_eq(ls->last_id.ms, 9);
    ck_assert_uint_eq(ls->max_deleted.seq, 1);
    free(p);
    t_obj_free(&f, o);
    t_obj_free(&f, l);

    /* a brand new stream */
    o = t_obj(&f, store_stream_new(f.a, f.owner));
    p = t_save(o, 0, &n);
    l = t_load(&f, p, n, STORE_RDB_TYPE_STREAM_LISTPACKS_2, &err, NULL);
    ck_assert_msg(l != NULL, "load: %s", err.msg);
    t_same(o->v.ptr, l->v.ptr);
    free(p);
    t_obj_free(&f, o);
    t_obj_free(&f, l);
    t_fix_fini(&f);
}
END_TEST


/* States Redis allows that look odd: XSETID below a deleted top entry
 * (the last ID is checked against live entries only), and an empty v1
 * stream, whose first ID rdb.c sets to the maximum (streamGetEdgeID). */
START_TEST(t_quirks)
{
    static const uint8_t  v1_empty[] = "\x00\x00\x05\x02\x00";
    t_fix_t               f;
    store_stream_t       *s, *ls;
    store_obj_t          *o, *l;
    store_sid_t           id = { 1, 2 };
    const char           *fv[] = { "a", "b" };
    uint8_t              *p;
    size_t                n;
    ob_err_t              err;

    t_fix_init(&f, 16 * T_MIB, 64 * 1024);
    s = store_stream_new(f.a, f.owner);
    t_add(s, 1, 1, fv, 2);
    t_add(s, 1, 2, fv, 2);
    ck_assert_int_eq(store_stream_delete(s, &id), 1);
    s->last_id.seq = 1;                  /* XSETID s 1-1 */
    o = t_obj(&f, s);
    p = t_save(o, 0, &n);
    l = t_load(&f, p, n, STORE_RDB_TYPE_STREAM_LISTPACKS_2, &err, NULL);
    ck_assert_msg(l != NULL, "load: %s", err.msg);
    t_same(s, l->v.ptr);
    ck_assert_uint_eq(((store_stream_t *) l->v.ptr)->last_id.seq, 1);
    free(p);
    t_obj_free(&f, o);
    t_obj_free(&f, l);

    /* v1: no nodes, length 0, last 5-2, no groups */
    l = t_load(&f, v1_empty, sizeof(v1_empty) - 1,
               STORE_RDB_TYPE_STREAM_LISTPACKS, &err, NULL);
    ck_assert_msg(l != NULL, "load: %s", err.msg);
    ls = l->v.ptr;
    ck_assert_uint_eq(ls->length, 0);
    ck_assert_uint_eq(ls->last_id.ms, 5);
    ck_assert_uint_eq(ls->first_id.ms, UINT64_MAX);
    ck_assert_uint_eq(ls->first_id.seq, UINT64_MAX);
    ck_assert_uint_eq(ls->entries_added, 0);
    t_obj_free(&f, l);
    t_fix_fini(&f);
}
END_TEST


START_TEST(t_redis_lzf_loads)
{
    t_fix_t                 f;
    store_obj_t            *l;
    const store_stream_t   *s;
    const store_sgroup_t   *g;
    const store_snack_t    *nk;
    const char             *e1[] = { "a", "1", "b", "2" };
    const char             *e2[] = { "c", "hello" };
    store_sid_t             gone = { 1, 2 };
    store_sentry_t          e;
    ob_err_t                err;
    size_t                  used;

    t_fix_init(&f, 16 * T_MIB, 64 * 1024);
    l = t_load(&f, t_redis_lzf, sizeof(t_redis_lzf) - 1,
               STORE_RDB_TYPE_STREAM_LISTPACKS_2, &err, &used);
    ck_assert_msg(l != NULL, "load: %s", err.msg);
    ck_assert_uint_eq(used, sizeof(t_redis_lzf) - 1);
    s = l->v.ptr;
    ck_assert_uint_eq(s->length, 2);
    ck_assert_uint_eq(store_stream_nodes(s), 1);
    t_entry(s, 1, 1, e1, 4);
    t_entry(s, 2, 0, e2, 2);
    ck_assert(!store_stream_lookup(s, &gone, &e));
    ck_assert_uint_eq(s->last_id.ms, 2);
    ck_assert_uint_eq(s->last_id.seq, 0);
    ck_assert_uint_eq(s->first_id.ms, 1);
    ck_assert_uint_eq(s->first_id.seq, 1);
    ck_assert_uint_eq(s->max_deleted.ms, 1);
    ck_assert_uint_eq(s->max_deleted.seq, 2);
    ck_assert_uint_eq(s->entries_added, 3);

    ck_assert_uint_eq(s->ngroups, 1);
    g = s->groups[0];
    ck_assert_uint_eq(g->nname, 1);
    ck_assert_int_eq(g->name[0], 'g');
    ck_assert_uint_eq(g->last_id.ms, 2);
    ck_assert_int_eq(g->entries_read, 3);
    ck_assert_uint_eq(store_sgroup_pel_count(g), 2);
    nk = t_nack(g, 1, 1, "alice");
    ck_assert_int_eq(nk->delivery_time, T_LZF_TIME);
    ck_assert_uint_eq(nk->delivery_count, 1);
    (void) t_nack(g, 2, 0, "alice");
    ck_assert_uint_eq(g->nconsumers, 2);
    ck_assert_uint_eq(store_sconsumer_pel_count(g->consumers[0]), 2);
    ck_assert_int_eq(g->consumers[0]->seen_time, T_LZF_TIME);
    ck_assert_uint_eq(g->consumers[1]->nname, 3);
    ck_assert_uint_eq(store_sconsumer_pel_count(g->consumers[1]), 0);
    ck_assert_int_eq(g->consumers[1]->seen_time, T_LZF_TIME + 8);
    t_obj_free(&f, l);
    t_fix_fini(&f);
}
END_TEST


/* A stream with no tombstones saves to the very bytes Redis wrote. */
START_TEST(t_redis_plain_exact)
{
    t_fix_t                 f;
    store_obj_t            *l;
    const store_stream_t   *s;
    const store_sgroup_t   *g, *h;
    const store_snack_t    *nk;
    const char             *e3[] = { "c", "hello" };
    const char             *e4[] = { "a", "-7", "b", "" };
    uint8_t                *p;
    size_t                  n;
    ob_err_t                err;

    t_fix_init(&f, 16 * T_MIB, 64 * 1024);
    l = t_load(&f, t_redis_plain, sizeof(t_redis_plain) - 1,
               STORE_RDB_TYPE_STREAM_LISTPACKS_2, &err, NULL);
    ck_assert_msg(l != NULL, "load: %s", err.msg);
    s = l->v.ptr;
    ck_assert_uint_eq(s->length, 4);
    t_entry(s, 6, 0, e3, 2);
    t_entry(s, 6, 1, e4, 4);
    ck_assert_uint_eq(s->ngroups, 2);
    g = s->groups[0];
    h = s->groups[1];
    ck_assert_int_eq(g->entries_read, 3);
    ck_assert_int_eq(h->entries_read, 2);
    ck_assert_uint_eq(h->last_id.seq, 1);
    nk = t_nack(g, 5, 2, "bob");
    ck_assert_uint_eq(nk->delivery_count, 2);
    ck_assert_int_eq(nk->delivery_time, T_BOB_TIME);
    nk = t_nack(g, 6, 0, "alice");
    ck_assert_int_eq(nk->delivery_time, T_ALICE_TIME);
    ck_assert_uint_eq(g->nconsumers, 3);
    ck_assert_int_eq(g->consumers[2]->seen_time, T_CAROL_TIME);

    p = t_save(l, 0, &n);
    ck_assert_uint_eq(n, sizeof(t_redis_plain) - 1);
    ck_assert(memcmp(p, t_redis_plain, n) == 0);
    free(p);
    t_obj_free(&f, l);
    t_fix_fini(&f);
}
END_TEST


START_TEST(t_redis_v1_loads)
{
    t_fix_t                 f;
    store_obj_t            *l, *l2;
    const store_stream_t   *s;
    ob_err_t                err;

    t_fix_init(&f, 16 * T_MIB, 64 * 1024);
    l = t_load(&f, t_redis_v1, sizeof(t_redis_v1) - 1,
               STORE_RDB_TYPE_STREAM_LISTPACKS, &err, NULL);
    ck_assert_msg(l != NULL, "load: %s", err.msg);
    s = l->v.ptr;
    ck_assert_uint_eq(s->length, 4);
    /* rdb.c's v1 rules: the first entry found, nothing deleted, every
     * entry added still there; read counters estimated */
    ck_assert_uint_eq(s->first_id.ms, 5);
    ck_assert_uint_eq(s->first_id.seq, 1);
    ck_assert_uint_eq(s->max_deleted.ms, 0);
    ck_assert_uint_eq(s->entries_added, 4);
    ck_assert_int_eq(s->groups[0]->entries_read,
                     STORE_STREAM_ENTRIES_INVALID);
    ck_assert_int_eq(s->groups[1]->entries_read, 4);

    /* the same as the v2 payload otherwise */
    l2 = t_load(&f, t_redis_plain, sizeof(t_redis_plain) - 1,
                STORE_RDB_TYPE_STREAM_LISTPACKS_2, &err, NULL);
    ck_assert_ptr_nonnull(l2);
    ck_assert_uint_eq(store_stream_nodes(l->v.ptr),
                      store_stream_nodes(l2->v.ptr));
    t_obj_free(&f, l);
    t_obj_free(&f, l2);
    t_fix_fini(&f);
}
END_TEST


/* Every proper prefix of a payload fails, and frees what it built. */
static void
t_prefixes(const uint8_t *p, size_t n, int type)
{
    t_fix_t       f;
    store_obj_t  *l;
    ob_err_t      err;
    size_t        k;

    t_fix_init(&f, 16 * T_MIB, 64 * 1024);
    for (k = 0; k < n; k++) {
        l = t_load(&f, p, k, type, &err, NULL);
        ck_assert_msg(l == NULL, "a prefix of %zu bytes loaded", k);
        ck_assert_uint_eq(t_owner_bytes(&f), 0);
    }
    t_fix_fini(&f);
}


START_TEST(t_truncated)
{
    t_fix_t       f;
    store_obj_t  *o;
    uint8_t      *p;
    size_t        n;

    t_prefixes(t_redis_lzf, sizeof(t_redis_lzf) - 1,
               STORE_RDB_TYPE_STREAM_LISTPACKS_2);
    t_prefixes(t_redis_plain, sizeof(t_redis_plain) - 1,
               STORE_RDB_TYPE_STREAM_LISTPACKS_2);
    t_prefixes(t_redis_v1, sizeof(t_redis_v1) - 1,
               STORE_RDB_TYPE_STREAM_LISTPACKS);

    t_fix_init(&f, 64 * T_MIB, 64 * 1024);
    o = t_obj(&f, t_big_stream(&f));
    p = t_save(o, 1, &n);
    t_obj_free(&f, o);
    t_fix_fini(&f);
    t_prefixes(p, n, STORE_RDB_TYPE_STREAM_LISTPACKS_2);
    free(p);
}
END_TEST


/* A copy of the plain capture with `len` bytes at the first match of
 * `pat` (+ skip) replaced by rep[0..rlen). */
static uint8_t *
t_patch(const void *pat, size_t plen, size_t skip, size_t len,
        const void *rep, size_t rlen, size_t *n)
{
    const uint8_t  *src = t_redis_plain, *at;
    size_t          sn = sizeof(t_redis_plain) - 1, off;
    uint8_t        *out;

    at = memmem(src, sn, pat, plen);
    ck_assert_ptr_nonnull(at);
    off = (size_t) (at - src) + skip;
    ck_assert_uint_le(off + len, sn);
    out = malloc(sn - len + rlen);
    ck_assert_ptr_nonnull(out);
    memcpy(out, src, off);
    memcpy(out + off, rep, rlen);
    memcpy(out + off + rlen, src + off + len, sn - off - len);
    *n = sn - len + rlen;
    return out;
}


static void
t_refused(const uint8_t *p, size_t n, const char *why)
{
    t_fix_t       f;
    store_obj_t  *l;
    ob_err_t      err;

    t_fix_init(&f, 16 * T_MIB, 64 * 1024);
    l = t_load(&f, p, n, STORE_RDB_TYPE_STREAM_LISTPACKS_2, &err, NULL);
    ck_assert_msg(l == NULL, "loaded: %s", why);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_fini(&f);
}


START_TEST(t_corrupt)
{
    /* the first entry: flags 2, diffs 0 0, values 1 2, lp-count 5 */
    static const uint8_t  first[] = "\x02\x01\x00\x01\x00\x01\x01\x01"
                                    "\x02\x01\x05\x01";
    static const uint8_t  master_end[] = "\x81\x62\x02\x00\x01";
    static const uint8_t  meta[] = "\xff\x04\x06\x01\x05\x01";
    static const uint8_t  node_key[] = "\x01\x10\x00";
    static const uint8_t  alice[] = "\x05\x61\x6c\x69\x63\x65";
    static const uint8_t  group_h[] = "\x01\x68\x06\x01";
    static const uint8_t  six[] = "\x06";
    static const uint8_t  one[] = "\x01";
    static const uint8_t  five[] = "\x05";
    static const uint8_t  g[] = "\x67";
    static const uint8_t  fifteen[] = "\x0f";
    static const uint8_t  nine[] = "\x09";
    static const uint8_t  id51[] = "\x00\x00\x00\x00\x00\x00\x00\x05"
                                   "\x00\x00\x00\x00\x00\x00\x00\x01";
    uint8_t              *p;
    size_t                n, at;

    /* lp-count 6 instead of 5 */
    p = t_patch(first, 12, 10, 1, six, 1, &n);
    t_refused(p, n, "bad lp-count");
    free(p);
    /* the master terminator 1 instead of 0 */
    p = t_patch(master_end, 5, 3, 1, one, 1, &n);
    t_refused(p, n, "bad master terminator");
    free(p);
    /* length 5 where 4 entries live */
    p = t_patch(meta, 6, 1, 1, five, 1, &n);
    t_refused(p, n, "length mismatch");
    free(p);
    /* the last ID (6-1) below the top entry: 5-1 */
    p = t_patch(meta, 6, 2, 1, five, 1, &n);
    t_refused(p, n, "last ID below the entries");
    free(p);
    /* a node key of 15 bytes */
    p = t_patch(node_key, 3, 1, 1, fifteen, 1, &n);
    t_refused(p, n, "short node key");
    free(p);
    /* group h renamed g: a duplicate */
    p = t_patch(group_h, 4, 1, 1, g, 1, &n);
    t_refused(p, n, "duplicate group");
    free(p);
    /* alice's first pending ID 5-9: not in the group's PEL */
    p = t_patch(alice, 6, 6 + 8 + 1 + 15, 1, nine, 1, &n);
    t_refused(p, n, "consumer NACK not in the group PEL");
    free(p);
    /* alice's second pending ID 5-1 again: claimed twice */
    p = t_patch(alice, 6, 6 + 8 + 1 + 16, 16, id51, 16, &n);
    t_refused(p, n, "NACK claimed twice");
    free(p);
    /* alice claims one NACK only: 6-0 has no consumer */
    p = t_patch(alice, 6, 6 + 8 + 1 + 16, 16, "", 0, &n);
    at = (size_t) ((uint8_t *) memmem(p, n, alice, 6) - p) + 6 + 8;
    ck_assert_uint_eq(p[at], 2);
    p[at] = 1;
    t_refused(p, n, "NACK without a consumer");
    free(p);
    /* one more consumer than there are */
    p = t_patch(alice, 6, 0, 0, "", 0, &n);
    at = (size_t) ((uint8_t *) memmem(p, n, alice, 6) - p) - 1;
    ck_assert_uint_eq(p[at], 3);
    p[at] = 4;
    t_refused(p, n, "a consumer missing");
    free(p);
}
END_TEST


/* Any single byte changed anywhere: a load that fails fails cleanly, one
 * that succeeds gives a stream that can be walked and freed. */
START_TEST(t_fuzz_bytes)
{
    static const uint8_t  vals[] = { 0x00, 0x01, 0x02, 0x7f, 0x80, 0xc0,
                                     0xff };
    t_fix_t               f;
    store_obj_t          *l;
    store_stream_t       *s;
    store_stream_iter_t   it;
    store_sentry_t        e;
    store_sid_t           lo = { 0, 0 }, hi = { UINT64_MAX, UINT64_MAX };
    uint8_t               p[sizeof(t_redis_plain)];
    size_t                n = sizeof(t_redis_plain) - 1, i, j;
    ob_err_t              err;

    t_fix_init(&f, 16 * T_MIB, 64 * 1024);
    for (i = 0; i < n; i++) {
        for (j = 0; j < sizeof(vals); j++) {
            memcpy(p, t_redis_plain, n);
            if (p[i] == vals[j]) {
                continue;
            }
            p[i] = vals[j];
            l = t_load(&f, p, n, STORE_RDB_TYPE_STREAM_LISTPACKS_2, &err,
                       NULL);
            if (l == NULL) {
                ck_assert_uint_eq(t_owner_bytes(&f), 0);
                continue;
            }
            s = l->v.ptr;
            store_stream_iter_start(s, &it, &lo, &hi, 0);
            while (store_stream_iter_next(&it, &e)) {
                /* walk */
            }
            t_obj_free(&f, l);
            ck_assert_uint_eq(t_owner_bytes(&f), 0);
        }
    }
    t_fix_fini(&f);
}
END_TEST


/* Random changes (a fixed seed) to a payload of several nodes and
 * groups: a load fails cleanly or gives a stream that walks and frees. */
START_TEST(t_fuzz_random)
{
    t_fix_t               f;
    store_obj_t          *o, *l;
    store_stream_iter_t   it;
    store_sentry_t        e;
    store_sid_t           lo = { 0, 0 }, hi = { UINT64_MAX, UINT64_MAX };
    uint8_t              *p, *q;
    size_t                n, k, j, at;
    ob_err_t              err;
    unsigned              seed = 1;

    t_fix_init(&f, 64 * T_MIB, 64 * 1024);
    o = t_obj(&f, t_big_stream(&f));
    p = t_save(o, 0, &n);
    t_obj_free(&f, o);
    q = malloc(n);
    ck_assert_ptr_nonnull(q);
    for (k = 0; k < 300; k++) {
        memcpy(q, p, n);
        for (j = 0; j < 1 + k % 4; j++) {
            at = (size_t) rand_r(&seed) % n;
            q[at] = (uint8_t) rand_r(&seed);
        }
        l = t_load(&f, q, n, STORE_RDB_TYPE_STREAM_LISTPACKS_2, &err, NULL);
        if (l != NULL) {
            store_stream_iter_start(l->v.ptr, &it, &lo, &hi, 1);
            while (store_stream_iter_next(&it, &e)) {
                /* walk back */
            }
            t_obj_free(&f, l);
        }
        ck_assert_uint_eq(t_owner_bytes(&f), 0);
    }
    free(q);
    free(p);
    t_fix_fini(&f);
}
END_TEST


/* A budget too small for the stream: the load fails as the other types'
 * do, and gives every byte back. */
START_TEST(t_arena_full)
{
    t_fix_t       f, small;
    store_obj_t  *o, *l;
    uint8_t      *p;
    size_t        n;
    ob_err_t      err;

    t_fix_init(&f, 64 * T_MIB, 64 * 1024);
    o = t_obj(&f, t_big_stream(&f));
    p = t_save(o, 1, &n);
    t_obj_free(&f, o);
    t_fix_fini(&f);

    t_fix_init(&small, 256 * 1024, 64 * 1024);
    l = t_load(&small, p, n, STORE_RDB_TYPE_STREAM_LISTPACKS_2, &err, NULL);
    ck_assert_ptr_null(l);
    ck_assert_msg(strstr(err.msg, "maxmemory") != NULL, "%s", err.msg);
    ck_assert_uint_eq(t_owner_bytes(&small), 0);
    t_fix_fini(&small);
    free(p);
}
END_TEST


Suite *
store_rdb_stream_suite(void)
{
    Suite  *s = suite_create("store_rdb_stream");
    TCase  *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_roundtrip);
    tcase_add_test(tc, t_listpacks_canonical);
    tcase_add_test(tc, t_empty_streams);
    tcase_add_test(tc, t_quirks);
    tcase_add_test(tc, t_redis_lzf_loads);
    tcase_add_test(tc, t_redis_plain_exact);
    tcase_add_test(tc, t_redis_v1_loads);
    tcase_add_test(tc, t_truncated);
    tcase_add_test(tc, t_corrupt);
    tcase_add_test(tc, t_arena_full);
    tcase_add_test(tc, t_fuzz_bytes);
    tcase_add_test(tc, t_fuzz_random);
    suite_add_tcase(s, tc);
    return s;
}
