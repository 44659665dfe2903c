/*
 * store_cmd_stream.h: what the stream command files share
 * (store_cmd_stream.c: XADD, ranges, XREAD/XREADGROUP, XSETID;
 * store_cmd_xinfo.c: XINFO; store_cmd_xgroup.c: XGROUP, XACK, XPENDING,
 * XCLAIM, XAUTOCLAIM).
 */
#ifndef STORE_CMD_STREAM_H
#define STORE_CMD_STREAM_H

#include "store_int.h"
#include "store_stream.h"

#define STORE_ERR_STREAM_ID  "ERR Invalid stream ID specified as stream " \
                             "command argument"

/*
 * Parses a stream ID argument as Redis's streamGenericParseIDOrReply: "-"
 * and "+" (refused when strict), "ms" (the sequence is missing_seq) or
 * "ms-seq", numbers read by string2ull (strtoull's leniency included).
 * With seq_given not NULL, "ms-*" is accepted and *seq_given says whether
 * the sequence was given.  OB_ERR: replied STORE_ERR_STREAM_ID.
 */
int store_sx_parse_id(const ob_str_t *a, uint64_t missing_seq, int strict,
                      store_sid_t *id /* OUT */, int *seq_given /* OUT */);
int store_sx_parse_id_or_reply(store_client_t *c, const ob_str_t *a,
                               uint64_t missing_seq, int strict,
                               store_sid_t *id /* OUT */,
                               int *seq_given /* OUT */);

/* A range bound: "(" makes it exclusive (then strict), which moves it by
 * one ID ("invalid start/end ID for the interval" when it cannot).
 * end: 0 for a start (missing seq 0), 1 for an end (UINT64_MAX). */
int store_sx_parse_bound_or_reply(store_client_t *c, const ob_str_t *a,
                                  int end, store_sid_t *id /* OUT */);

void store_sx_reply_id(store_client_t *c, const store_sid_t *id);
/* [id, [f1, v1, ...]] for a stream entry. */
void store_sx_reply_entry(store_client_t *c, const store_sentry_t *e);

/* Sends the entries in [start, end] as an array, at most count (0: all),
 * forward or back (rev); returns how many. */
size_t store_sx_reply_range(store_client_t *c, const store_stream_t *s,
                            const store_sid_t *start, const store_sid_t *end,
                            size_t count, int rev);

/* The stream at key: NULL when missing (*wrong 0) or of another type
 * (*wrong 1, WRONGTYPE replied). */
store_stream_t *store_sx_lookup(store_client_t *c, const ob_str_t *key,
                                int for_write, int *wrong /* OUT */);

/* The consumer `name` of g, created when missing (*created 1), its
 * seen-time refreshed (Redis's streamLookupConsumer + create).  NULL on
 * OOM (nothing replied). */
store_sconsumer_t *store_sx_consumer(store_client_t *c, store_stream_t *s,
                                     store_sgroup_t *g, const ob_str_t *name,
                                     int refresh, int *created /* OUT */);

/* store_cmd_xinfo.c */
void store_cmd_xinfo(store_client_t *c);

/* store_cmd_xgroup.c */
void store_cmd_xgroup(store_client_t *c);
void store_cmd_xack(store_client_t *c);
void store_cmd_xpending(store_client_t *c);
void store_cmd_xclaim(store_client_t *c);
void store_cmd_xautoclaim(store_client_t *c);

/*
 * What the group commands and XREADGROUP write to the AOF and the
 * replicas (Redis 7.0's streamPropagateXCLAIM, streamPropagateGroupID and
 * streamPropagateConsumerCreation): the group's state as it now is, in
 * commands that are idempotent on the other side, instead of commands
 * whose effect depends on the time or on what was pending.  They live in
 * store_cmd_xgroup.c.
 */
void store_sx_propagate_xclaim(store_client_t *c, const ob_str_t *key,
                               const ob_str_t *group, const store_sgroup_t *g,
                               const ob_str_t *idarg, const store_sid_t *id,
                               const store_snack_t *n);
void store_sx_propagate_setid(store_client_t *c, const ob_str_t *key,
                              const ob_str_t *group, const store_sgroup_t *g);
void store_sx_propagate_createconsumer(store_client_t *c, const ob_str_t *key,
                                       const ob_str_t *group,
                                       const ob_str_t *consumer);

#endif /* STORE_CMD_STREAM_H */
