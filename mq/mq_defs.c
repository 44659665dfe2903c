/*
 * mq_defs.c: the definitions file, defs.json in the data directory: every
 * durable exchange (not the predeclared ones), every durable queue (not
 * the exclusive ones: RabbitMQ does not keep them either) with the id its
 * entries have in the message log, and every binding between durable
 * entities, per vhost; and the next queue log id (ids are never reused,
 * so the log's records of a deleted queue can never reach a new one).
 *
 *   {"version": 1, "next_queue_id": 3, "vhosts": [{"name": "/",
 *     "exchanges": [{"name": "x", "type": "topic", "auto_delete": false,
 *                    "internal": false, "arguments": "<hex>"}],
 *     "queues": [{"name": "q", "id": 2, "auto_delete": false,
 *                 "arguments": "<hex>"}],
 *     "bindings": [{"source": "x", "destination": "q",
 *                   "destination_type": "queue", "routing_key": "k",
 *                   "arguments": "<hex>"}]}]}
 *
 * Names are JSON strings, or {"hex": "..."} when they are not UTF-8;
 * argument tables are the hex of their wire bytes.  mq_defs_save
 * rewrites the whole file on every change (write a temporary file,
 * fsync it, rename it over, fsync the directory), before the -ok goes
 * out: declarations are rare, and a whole small file is simpler to
 * trust than a journal of changes.
 */
#include "mq_log_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ob_cycle.h"

#define MQ_DEFS_FILE  "defs.json"
#define MQ_DEFS_TMP   "defs.json.tmp"

static const char *const mq_defs_types[] = {
    "direct", "fanout", "topic", "headers"
};


static json_t *
mq_defs_hex(const uint8_t *p, size_t n)
{
    static const char  digits[] = "0123456789abcdef";
    char              *s = malloc(n * 2 + 1);
    json_t            *j;
    size_t             i;

    if (s == NULL) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[2 * n] = '\0';
    j = json_string(s);
    free(s);
    return j;
}


/* A name or key: a string, or {"hex": ...} for bytes that are not UTF-8. */
static json_t *
mq_defs_name(const char *p, size_t n)
{
    json_t *j = json_stringn(p, n);

    if (j == NULL) {
        j = json_pack("{s:o}", "hex", mq_defs_hex((const uint8_t *) p, n));
    }
    return j;
}


static void
mq_defs_set_args(json_t *o, const uint8_t *args, size_t len)
{
    if (args != NULL && len > 0) {
        json_object_set_new(o, "arguments", mq_defs_hex(args, len));
    }
}


static int
mq_defs_queue_kept(const mq_queue_t *q)
{
    return q->durable && !q->exclusive && !q->deleted;
}


static json_t *
mq_defs_vhost(mq_vhost_t *vh, uint32_t *next_qid)
{
    json_t        *v, *xs, *qs, *bs, *o;
    mq_link_t     *l, *bl;
    mq_exchange_t *x;
    mq_queue_t    *q;
    mq_binding_t  *b;

    xs = json_array();
    qs = json_array();
    bs = json_array();
    v = json_pack("{s:o,s:o,s:o,s:o}", "name", json_string(vh->name),
                  "exchanges", xs, "queues", qs, "bindings", bs);
    if (v == NULL) {
        return NULL;
    }
    for (l = vh->exchange_list.next; l != &vh->exchange_list; l = l->next) {
        x = MQ_ENTRY(l, mq_exchange_t, link);
        if (!x->durable || x->builtin) {
            continue;
        }
        o = json_pack("{s:o,s:s,s:b,s:b}",
                      "name", mq_defs_name(x->name, x->name_len),
                      "type", mq_defs_types[x->type],
                      "auto_delete", (int) x->auto_delete,
                      "internal", (int) x->internal);
        mq_defs_set_args(o, x->args, x->args_len);
        json_array_append_new(xs, o);
    }
    for (l = vh->queue_list.next; l != &vh->queue_list; l = l->next) {
        q = MQ_ENTRY(l, mq_queue_t, link);
        if (!mq_defs_queue_kept(q)) {
            continue;
        }
        if (q->log_id == 0) {
            q->log_id = (*next_qid)++;
        }
        o = json_pack("{s:o,s:I,s:b}",
                      "name", mq_defs_name(q->name, q->name_len),
                      "id", (json_int_t) q->log_id,
                      "auto_delete", (int) q->auto_delete);
        mq_defs_set_args(o, q->args, q->args_len);
        json_array_append_new(qs, o);
    }
    for (l = vh->exchange_list.next; l != &vh->exchange_list; l = l->next) {
        x = MQ_ENTRY(l, mq_exchange_t, link);
        if (!(x->durable || x->builtin) || x->name_len == 0) {
            continue;
        }
        for (bl = x->bindings.next; bl != &x->bindings; bl = bl->next) {
            b = MQ_ENTRY(bl, mq_binding_t, src_link);
            if (b->queue != NULL ? !mq_defs_queue_kept(b->queue)
                : (b->exchange == NULL || !b->exchange->durable))
            {
                continue;
            }
            o = json_pack("{s:o,s:o,s:s,s:o}",
                "source", mq_defs_name(x->name, x->name_len),
                "destination", b->queue != NULL
                    ? mq_defs_name(b->queue->name, b->queue->name_len)
                    : mq_defs_name(b->exchange->name, b->exchange->name_len),
                "destination_type", b->queue != NULL ? "queue" : "exchange",
                "routing_key", mq_defs_name(b->key, b->key_len));
            mq_defs_set_args(o, b->args, b->args_len);
            json_array_append_new(bs, o);
        }
    }
    return v;
}


static int
mq_defs_write(const char *dir, int dirfd, const char *text)
{
    char    tmp[4096], path[4096];
    size_t  len = strlen(text), off = 0;
    ssize_t n;
    int     fd;

    snprintf(tmp, sizeof(tmp), "%s/%s", dir, MQ_DEFS_TMP);
    snprintf(path, sizeof(path), "%s/%s", dir, MQ_DEFS_FILE);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return OB_ERR;
    }
    while (off < len) {
        n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            close(fd);
            unlink(tmp);
            return OB_ERR;
        }
        off += (size_t) n;
    }
    if (fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return OB_ERR;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return OB_ERR;
    }
    return dirfd >= 0 && fsync(dirfd) != 0 ? OB_ERR : OB_OK;
}


int
mq_defs_save(mq_t *mq)
{
    mq_log_t   *log = mq->log;
    mq_vhost_t *vh;
    json_t     *root, *vhosts, *v;
    char       *text;
    int         rc;

    if (log == NULL || log->loading) {
        return OB_OK;
    }
    vhosts = json_array();
    root = json_pack("{s:i,s:o}", "version", 1, "vhosts", vhosts);
    if (root == NULL) {
        return OB_ERR;
    }
    for (vh = mq->vhosts; vh != NULL; vh = vh->next) {
        v = mq_defs_vhost(vh, &log->next_queue_id);
        if (v == NULL) {
            json_decref(root);
            return OB_ERR;
        }
        json_array_append_new(vhosts, v);
    }
    json_object_set_new(root, "next_queue_id",
                        json_integer((json_int_t) log->next_queue_id));
    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (text == NULL) {
        return OB_ERR;
    }
    rc = mq_defs_write(mq->data_dir, log->dirfd, text);
    free(text);
    if (rc != OB_OK) {
        ob_log_error(&mq->cy->log, "mq: cannot write %s/%s: %s",
                     mq->data_dir, MQ_DEFS_FILE, strerror(errno));
    }
    return rc;
}


/* ---- loading -------------------------------------------------------------- */

static int
mq_defs_unhex(const char *s, uint8_t *out, size_t cap, size_t *n)
{
    size_t len = strlen(s), i;
    int    hi, lo;

    if (len % 2 != 0 || len / 2 > cap) {
        return OB_ERR;
    }
    for (i = 0; i < len / 2; i++) {
        hi = s[2 * i] <= '9' ? s[2 * i] - '0' : s[2 * i] - 'a' + 10;
        lo = s[2 * i + 1] <= '9' ? s[2 * i + 1] - '0'
                                 : s[2 * i + 1] - 'a' + 10;
        if (hi < 0 || hi > 15 || lo < 0 || lo > 15) {
            return OB_ERR;
        }
        out[i] = (uint8_t) (hi << 4 | lo);
    }
    *n = len / 2;
    return OB_OK;
}


/* A name back into buf (NUL-terminated, MQ_NAME_MAX bytes at most). */
static int
mq_defs_get_name(json_t *j, char *buf, size_t *len)
{
    const char *s;
    size_t      n;

    if (json_is_object(j)) {
        s = json_string_value(json_object_get(j, "hex"));
        if (s == NULL || mq_defs_unhex(s, (uint8_t *) buf, MQ_NAME_MAX, &n)
            != OB_OK)
        {
            return OB_ERR;
        }
    } else {
        s = json_string_value(j);
        n = json_string_length(j);
        if (s == NULL || n > MQ_NAME_MAX) {
            return OB_ERR;
        }
        memcpy(buf, s, n);
    }
    buf[n] = '\0';
    if (len != NULL) {
        *len = n;
    }
    return OB_OK;
}


/* The arguments table: *out is malloc'd (free it), or empty. */
static int
mq_defs_get_args(json_t *o, uint8_t **out, ob_str_t *args)
{
    const char *s = json_string_value(json_object_get(o, "arguments"));
    size_t      n;

    *out = NULL;
    args->data = NULL;
    args->len = 0;
    if (s == NULL) {
        return OB_OK;
    }
    *out = malloc(strlen(s) / 2 + 1);
    if (*out == NULL || mq_defs_unhex(s, *out, strlen(s) / 2, &n) != OB_OK) {
        free(*out);
        *out = NULL;
        return OB_ERR;
    }
    args->data = *out;
    args->len = n;
    return OB_OK;
}


static int
mq_defs_type(const char *s)
{
    int i;

    for (i = 0; s != NULL && i < 4; i++) {
        if (strcmp(s, mq_defs_types[i]) == 0) {
            return i;
        }
    }
    return -1;
}


static void
mq_defs_load_vhost(mq_t *mq, mq_vhost_t *vh, json_t *v, uint32_t *next_qid)
{
    char        name[MQ_NAME_MAX + 1], dest[MQ_NAME_MAX + 1];
    char        key[MQ_NAME_MAX + 1];
    size_t      i, klen;
    json_t     *o;
    uint8_t    *buf;
    ob_str_t    args, k;
    mq_queue_t *q;
    int         type;

    json_array_foreach(json_object_get(v, "exchanges"), i, o) {
        type = mq_defs_type(json_string_value(json_object_get(o, "type")));
        if (mq_defs_get_name(json_object_get(o, "name"), name, NULL) != OB_OK
            || type < 0 || mq_defs_get_args(o, &buf, &args) != OB_OK)
        {
            ob_log_warning(&mq->cy->log, "mq: defs.json: a bad exchange in "
                           "vhost '%s' skipped", vh->name);
            continue;
        }
        if (mq_exchange_restore(vh, name, (mq_exchange_type_t) type,
                json_is_true(json_object_get(o, "auto_delete")),
                json_is_true(json_object_get(o, "internal")), args) == NULL)
        {
            ob_log_warning(&mq->cy->log, "mq: cannot restore exchange '%s' "
                           "in vhost '%s'", name, vh->name);
        }
        free(buf);
    }
    json_array_foreach(json_object_get(v, "queues"), i, o) {
        json_int_t id = json_integer_value(json_object_get(o, "id"));

        if (mq_defs_get_name(json_object_get(o, "name"), name, NULL) != OB_OK
            || id <= 0 || id >= UINT32_MAX
            || mq_defs_get_args(o, &buf, &args) != OB_OK)
        {
            ob_log_warning(&mq->cy->log, "mq: defs.json: a bad queue in "
                           "vhost '%s' skipped", vh->name);
            continue;
        }
        q = mq_queue_restore(vh, name,
                             json_is_true(json_object_get(o, "auto_delete")),
                             args);
        free(buf);
        if (q == NULL) {
            ob_log_warning(&mq->cy->log, "mq: cannot restore queue '%s' in "
                           "vhost '%s'", name, vh->name);
            continue;
        }
        q->log_id = (uint32_t) id;
        if ((uint32_t) id >= *next_qid) {
            *next_qid = (uint32_t) id + 1;
        }
    }
    json_array_foreach(json_object_get(v, "bindings"), i, o) {
        const char *dt = json_string_value(json_object_get(o,
                                           "destination_type"));

        if (mq_defs_get_name(json_object_get(o, "source"), name, NULL)
            != OB_OK
            || mq_defs_get_name(json_object_get(o, "destination"), dest, NULL)
               != OB_OK
            || mq_defs_get_name(json_object_get(o, "routing_key"), key, &klen)
               != OB_OK
            || dt == NULL || mq_defs_get_args(o, &buf, &args) != OB_OK)
        {
            ob_log_warning(&mq->cy->log, "mq: defs.json: a bad binding in "
                           "vhost '%s' skipped", vh->name);
            continue;
        }
        k.data = (const uint8_t *) key;
        k.len = klen;
        if (mq_binding_restore(vh, name, dest, strcmp(dt, "queue") == 0, k,
                               args) != OB_OK)
        {
            ob_log_warning(&mq->cy->log, "mq: cannot restore a binding of "
                           "'%s' to '%s' in vhost '%s'", name, dest,
                           vh->name);
        }
        free(buf);
    }
}


int
mq_defs_load(mq_t *mq, uint32_t *next_qid, ob_err_t *err)
{
    char          path[4096];
    json_t       *root, *v;
    json_error_t  jerr;
    mq_vhost_t   *vh;
    const char   *name;
    json_int_t    next;
    size_t        i;

    snprintf(path, sizeof(path), "%s/%s", mq->data_dir, MQ_DEFS_FILE);
    if (access(path, F_OK) != 0) {
        return OB_OK;
    }
    root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        return ob_err_set(err, "mq: %s: line %d: %.200s", path, jerr.line,
                          jerr.text);
    }
    next = json_integer_value(json_object_get(root, "next_queue_id"));
    if (next > 0 && next < UINT32_MAX && (uint32_t) next > *next_qid) {
        *next_qid = (uint32_t) next;
    }
    json_array_foreach(json_object_get(root, "vhosts"), i, v) {
        name = json_string_value(json_object_get(v, "name"));
        vh = name != NULL ? mq_vhost_find(mq, name, strlen(name)) : NULL;
        if (vh == NULL) {
            ob_log_warning(&mq->cy->log, "mq: %s: vhost '%s' is not "
                           "configured (mq.vhosts): its definitions are not "
                           "loaded", path, name != NULL ? name : "?");
            continue;
        }
        mq_defs_load_vhost(mq, vh, v, next_qid);
    }
    json_decref(root);
    return OB_OK;
}
