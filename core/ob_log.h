/*
 * ob_log.h: leveled logging to stderr or a file.
 *
 * The logger is a value inside the cycle, not a global: every call names
 * the logger it writes to.  Levels follow Redis's names plus "info" and
 * "error"; a message is written when its level is at or above the
 * configured one.
 */
#ifndef OB_LOG_H
#define OB_LOG_H

#include <stdio.h>
#include "ob_core.h"

typedef enum {
    OB_LOG_DEBUG = 0,
    OB_LOG_INFO,
    OB_LOG_NOTICE,
    OB_LOG_WARNING,
    OB_LOG_ERROR
} ob_log_level_t;

typedef struct ob_log_s {
    ob_log_level_t level;
    FILE          *fp;          /* stderr, or the opened log_file */
    char          *path;        /* log_file, or NULL for stderr */
} ob_log_t;

/* Parses "debug".."error"; returns OB_ERR for anything else. */
int ob_log_level_parse(const char *name, ob_log_level_t *out /* OUT */);

/* Opens `path` for appending (NULL: stderr).  Returns OB_ERR with err set
 * when the file cannot be opened. */
int  ob_log_open(ob_log_t *log, ob_log_level_t level, const char *path,
                 ob_err_t *err);

/* Reopens the file (after logrotate moved it); stderr stays as it is. */
int  ob_log_reopen(ob_log_t *log);
void ob_log_close(ob_log_t *log);

void ob_log(ob_log_t *log, ob_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define ob_log_debug(log, ...)   ob_log((log), OB_LOG_DEBUG, __VA_ARGS__)
#define ob_log_info(log, ...)    ob_log((log), OB_LOG_INFO, __VA_ARGS__)
#define ob_log_notice(log, ...)  ob_log((log), OB_LOG_NOTICE, __VA_ARGS__)
#define ob_log_warning(log, ...) ob_log((log), OB_LOG_WARNING, __VA_ARGS__)
#define ob_log_error(log, ...)   ob_log((log), OB_LOG_ERROR, __VA_ARGS__)

#endif /* OB_LOG_H */
