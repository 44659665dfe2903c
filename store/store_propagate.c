/* STUB until the propagation part lands (store_persist.h). */
#include "store_srv.h"
#include "store_persist.h"

void store_propagate_begin(store_client_t *c) { (void) c; }
void store_propagate_end(store_client_t *c, uint64_t dirty_before)
{ (void) c; (void) dirty_before; }
void store_propagate_del(store_t *st, int dbid, const void *key, size_t nkey)
{ (void) st; (void) dbid; (void) key; (void) nkey; }
void store_propagate_now(store_t *st, int dbid, const ob_str_t *argv,
                         size_t argc)
{ (void) st; (void) dbid; (void) argv; (void) argc; }
void store_propagate_cmd(store_client_t *c, const ob_str_t *argv, size_t argc)
{ (void) c; (void) argv; (void) argc; }
void store_propagate_nothing(store_client_t *c) { (void) c; }
