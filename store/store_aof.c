/* STUB until the AOF part lands (store_persist.h). */
#include "store_srv.h"
#include "store_persist.h"

const store_cmd_t store_cmds_aof[] = { { .base = { .name = NULL } } };
int  store_aof_init(store_t *st, ob_err_t *err) { (void) st; (void) err; return OB_OK; }
int  store_aof_load(store_t *st, ob_err_t *err) { (void) st; (void) err; return OB_OK; }
int  store_aof_start(store_t *st, ob_err_t *err) { (void) st; (void) err; return OB_OK; }
void store_aof_feed(store_t *st, int dbid, const ob_str_t *argv, size_t argc)
{ (void) st; (void) dbid; (void) argv; (void) argc; }
void store_aof_hold_reply(store_t *st, store_client_t *c) { (void) st; (void) c; }
void store_aof_cron(store_t *st) { (void) st; }
void store_aof_stop(store_t *st) { (void) st; }
void store_aof_fini(store_t *st) { (void) st; }
void store_aof_info(store_t *st, store_text_t *t)
{
    (void) st;
    store_text_add(t, "aof_enabled:0\r\naof_rewrite_in_progress:0\r\n"
        "aof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\n"
        "aof_current_rewrite_time_sec:-1\r\n"
        "aof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\n"
        "aof_rewrites_consecutive_failures:0\r\n"
        "aof_last_write_status:ok\r\naof_last_cow_size:0\r\n"
        "module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n");
}
const char *store_aof_write_error(const store_t *st) { (void) st; return NULL; }
const char *store_aof_set_enabled(store_t *st, int on)
{ (void) st; (void) on; return "appendonly is not built yet"; }
void store_aof_dataset_replaced(store_t *st) { (void) st; }
