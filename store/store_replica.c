/* STUB until the replica part lands (store_persist.h). */
#include "store_srv.h"
#include "store_persist.h"

const store_cmd_t store_cmds_replica[] = { { .base = { .name = NULL } } };
int  store_replica_init(store_t *st, ob_err_t *err) { (void) st; (void) err; return OB_OK; }
int  store_replica_start(store_t *st, ob_err_t *err) { (void) st; (void) err; return OB_OK; }
int  store_replica_is_replica(const store_t *st) { (void) st; return 0; }
int  store_replica_refuses_writes(const store_t *st) { (void) st; return 0; }
void store_replica_cron(store_t *st) { (void) st; }
void store_replica_stop(store_t *st) { (void) st; }
void store_replica_fini(store_t *st) { (void) st; }
void store_replica_info(store_t *st, store_text_t *t) { (void) st; (void) t; }
