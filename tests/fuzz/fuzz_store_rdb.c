/*
 * fuzz_store_rdb.c: libFuzzer harness for the store's RDB loader
 * (store/store_rdb_load.c, store_rdb_types.c, store_rdb_stream.c).
 *
 * A dump.rdb comes from disk, from a replica's master, or from a user who
 * copied it from somewhere: the loader must reject every corrupt or
 * truncated file with an error, never crash, over-read or allocate what a
 * length field claims before the bytes are there.  The input is written
 * to a memory file and loaded into fresh databases on a small arena (so
 * values that the file makes huge fail as out of memory, not as a crash);
 * when the load succeeds, the databases are saved again and that file
 * must load too (what we load we can write back, Redis's round trip).
 * Inputs that do not start with "REDIS" get the magic and the version
 * prepended, so the fuzzer spends its time past the header.  The
 * checksum is left to the input: a stored zero skips the check, as in
 * Redis.  Built and run by `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "ob_arena.h"
#include "store/store_db.h"
#include "store/store_persist.h"

#define FUZZ_ARENA_BYTES  (8u * 1024 * 1024)


static int
fuzz_memfd(const void *data, size_t size)
{
    int fd = memfd_create("rdb", 0);

    if (fd < 0) {
        abort();
    }
    if (size > 0 && write(fd, data, size) != (ssize_t) size) {
        abort();
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}


/* Loads fd into fresh databases; returns them, or NULL when the file
 * was refused. */
static store_dbs_t *
fuzz_load(ob_arena_t *a, int owner, int fd)
{
    store_rdb_load_opts_t  lo = { .now_ms = 1700000000000LL,
                                  .drop_expired = 0 };
    store_rdb_load_info_t  info;
    ob_err_t               err;
    store_dbs_t           *dbs;

    dbs = store_dbs_new(&(store_dbs_conf_t) { .arena = a, .owner = owner,
                                              .ndb = 16 });
    if (dbs == NULL) {
        abort();
    }
    if (store_rdb_load_fd(dbs, fd, &lo, &info, &err) != OB_OK) {
        store_dbs_free(dbs);
        return NULL;
    }
    return dbs;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    store_rdb_save_opts_t  so = { .compress = 1, .checksum = 1,
                                  .now_ms = 1700000000000LL };
    store_rdb_stats_t      st;
    ob_arena_conf_t        ac = { .limit = FUZZ_ARENA_BYTES,
                                  .page_size = 64 * 1024, .min_chunk = 96,
                                  .growth_factor = 1.25 };
    ob_arena_t            *a;
    store_dbs_t           *dbs, *again;
    ob_err_t               err;
    uint8_t               *buf = NULL;
    int                    fd, out, owner;

    if (size < 5 || memcmp(data, "REDIS", 5) != 0) {
        buf = malloc(size + 9);
        if (buf == NULL) {
            abort();
        }
        memcpy(buf, "REDIS0010", 9);
        memcpy(buf + 9, data, size);
        data = buf;
        size += 9;
    }
    a = ob_arena_new(&ac, NULL, 0);
    if (a == NULL || (owner = ob_arena_owner_add(a, "store")) < 0) {
        abort();
    }
    fd = fuzz_memfd(data, size);
    dbs = fuzz_load(a, owner, fd);
    close(fd);
    if (dbs != NULL) {
        out = memfd_create("rdb-out", 0);
        if (out < 0
            || store_rdb_save_fd(dbs, out, &so, &st, &err) != OB_OK)
        {
            abort();
        }
        lseek(out, 0, SEEK_SET);
        again = fuzz_load(a, owner, out);
        if (again == NULL) {
            abort();                    /* we wrote what we cannot load */
        }
        close(out);
        store_dbs_free(again);
        store_dbs_free(dbs);
    }
    ob_arena_destroy(a);
    free(buf);
    return 0;
}
