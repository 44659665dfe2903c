/* STUB until the replication master part lands (store_persist.h). */
#include "store_srv.h"
#include "store_persist.h"

const store_cmd_t store_cmds_repl[] = { { .base = { .name = NULL } } };
int  store_repl_init(store_t *st, ob_err_t *err) { (void) st; (void) err; return OB_OK; }
void store_repl_feed(store_t *st, int dbid, const ob_str_t *argv, size_t argc)
{ (void) st; (void) dbid; (void) argv; (void) argc; }
void store_repl_feed_raw(store_t *st, const void *data, size_t len)
{ (void) st; (void) data; (void) len; }
void store_repl_set_history(store_t *st, const char *replid, long long offset)
{ (void) st; (void) replid; (void) offset; }
void store_repl_shift_ids(store_t *st) { (void) st; }
void store_repl_drop_replicas(store_t *st) { (void) st; }
const char *store_repl_id(const store_t *st) { return st->run_id; }
long long store_repl_offset(const store_t *st) { (void) st; return 0; }
void store_repl_cron(store_t *st) { (void) st; }
void store_repl_stop(store_t *st) { (void) st; }
void store_repl_fini(store_t *st) { (void) st; }
void store_repl_info(store_t *st, store_text_t *t)
{
    store_text_add(t, "role:master\r\n"
        "connected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
        "master_replid:%s\r\n"
        "master_replid2:0000000000000000000000000000000000000000\r\n"
        "master_repl_offset:0\r\nsecond_repl_offset:-1\r\n"
        "repl_backlog_active:0\r\nrepl_backlog_size:1048576\r\n"
        "repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
        st->run_id);
}
void store_repl_stats(const store_t *st, uint64_t *full, uint64_t *ok,
                      uint64_t *err)
{ (void) st; *full = *ok = *err = 0; }
void store_repl_client_closed(store_t *st, store_client_t *c) { (void) st; (void) c; }
