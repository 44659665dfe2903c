/*
 * fuzz_store_resp.c: libFuzzer harness for the store's RESP request parser
 * (store/store_resp.c).
 *
 * The input is a byte stream from a client.  It is parsed three ways with
 * Redis's default limits: whole, in pieces of pseudo-random sizes (from 1
 * byte up), and one byte at a time (short inputs), each with an argument
 * array that starts small and grows on OB_BUSY.  The three must agree on
 * every request (its arguments' bytes), on the error that ends the stream
 * and on whether bytes are left pending: resuming must never change a
 * result.  A fourth pass with tiny limits and no AUTH (where the "too big"
 * errors legitimately depend on how much was buffered) checks only the
 * invariants: offsets inside the bytes consumed, consumed never past the
 * input, OB_BUSY only with a full array.  Built and run by `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_resp.h"


/* What a pass saw, folded into a hash (FNV-1a) and a count. */
typedef struct fuzz_result_s {
    uint64_t  hash;
    size_t    requests;
} fuzz_result_t;


static void
fuzz_mix(fuzz_result_t *r, const void *data, size_t len)
{
    const uint8_t  *p = data;
    size_t          i;

    for (i = 0; i < len; i++) {
        r->hash ^= p[i];
        r->hash *= 1099511628211ULL;
    }
}


static uint32_t
fuzz_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}


/*
 * Feeds data[0..size): `first` bytes, then pieces from next_len (NULL:
 * the rest at once).  When exact is set, each call sees a fresh copy of
 * exactly the bytes it may read, so that ASan catches any read past them.
 */
static void
fuzz_pass(const uint8_t *data, size_t size, size_t cap, uint32_t seed,
    int mode, const store_resp_parser_t *limits, fuzz_result_t *res)
{
    store_resp_parser_t  p;
    store_req_t          req;
    size_t               start, avail, consumed, i, n, step;
    uint8_t             *win, *arg;
    const uint8_t       *view;
    int                  rc, exact;

    p = *limits;
    p.argv = malloc(cap * sizeof(store_arg_t));
    p.argv_cap = cap;
    if (p.argv == NULL) {
        abort();
    }

    res->hash = 14695981039346656037ULL;
    res->requests = 0;

    exact = (mode != 0 && size <= 2048);
    start = 0;
    if (mode == 0) {
        avail = size;
    } else if (mode == 1) {
        step = fuzz_rand(&seed) % 17;     /* OB_MIN evaluates twice */
        avail = OB_MIN(size, step);
    } else {
        avail = 0;
    }

    for (;;) {
        n = avail - start;
        win = NULL;
        view = data + start;
        if (exact) {
            win = malloc(n ? n : 1);
            if (win == NULL) {
                abort();
            }
            memcpy(win, data + start, n);
            view = win;
        }

        rc = store_resp_parse(&p, view, n, &consumed, &req);
        if (consumed > n) {
            abort();
        }

        if (rc == OB_OK) {
            if (req.argc == 0 || req.argc > p.argv_cap || consumed == 0) {
                abort();
            }
            res->requests++;
            fuzz_mix(res, "R", 1);
            fuzz_mix(res, &req.argc, sizeof(req.argc));
            for (i = 0; i < req.argc; i++) {
                if (req.argv[i].off > consumed
                    || req.argv[i].len > consumed - req.argv[i].off)
                {
                    abort();
                }
                if (req.argv[i].flags & STORE_ARG_QUOTED) {
                    arg = malloc(req.argv[i].len + 1);
                    if (arg == NULL) {
                        abort();
                    }
                    n = store_resp_arg_unquote(view + req.argv[i].off,
                                               req.argv[i].len, arg);
                    if (n > req.argv[i].len) {
                        abort();
                    }
                    fuzz_mix(res, &n, sizeof(n));
                    fuzz_mix(res, arg, n);
                    free(arg);
                } else {
                    fuzz_mix(res, &req.argv[i].len, sizeof(size_t));
                    fuzz_mix(res, view + req.argv[i].off, req.argv[i].len);
                }
            }
            free(win);
            start += consumed;
            continue;
        }

        free(win);
        start += consumed;

        if (rc == OB_BUSY) {
            if (p.argc != p.argv_cap || p.argv_want <= p.argv_cap) {
                abort();
            }
            p.argv = realloc(p.argv, p.argv_want * sizeof(store_arg_t));
            if (p.argv == NULL) {
                abort();
            }
            p.argv_cap = p.argv_want;
            continue;
        }

        if (rc == OB_PROTO_ERR) {
            if (req.err_len == 0 || req.err_len >= sizeof(req.err)) {
                abort();
            }
            fuzz_mix(res, "E", 1);
            fuzz_mix(res, req.err, req.err_len);
            break;
        }

        if (rc != OB_AGAIN) {
            abort();
        }
        if (avail == size) {
            fuzz_mix(res, start < size ? "+" : ".", 1);
            break;
        }
        if (mode == 1) {
            step = 1 + fuzz_rand(&seed) % 64;
            avail = OB_MIN(size, avail + step);
        } else {
            avail++;
        }
    }

    free(p.argv);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    store_resp_parser_t  limits, tiny;
    fuzz_result_t        whole, pieces, bytes, any;
    uint32_t             seed;
    size_t               cap;

    store_resp_parser_init(&limits);
    cap = size > 0 ? 1 + data[0] % 4 : 1;
    seed = 2166136261u ^ (uint32_t) size;
    if (size > 1) {
        seed ^= (uint32_t) data[1] << 8 | data[size - 1];
    }
    if (seed == 0) {
        seed = 1;
    }

    fuzz_pass(data, size, cap, seed, 0, &limits, &whole);
    fuzz_pass(data, size, 1, seed, 1, &limits, &pieces);
    if (whole.hash != pieces.hash || whole.requests != pieces.requests) {
        abort();
    }
    if (size <= 4096) {
        fuzz_pass(data, size, 2, seed, 2, &limits, &bytes);
        if (whole.hash != bytes.hash || whole.requests != bytes.requests) {
            abort();
        }
    }

    /* Tiny limits: any result, but the invariants hold. */
    store_resp_parser_init(&tiny);
    tiny.inline_max = 8;
    tiny.bulk_max = 32;
    tiny.multibulk_max = 6;
    tiny.authenticated = 0;
    tiny.unauth_multibulk_max = 4;
    tiny.unauth_bulk_max = 16;
    fuzz_pass(data, size, 1, seed, size <= 4096 ? 2 : 1, &tiny, &any);

    return 0;
}
