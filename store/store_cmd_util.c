/*
 * store_cmd_util.c: the helpers every command handler uses (store_int.h):
 * errors that are counted, lookups in the client's database, Redis's
 * number parsing, and the signals a write sends (WATCH, keyspace events,
 * blocked clients).
 */
#include "store_srv.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


int64_t
store_now_ms(const store_client_t *c)
{
    return c->st->now_ms;
}


ob_arena_t *
store_arena(const store_client_t *c)
{
    return c->st->arena;
}


int
store_owner(const store_client_t *c)
{
    return c->st->owner;
}


store_dbs_t *
store_dbs(store_client_t *c)
{
    return c->st->dbs;
}


uint64_t *
store_random_state(store_client_t *c)
{
    return &c->st->rng;
}


uint64_t
store_random(store_client_t *c)
{
    uint64_t z = (c->st->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}


/* INFO errorstats counts errors by their first word ("ERR", "WRONGTYPE"). */
void
store_errstat_count(store_t *st, const char *msg, size_t len)
{
    size_t  n = 0, i;

    while (n < len && n < sizeof(st->errstats[0].code) - 1 && msg[n] != ' ') {
        n++;
    }
    st->total_error_replies++;
    for (i = 0; i < st->nerrstats; i++) {
        if (strlen(st->errstats[i].code) == n
            && memcmp(st->errstats[i].code, msg, n) == 0)
        {
            st->errstats[i].count++;
            return;
        }
    }
    if (st->nerrstats < STORE_ERRSTAT_MAX) {
        memcpy(st->errstats[st->nerrstats].code, msg, n);
        st->errstats[st->nerrstats].code[n] = '\0';
        st->errstats[st->nerrstats].count = 1;
        st->nerrstats++;
    }
}


void
store_add_err(store_client_t *c, const char *msg)
{
    size_t len = strlen(msg);

    store_errstat_count(c->st, msg, len);
    store_reply_error(&c->r, msg, len);
}


void
store_add_errf(store_client_t *c, const char *fmt, ...)
{
    char     msg[1024];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    store_add_err(c, msg);
}


void
store_add_ok(store_client_t *c)
{
    store_reply_simple(&c->r, "OK", 2);
}


void
store_add_err_arity(store_client_t *c, const char *name)
{
    store_add_errf(c, "ERR wrong number of arguments for '%s' command", name);
}


store_obj_t *
store_lookup_read(store_client_t *c, const ob_str_t *key)
{
    store_obj_t *o;

    o = store_db_lookup_read(c->db, key->data, key->len, c->st->now_ms, 0);
    if (o == NULL) {
        c->st->keyspace_misses++;
        store_notify(c->st, c->dbid, key, STORE_NOTIFY_KEY_MISS, "keymiss");
    } else {
        c->st->keyspace_hits++;
    }
    return o;
}


store_obj_t *
store_lookup_write(store_client_t *c, const ob_str_t *key)
{
    return store_db_lookup_write(c->db, key->data, key->len, c->st->now_ms,
                                 0);
}


int
store_check_type_or_reply(store_client_t *c, const store_obj_t *o,
                          store_obj_type_t type)
{
    if (o->type != type) {
        store_add_err(c, STORE_ERR_WRONGTYPE);
        return OB_ERR;
    }
    return OB_OK;
}


store_obj_t *
store_lookup_typed(store_client_t *c, const ob_str_t *key,
                   store_obj_type_t type, int for_write, int *wrong)
{
    store_obj_t *o;

    o = for_write ? store_lookup_write(c, key) : store_lookup_read(c, key);
    if (wrong != NULL) {
        *wrong = 0;
    }
    if (o != NULL && o->type != type) {
        store_add_err(c, STORE_ERR_WRONGTYPE);
        if (wrong != NULL) {
            *wrong = 1;
        }
        return NULL;
    }
    return o;
}


int
store_parse_ll(const ob_str_t *a, long long *v)
{
    return store_resp_ll(a->data, a->len, v);
}


/*
 * Redis's string2d / getDoubleFromObject: strtod over the whole argument,
 * no leading space, no trailing bytes, no NaN; "inf" and "-inf" accepted.
 */
int
store_parse_double(const ob_str_t *a, double *v)
{
    char    buf[128];
    char   *end;
    double  d;

    if (a->len == 0 || a->len >= sizeof(buf) || isspace(a->data[0])) {
        return OB_ERR;
    }
    memcpy(buf, a->data, a->len);
    buf[a->len] = '\0';
    errno = 0;
    d = strtod(buf, &end);
    if ((size_t) (end - buf) != a->len || isnan(d)
        || (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL || d == 0)))
    {
        return OB_ERR;
    }
    *v = d;
    return OB_OK;
}


int
store_parse_long_double(const ob_str_t *a, long double *v)
{
    char         buf[5200];
    char        *end;
    long double  d;

    if (a->len == 0 || a->len >= sizeof(buf) || isspace(a->data[0])) {
        return OB_ERR;
    }
    memcpy(buf, a->data, a->len);
    buf[a->len] = '\0';
    errno = 0;
    d = strtold(buf, &end);
    if ((size_t) (end - buf) != a->len || isnan(d) || errno == ERANGE) {
        return OB_ERR;
    }
    *v = d;
    return OB_OK;
}


int
store_get_ll_or_reply(store_client_t *c, const ob_str_t *a, long long *v,
                      const char *msg)
{
    if (store_parse_ll(a, v) != OB_OK) {
        store_add_err(c, msg != NULL ? msg : STORE_ERR_NOT_INT);
        return OB_ERR;
    }
    return OB_OK;
}


int
store_get_range_ll_or_reply(store_client_t *c, const ob_str_t *a,
                            long long min, long long max, long long *v,
                            const char *msg)
{
    long long n;

    if (store_get_ll_or_reply(c, a, &n, msg) != OB_OK) {
        return OB_ERR;
    }
    if (n < min || n > max) {
        if (msg != NULL) {
            store_add_err(c, msg);
        } else {
            /* (sic: Redis 7.0's text) */
            store_add_errf(c, "ERR value is out of range, value must "
                           "between %lld and %lld", min, max);
        }
        return OB_ERR;
    }
    *v = n;
    return OB_OK;
}


/* Redis's getPositiveLongFromObjectOrReply: a non-integer and a negative
 * number get the same message. */
int
store_get_positive_ll_or_reply(store_client_t *c, const ob_str_t *a,
                               long long *v)
{
    return store_get_range_ll_or_reply(c, a, 0, LLONG_MAX, v,
                                       STORE_ERR_POSITIVE);
}


int
store_get_double_or_reply(store_client_t *c, const ob_str_t *a, double *v,
                          const char *msg)
{
    if (store_parse_double(a, v) != OB_OK) {
        store_add_err(c, msg != NULL ? msg : STORE_ERR_NOT_FLOAT);
        return OB_ERR;
    }
    return OB_OK;
}


int
store_get_long_double_or_reply(store_client_t *c, const ob_str_t *a,
                               long double *v, const char *msg)
{
    if (store_parse_long_double(a, v) != OB_OK) {
        store_add_err(c, msg != NULL ? msg : STORE_ERR_NOT_FLOAT);
        return OB_ERR;
    }
    return OB_OK;
}


/*
 * Redis's ld2string in LD_STR_HUMAN mode: %.17Lf, then the trailing zeros
 * (and a trailing dot) go; "-0" becomes "0".  Never an exponent, so 1e308
 * prints all its digits.
 */
size_t
store_format_long_double(long double v, char *buf)
{
    int     n;
    char   *dot;

    if (isinf(v)) {
        return (size_t) snprintf(buf, STORE_LDBL_MAX, v > 0 ? "inf" : "-inf");
    }
    n = snprintf(buf, STORE_LDBL_MAX, "%.17Lf", v);
    if (n < 0 || n >= STORE_LDBL_MAX) {
        return 0;
    }
    dot = strchr(buf, '.');
    if (dot != NULL) {
        char *p = buf + n - 1;

        while (p > dot && *p == '0') {
            p--;
        }
        if (p == dot) {
            p--;
        }
        n = (int) (p - buf + 1);
        buf[n] = '\0';
    }
    if (n == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        buf[1] = '\0';
        n = 1;
    }
    return (size_t) n;
}


int
store_arg_is(const ob_str_t *a, const char *opt)
{
    size_t n = strlen(opt);

    return a->len == n && strncasecmp((const char *) a->data, opt, n) == 0;
}


int
store_rank_range(long long *start, long long *end, long long len)
{
    /* len >= 0 and the indexes only move towards it: no overflow */
    if (*start < 0) {
        *start += len;
    }
    if (*end < 0) {
        *end += len;
    }
    if (*start < 0) {
        *start = 0;
    }
    if (*start > *end || *start >= len) {
        return 0;
    }
    if (*end >= len) {
        *end = len - 1;
    }
    return 1;
}


void
store_reply_str(store_client_t *c, const char *s)
{
    store_reply_bulk(&c->r, s, strlen(s));
}


void
store_reply_obj(store_client_t *c, const store_obj_t *o)
{
    char         buf[STORE_OBJ_INTBUF];
    const char  *p;
    size_t       len;

    p = store_obj_string_bytes(o, buf, &len);
    store_reply_bulk(&c->r, p, len);
}


void
store_key_changed(store_client_t *c, const ob_str_t *key, int event_class,
                  const char *event)
{
    store_key_changed_db(c, c->dbid, key, event_class, event);
}


void
store_dirty_add(store_client_t *c, long long n)
{
    c->st->dirty += (uint64_t) n;
}


void
store_key_changed_db(store_client_t *c, int dbid, const ob_str_t *key,
                     int event_class, const char *event)
{
    store_t *st = c->st;

    st->dirty++;
    store_watch_touch(st, dbid, key->data, key->len);
    if (event != NULL) {
        store_notify(st, dbid, key, event_class, event);
    }
}


/*
 * Redis's notifyKeyspaceEvent: "__keyspace@<db>__:<key>" gets the event
 * name, "__keyevent@<db>__:<event>" gets the key, for the classes that
 * notify-keyspace-events enables.
 */
void
store_notify(store_t *st, int dbid, const ob_str_t *key, int event_class,
             const char *event)
{
    char    chan[512];
    size_t  elen;
    int     n;

    if (!(st->notify_flags & (unsigned) event_class)) {
        return;
    }
    elen = strlen(event);
    if (st->notify_keyspace) {
        n = snprintf(chan, sizeof(chan), "__keyspace@%d__:", dbid);
        if ((size_t) n + key->len <= sizeof(chan)) {
            memcpy(chan + n, key->data, key->len);
            store_pubsub_publish(st, chan, (size_t) n + key->len, event,
                                 elen);
        } else {
            char *big = malloc((size_t) n + key->len);

            if (big != NULL) {
                memcpy(big, chan, (size_t) n);
                memcpy(big + n, key->data, key->len);
                store_pubsub_publish(st, big, (size_t) n + key->len, event,
                                     elen);
                free(big);
            }
        }
    }
    if (st->notify_keyevent) {
        n = snprintf(chan, sizeof(chan), "__keyevent@%d__:%s", dbid, event);
        store_pubsub_publish(st, chan, (size_t) n, key->data, key->len);
    }
}
