/*
 * store_aof_files.c: the files of the append-only file, as Redis 7.0
 * names and lists them (aof.c): the manifest (aofLoadManifestFromFile,
 * persistAofManifest), the names of the base and incr files, the history
 * files' deletion, the base written at start-up and the files opened
 * then (aofOpenIfNeededOnServerStart).  It is apart from store_aof.c
 * (logging), store_aof_rewrite.c (new bases) and store_aof_load.c (the
 * replay) because all three go through the manifest; store_aof_int.h
 * declares what they use of it.
 */
#include "store_aof_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The largest manifest read: it lists a handful of files. */
#define STORE_AOF_MANIFEST_MAX  (1024 * 1024)


/* ---- the manifest --------------------------------------------------------- */

char *
store_aof_path(const struct store_aof_s *aof, const char *name)
{
    size_t  n = strlen(aof->dirpath) + strlen(name) + 2;
    char   *p = malloc(n);

    if (p != NULL) {
        snprintf(p, n, "%s/%s", aof->dirpath, name);
    }
    return p;
}


off_t
store_aof_file_size(const char *path)
{
    struct stat  sb;

    if (stat(path, &sb) != 0) {
        return 0;
    }
    return sb.st_size;
}


void
store_aof_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);

    if (fd >= 0) {
        (void) fsync(fd);
        close(fd);
    }
}


static void
store_aof_files_free(store_aof_file_t *arr, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(arr[i].name);
    }
    free(arr);
}


void
store_aof_manifest_free(store_aof_manifest_t *m)
{
    if (m->base != NULL) {
        free(m->base->name);
        free(m->base);
    }
    store_aof_files_free(m->incr, m->nincr);
    store_aof_files_free(m->hist, m->nhist);
    memset(m, 0, sizeof(*m));
}


int
store_aof_manifest_add(store_aof_file_t **arr, size_t *n, const char *name,
                       long long seq, char type)
{
    store_aof_file_t  *a;
    char              *s = strdup(name);

    a = realloc(*arr, (*n + 1) * sizeof(*a));
    if (a == NULL || s == NULL) {
        free(s);
        if (a != NULL) {
            *arr = a;
        }
        return OB_ERR;
    }
    a[*n].name = s;
    a[*n].seq = seq;
    a[*n].type = type;
    *arr = a;
    (*n)++;
    return OB_OK;
}


int
store_aof_manifest_dup(const store_aof_manifest_t *m,
                       store_aof_manifest_t *out)
{
    size_t i;

    memset(out, 0, sizeof(*out));
    out->base_seq = m->base_seq;
    out->incr_seq = m->incr_seq;
    if (m->base != NULL) {
        out->base = calloc(1, sizeof(*out->base));
        if (out->base == NULL
            || (out->base->name = strdup(m->base->name)) == NULL)
        {
            store_aof_manifest_free(out);
            return OB_ERR;
        }
        out->base->seq = m->base->seq;
        out->base->type = 'b';
    }
    for (i = 0; i < m->nincr; i++) {
        if (store_aof_manifest_add(&out->incr, &out->nincr, m->incr[i].name,
                                   m->incr[i].seq, 'i') != OB_OK)
        {
            store_aof_manifest_free(out);
            return OB_ERR;
        }
    }
    for (i = 0; i < m->nhist; i++) {
        if (store_aof_manifest_add(&out->hist, &out->nhist, m->hist[i].name,
                                   m->hist[i].seq, 'h') != OB_OK)
        {
            store_aof_manifest_free(out);
            return OB_ERR;
        }
    }
    return OB_OK;
}


/*
 * Splits one line into arguments as redis-cli (and sdssplitargs) does:
 * blanks separate, "double quotes" know \n \r \t \b \a \\ \" and \xHH,
 * 'single quotes' know \'.  Returns the count, or -1 on unbalanced
 * quotes.  The arguments are written into out (a copy of the line's
 * size), NUL-separated, each pointed to by av.
 */
static int
store_aof_split(const char *p, char *out, char **av, int max)
{
    int  n = 0;

    for ( ;; ) {
        while (*p != '\0' && isspace((unsigned char) *p)) {
            p++;
        }
        if (*p == '\0') {
            return n;
        }
        if (n == max) {
            return -1;
        }
        av[n++] = out;
        if (*p == '"') {
            p++;
            for ( ;; ) {
                if (*p == '\0') {
                    return -1;
                }
                if (*p == '\\' && p[1] == 'x' && isxdigit((unsigned char) p[2])
                    && isxdigit((unsigned char) p[3]))
                {
                    char hex[3] = { p[2], p[3], '\0' };

                    *out++ = (char) strtol(hex, NULL, 16);
                    p += 4;
                } else if (*p == '\\' && p[1] != '\0') {
                    p++;
                    *out++ = *p == 'n' ? '\n' : *p == 'r' ? '\r'
                             : *p == 't' ? '\t' : *p == 'b' ? '\b'
                             : *p == 'a' ? '\a' : *p;
                    p++;
                } else if (*p == '"') {
                    p++;
                    if (*p != '\0' && !isspace((unsigned char) *p)) {
                        return -1;
                    }
                    break;
                } else {
                    *out++ = *p++;
                }
            }
        } else if (*p == '\'') {
            p++;
            for ( ;; ) {
                if (*p == '\0') {
                    return -1;
                }
                if (*p == '\\' && p[1] == '\'') {
                    *out++ = '\'';
                    p += 2;
                } else if (*p == '\'') {
                    p++;
                    if (*p != '\0' && !isspace((unsigned char) *p)) {
                        return -1;
                    }
                    break;
                } else {
                    *out++ = *p++;
                }
            }
        } else {
            while (*p != '\0' && !isspace((unsigned char) *p)) {
                *out++ = *p++;
            }
        }
        *out++ = '\0';
    }
}


int
store_aof_manifest_parse(store_aof_manifest_t *m, const char *text,
                         size_t len, ob_err_t *err)
{
    const char  *p = text, *end = text + len, *nl;
    char         line[STORE_AOF_LINE_MAX + 1], args[STORE_AOF_LINE_MAX + 1];
    char        *av[64];
    int          ac, i, lines = 0;
    long long    maxseq = 0;

    memset(m, 0, sizeof(*m));
    while (p < end) {
        const char  *name = NULL, *type = NULL;
        long long    seq = -1;
        size_t       n;

        nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL || (size_t) (nl - p) >= STORE_AOF_LINE_MAX) {
            store_aof_manifest_free(m);
            return ob_err_set(err, "Invalid AOF manifest file format");
        }
        n = (size_t) (nl - p);
        memcpy(line, p, n);
        line[n] = '\0';
        p = nl + 1;
        lines++;
        if (line[0] == '#') {
            continue;
        }
        ac = store_aof_split(line, args, av, 64);
        if (ac < 6 || ac % 2 != 0) {
            store_aof_manifest_free(m);
            return ob_err_set(err, "Invalid AOF manifest file format");
        }
        for (i = 0; i < ac; i += 2) {
            if (strcasecmp(av[i], "file") == 0) {
                name = av[i + 1];
            } else if (strcasecmp(av[i], "seq") == 0) {
                seq = strtoll(av[i + 1], NULL, 10);
            } else if (strcasecmp(av[i], "type") == 0) {
                type = av[i + 1];
            }
        }
        if (name == NULL || seq < 0 || type == NULL || strlen(type) != 1
            || strchr(name, '/') != NULL)
        {
            store_aof_manifest_free(m);
            return ob_err_set(err, "Invalid AOF manifest file format");
        }
        switch (type[0]) {
        case 'b':
            if (m->base != NULL) {
                store_aof_manifest_free(m);
                return ob_err_set(err, "Found duplicate base file "
                                  "information");
            }
            m->base = calloc(1, sizeof(*m->base));
            if (m->base == NULL
                || (m->base->name = strdup(name)) == NULL)
            {
                store_aof_manifest_free(m);
                return ob_err_set(err, "out of memory");
            }
            m->base->seq = seq;
            m->base->type = 'b';
            m->base_seq = seq;
            break;
        case 'h':
            if (store_aof_manifest_add(&m->hist, &m->nhist, name, seq, 'h')
                != OB_OK)
            {
                store_aof_manifest_free(m);
                return ob_err_set(err, "out of memory");
            }
            break;
        case 'i':
            if (seq <= maxseq) {
                store_aof_manifest_free(m);
                return ob_err_set(err, "Found a non-monotonic sequence "
                                  "number");
            }
            maxseq = seq;
            if (store_aof_manifest_add(&m->incr, &m->nincr, name, seq, 'i')
                != OB_OK)
            {
                store_aof_manifest_free(m);
                return ob_err_set(err, "out of memory");
            }
            m->incr_seq = seq;
            break;
        default:
            store_aof_manifest_free(m);
            return ob_err_set(err, "Unknown AOF file type");
        }
    }
    if (lines == 0) {
        return ob_err_set(err, "Found an empty AOF manifest");
    }
    return OB_OK;
}


/* A name as Redis writes it in the manifest: quoted (sdscatrepr) when it
 * holds a blank, a quote, a backslash or an unprintable byte. */
static void
store_aof_put_name(FILE *f, const char *name)
{
    const unsigned char  *p;
    int                   quote = 0;

    for (p = (const unsigned char *) name; *p != '\0'; p++) {
        if (*p == '\\' || *p == '"' || isspace(*p) || !isprint(*p)) {
            quote = 1;
        }
    }
    if (!quote) {
        fputs(name, f);
        return;
    }
    fputc('"', f);
    for (p = (const unsigned char *) name; *p != '\0'; p++) {
        switch (*p) {
        case '\\': fputs("\\\\", f); break;
        case '"':  fputs("\\\"", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\a': fputs("\\a", f); break;
        case '\b': fputs("\\b", f); break;
        default:
            if (isprint(*p)) {
                fputc(*p, f);
            } else {
                fprintf(f, "\\x%02x", *p);
            }
        }
    }
    fputc('"', f);
}


static void
store_aof_put_file(FILE *f, const store_aof_file_t *a)
{
    fputs("file ", f);
    store_aof_put_name(f, a->name);
    fprintf(f, " seq %lld type %c\n", a->seq, a->type);
}


int
store_aof_manifest_persist(struct store_aof_s *aof,
                           const store_aof_manifest_t *m, ob_err_t *err)
{
    char    name[512];
    char   *tmp, *path;
    FILE   *f;
    size_t  i;
    int     fd, ok;

    snprintf(name, sizeof(name), "temp-%s.manifest",
             aof->st->appendfilename);
    tmp = store_aof_path(aof, name);
    snprintf(name, sizeof(name), "%s.manifest", aof->st->appendfilename);
    path = store_aof_path(aof, name);
    if (tmp == NULL || path == NULL) {
        free(tmp);
        free(path);
        return ob_err_set(err, "out of memory");
    }
    f = fopen(tmp, "w");
    if (f == NULL) {
        ob_err_set(err, "Can't open the AOF manifest file %s: %s", tmp,
                   strerror(errno));
        free(tmp);
        free(path);
        return OB_ERR;
    }
    /* Redis's order: the base, the history, the incrs. */
    if (m->base != NULL) {
        store_aof_put_file(f, m->base);
    }
    for (i = 0; i < m->nhist; i++) {
        store_aof_put_file(f, &m->hist[i]);
    }
    for (i = 0; i < m->nincr; i++) {
        store_aof_put_file(f, &m->incr[i]);
    }
    ok = fflush(f) == 0;
    fd = fileno(f);
    ok = ok && fsync(fd) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        ob_err_set(err, "Error trying to write the AOF manifest %s: %s",
                   path, strerror(errno));
        unlink(tmp);
        free(tmp);
        free(path);
        return OB_ERR;
    }
    store_aof_fsync_dir(aof->dirpath);
    free(tmp);
    free(path);
    return OB_OK;
}


int
store_aof_manifest_load(struct store_aof_s *aof, ob_err_t *err)
{
    char         name[512], *path, *text;
    struct stat  sb;
    ssize_t      n;
    int          fd, rc;

    store_aof_manifest_free(&aof->m);
    snprintf(name, sizeof(name), "%s.manifest", aof->st->appendfilename);
    path = store_aof_path(aof, name);
    if (path == NULL) {
        return ob_err_set(err, "out of memory");
    }
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        free(path);
        if (errno == ENOENT) {
            return OB_OK;
        }
        return ob_err_set(err, "Can't open the AOF manifest file %s: %s",
                          name, strerror(errno));
    }
    free(path);
    if (fstat(fd, &sb) != 0 || sb.st_size > STORE_AOF_MANIFEST_MAX) {
        close(fd);
        return ob_err_set(err, "The AOF manifest file %s is too big", name);
    }
    text = malloc((size_t) sb.st_size + 1);
    if (text == NULL) {
        close(fd);
        return ob_err_set(err, "out of memory");
    }
    n = read(fd, text, (size_t) sb.st_size);
    close(fd);
    if (n != sb.st_size) {
        free(text);
        return ob_err_set(err, "Can't read the AOF manifest file %s", name);
    }
    rc = store_aof_manifest_parse(&aof->m, text, (size_t) n, err);
    free(text);
    return rc;
}


/* ---- files --------------------------------------------------------------------- */

/* "<appendfilename>.<seq>.<kind>" */
void
store_aof_name(store_t *st, char *buf, size_t cap, long long seq,
               const char *kind)
{
    snprintf(buf, cap, "%s.%lld.%s", st->appendfilename, seq, kind);
}


const char *
store_aof_base_kind(store_t *st)
{
    return st->aof_use_rdb_preamble ? "base.rdb" : "base.aof";
}


/* Switches logging to fd (a new incr): the old one is synced and closed
 * by the thread, after any fsync of it already queued. */
void
store_aof_switch_fd(struct store_aof_s *aof, int fd)
{
    if (aof->fd >= 0) {
        store_aof_bg_fsync(aof, aof->fd, 1);
    }
    aof->fd = fd;
    aof->incr_size = 0;
    aof->sel_db = -1;           /* a new incr begins with a SELECT */
    aof->fsync_offset = aof->cur_size;
}


/* The history files are deleted and dropped from the manifest. */
void
store_aof_del_history(store_t *st)
{
    struct store_aof_s *aof = st->aof;
    ob_err_t            err;
    size_t              i;

    if (aof->m.nhist == 0) {
        return;
    }
    for (i = 0; i < aof->m.nhist; i++) {
        char *p = store_aof_path(aof, aof->m.hist[i].name);

        if (p != NULL) {
            ob_log_notice(&st->cy->log, "Removing the history file %s in "
                          "the background", aof->m.hist[i].name);
            store_aof_bg_unlink(aof, p);
        }
        free(aof->m.hist[i].name);
    }
    free(aof->m.hist);
    aof->m.hist = NULL;
    aof->m.nhist = 0;
    if (store_aof_manifest_persist(aof, &aof->m, &err) != OB_OK) {
        ob_log_warning(&st->cy->log, "%s", err.msg);
    }
}


/* A base written here and now (start-up with no AOF yet), renamed into
 * place once complete. */
static int
store_aof_write_base_file(store_t *st, const char *name, ob_err_t *err)
{
    struct store_aof_s *aof = st->aof;
    char                tmpname[512], *tmp, *path;
    int                 fd, rc;

    snprintf(tmpname, sizeof(tmpname), "temp-rewriteaof-%d.aof",
             (int) getpid());
    tmp = store_aof_path(aof, tmpname);
    path = store_aof_path(aof, name);
    if (tmp == NULL || path == NULL) {
        free(tmp);
        free(path);
        return ob_err_set(err, "out of memory");
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        ob_err_set(err, "Opening the temp file for AOF rewrite in "
                   "rewriteAppendOnlyFile(): %s", strerror(errno));
        free(tmp);
        free(path);
        return OB_ERR;
    }
    rc = store_aof_write_base(st, fd, err);
    if (rc == OB_OK && fsync(fd) != 0) {
        rc = ob_err_set(err, "fsync of the AOF base: %s", strerror(errno));
    }
    close(fd);
    if (rc == OB_OK && rename(tmp, path) != 0) {
        rc = ob_err_set(err, "Error moving temp append only file on the "
                        "final destination: %s", strerror(errno));
    }
    if (rc != OB_OK) {
        unlink(tmp);
    }
    free(tmp);
    free(path);
    return rc;
}


int
store_aof_open_incr(struct store_aof_s *aof, const char *name, int trunc,
                    ob_err_t *err)
{
    char *path = store_aof_path(aof, name);
    int   fd;

    if (path == NULL) {
        ob_err_set(err, "out of memory");
        return -1;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | (trunc ? O_TRUNC : 0),
              0644);
    if (fd < 0) {
        ob_err_set(err, "Can't open the append-only file %s: %s", name,
                   strerror(errno));
    }
    free(path);
    return fd;
}


static off_t
store_aof_files_size(struct store_aof_s *aof, off_t *last_incr)
{
    off_t   total = 0, sz = 0;
    size_t  i;
    char   *p;

    if (aof->m.base != NULL && (p = store_aof_path(aof, aof->m.base->name))
        != NULL)
    {
        total += store_aof_file_size(p);
        free(p);
    }
    for (i = 0; i < aof->m.nincr; i++) {
        if ((p = store_aof_path(aof, aof->m.incr[i].name)) != NULL) {
            sz = store_aof_file_size(p);
            total += sz;
            free(p);
        }
    }
    if (last_incr != NULL) {
        *last_incr = sz;
    }
    return total;
}


/*
 * Redis's aofOpenIfNeededOnServerStart: with no AOF yet, a base of the
 * dataset just loaded; then the last incr (a new one if none) opened for
 * appending, and the manifest written.
 */
int
store_aof_start(store_t *st, ob_err_t *err)
{
    struct store_aof_s *aof = st->aof;
    char                name[512];
    struct stat         sb;

    if (aof == NULL || !st->appendonly) {
        return OB_OK;
    }
    if (stat(aof->dirpath, &sb) != 0 && mkdir(aof->dirpath, 0755) != 0) {
        return ob_err_set(err, "Can't open or create append-only dir %s: "
                          "%s", aof->dirpath, strerror(errno));
    }
    if (aof->m.base == NULL && aof->m.nincr == 0) {
        store_aof_name(st, name, sizeof(name), aof->m.base_seq + 1,
                       store_aof_base_kind(st));
        if (store_aof_write_base_file(st, name, err) != OB_OK) {
            return OB_ERR;
        }
        aof->m.base = calloc(1, sizeof(*aof->m.base));
        if (aof->m.base == NULL
            || (aof->m.base->name = strdup(name)) == NULL)
        {
            return ob_err_set(err, "out of memory");
        }
        aof->m.base->seq = ++aof->m.base_seq;
        aof->m.base->type = 'b';
        ob_log_notice(&st->cy->log, "Creating AOF base file %s on server "
                      "start", name);
    }
    if (aof->m.nincr == 0) {
        store_aof_name(st, name, sizeof(name), aof->m.incr_seq + 1,
                       "incr.aof");
        if (store_aof_manifest_add(&aof->m.incr, &aof->m.nincr, name,
                                   aof->m.incr_seq + 1, 'i') != OB_OK)
        {
            return ob_err_set(err, "out of memory");
        }
        aof->m.incr_seq++;
        ob_log_notice(&st->cy->log, "Creating AOF incr file %s on server "
                      "start", name);
    }
    aof->fd = store_aof_open_incr(aof, aof->m.incr[aof->m.nincr - 1].name,
                                  0, err);
    if (aof->fd < 0) {
        return OB_ERR;
    }
    if (store_aof_manifest_persist(aof, &aof->m, err) != OB_OK) {
        return OB_ERR;
    }
    aof->cur_size = store_aof_files_size(aof, &aof->incr_size);
    aof->base_size = aof->cur_size;
    aof->fsync_offset = aof->cur_size;
    aof->sel_db = -1;
    aof->state = STORE_AOF_ON;
    store_aof_del_history(st);
    return OB_OK;
}
