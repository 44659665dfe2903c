/*
 * store_rdb.c: the RDB writer (Redis 7.0's rdb.c, version 10): CRC-64, the
 * buffered writer store_rdb_put_* (store_rdb_int.h) and the snapshot of
 * every database as rdbSaveRio writes it:
 *
 *   "REDIS0010"  AUX redis-ver, redis-bits, ctime, used-mem,
 *                [repl-stream-db, repl-id, repl-offset], aof-base
 *   per non-empty db: SELECTDB, RESIZEDB, then per key
 *                [EXPIRETIME_MS] [IDLE | FREQ] <type> <key> <value>
 *   EOF, CRC-64 little-endian (8 zero bytes without rdbchecksum)
 *
 * The values go in the encodings 7.0 writes, so that a file of ours and
 * one of redis-server's for the same data differ only in hash-table
 * orders: our listpacks and intsets are Redis's byte for byte, so small
 * hashes, small zsets, intset sets and every list node are copied as
 * blobs; the rest is written element by element.
 *
 * The writer runs in the forked child of BGSAVE as well as in SAVE: it
 * reads the databases and never changes them (no lazy expiry: an expired
 * key is written with its past TTL, the loader drops it), never allocates
 * in the arena (its buffers are malloc'd: 64 KiB, plus one LZF scratch
 * buffer per compressed string) and never touches the loop.
 */
#include "store_rdb_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liblzf/lzf.h>

#include "store_db.h"
#include "store_hash.h"
#include "store_list.h"
#include "store_listpack.h"
#include "store_int.h"       /* store_persist.h needs store_cmd_s */
#include "store_persist.h"
#include "store_set.h"
#include "store_zset.h"

/* Bytes buffered before a write(2). */
#define STORE_RDB_OUT_BUF  (64 * 1024)

/* Redis's rdbSaveRawString: only strings longer than this are tried with
 * LZF, and only up to 11 bytes can be an int encoding. */
#define STORE_RDB_LZF_MIN  20
#define STORE_RDB_INT_MAX  11


/*
 * CRC-64/Jones, reflected (crc64.c's table for polynomial
 * 0xad93d23594c935a9; generated once and pasted so that no table is built
 * at run time: the forked child and the unit tests share it read-only).
 */
static const uint64_t  store_crc64_tab[256] = {
    0x0000000000000000ULL, 0x7ad870c830358979ULL, 0xf5b0e190606b12f2ULL,
    0x8f689158505e9b8bULL, 0xc038e5739841b68fULL, 0xbae095bba8743ff6ULL,
    0x358804e3f82aa47dULL, 0x4f50742bc81f2d04ULL, 0xab28ecb46814fe75ULL,
    0xd1f09c7c5821770cULL, 0x5e980d24087fec87ULL, 0x24407dec384a65feULL,
    0x6b1009c7f05548faULL, 0x11c8790fc060c183ULL, 0x9ea0e857903e5a08ULL,
    0xe478989fa00bd371ULL, 0x7d08ff3b88be6f81ULL, 0x07d08ff3b88be6f8ULL,
    0x88b81eabe8d57d73ULL, 0xf2606e63d8e0f40aULL, 0xbd301a4810ffd90eULL,
    0xc7e86a8020ca5077ULL, 0x4880fbd87094cbfcULL, 0x32588b1040a14285ULL,
    0xd620138fe0aa91f4ULL, 0xacf86347d09f188dULL, 0x2390f21f80c18306ULL,
    0x594882d7b0f40a7fULL, 0x1618f6fc78eb277bULL, 0x6cc0863448deae02ULL,
    0xe3a8176c18803589ULL, 0x997067a428b5bcf0ULL, 0xfa11fe77117cdf02ULL,
    0x80c98ebf2149567bULL, 0x0fa11fe77117cdf0ULL, 0x75796f2f41224489ULL,
    0x3a291b04893d698dULL, 0x40f16bccb908e0f4ULL, 0xcf99fa94e9567b7fULL,
    0xb5418a5cd963f206ULL, 0x513912c379682177ULL, 0x2be1620b495da80eULL,
    0xa489f35319033385ULL, 0xde51839b2936bafcULL, 0x9101f7b0e12997f8ULL,
    0xebd98778d11c1e81ULL, 0x64b116208142850aULL, 0x1e6966e8b1770c73ULL,
    0x8719014c99c2b083ULL, 0xfdc17184a9f739faULL, 0x72a9e0dcf9a9a271ULL,
    0x08719014c99c2b08ULL, 0x4721e43f0183060cULL, 0x3df994f731b68f75ULL,
    0xb29105af61e814feULL, 0xc849756751dd9d87ULL, 0x2c31edf8f1d64ef6ULL,
    0x56e99d30c1e3c78fULL, 0xd9810c6891bd5c04ULL, 0xa3597ca0a188d57dULL,
    0xec09088b6997f879ULL, 0x96d1784359a27100ULL, 0x19b9e91b09fcea8bULL,
    0x636199d339c963f2ULL, 0xdf7adabd7a6e2d6fULL, 0xa5a2aa754a5ba416ULL,
    0x2aca3b2d1a053f9dULL, 0x50124be52a30b6e4ULL, 0x1f423fcee22f9be0ULL,
    0x659a4f06d21a1299ULL, 0xeaf2de5e82448912ULL, 0x902aae96b271006bULL,
    0x74523609127ad31aULL, 0x0e8a46c1224f5a63ULL, 0x81e2d7997211c1e8ULL,
    0xfb3aa75142244891ULL, 0xb46ad37a8a3b6595ULL, 0xceb2a3b2ba0eececULL,
    0x41da32eaea507767ULL, 0x3b024222da65fe1eULL, 0xa2722586f2d042eeULL,
    0xd8aa554ec2e5cb97ULL, 0x57c2c41692bb501cULL, 0x2d1ab4dea28ed965ULL,
    0x624ac0f56a91f461ULL, 0x1892b03d5aa47d18ULL, 0x97fa21650afae693ULL,
    0xed2251ad3acf6feaULL, 0x095ac9329ac4bc9bULL, 0x7382b9faaaf135e2ULL,
    0xfcea28a2faafae69ULL, 0x8632586aca9a2710ULL, 0xc9622c4102850a14ULL,
    0xb3ba5c8932b0836dULL, 0x3cd2cdd162ee18e6ULL, 0x460abd1952db919fULL,
    0x256b24ca6b12f26dULL, 0x5fb354025b277b14ULL, 0xd0dbc55a0b79e09fULL,
    0xaa03b5923b4c69e6ULL, 0xe553c1b9f35344e2ULL, 0x9f8bb171c366cd9bULL,
    0x10e3202993385610ULL, 0x6a3b50e1a30ddf69ULL, 0x8e43c87e03060c18ULL,
    0xf49bb8b633338561ULL, 0x7bf329ee636d1eeaULL, 0x012b592653589793ULL,
    0x4e7b2d0d9b47ba97ULL, 0x34a35dc5ab7233eeULL, 0xbbcbcc9dfb2ca865ULL,
    0xc113bc55cb19211cULL, 0x5863dbf1e3ac9decULL, 0x22bbab39d3991495ULL,
    0xadd33a6183c78f1eULL, 0xd70b4aa9b3f20667ULL, 0x985b3e827bed2b63ULL,
    0xe2834e4a4bd8a21aULL, 0x6debdf121b863991ULL, 0x1733afda2bb3b0e8ULL,
    0xf34b37458bb86399ULL, 0x8993478dbb8deae0ULL, 0x06fbd6d5ebd3716bULL,
    0x7c23a61ddbe6f812ULL, 0x3373d23613f9d516ULL, 0x49aba2fe23cc5c6fULL,
    0xc6c333a67392c7e4ULL, 0xbc1b436e43a74e9dULL, 0x95ac9329ac4bc9b5ULL,
    0xef74e3e19c7e40ccULL, 0x601c72b9cc20db47ULL, 0x1ac40271fc15523eULL,
    0x5594765a340a7f3aULL, 0x2f4c0692043ff643ULL, 0xa02497ca54616dc8ULL,
    0xdafce7026454e4b1ULL, 0x3e847f9dc45f37c0ULL, 0x445c0f55f46abeb9ULL,
    0xcb349e0da4342532ULL, 0xb1eceec59401ac4bULL, 0xfebc9aee5c1e814fULL,
    0x8464ea266c2b0836ULL, 0x0b0c7b7e3c7593bdULL, 0x71d40bb60c401ac4ULL,
    0xe8a46c1224f5a634ULL, 0x927c1cda14c02f4dULL, 0x1d148d82449eb4c6ULL,
    0x67ccfd4a74ab3dbfULL, 0x289c8961bcb410bbULL, 0x5244f9a98c8199c2ULL,
    0xdd2c68f1dcdf0249ULL, 0xa7f41839ecea8b30ULL, 0x438c80a64ce15841ULL,
    0x3954f06e7cd4d138ULL, 0xb63c61362c8a4ab3ULL, 0xcce411fe1cbfc3caULL,
    0x83b465d5d4a0eeceULL, 0xf96c151de49567b7ULL, 0x76048445b4cbfc3cULL,
    0x0cdcf48d84fe7545ULL, 0x6fbd6d5ebd3716b7ULL, 0x15651d968d029fceULL,
    0x9a0d8ccedd5c0445ULL, 0xe0d5fc06ed698d3cULL, 0xaf85882d2576a038ULL,
    0xd55df8e515432941ULL, 0x5a3569bd451db2caULL, 0x20ed197575283bb3ULL,
    0xc49581ead523e8c2ULL, 0xbe4df122e51661bbULL, 0x3125607ab548fa30ULL,
    0x4bfd10b2857d7349ULL, 0x04ad64994d625e4dULL, 0x7e7514517d57d734ULL,
    0xf11d85092d094cbfULL, 0x8bc5f5c11d3cc5c6ULL, 0x12b5926535897936ULL,
    0x686de2ad05bcf04fULL, 0xe70573f555e26bc4ULL, 0x9ddd033d65d7e2bdULL,
    0xd28d7716adc8cfb9ULL, 0xa85507de9dfd46c0ULL, 0x273d9686cda3dd4bULL,
    0x5de5e64efd965432ULL, 0xb99d7ed15d9d8743ULL, 0xc3450e196da80e3aULL,
    0x4c2d9f413df695b1ULL, 0x36f5ef890dc31cc8ULL, 0x79a59ba2c5dc31ccULL,
    0x037deb6af5e9b8b5ULL, 0x8c157a32a5b7233eULL, 0xf6cd0afa9582aa47ULL,
    0x4ad64994d625e4daULL, 0x300e395ce6106da3ULL, 0xbf66a804b64ef628ULL,
    0xc5bed8cc867b7f51ULL, 0x8aeeace74e645255ULL, 0xf036dc2f7e51db2cULL,
    0x7f5e4d772e0f40a7ULL, 0x05863dbf1e3ac9deULL, 0xe1fea520be311aafULL,
    0x9b26d5e88e0493d6ULL, 0x144e44b0de5a085dULL, 0x6e963478ee6f8124ULL,
    0x21c640532670ac20ULL, 0x5b1e309b16452559ULL, 0xd476a1c3461bbed2ULL,
    0xaeaed10b762e37abULL, 0x37deb6af5e9b8b5bULL, 0x4d06c6676eae0222ULL,
    0xc26e573f3ef099a9ULL, 0xb8b627f70ec510d0ULL, 0xf7e653dcc6da3dd4ULL,
    0x8d3e2314f6efb4adULL, 0x0256b24ca6b12f26ULL, 0x788ec2849684a65fULL,
    0x9cf65a1b368f752eULL, 0xe62e2ad306bafc57ULL, 0x6946bb8b56e467dcULL,
    0x139ecb4366d1eea5ULL, 0x5ccebf68aecec3a1ULL, 0x2616cfa09efb4ad8ULL,
    0xa97e5ef8cea5d153ULL, 0xd3a62e30fe90582aULL, 0xb0c7b7e3c7593bd8ULL,
    0xca1fc72bf76cb2a1ULL, 0x45775673a732292aULL, 0x3faf26bb9707a053ULL,
    0x70ff52905f188d57ULL, 0x0a2722586f2d042eULL, 0x854fb3003f739fa5ULL,
    0xff97c3c80f4616dcULL, 0x1bef5b57af4dc5adULL, 0x61372b9f9f784cd4ULL,
    0xee5fbac7cf26d75fULL, 0x9487ca0fff135e26ULL, 0xdbd7be24370c7322ULL,
    0xa10fceec0739fa5bULL, 0x2e675fb4576761d0ULL, 0x54bf2f7c6752e8a9ULL,
    0xcdcf48d84fe75459ULL, 0xb71738107fd2dd20ULL, 0x387fa9482f8c46abULL,
    0x42a7d9801fb9cfd2ULL, 0x0df7adabd7a6e2d6ULL, 0x772fdd63e7936bafULL,
    0xf8474c3bb7cdf024ULL, 0x829f3cf387f8795dULL, 0x66e7a46c27f3aa2cULL,
    0x1c3fd4a417c62355ULL, 0x935745fc4798b8deULL, 0xe98f353477ad31a7ULL,
    0xa6df411fbfb21ca3ULL, 0xdc0731d78f8795daULL, 0x536fa08fdfd90e51ULL,
    0x29b7d047efec8728ULL,
};


uint64_t
store_crc64(uint64_t crc, const void *p, size_t len)
{
    const uint8_t  *b = p;

    while (len--) {
        crc = store_crc64_tab[(crc ^ *b++) & 0xff] ^ (crc >> 8);
    }
    return crc;
}


/* ---- the buffered writer ------------------------------------------------ */

static int
store_rdb_flush(store_rdb_out_t *w)
{
    size_t   off = 0;
    ssize_t  n;

    while (off < w->len) {
        n = write(w->fd, w->buf + off, w->len - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            w->err_no = errno;
            return OB_ERR;
        }
        if (n == 0) {
            w->err_no = EIO;
            return OB_ERR;
        }
        off += (size_t) n;
    }
    w->len = 0;
    return OB_OK;
}


int
store_rdb_put(store_rdb_out_t *w, const void *p, size_t n)
{
    const uint8_t  *s = p;
    size_t          room;

    if (w->err_no != 0) {
        return OB_ERR;
    }
    w->crc = store_crc64(w->crc, p, n);
    w->written += n;

    while (n > 0) {
        room = w->cap - w->len;
        if (room == 0) {
            if (store_rdb_flush(w) != OB_OK) {
                return OB_ERR;
            }
            room = w->cap;
        }
        if (room > n) {
            room = n;
        }
        memcpy(w->buf + w->len, s, room);
        w->len += room;
        s += room;
        n -= room;
    }
    return OB_OK;
}


int
store_rdb_put_byte(store_rdb_out_t *w, uint8_t b)
{
    return store_rdb_put(w, &b, 1);
}


/* rdbSaveLen: the shortest of the 6-bit, 14-bit, 32-bit and 64-bit forms,
 * the wider ones big-endian. */
int
store_rdb_put_len(store_rdb_out_t *w, uint64_t len)
{
    uint8_t  b[9];
    int      i;

    if (len < (1 << 6)) {
        b[0] = (uint8_t) len;
        return store_rdb_put(w, b, 1);
    }
    if (len < (1 << 14)) {
        b[0] = (uint8_t) (0x40 | (len >> 8));
        b[1] = (uint8_t) len;
        return store_rdb_put(w, b, 2);
    }
    if (len <= UINT32_MAX) {
        b[0] = 0x80;
        for (i = 0; i < 4; i++) {
            b[1 + i] = (uint8_t) (len >> (24 - 8 * i));
        }
        return store_rdb_put(w, b, 5);
    }
    b[0] = 0x81;
    for (i = 0; i < 8; i++) {
        b[1 + i] = (uint8_t) (len >> (56 - 8 * i));
    }
    return store_rdb_put(w, b, 9);
}


/*
 * rdbTryIntegerEncoding: a canonical decimal (what string2ll accepts and
 * ll2string gives back the same) that fits 32 bits becomes C0, C1 or C2
 * and its little-endian value.  Returns the encoded size, or 0.
 */
static size_t
store_rdb_int_encode(const void *p, size_t n, uint8_t out[5])
{
    long long  v;

    if (n == 0 || n > STORE_RDB_INT_MAX || !store_str_is_ll(p, n, &v)) {
        return 0;
    }
    if (v >= INT8_MIN && v <= INT8_MAX) {
        out[0] = 0xC0;
        out[1] = (uint8_t) v;
        return 2;
    }
    if (v >= INT16_MIN && v <= INT16_MAX) {
        out[0] = 0xC1;
        out[1] = (uint8_t) v;
        out[2] = (uint8_t) ((uint64_t) v >> 8);
        return 3;
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
        out[0] = 0xC2;
        out[1] = (uint8_t) v;
        out[2] = (uint8_t) ((uint64_t) v >> 8);
        out[3] = (uint8_t) ((uint64_t) v >> 16);
        out[4] = (uint8_t) ((uint64_t) v >> 24);
        return 5;
    }
    return 0;
}


/*
 * rdbSaveLzfStringObject: LZF into a buffer 4 bytes shorter than the
 * string, so that it is written compressed only when that saves at least
 * 4 bytes.  1 written, 0 not worth it (the caller writes it plain),
 * OB_ERR on a write error.  A malloc failure is "not worth it": the plain
 * form is as valid.
 */
static int
store_rdb_put_lzf(store_rdb_out_t *w, const void *p, size_t n)
{
    uint8_t       *out;
    unsigned int   clen;
    int            rc;

    if (n <= 4 || n > UINT_MAX) {
        return 0;
    }
    out = malloc(n - 4);
    if (out == NULL) {
        return 0;
    }
    clen = lzf_compress(p, (unsigned int) n, out, (unsigned int) (n - 4));
    if (clen == 0) {
        free(out);
        return 0;
    }
    rc = (store_rdb_put_byte(w, 0xC3) == OB_OK
          && store_rdb_put_len(w, clen) == OB_OK
          && store_rdb_put_len(w, n) == OB_OK
          && store_rdb_put(w, out, clen) == OB_OK) ? 1 : OB_ERR;
    free(out);
    return rc;
}


/* The string's tail of rdbSaveRawString: LZF when it pays, else plain. */
static int
store_rdb_put_lzf_or_plain(store_rdb_out_t *w, const void *p, size_t n)
{
    int  rc;

    if (w->compress && n > STORE_RDB_LZF_MIN) {
        rc = store_rdb_put_lzf(w, p, n);
        if (rc != 0) {
            return rc == 1 ? OB_OK : OB_ERR;
        }
    }
    if (store_rdb_put_len(w, n) != OB_OK) {
        return OB_ERR;
    }
    return store_rdb_put(w, p, n);
}


int
store_rdb_put_string(store_rdb_out_t *w, const void *p, size_t n)
{
    uint8_t  enc[5];
    size_t   elen;

    elen = store_rdb_int_encode(p, n, enc);
    if (elen > 0) {
        return store_rdb_put(w, enc, elen);
    }
    return store_rdb_put_lzf_or_plain(w, p, n);
}


/*
 * A blob (listpack, intset): never int-encoded, but compressed as Redis's
 * rdbSaveRawString compresses every string it writes, blobs included
 * (the hexdumps' 9000-byte list node is LZF).
 */
int
store_rdb_put_raw_string(store_rdb_out_t *w, const void *p, size_t n)
{
    return store_rdb_put_lzf_or_plain(w, p, n);
}


int
store_rdb_put_u64le(store_rdb_out_t *w, uint64_t v)
{
    uint8_t  b[8];
    int      i;

    for (i = 0; i < 8; i++) {
        b[i] = (uint8_t) (v >> (8 * i));
    }
    return store_rdb_put(w, b, 8);
}


int
store_rdb_put_double(store_rdb_out_t *w, double v)
{
    uint64_t  u;

    memcpy(&u, &v, sizeof(u));
    return store_rdb_put_u64le(w, u);
}


/* ---- values ------------------------------------------------------------- */

static int
store_rdb_put_aux(store_rdb_out_t *w, const char *key, const char *val)
{
    if (store_rdb_put_byte(w, STORE_RDB_OP_AUX) != OB_OK
        || store_rdb_put_string(w, key, strlen(key)) != OB_OK)
    {
        return OB_ERR;
    }
    return store_rdb_put_string(w, val, strlen(val));
}


static int
store_rdb_put_aux_ll(store_rdb_out_t *w, const char *key, long long v)
{
    char  buf[STORE_OBJ_INTBUF];

    snprintf(buf, sizeof(buf), "%lld", v);
    return store_rdb_put_aux(w, key, buf);
}


/* A list: LIST_QUICKLIST_2, each node a PACKED container with its
 * listpack (Redis writes PLAIN only for elements of 1 GB and more, which
 * our quicklist keeps in listpacks too). */
static int
store_rdb_put_list(store_rdb_out_t *w, const store_obj_t *o)
{
    const store_list_t       *l = store_list_of(o);
    const store_list_node_t  *n;
    size_t                    nodes = 0;

    for (n = l->head; n != NULL; n = n->next) {
        if (n->count > 0) {
            nodes++;
        }
    }
    if (store_rdb_put_len(w, nodes) != OB_OK) {
        return OB_ERR;
    }
    for (n = l->head; n != NULL; n = n->next) {
        if (n->count == 0) {
            continue;
        }
        if (store_rdb_put_len(w, STORE_RDB_QL_PACKED) != OB_OK
            || store_rdb_put_raw_string(w, n->lp, store_lp_bytes(n->lp))
               != OB_OK)
        {
            return OB_ERR;
        }
    }
    return OB_OK;
}


static int
store_rdb_put_set(store_rdb_out_t *w, const store_obj_t *o)
{
    const uint8_t     *blob;
    const char        *p;
    char               buf[STORE_OBJ_INTBUF];
    size_t             len, i, n;
    store_set_elem_t   e;

    blob = store_set_intset_blob(o, &len);
    if (blob != NULL) {
        return store_rdb_put_raw_string(w, blob, len);
    }
    n = store_set_size(o);
    if (store_rdb_put_len(w, n) != OB_OK) {
        return OB_ERR;
    }
    for (i = 0; i < n; i++) {
        store_set_get(o, i, &e);
        p = store_set_elem_bytes(&e, buf, &len);
        if (store_rdb_put_string(w, p, len) != OB_OK) {
            return OB_ERR;
        }
    }
    return OB_OK;
}


static void
store_rdb_hash_field(void *arg, const uint8_t *f, size_t nf,
    const uint8_t *v, size_t nv)
{
    store_rdb_out_t  *w = arg;

    (void) (store_rdb_put_string(w, f, nf) == OB_OK
            && store_rdb_put_string(w, v, nv) == OB_OK);
}


static int
store_rdb_put_hash(store_rdb_out_t *w, const store_obj_t *o)
{
    if (o->encoding == STORE_ENC_LISTPACK) {
        return store_rdb_put_raw_string(w, o->v.ptr,
                                        store_lp_bytes(o->v.ptr));
    }
    if (store_rdb_put_len(w, store_hash_len(o)) != OB_OK) {
        return OB_ERR;
    }
    /* a failed write is sticky in w: the visits after it do nothing */
    store_hash_foreach(o, store_rdb_hash_field, w);
    return w->err_no == 0 ? OB_OK : OB_ERR;
}


/* ZSET_2 from the tail to the head, as rdbSaveObject walks the skiplist:
 * the highest score first, so the loader's inserts each land at the
 * head. */
static int
store_rdb_put_zset(store_rdb_out_t *w, const store_obj_t *o)
{
    const store_zsl_t       *zsl;
    const store_zsl_node_t  *n;

    if (o->encoding == STORE_ENC_LISTPACK) {
        return store_rdb_put_raw_string(w, o->v.ptr,
                                        store_lp_bytes(o->v.ptr));
    }
    zsl = o->v.ptr;
    if (store_rdb_put_len(w, zsl->length) != OB_OK) {
        return OB_ERR;
    }
    for (n = zsl->tail; n != NULL; n = n->backward) {
        if (store_rdb_put_string(w, STORE_ZSL_ELE(n), n->len) != OB_OK
            || store_rdb_put_double(w, n->score) != OB_OK)
        {
            return OB_ERR;
        }
    }
    return OB_OK;
}


/* The type byte rdbSaveObjectType writes for o. */
static int
store_rdb_type_of(const store_obj_t *o)
{
    switch (o->type) {
    case STORE_OBJ_STRING:
        return STORE_RDB_TYPE_STRING;
    case STORE_OBJ_LIST:
        return STORE_RDB_TYPE_LIST_QUICKLIST_2;
    case STORE_OBJ_SET:
        return o->encoding == STORE_ENC_INTSET ? STORE_RDB_TYPE_SET_INTSET
                                               : STORE_RDB_TYPE_SET;
    case STORE_OBJ_HASH:
        return o->encoding == STORE_ENC_LISTPACK
               ? STORE_RDB_TYPE_HASH_LISTPACK : STORE_RDB_TYPE_HASH;
    case STORE_OBJ_ZSET:
        return o->encoding == STORE_ENC_LISTPACK
               ? STORE_RDB_TYPE_ZSET_LISTPACK : STORE_RDB_TYPE_ZSET_2;
    case STORE_OBJ_STREAM:
        return STORE_RDB_TYPE_STREAM_LISTPACKS_2;
    default:
        return -1;
    }
}


static int
store_rdb_put_value(store_rdb_out_t *w, const store_obj_t *o)
{
    const char  *p;
    char         buf[STORE_OBJ_INTBUF];
    size_t       len;

    switch (o->type) {
    case STORE_OBJ_STRING:
        p = store_obj_string_bytes(o, buf, &len);
        return store_rdb_put_string(w, p, len);
    case STORE_OBJ_LIST:
        return store_rdb_put_list(w, o);
    case STORE_OBJ_SET:
        return store_rdb_put_set(w, o);
    case STORE_OBJ_HASH:
        return store_rdb_put_hash(w, o);
    case STORE_OBJ_ZSET:
        return store_rdb_put_zset(w, o);
    case STORE_OBJ_STREAM:
        return store_rdb_save_stream(w, o);
    default:
        w->err_no = EINVAL;
        return OB_ERR;
    }
}


/* ---- the databases ------------------------------------------------------ */

typedef struct store_rdb_walk_s {
    store_rdb_out_t              *w;
    store_db_t                   *db;
    const store_rdb_save_opts_t  *o;
    size_t                        keys;
} store_rdb_walk_t;


/* estimateObjectIdleTime in seconds, from the 24-bit LRU clock. */
static uint64_t
store_rdb_idle_s(const store_obj_t *o, int64_t now_ms)
{
    unsigned  clock = store_lru_clock(now_ms);

    if (clock >= o->lru) {
        return clock - o->lru;
    }
    return (uint64_t) clock + (STORE_LRU_MAX - o->lru);
}


/* rdbSaveKeyValuePair: [EXPIRETIME_MS] [IDLE] [FREQ] type key value. */
static void
store_rdb_put_key(ob_hash_link_t *link, void *arg)
{
    store_rdb_walk_t  *k = arg;
    store_rdb_out_t   *w = k->w;
    store_entry_t     *e = (store_entry_t *) link;
    int64_t            when;
    int                type;

    if (w->err_no != 0) {
        return;
    }
    type = store_rdb_type_of(e->val);
    if (type < 0) {
        w->err_no = EINVAL;
        return;
    }
    when = store_db_entry_expire(k->db, e);
    if (when >= 0
        && (store_rdb_put_byte(w, STORE_RDB_OP_EXPIRETIME_MS) != OB_OK
            || store_rdb_put_u64le(w, (uint64_t) when) != OB_OK))
    {
        return;
    }
    if (k->o->idle
        && (store_rdb_put_byte(w, STORE_RDB_OP_IDLE) != OB_OK
            || store_rdb_put_len(w, store_rdb_idle_s(e->val, k->o->now_ms))
               != OB_OK))
    {
        return;
    }
    if (k->o->freq
        && (store_rdb_put_byte(w, STORE_RDB_OP_FREQ) != OB_OK
            || store_rdb_put_byte(w, (uint8_t) store_obj_lfu_counter(
                   e->val, k->o->now_ms, &k->db->dbs->lfu_conf)) != OB_OK))
    {
        return;
    }
    if (store_rdb_put_byte(w, (uint8_t) type) != OB_OK
        || store_rdb_put_string(w, e->key, e->nkey) != OB_OK
        || store_rdb_put_value(w, e->val) != OB_OK)
    {
        return;
    }
    k->keys++;
}


static int
store_rdb_put_db(store_rdb_out_t *w, store_db_t *db,
    const store_rdb_save_opts_t *o, size_t *keys)
{
    store_rdb_walk_t  k = { w, db, o, 0 };
    uint64_t          cursor = 0;

    if (store_db_size(db) == 0) {
        return OB_OK;
    }
    if (store_rdb_put_byte(w, STORE_RDB_OP_SELECTDB) != OB_OK
        || store_rdb_put_len(w, (uint64_t) db->id) != OB_OK
        || store_rdb_put_byte(w, STORE_RDB_OP_RESIZEDB) != OB_OK
        || store_rdb_put_len(w, store_db_size(db)) != OB_OK
        || store_rdb_put_len(w, store_db_expires_count(db)) != OB_OK)
    {
        return OB_ERR;
    }
    /* ob_hash_scan, not store_db_scan: that one deletes expired keys, and
     * the writer must leave the databases as they are.  One unbounded
     * call visits every entry once (the table cannot change meanwhile);
     * the loop only guards against a cursor that says there is more. */
    do {
        cursor = ob_hash_scan(&db->ks->keys, cursor, SIZE_MAX, SIZE_MAX,
                              store_rdb_put_key, &k);
    } while (cursor != 0 && w->err_no == 0);

    *keys += k.keys;
    return w->err_no == 0 ? OB_OK : OB_ERR;
}


static int
store_rdb_put_header(store_rdb_out_t *w, const store_rdb_save_opts_t *o)
{
    char  magic[16];

    snprintf(magic, sizeof(magic), "REDIS%04d", STORE_RDB_VERSION);
    if (store_rdb_put(w, magic, 9) != OB_OK
        || store_rdb_put_aux(w, "redis-ver", "7.0.15") != OB_OK
        || store_rdb_put_aux_ll(w, "redis-bits",
                                (long long) sizeof(void *) * 8) != OB_OK
        || store_rdb_put_aux_ll(w, "ctime", o->now_ms / 1000) != OB_OK
        || store_rdb_put_aux_ll(w, "used-mem", (long long) o->used_mem)
           != OB_OK)
    {
        return OB_ERR;
    }
    if (o->repl_id != NULL
        && (store_rdb_put_aux_ll(w, "repl-stream-db", o->repl_stream_db)
            != OB_OK
            || store_rdb_put_aux(w, "repl-id", o->repl_id) != OB_OK
            || store_rdb_put_aux_ll(w, "repl-offset", o->repl_offset)
               != OB_OK))
    {
        return OB_ERR;
    }
    return store_rdb_put_aux_ll(w, "aof-base", o->aof_base ? 1 : 0);
}


int
store_rdb_save_fd(store_dbs_t *dbs, int fd, const store_rdb_save_opts_t *o,
    store_rdb_stats_t *st, ob_err_t *err)
{
    store_rdb_out_t  w;
    size_t           keys = 0;
    uint64_t         crc;
    int              i, rc;

    memset(&w, 0, sizeof(w));
    w.fd = fd;
    w.cap = STORE_RDB_OUT_BUF;
    w.compress = o->compress;
    w.buf = malloc(w.cap);
    if (w.buf == NULL) {
        return ob_err_set(err, "Write error saving DB on disk: %s",
                          strerror(ENOMEM));
    }

    rc = store_rdb_put_header(&w, o);
    for (i = 0; rc == OB_OK && i < dbs->ndb; i++) {
        rc = store_rdb_put_db(&w, &dbs->db[i], o, &keys);
    }
    if (rc == OB_OK) {
        rc = store_rdb_put_byte(&w, STORE_RDB_OP_EOF);
    }
    if (rc == OB_OK) {
        /* the checksum covers everything up to the EOF byte, not itself */
        crc = o->checksum ? w.crc : 0;
        rc = store_rdb_put_u64le(&w, crc);
    }
    if (rc == OB_OK) {
        rc = store_rdb_flush(&w);
    }
    free(w.buf);

    if (rc != OB_OK) {
        errno = w.err_no;
        return ob_err_set(err, "Write error saving DB on disk: %s",
                          strerror(w.err_no));
    }
    if (st != NULL) {
        st->keys = keys;
        st->expired = 0;
        st->bytes = w.written;
    }
    return OB_OK;
}


/* fsync(2) of the directory that holds path, so that a rename in it is
 * durable. */
static int
store_rdb_fsync_dir(const char *dir)
{
    int  fd, rc;

    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    rc = fsync(fd);
    close(fd);
    return rc;
}


int
store_rdb_save_file(store_dbs_t *dbs, const char *path,
    const store_rdb_save_opts_t *o, store_rdb_stats_t *st, ob_err_t *err)
{
    char         dir[PATH_MAX], tmp[PATH_MAX];
    const char  *slash;
    size_t       dlen;
    int          fd, e;

    slash = strrchr(path, '/');
    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else {
        dlen = (size_t) (slash - path);
        if (dlen >= sizeof(dir)) {
            return ob_err_set(err, "Failed saving the DB: path too long");
        }
        memcpy(dir, path, dlen);
        dir[dlen] = '\0';
        if (dlen == 0) {
            snprintf(dir, sizeof(dir), "/");
        }
    }
    if ((size_t) snprintf(tmp, sizeof(tmp), "%s/temp-%d.rdb", dir,
                          (int) getpid()) >= sizeof(tmp))
    {
        return ob_err_set(err, "Failed saving the DB: path too long");
    }

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        e = errno;
        return ob_err_set(err, "Failed opening the temp RDB file %s (in "
                          "server root dir %s) for saving: %s", tmp, dir,
                          strerror(e));
    }
    if (store_rdb_save_fd(dbs, fd, o, st, err) != OB_OK) {
        close(fd);
        unlink(tmp);
        return OB_ERR;
    }
    if (fsync(fd) != 0) {
        e = errno;
        close(fd);
        unlink(tmp);
        return ob_err_set(err, "Write error saving DB on disk: %s",
                          strerror(e));
    }
    if (close(fd) != 0) {
        e = errno;
        unlink(tmp);
        return ob_err_set(err, "Write error saving DB on disk: %s",
                          strerror(e));
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        return ob_err_set(err, "Error moving temp DB file %s on the final "
                          "destination %s (in server root dir %s): %s",
                          tmp, path, dir, strerror(e));
    }
    if (store_rdb_fsync_dir(dir) != 0) {
        e = errno;
        return ob_err_set(err, "Failed to fsync the directory %s after "
                          "saving the DB: %s", dir, strerror(e));
    }
    return OB_OK;
}
