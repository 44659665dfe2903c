/*
 * check_mq_util.h: helpers shared by the AMQP codec's unit tests
 * (check_mq_wire.c, check_mq_table.c, check_mq_log.c) and its fuzz harness
 * (tests/fuzz/fuzz_mq_frame.c, which includes it as
 * "tests/unit/check_mq_util.h").
 *
 * It uses nothing from check, so that the fuzz harness, built without it,
 * can include it too.  Everything is static inline so that each file has
 * its own copy and none has to use all of it.
 */
#ifndef OB_CHECK_MQ_UTIL_H
#define OB_CHECK_MQ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mq/mq_wire.h"


/* What t_mq_frame_method returns for a layout it has no call for. */
#define T_MQ_NO_LAYOUT  ((size_t) -1)


/* A C string as an ob_str_t (no copy, without the terminating NUL). */
static inline ob_str_t
t_str(const char *s)
{
    ob_str_t  t;

    t.data = (const uint8_t *) s;
    t.len = strlen(s);

    return t;
}


/*
 * mq_frame_method takes its arguments as varargs, typed by the method's
 * layout; this calls it with v[] for every layout MQ_METHODS uses (written
 * out by a script from the X-macro's argument strings).  A layout missing
 * here gives T_MQ_NO_LAYOUT, which each caller turns into its own failure
 * (ck_abort_msg in the unit tests, abort() in the fuzz harness).
 */
static inline size_t
t_mq_frame_method(uint8_t *dst, size_t cap, uint16_t ch, mq_method_id_t id,
    const mq_arg_t *v)
{
    const char  *sig = mq_methods[id].args;

    if (strcmp(sig, "ooTSS") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n, (unsigned)
            v[1].n, &v[2].s, &v[3].s, &v[4].s);
    }
    if (strcmp(sig, "TsSs") == 0) {
        return mq_frame_method(dst, cap, ch, id, &v[0].s, &v[1].s, &v[2].s,
            &v[3].s);
    }
    if (strcmp(sig, "S") == 0) {
        return mq_frame_method(dst, cap, ch, id, &v[0].s);
    }
    if (strcmp(sig, "hlh") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n, (unsigned)
            v[1].n, (unsigned) v[2].n);
    }
    if (strcmp(sig, "ssb") == 0) {
        return mq_frame_method(dst, cap, ch, id, &v[0].s, &v[1].s, (int)
            v[2].n);
    }
    if (strcmp(sig, "s") == 0) {
        return mq_frame_method(dst, cap, ch, id, &v[0].s);
    }
    if (strcmp(sig, "hshh") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n, &v[1].s,
            (unsigned) v[2].n, (unsigned) v[3].n);
    }
    if (strcmp(sig, "") == 0) {
        return mq_frame_method(dst, cap, ch, id);
    }
    if (strcmp(sig, "Ss") == 0) {
        return mq_frame_method(dst, cap, ch, id, &v[0].s, &v[1].s);
    }
    if (strcmp(sig, "b") == 0) {
        return mq_frame_method(dst, cap, ch, id, (int) v[0].n);
    }
    if (strcmp(sig, "sbbbbb") == 0) {
        return mq_frame_method(dst, cap, ch, id, &v[0].s, (int) v[1].n, (int)
            v[2].n, (int) v[3].n, (int) v[4].n, (int) v[5].n);
    }
    if (strcmp(sig, "h") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n);
    }
    if (strcmp(sig, "hssbbbbbT") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n, &v[1].s,
            &v[2].s, (int) v[3].n, (int) v[4].n, (int) v[5].n, (int) v[6].n,
            (int) v[7].n, &v[8].s);
    }
    if (strcmp(sig, "hsbb") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n, &v[1].s,
            (int) v[2].n, (int) v[3].n);
    }
    if (strcmp(sig, "hsssbT") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n, &v[1].s,
            &v[2].s, &v[3].s, (int) v[4].n, &v[5].s);
    }
    if (strcmp(sig, "hsbbbbbT") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n, &v[1].s,
            (int) v[2].n, (int) v[3].n, (int) v[4].n, (int) v[5].n, (int)
            v[6].n, &v[7].s);
    }
    if (strcmp(sig, "sll") == 0) {
        return mq_frame_method(dst, cap, ch, id, &v[0].s, (unsigned) v[1].n,
            (unsigned) v[2].n);
    }
    if (strcmp(sig, "hsb") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n, &v[1].s,
            (int) v[2].n);
    }
    if (strcmp(sig, "l") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n);
    }
    if (strcmp(sig, "hsbbb") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n, &v[1].s,
            (int) v[2].n, (int) v[3].n, (int) v[4].n);
    }
    if (strcmp(sig, "hsssT") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n, &v[1].s,
            &v[2].s, &v[3].s, &v[4].s);
    }
    if (strcmp(sig, "lhb") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n, (unsigned)
            v[1].n, (int) v[2].n);
    }
    if (strcmp(sig, "hssbbbbT") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n, &v[1].s,
            &v[2].s, (int) v[3].n, (int) v[4].n, (int) v[5].n, (int) v[6].n,
            &v[7].s);
    }
    if (strcmp(sig, "sb") == 0) {
        return mq_frame_method(dst, cap, ch, id, &v[0].s, (int) v[1].n);
    }
    if (strcmp(sig, "hssbb") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n, &v[1].s,
            &v[2].s, (int) v[3].n, (int) v[4].n);
    }
    if (strcmp(sig, "hsss") == 0) {
        return mq_frame_method(dst, cap, ch, id, (unsigned) v[0].n, &v[1].s,
            &v[2].s, &v[3].s);
    }
    if (strcmp(sig, "sLbss") == 0) {
        return mq_frame_method(dst, cap, ch, id, &v[0].s, (uint64_t) v[1].n,
            (int) v[2].n, &v[3].s, &v[4].s);
    }
    if (strcmp(sig, "Lbssl") == 0) {
        return mq_frame_method(dst, cap, ch, id, (uint64_t) v[0].n, (int)
            v[1].n, &v[2].s, &v[3].s, (unsigned) v[4].n);
    }
    if (strcmp(sig, "Lb") == 0) {
        return mq_frame_method(dst, cap, ch, id, (uint64_t) v[0].n, (int)
            v[1].n);
    }
    if (strcmp(sig, "Lbb") == 0) {
        return mq_frame_method(dst, cap, ch, id, (uint64_t) v[0].n, (int)
            v[1].n, (int) v[2].n);
    }

    return T_MQ_NO_LAYOUT;
}


#endif /* OB_CHECK_MQ_UTIL_H */
