/* STUB until the RDB part lands (store_persist.h). */
#include "store_srv.h"
#include "store_persist.h"

uint64_t store_crc64(uint64_t crc, const void *p, size_t len)
{ (void) p; (void) len; return crc; }
int store_rdb_save_fd(store_dbs_t *dbs, int fd, const store_rdb_save_opts_t *o,
                      store_rdb_stats_t *st, ob_err_t *err)
{ (void) dbs; (void) fd; (void) o; (void) st;
  return ob_err_set(err, "RDB: not built yet"); }
int store_rdb_save_file(store_dbs_t *dbs, const char *path,
                        const store_rdb_save_opts_t *o, store_rdb_stats_t *st,
                        ob_err_t *err)
{ (void) dbs; (void) path; (void) o; (void) st;
  return ob_err_set(err, "RDB: not built yet"); }
int store_rdb_load_fd(store_dbs_t *dbs, int fd, const store_rdb_load_opts_t *o,
                      store_rdb_load_info_t *info, ob_err_t *err)
{ (void) dbs; (void) fd; (void) o; (void) info;
  return ob_err_set(err, "RDB: not built yet"); }
