/*
 * mq_http_list.c: how the management API sends a list, with RabbitMQ's
 * query parameters:
 *
 *   columns=a,b        only those keys of each document
 *   sort=key           by that key (numbers as numbers), sort_reverse=true
 *   page=n             a page: {"filtered_count", "item_count", "items",
 *   page_size=n          "page", "page_count", "page_size", "total_count"}
 *   name=s             (paged) names containing s, or matching the regular
 *   use_regex=true       expression s (POSIX extended here, Erlang's PCRE
 *                        there: the same for the usual patterns)
 *
 * Without sort, lists come in RabbitMQ's default order: by vhost, then
 * name (bindings: source, destination type, destination, routing key).
 * Bad parameters get RabbitMQ's 400 answers.
 */
#include "mq_http.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "ob_http.h"

#define MQ_HTTP_PAGE_SIZE      100     /* RabbitMQ's default */
#define MQ_HTTP_PAGE_SIZE_MAX  500     /* and its largest */


/* The query string's parameters, or NULL when there is none (free with
 * mq_http_query_free). */
static struct evkeyvalq *
mq_http_query(struct evhttp_request *req)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char              *query = uri != NULL ? evhttp_uri_get_query(uri)
                                                 : NULL;
    struct evkeyvalq        *args;

    if (query == NULL || (args = calloc(1, sizeof(*args))) == NULL) {
        return NULL;
    }
    if (evhttp_parse_query_str(query, args) != 0) {
        free(args);
        return NULL;
    }
    return args;
}


static void
mq_http_query_free(struct evkeyvalq *args)
{
    if (args != NULL) {
        evhttp_clear_headers(args);
        free(args);
    }
}


static const char *
mq_http_query_get(struct evkeyvalq *args, const char *key)
{
    return args != NULL ? evhttp_find_header(args, key) : NULL;
}


/* Keeps only the keys named in `columns` ("a,b,c"; a nested name "a.b"
 * keeps the whole of "a"). */
static json_t *
mq_http_columns(json_t *doc, const char *columns)
{
    json_t     *out;
    const char *p = columns, *end;
    char        key[128];
    size_t      len;

    if (columns == NULL || !json_is_object(doc)) {
        return doc;
    }
    out = json_object();
    while (*p != '\0') {
        end = strchr(p, ',');
        len = end != NULL ? (size_t) (end - p) : strlen(p);
        snprintf(key, sizeof(key), "%.*s", (int) len, p);
        key[strcspn(key, ".")] = '\0';
        if (json_object_get(doc, key) != NULL) {
            json_object_set(out, key, json_object_get(doc, key));
        }
        p += len + (end != NULL);
    }
    json_decref(doc);
    return out;
}


void
mq_http_send_doc(struct evhttp_request *req, json_t *doc)
{
    struct evkeyvalq *args;

    if (doc == NULL) {
        ob_http_reply_json(req, HTTP_INTERNAL, "Internal Server Error",
                           json_pack("{s:s,s:s}", "error", "internal_error",
                                     "reason", "out of memory"));
        return;
    }
    args = mq_http_query(req);
    doc = mq_http_columns(doc, mq_http_query_get(args, "columns"));
    mq_http_query_free(args);
    ob_http_reply_json(req, HTTP_OK, "OK", doc);
}


/* --------------------------------------------------------------- sorting */

static int
mq_http_key_cmp(json_t *a, json_t *b, const char *key)
{
    json_t     *x = json_object_get(a, key), *y = json_object_get(b, key);
    const char *s, *t;

    if (json_is_number(x) && json_is_number(y)) {
        return json_number_value(x) < json_number_value(y) ? -1
               : json_number_value(x) > json_number_value(y);
    }
    s = json_string_value(x);
    t = json_string_value(y);
    return strcmp(s != NULL ? s : "", t != NULL ? t : "");
}


static int
mq_http_default_cmp(json_t *a, json_t *b)
{
    static const char *const keys[] = { "vhost", "name", "source",
        "destination_type", "destination", "routing_key", "properties_key",
        "consumer_tag", NULL };
    size_t i;
    int    c;

    for (i = 0; keys[i] != NULL; i++) {
        c = mq_http_key_cmp(a, b, keys[i]);
        if (c != 0) {
            return c;
        }
    }
    return 0;
}


/* qsort_r's comparison: by `sort` (ctx, or NULL), then the default. */
static int
mq_http_doc_cmp(const void *pa, const void *pb, void *ctx)
{
    json_t     *a = *(json_t *const *) pa, *b = *(json_t *const *) pb;
    const char *sort = ctx;
    int         c = sort != NULL ? mq_http_key_cmp(a, b, sort) : 0;

    return c != 0 ? c : mq_http_default_cmp(a, b);
}


/* ---------------------------------------------------------------- paging */

static void
mq_http_bad(struct evhttp_request *req, const char *error,
            const char *reason)
{
    ob_http_reply_json(req, HTTP_BADREQUEST, "Bad Request",
                       json_pack("{s:s,s:s}", "error", error,
                                 "reason", reason));
}


/* Parses a positive decimal; -1 when it is not one. */
static long
mq_http_number(const char *s)
{
    char *end;
    long  v;

    if (s == NULL || *s == '\0') {
        return -1;
    }
    v = strtol(s, &end, 10);
    return *end == '\0' && v >= 0 && v < 1000000000 ? v : -1;
}


/* Drops the documents whose name does not match `name` (a substring, or
 * with use_regex a regular expression); OB_ERR on a bad expression. */
static int
mq_http_filter(json_t **items, size_t *n, const char *name, int use_regex)
{
    regex_t     re;
    size_t      i, kept = 0;
    const char *v;
    int         keep;

    if (use_regex && regcomp(&re, name, REG_EXTENDED | REG_NOSUB) != 0) {
        return OB_ERR;
    }
    for (i = 0; i < *n; i++) {
        v = json_string_value(json_object_get(items[i], "name"));
        keep = v != NULL && (use_regex ? regexec(&re, v, 0, NULL, 0) == 0
                                       : strstr(v, name) != NULL);
        if (keep) {
            items[kept++] = items[i];
        } else {
            json_decref(items[i]);
        }
    }
    *n = kept;
    if (use_regex) {
        regfree(&re);
    }
    return OB_OK;
}


void
mq_http_send_list(struct evhttp_request *req, json_t **items, size_t n,
                  int failed)
{
    struct evkeyvalq *args = mq_http_query(req);
    const char       *sort = mq_http_query_get(args, "sort"),
                     *rev = mq_http_query_get(args, "sort_reverse"),
                     *page_s = mq_http_query_get(args, "page"),
                     *size_s = mq_http_query_get(args, "page_size"),
                     *name = mq_http_query_get(args, "name"),
                     *regex = mq_http_query_get(args, "use_regex"),
                     *columns = mq_http_query_get(args, "columns");
    long              page = 0, size = MQ_HTTP_PAGE_SIZE, pages = 0;
    size_t            total = n, i, first = 0, last = n;
    json_t           *arr = json_array(), *doc;
    char              reason[200];

    if (sort != NULL && *sort == '\0') {
        sort = NULL;
    }
    if (n > 1) {
        qsort_r(items, n, sizeof(*items), mq_http_doc_cmp, (void *) sort);
    }
    if (rev != NULL && strcmp(rev, "true") == 0) {
        for (i = 0; i < n / 2; i++) {
            doc = items[i];
            items[i] = items[n - 1 - i];
            items[n - 1 - i] = doc;
        }
    }
    if (page_s != NULL) {
        page = mq_http_number(page_s);
        size = size_s != NULL ? mq_http_number(size_s) : MQ_HTTP_PAGE_SIZE;
        if (page < 0 || size < 0
            || (name != NULL && *name != '\0'
                && mq_http_filter(items, &n, name, regex != NULL
                                  && strcmp(regex, "true") == 0) != OB_OK))
        {
            mq_http_bad(req, "bad_request", "Pagination parameters are "
                        "invalid");
            goto done;
        }
        if (page < 1 || size < 1 || size > MQ_HTTP_PAGE_SIZE_MAX) {
            snprintf(reason, sizeof(reason), "Invalid pagination parameters: "
                     "page number %ld, page size %s", page,
                     size_s != NULL ? size_s : "undefined");
            mq_http_bad(req, "invalid_pagination_parameters", reason);
            goto done;
        }
        pages = ((long) n + size - 1) / size;
        if (page > pages && !(page == 1 && n == 0)) {
            snprintf(reason, sizeof(reason), "Page out of range, page: %ld "
                     "page size: %ld, len: %zu", page, size, n);
            mq_http_bad(req, "page_out_of_range", reason);
            goto done;
        }
        first = (size_t) ((page - 1) * size);
        last = first + (size_t) size < n ? first + (size_t) size : n;
    }
    for (i = first; i < last; i++) {
        json_array_append_new(arr, mq_http_columns(items[i], columns));
        items[i] = NULL;
    }
    if (failed) {
        json_decref(arr);
        arr = NULL;
    } else if (page_s != NULL) {
        arr = json_pack("{s:I,s:I,s:o,s:I,s:I,s:I,s:I}",
            "filtered_count", (json_int_t) n,
            "item_count", (json_int_t) (last - first),
            "items", arr,
            "page", (json_int_t) page,
            "page_count", (json_int_t) pages,
            "page_size", (json_int_t) size,
            "total_count", (json_int_t) total);
    }
    if (arr == NULL) {
        ob_http_reply_json(req, HTTP_INTERNAL, "Internal Server Error",
                           json_pack("{s:s,s:s}", "error", "internal_error",
                                     "reason", "out of memory"));
    } else {
        ob_http_reply_json(req, HTTP_OK, "OK", arr);
        arr = NULL;
    }
done:
    json_decref(arr);
    for (i = 0; i < n; i++) {
        json_decref(items[i]);
    }
    free(items);
    mq_http_query_free(args);
}
