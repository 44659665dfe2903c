/* STUB until the child part lands (store_persist.h). */
#include "store_srv.h"
#include "store_persist.h"

int store_child_start(store_t *st, store_child_kind_t kind, store_child_pt fn,
                      store_child_done_pt done, void *arg, ob_err_t *err)
{ (void) st; (void) kind; (void) fn; (void) done; (void) arg;
  return ob_err_set(err, "fork: not built yet"); }
store_child_kind_t store_child_running(const store_t *st)
{ (void) st; return STORE_CHILD_NONE; }
pid_t store_child_pid(const store_t *st) { (void) st; return -1; }
void store_child_kill(store_t *st) { (void) st; }
void store_child_cron(store_t *st) { (void) st; }
int  store_child_init(store_t *st, ob_err_t *err) { (void) st; (void) err; return OB_OK; }
void store_child_fini(store_t *st) { (void) st; }
uint64_t store_child_latest_fork_usec(const store_t *st) { (void) st; return 0; }
uint64_t store_child_total_forks(const store_t *st) { (void) st; return 0; }
