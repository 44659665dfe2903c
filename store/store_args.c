/*
 * store_args.c: the arguments of a parsed RESP request as byte slices
 * (see store_args_t in store_srv.h).  A client connection and the
 * replica's link to its master read the same protocol and run commands
 * the same way, so they keep their arguments the same way too.
 */
#include "store_srv.h"

#include <stdlib.h>


/*
 * Grows both arrays to `want` entries and hands the parser its new one.
 * The parser's capacity is set as soon as its array has grown, even if
 * the decoded array then fails to: each capacity stays true to its own
 * array, and store_args_decode checks the decoded one before it writes.
 */
int
store_args_grow(store_args_t *a, store_resp_parser_t *p, size_t want)
{
    store_arg_t  *args;
    ob_str_t     *argv;

    args = realloc(a->args, want * sizeof(*args));
    if (args == NULL) {
        return OB_ERR;
    }
    a->args = args;
    p->argv = args;
    p->argv_cap = want;
    argv = realloc(a->argv, want * sizeof(*argv));
    if (argv == NULL) {
        return OB_ERR;
    }
    a->argv = argv;
    a->argv_cap = want;
    return OB_OK;
}


/*
 * The request's arguments as byte slices into `buf` (the bytes the parser
 * was given).  Quoted inline tokens are the exception: their unquoted form
 * differs from the raw bytes, so it is written to the scratch buffer,
 * which never needs more than the raw tokens' length.
 */
int
store_args_decode(store_args_t *a, store_resp_parser_t *p,
                  const uint8_t *buf, const store_req_t *req)
{
    size_t    i, need = 0, used = 0;
    uint8_t  *grown;

    if (req->argc > a->argv_cap
        && store_args_grow(a, p, req->argc) != OB_OK)
    {
        return OB_ERR;
    }
    for (i = 0; i < req->argc; i++) {
        if (req->argv[i].flags & STORE_ARG_QUOTED) {
            need += req->argv[i].len;
        }
    }
    if (need > a->scratch_cap) {
        grown = realloc(a->scratch, need);
        if (grown == NULL) {
            return OB_ERR;
        }
        a->scratch = grown;
        a->scratch_cap = need;
    }
    for (i = 0; i < req->argc; i++) {
        const store_arg_t *arg = &req->argv[i];

        if (arg->flags & STORE_ARG_QUOTED) {
            a->argv[i].data = a->scratch + used;
            a->argv[i].len = store_resp_arg_unquote(buf + arg->off, arg->len,
                                                    a->scratch + used);
            used += a->argv[i].len;
        } else {
            a->argv[i].data = buf + arg->off;
            a->argv[i].len = arg->len;
        }
    }
    return OB_OK;
}


void
store_args_free(store_args_t *a)
{
    free(a->args);
    free(a->argv);
    free(a->scratch);
    a->args = NULL;
    a->argv = NULL;
    a->scratch = NULL;
    a->argv_cap = 0;
    a->scratch_cap = 0;
}
