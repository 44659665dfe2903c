/*
 * check_main.c: runs every unit-test suite and exits non-zero if any test
 * failed.  Set CK_FORK=no to run the tests in-process under gdb or valgrind.
 */
#include "check_suites.h"

#include <stdlib.h>

int
main(void)
{
    SRunner *sr;
    int      failed;

    sr = srunner_create(ob_arena_suite());
    srunner_add_suite(sr, ob_arena_reclaim_suite());
    srunner_add_suite(sr, ob_conf_suite());
    srunner_add_suite(sr, ob_conn_suite());
    srunner_add_suite(sr, ob_cycle_suite());
    srunner_add_suite(sr, ob_hash_suite());
    srunner_add_suite(sr, ob_cmd_suite());
    srunner_add_suite(sr, ob_wakeup_suite());
    srunner_add_suite(sr, cache_items_suite());
    srunner_add_suite(sr, cache_proto_suite());
    srunner_add_suite(sr, store_resp_suite());
    srunner_add_suite(sr, store_db_suite());
    srunner_add_suite(sr, store_string_suite());
    srunner_add_suite(sr, store_list_suite());
    srunner_add_suite(sr, store_listpack_suite());
    srunner_add_suite(sr, store_hash_suite());
    srunner_add_suite(sr, store_set_suite());
    srunner_add_suite(sr, store_zset_suite());
    srunner_add_suite(sr, store_stream_suite());
    srunner_add_suite(sr, store_child_suite());
    srunner_add_suite(sr, store_rdb_suite());
    srunner_add_suite(sr, store_aof_suite());
    srunner_add_suite(sr, store_repl_suite());
    srunner_add_suite(sr, store_replica_suite());
    srunner_add_suite(sr, store_rdb_stream_suite());
    srunner_add_suite(sr, mq_http_suite());
    srunner_add_suite(sr, mq_route_suite());
    srunner_add_suite(sr, mq_log_suite());
    srunner_add_suite(sr, mq_wire_suite());
    srunner_add_suite(sr, mq_table_suite());

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
