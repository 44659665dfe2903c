/* STUB until the snapshot part lands (store_persist.h). */
#include "store_srv.h"
#include "store_persist.h"

#include <string.h>

const store_cmd_t store_cmds_save[] = { { .base = { .name = NULL } } };
int  store_save_init(store_t *st, ob_err_t *err) { (void) st; (void) err; return OB_OK; }
int  store_save_load(store_t *st, ob_err_t *err) { (void) st; (void) err; return OB_OK; }
void store_save_cron(store_t *st) { (void) st; }
int  store_save_shutdown(store_t *st, int force_save, int nosave, ob_err_t *err)
{ (void) st; (void) force_save; (void) nosave; (void) err; return OB_OK; }
void store_save_fini(store_t *st) { (void) st; }
void store_save_info(store_t *st, store_text_t *t)
{
    store_text_add(t, "current_cow_peak:0\r\ncurrent_cow_size:0\r\n"
        "current_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\n"
        "current_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\n"
        "rdb_changes_since_last_save:%llu\r\n"
        "rdb_bgsave_in_progress:0\r\nrdb_last_save_time:%lld\r\n"
        "rdb_last_bgsave_status:ok\r\nrdb_last_bgsave_time_sec:-1\r\n"
        "rdb_current_bgsave_time_sec:-1\r\nrdb_saves:0\r\n"
        "rdb_last_cow_size:0\r\nrdb_last_load_keys_expired:0\r\n"
        "rdb_last_load_keys_loaded:0\r\n",
        (unsigned long long) st->dirty, (long long) st->last_save_time);
}
const char *store_save_write_error(const store_t *st) { (void) st; return NULL; }
void store_save_rdb_opts(store_t *st, store_rdb_save_opts_t *o)
{ (void) st; memset(o, 0, sizeof(*o)); }
