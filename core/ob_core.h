/*
 * ob_core.h: the return codes and small types every part of onebox shares.
 *
 * The codes follow nginx's values so that a reader who knows NGX_AGAIN knows
 * OB_AGAIN.  Everything that can fail returns int; results go through
 * out-parameters marked OUT.
 */
#ifndef OB_CORE_H
#define OB_CORE_H

#include <stddef.h>
#include <stdint.h>

#define OB_OK         0
#define OB_ERR       -1
#define OB_AGAIN     -2   /* need more input */
#define OB_BUSY      -3
#define OB_DONE      -4   /* finished: e.g. close the connection after the reply */
#define OB_DECLINED  -5
#define OB_PROTO_ERR -6   /* the peer sent something the protocol rejects */

#define OB_VERSION "0.1.0"

/* A borrowed slice of bytes: not NUL-terminated, valid as long as its owner. */
typedef struct ob_str_s {
    size_t         len;
    const uint8_t *data;
} ob_str_t;

/* A caller-owned buffer for one error message, filled by functions that fail
 * in ways a person must read (configuration, start-up). */
typedef struct ob_err_s {
    char msg[512];
} ob_err_t;

/* Formats a message into err (when err is not NULL) and returns OB_ERR, so
 * that a failing path reads `return ob_err_set(err, "core.x: ...", ...);`. */
int ob_err_set(ob_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define OB_MIN(a, b) ((a) < (b) ? (a) : (b))
#define OB_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif /* OB_CORE_H */
