/*
 * store_aof_load.c: the AOF's replay at start-up, as Redis 7.0 does it
 * (aof.c: loadAppendOnlyFiles, loadSingleAppendOnlyFile,
 * aofUpgradePrepare).  The manifest it follows is read and written by
 * store_aof_files.c.
 *
 * Replay.  The base first (an RDB when it starts with "REDIS", loaded by
 * store_rdb_load_fd, then any RESP tail after it; or RESP commands), then
 * each incr in the manifest's order.  Commands run through a client
 * without a connection (STORE_CLIENT_LOADING), with every check the
 * dispatcher makes, so MULTI/EXEC in the file is a real transaction.
 *
 * A file that ends in the middle of a command (the server died during a
 * write) is cut back to its last complete command when aof-load-truncated
 * is yes, and the load goes on if it was the last file (Redis 7.0 cuts
 * an earlier file too, then refuses to start); a MULTI without its EXEC
 * at the end is cut the same way, at the MULTI.  Anything else that is not RESP
 * stops start-up: Redis exits there, and so do we (OB_ERR).
 */
#include "store_aof_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The reader's buffer always has this much room for a read(2). */
#define STORE_AOF_READ_CHUNK    (64 * 1024)


/* ---- reading RESP from a file --------------------------------------------- */

typedef struct store_aof_reader_s {
    int        fd;
    char      *buf;
    size_t     pos, len, cap;
    uint64_t   offset;          /* of buf[pos], from where reading began */
    uint64_t   left;            /* bytes of the file from there on: no
                                   length in the file sizes an allocation
                                   beyond what the file holds */
    int        eof;
    int        err_no;
    char      *unknown;         /* an unknown command's name, malloc'd */
} store_aof_reader_t;


/* Makes at least `need` bytes available at buf[pos] if the file has
 * them; returns the bytes available (fewer only at the end). */
static size_t
store_aof_fill(store_aof_reader_t *r, size_t need)
{
    while (r->len - r->pos < need && !r->eof) {
        ssize_t  n;

        if (r->pos > 0) {
            memmove(r->buf, r->buf + r->pos, r->len - r->pos);
            r->len -= r->pos;
            r->pos = 0;
        }
        if (r->cap - r->len < STORE_AOF_READ_CHUNK
            || r->cap < need)
        {
            size_t  ncap = r->cap * 2;
            char   *nb;

            while (ncap < need || ncap - r->len < STORE_AOF_READ_CHUNK) {
                ncap *= 2;
            }
            nb = realloc(r->buf, ncap);
            if (nb == NULL) {
                r->err_no = ENOMEM;
                r->eof = 1;
                break;
            }
            r->buf = nb;
            r->cap = ncap;
        }
        n = read(r->fd, r->buf + r->len, r->cap - r->len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            r->err_no = errno;
            r->eof = 1;
        } else if (n == 0) {
            r->eof = 1;
        } else {
            r->len += (size_t) n;
        }
    }
    return r->len - r->pos;
}


/* One line (without CRLF) into line; 1 done, 0 end of file before any
 * byte, -1 a partial line at the end of the file, -2 too long. */
static int
store_aof_line(store_aof_reader_t *r, char *line, size_t max)
{
    size_t  avail, i;

    for (i = 1; ; i = avail + 1) {
        char *nl;

        avail = store_aof_fill(r, i);
        if (avail == 0) {
            return 0;
        }
        nl = memchr(r->buf + r->pos, '\n', avail);
        if (nl != NULL) {
            size_t n = (size_t) (nl - (r->buf + r->pos));
            size_t used = n + 1;

            if (n >= max) {
                return -2;
            }
            memcpy(line, r->buf + r->pos, n);
            if (n > 0 && line[n - 1] == '\r') {
                n--;
            }
            line[n] = '\0';
            r->pos += used;
            r->offset += used;
            return 1;
        }
        if (avail >= max) {
            return -2;
        }
        if (r->eof) {
            return -1;
        }
    }
}


/* ---- replay --------------------------------------------------------------- */

enum { AOF_LOAD_OK, AOF_LOAD_TRUNCATED, AOF_LOAD_FORMAT, AOF_LOAD_IOERR,
       AOF_LOAD_UNKNOWN };


/*
 * Runs the RESP commands of r on the loading client.  *valid gets the
 * offset after the last complete command (or before an unfinished
 * MULTI).
 */
static int
store_aof_replay(store_client_t *c, store_aof_reader_t *r, uint64_t base,
                 uint64_t *valid)
{
    char            line[STORE_AOF_LINE_MAX + 1];
    ob_str_t       *argv = NULL;
    char          **bufs = NULL;
    size_t          cap = 0, i;
    uint64_t        before_multi = base;
    long long       argc, blen;
    int             rc = AOF_LOAD_OK, lr;

    *valid = base;
    for ( ;; ) {
        uint64_t  start = base + r->offset;

        lr = store_aof_line(r, line, sizeof(line));
        if (lr == 0) {
            break;
        }
        if (lr < 0) {
            rc = lr == -1 ? AOF_LOAD_TRUNCATED : AOF_LOAD_FORMAT;
            break;
        }
        if (line[0] == '#') {
            *valid = base + r->offset;
            continue;
        }
        if (line[0] != '*') {
            rc = AOF_LOAD_FORMAT;
            break;
        }
        if (line[1] == '\0') {
            rc = AOF_LOAD_TRUNCATED;
            break;
        }
        argc = strtoll(line + 1, NULL, 10);
        if (argc < 1 || argc > 1024 * 1024) {
            rc = AOF_LOAD_FORMAT;
            break;
        }
        if ((size_t) argc > cap) {
            ob_str_t  *na = realloc(argv, (size_t) argc * sizeof(*na));
            char     **nb;

            if (na != NULL) {
                argv = na;
            }
            nb = na == NULL ? NULL
                 : realloc(bufs, (size_t) argc * sizeof(*nb));
            if (nb == NULL) {
                rc = AOF_LOAD_IOERR;
                r->err_no = ENOMEM;
                break;
            }
            bufs = nb;
            for (i = cap; i < (size_t) argc; i++) {
                bufs[i] = NULL;
            }
            cap = (size_t) argc;
        }
        for (i = 0; i < (size_t) argc && rc == AOF_LOAD_OK; i++) {
            lr = store_aof_line(r, line, sizeof(line));
            if (lr <= 0) {
                rc = lr == -2 ? AOF_LOAD_FORMAT : AOF_LOAD_TRUNCATED;
                break;
            }
            if (line[0] != '$') {
                rc = AOF_LOAD_FORMAT;
                break;
            }
            blen = strtoll(line + 1, NULL, 10);
            if (blen < 0) {
                rc = AOF_LOAD_FORMAT;
                break;
            }
            if ((uint64_t) blen + 2 > r->left - r->offset) {
                rc = AOF_LOAD_TRUNCATED;        /* the file ends first */
                break;
            }
            if (store_aof_fill(r, (size_t) blen + 2) < (size_t) blen + 2) {
                rc = r->err_no == ENOMEM ? AOF_LOAD_IOERR
                     : AOF_LOAD_TRUNCATED;
                break;
            }
            free(bufs[i]);
            bufs[i] = malloc((size_t) blen + 1);
            if (bufs[i] == NULL) {
                r->err_no = ENOMEM;
                rc = AOF_LOAD_IOERR;
                break;
            }
            memcpy(bufs[i], r->buf + r->pos, (size_t) blen);
            argv[i].data = (const uint8_t *) bufs[i];
            argv[i].len = (size_t) blen;
            r->pos += (size_t) blen + 2;
            r->offset += (uint64_t) blen + 2;
        }
        if (rc != AOF_LOAD_OK) {
            break;
        }
        /* Redis stops at a command it does not know: the file is not
         * ours to skip parts of. */
        if (ob_cmd_find(&c->st->cmds, argv[0].data, argv[0].len) == NULL) {
            snprintf(line, sizeof(line), "%.*s",
                     (int) (argv[0].len > 128 ? 128 : argv[0].len), bufs[0]);
            r->unknown = strdup(line);
            rc = AOF_LOAD_UNKNOWN;
            break;
        }
        if (argv[0].len == 5 && strncasecmp(bufs[0], "multi", 5) == 0) {
            before_multi = start;
        }
        store_client_run(c, argv, (size_t) argc);
        *valid = base + r->offset;
    }
    if (rc == AOF_LOAD_TRUNCATED || (rc == AOF_LOAD_OK
                                     && (c->flags & STORE_CLIENT_MULTI)))
    {
        if (c->flags & STORE_CLIENT_MULTI) {
            ob_log_warning(&c->st->cy->log, "Revert incomplete MULTI/EXEC "
                           "transaction in AOF file");
            *valid = before_multi;
            rc = AOF_LOAD_TRUNCATED;
        }
    }
    for (i = 0; i < cap; i++) {
        free(bufs[i]);
    }
    free(bufs);
    free(argv);
    return rc;
}


/*
 * Loads one file of the manifest.  `last`: the last file, the only one
 * whose short read lets the start go on.
 */
static int
store_aof_load_file(store_t *st, const char *name, int last, ob_err_t *err)
{
    struct store_aof_s  *aof = st->aof;
    store_aof_reader_t   r;
    store_client_t      *c;
    struct stat          sb;
    uint64_t             errors;
    char                 head[5];
    char                *path;
    uint64_t             start = 0, valid = 0;
    ssize_t              n;
    int                  fd, rc;

    path = store_aof_path(aof, name);
    if (path == NULL) {
        return ob_err_set(err, "out of memory");
    }
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        ob_err_set(err, "Can't open the append-only file %s: %s", name,
                   strerror(errno));
        free(path);
        return OB_ERR;
    }
    n = read(fd, head, sizeof(head));
    if (n == 5 && memcmp(head, "REDIS", 5) == 0) {
        store_rdb_load_opts_t  lo = { .now_ms = st->now_ms,
                                      .drop_expired = 0 };
        store_rdb_load_info_t  info;

        ob_log_notice(&st->cy->log, "Reading RDB base file on AOF loading...");
        if (lseek(fd, 0, SEEK_SET) != 0
            || store_rdb_load_fd(st->dbs, fd, &lo, &info, err) != OB_OK)
        {
            ob_log_warning(&st->cy->log, "Error reading the RDB base file "
                           "%s, AOF loading aborted", name);
            close(fd);
            free(path);
            return OB_ERR;
        }
        start = info.consumed;
        ob_log_notice(&st->cy->log, "Reading the remaining AOF tail...");
    }
    if (lseek(fd, (off_t) start, SEEK_SET) != (off_t) start) {
        ob_err_set(err, "Unrecoverable error reading the append only file "
                   "%s: %s", name, strerror(errno));
        close(fd);
        free(path);
        return OB_ERR;
    }
    memset(&r, 0, sizeof(r));
    r.fd = fd;
    r.left = fstat(fd, &sb) == 0 && (uint64_t) sb.st_size > start
             ? (uint64_t) sb.st_size - start : 0;
    r.cap = STORE_AOF_READ_CHUNK * 2;
    r.buf = malloc(r.cap);
    c = store_client_fake_new(st, STORE_CLIENT_LOADING);
    if (r.buf == NULL || c == NULL) {
        free(r.buf);
        if (c != NULL) {
            store_client_fake_free(c);
        }
        close(fd);
        free(path);
        return ob_err_set(err, "out of memory");
    }
    errors = st->total_error_replies;
    rc = store_aof_replay(c, &r, start, &valid);
    store_client_fake_free(c);
    if (st->total_error_replies != errors) {
        /* A file the server wrote replays without errors (Redis calls
         * the commands unchecked); one that fails (the arena's budget)
         * is not the dataset that was written, so say so. */
        ob_log_warning(&st->cy->log, "%llu commands of the AOF file %s "
                       "answered an error while loading",
                       (unsigned long long) (st->total_error_replies
                                             - errors), name);
    }
    free(r.buf);
    close(fd);
    if (rc == AOF_LOAD_UNKNOWN) {
        ob_err_set(err, "Unknown command '%s' reading the append only file "
                   "%s", r.unknown != NULL ? r.unknown : "?", name);
        free(r.unknown);
        free(path);
        return OB_ERR;
    }
    if (rc == AOF_LOAD_IOERR || (rc != AOF_LOAD_OK && r.err_no != 0)) {
        ob_err_set(err, "Unrecoverable error reading the append only file "
                   "%s: %s", name, strerror(r.err_no));
        free(path);
        return OB_ERR;
    }
    if (rc == AOF_LOAD_FORMAT) {
        ob_err_set(err, "Bad file format reading the append only file %s: "
                   "make a backup of your AOF file, then use "
                   "./redis-check-aof --fix <filename.manifest>", name);
        free(path);
        return OB_ERR;
    }
    if (rc == AOF_LOAD_TRUNCATED) {
        /* Redis 7.0 cuts any file so, and only then refuses a cut file
         * that is not the last one. */
        if (st->aof_load_truncated) {
            ob_log_warning(&st->cy->log, "!!! Warning: short read while "
                           "loading the AOF file %s!!!", name);
            ob_log_warning(&st->cy->log, "!!! Truncating the AOF %s at "
                           "offset %llu !!!", name,
                           (unsigned long long) valid);
            if (truncate(path, (off_t) valid) != 0) {
                ob_err_set(err, "Error truncating the AOF file %s: %s",
                           name, strerror(errno));
                free(path);
                return OB_ERR;
            }
            ob_log_warning(&st->cy->log, "AOF %s loaded anyway because "
                           "aof-load-truncated is enabled", name);
            if (!last) {
                ob_err_set(err, "Fatal error: the truncated file is not "
                           "the last file");
                free(path);
                return OB_ERR;
            }
        } else {
            ob_err_set(err, "Unexpected end of file reading the append "
                       "only file %s. You can: 1) Make a backup of your "
                       "AOF file, then use ./redis-check-aof --fix "
                       "<filename.manifest>. 2) Alternatively you can set "
                       "the 'aof-load-truncated' configuration option to "
                       "yes and restart the server.", name);
            free(path);
            return OB_ERR;
        }
    }
    free(path);
    return OB_OK;
}


/* An old-style single <dir>/<appendfilename> becomes the base of a new
 * manifest, moved into the directory (Redis's aofUpgradePrepare). */
static int
store_aof_migrate(struct store_aof_s *aof, const char *legacy, ob_err_t *err)
{
    store_aof_manifest_t  m;
    char                 *dst;

    memset(&m, 0, sizeof(m));
    m.base = calloc(1, sizeof(*m.base));
    if (m.base == NULL
        || (m.base->name = strdup(aof->st->appendfilename)) == NULL)
    {
        store_aof_manifest_free(&m);
        return ob_err_set(err, "out of memory");
    }
    m.base->seq = 1;
    m.base->type = 'b';
    m.base_seq = 1;
    if (store_aof_manifest_persist(aof, &m, err) != OB_OK) {
        store_aof_manifest_free(&m);
        return OB_ERR;
    }
    dst = store_aof_path(aof, aof->st->appendfilename);
    if (dst == NULL || rename(legacy, dst) != 0) {
        ob_err_set(err, "Error trying to rename the old AOF file %s into "
                   "dir %s: %s", legacy, aof->dirpath, strerror(errno));
        free(dst);
        store_aof_manifest_free(&m);
        return OB_ERR;
    }
    free(dst);
    store_aof_fsync_dir(aof->dirpath);
    store_aof_manifest_free(&aof->m);
    aof->m = m;
    ob_log_notice(&aof->st->cy->log, "Successfully migrated an old-style "
                  "AOF into the AOF directory");
    return OB_OK;
}


int
store_aof_load(store_t *st, ob_err_t *err)
{
    struct store_aof_s  *aof = st->aof;
    store_aof_manifest_t *m;
    struct timespec      t0, t1;
    struct stat          sb;
    char                *legacy, *path;
    size_t               i, total;
    int                  dir_exists;

    if (aof == NULL || !st->appendonly) {
        return OB_OK;
    }
    m = &aof->m;
    dir_exists = stat(aof->dirpath, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (!dir_exists && mkdir(aof->dirpath, 0755) != 0) {
        return ob_err_set(err, "Can't open or create append-only dir %s: %s",
                          aof->dirpath, strerror(errno));
    }
    if (dir_exists && store_aof_manifest_load(aof, err) != OB_OK) {
        return OB_ERR;
    }
    legacy = malloc(strlen(st->dir) + strlen(st->appendfilename) + 2);
    if (legacy == NULL) {
        return ob_err_set(err, "out of memory");
    }
    sprintf(legacy, "%s/%s", st->dir, st->appendfilename);
    if (stat(legacy, &sb) == 0 && S_ISREG(sb.st_mode)) {
        path = store_aof_path(aof, st->appendfilename);
        if (!dir_exists || (m->base == NULL && m->nincr == 0)
            || (m->base != NULL && m->nincr == 0
                && strcmp(m->base->name, st->appendfilename) == 0
                && path != NULL && access(path, F_OK) != 0))
        {
            if (store_aof_migrate(aof, legacy, err) != OB_OK) {
                free(path);
                free(legacy);
                return OB_ERR;
            }
        }
        free(path);
    }
    free(legacy);
    if (m->base == NULL && m->nincr == 0) {
        return OB_OK;           /* no AOF yet: store_aof_start makes one */
    }
    total = (m->base != NULL ? 1 : 0) + m->nincr;
    /* Every listed file must exist before anything is loaded. */
    for (i = 0; i < total; i++) {
        const char *name = (m->base != NULL && i == 0) ? m->base->name
                           : m->incr[i - (m->base != NULL)].name;

        path = store_aof_path(aof, name);
        if (path == NULL || access(path, R_OK) != 0) {
            free(path);
            return ob_err_set(err, "The AOF file %s doesn't exist", name);
        }
        free(path);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st->loading = 1;
    for (i = 0; i < total; i++) {
        int             is_base = m->base != NULL && i == 0;
        const char     *name = is_base ? m->base->name
                               : m->incr[i - (m->base != NULL)].name;
        struct timespec f0, f1;

        clock_gettime(CLOCK_MONOTONIC, &f0);
        if (store_aof_load_file(st, name, i == total - 1, err) != OB_OK) {
            st->loading = 0;
            return OB_ERR;
        }
        clock_gettime(CLOCK_MONOTONIC, &f1);
        ob_log_notice(&st->cy->log, "DB loaded from %s file %s: %.3f "
                      "seconds", is_base ? "base" : "incr", name,
                      (double) (f1.tv_sec - f0.tv_sec)
                      + (double) (f1.tv_nsec - f0.tv_nsec) / 1e9);
    }
    st->loading = 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ob_log_notice(&st->cy->log, "DB loaded from append only file: %.3f "
                  "seconds", (double) (t1.tv_sec - t0.tv_sec)
                  + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return OB_OK;
}
