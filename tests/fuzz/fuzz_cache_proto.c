/*
 * fuzz_cache_proto.c: libFuzzer harness for the cache's pure parser
 * (cache_proto.c): framing, the tokenizer, the number readers and base64.
 *
 * Besides "no crash, no out-of-bounds read" (ASan), it checks what each
 * function promises: a line never extends past the input, tokens lie
 * inside the line and hold no spaces (but the last, when the line had more
 * than the maximum), numbers read back as what the formatter writes, and
 * base64 round-trips.  Built and run by `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_int.h"


static void
fuzz_check_tokens(const char *line, size_t len)
{
    ob_str_t  tokens[CACHE_MAX_TOKENS];
    size_t    n, i;
    uint64_t  u64;
    uint32_t  u32;
    int32_t   i32;
    int64_t   i64;
    char      buf[24];

    n = cache_proto_tokenize(line, len, tokens, CACHE_MAX_TOKENS);
    if (n > CACHE_MAX_TOKENS) {
        abort();
    }
    for (i = 0; i < n; i++) {
        if (tokens[i].len == 0
            || (const char *) tokens[i].data < line
            || (const char *) tokens[i].data + tokens[i].len > line + len)
        {
            abort();
        }
        if (i + 1 < n && memchr(tokens[i].data, ' ', tokens[i].len) != NULL) {
            abort();
        }
        if (cache_proto_u64(&tokens[i], &u64) == OB_OK) {
            /* What was read formats back to a number that reads the same. */
            ob_str_t again = { cache_proto_u64_format(u64, buf),
                               (const uint8_t *) buf };
            uint64_t back;
            if (cache_proto_u64(&again, &back) != OB_OK || back != u64) {
                abort();
            }
        }
        (void) cache_proto_u32(&tokens[i], &u32);
        (void) cache_proto_i32(&tokens[i], &i32);
        (void) cache_proto_i64(&tokens[i], &i64);
    }
}


static void
fuzz_check_base64(const uint8_t *data, size_t size)
{
    char  enc[1400], dec[1100];
    long  elen, dlen;

    if (size > 1000) {
        size = 1000;
    }
    elen = cache_proto_b64_encode((const char *) data, size, enc, sizeof(enc));
    if (elen < 0) {
        abort();
    }
    dlen = cache_proto_b64_decode(enc, (size_t) elen, dec, sizeof(dec));
    if (dlen != (long) size || memcmp(dec, data, size) != 0) {
        abort();
    }
    /* Arbitrary bytes as base64: any answer, but no overrun. */
    (void) cache_proto_b64_decode((const char *) data, size, dec, sizeof(dec));
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t  line_len, consumed;
    char   *copy;
    int     rc;

    rc = cache_proto_line(data, size, &line_len, &consumed);
    if (rc == OB_OK) {
        if (consumed > size || line_len >= consumed
            || data[consumed - 1] != '\n')
        {
            abort();
        }
        /* Tokenize a copy of exactly the line, so ASan sees any overrun. */
        copy = malloc(line_len ? line_len : 1);
        memcpy(copy, data, line_len);
        fuzz_check_tokens(copy, line_len);
        free(copy);
    } else if (rc != OB_AGAIN && rc != OB_PROTO_ERR) {
        abort();
    }

    fuzz_check_base64(data, size);
    return 0;
}
