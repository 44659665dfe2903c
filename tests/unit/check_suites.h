/*
 * check_suites.h: every check suite of the unit-test binary.  Each
 * tests/unit/check_<area>.c defines one function here; check_main.c runs
 * them all.
 */
#ifndef OB_CHECK_SUITES_H
#define OB_CHECK_SUITES_H

#include <check.h>

Suite *ob_arena_suite(void);     /* check_core_arena.c */
Suite *ob_arena_reclaim_suite(void); /* check_core_arena_reclaim.c: page reclaim */
Suite *ob_conf_suite(void);      /* check_core_conf.c */
Suite *ob_conn_suite(void);      /* check_core_conn.c: listeners, buffers, limits */
Suite *ob_cycle_suite(void);     /* check_core_cycle.c: module lifecycle */
Suite *ob_hash_suite(void);      /* check_core_hash.c: incremental rehash, SCAN */
Suite *ob_cmd_suite(void);       /* check_core_cmd.c: command table, arity */
Suite *ob_wakeup_suite(void);    /* check_core_wakeup.c: helper threads -> reactor */
Suite *cache_items_suite(void);  /* check_cache_items.c: items, LRU, store semantics */
Suite *cache_proto_suite(void);  /* check_cache_proto.c: framing, tokens, numbers, base64 */
Suite *store_resp_suite(void);   /* check_store_resp.c: RESP parser, reply writers */
Suite *store_db_suite(void);     /* check_store_db.c: objects, glob, keyspace, expiry */
Suite *store_string_suite(void); /* check_store_string.c: big raw strings' capacity */
Suite *store_list_suite(void);   /* check_store_list.c: the quicklist */
Suite *store_listpack_suite(void); /* check_store_listpack.c: Redis's listpack */
Suite *store_hash_suite(void);   /* check_store_hash.c: the hash type, both encodings */
Suite *store_set_suite(void);    /* check_store_set.c: intset, set encodings */
Suite *store_zset_suite(void);   /* check_store_zset.c: sorted sets, both encodings */
Suite *store_rdb_suite(void);    /* check_store_rdb.c: RDB files, both ways */
Suite *store_stream_suite(void); /* check_store_stream.c: streams, groups, PELs */
Suite *store_child_suite(void);  /* check_store_child.c: the forked child */
Suite *store_aof_suite(void);    /* check_store_aof.c: the AOF manifest */
Suite *store_repl_suite(void);   /* check_store_repl.c: the replication backlog */
Suite *store_replica_suite(void); /* check_store_replica.c: the replica's link parsers */
Suite *store_rdb_stream_suite(void); /* check_store_rdb_stream.c: streams in RDB files */
Suite *mq_http_suite(void);      /* check_mq_http.c: the management API's documents */
Suite *mq_route_suite(void);       /* check_mq_route.c: routing, queues, dead-lettering */
Suite *mq_log_suite(void);       /* check_mq_log.c: the message log: records, the replay scan */
Suite *mq_wire_suite(void);      /* check_mq_wire.c: AMQP frames, methods, properties */
Suite *mq_table_suite(void);     /* check_mq_table.c: AMQP field tables, topic matching */

#endif /* OB_CHECK_SUITES_H */
