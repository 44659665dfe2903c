/*
 * ob_log.c: leveled logging.
 *
 * Each line is "<pid>:<ISO-8601 UTC time with ms> <level char> <message>",
 * after Redis's "pid:role date level message" so that a person reading both
 * logs sees the same shape.  Lines are written with one fprintf and flushed,
 * so a crash loses nothing that was logged before it.
 */
#include "ob_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>


static const char *const ob_log_names[] = {
    "debug", "info", "notice", "warning", "error"
};

/* One character per level in each line, as Redis does (. - * #). */
static const char ob_log_marks[] = { '.', '-', '*', '#', '!' };


int
ob_log_level_parse(const char *name, ob_log_level_t *out)
{
    size_t i;

    for (i = 0; i < sizeof(ob_log_names) / sizeof(ob_log_names[0]); i++) {
        if (strcmp(name, ob_log_names[i]) == 0) {
            *out = (ob_log_level_t) i;
            return OB_OK;
        }
    }
    return OB_ERR;
}


int
ob_log_open(ob_log_t *log, ob_log_level_t level, const char *path,
            ob_err_t *err)
{
    log->level = level;
    log->fp = stderr;
    log->path = NULL;

    if (path == NULL) {
        return OB_OK;
    }

    log->fp = fopen(path, "a");
    if (log->fp == NULL) {
        ob_err_set(err, "core.log_file: %s: %s",
                 path, strerror(errno));
        log->fp = stderr;
        return OB_ERR;
    }
    log->path = strdup(path);
    if (log->path == NULL) {
        fclose(log->fp);
        log->fp = stderr;
        return ob_err_set(err, "core.log_file: out of memory");
    }
    return OB_OK;
}


int
ob_log_reopen(ob_log_t *log)
{
    FILE *fp;

    if (log->path == NULL) {
        return OB_OK;
    }
    fp = fopen(log->path, "a");
    if (fp == NULL) {
        ob_log_error(log, "cannot reopen log file %s: %s", log->path,
                     strerror(errno));
        return OB_ERR;
    }
    fclose(log->fp);
    log->fp = fp;
    return OB_OK;
}


void
ob_log_close(ob_log_t *log)
{
    if (log->path != NULL) {
        fclose(log->fp);
        free(log->path);
        log->path = NULL;
    }
    log->fp = stderr;
}


void
ob_log(ob_log_t *log, ob_log_level_t level, const char *fmt, ...)
{
    char            msg[1024];
    char            when[32];
    struct timeval  tv;
    struct tm       tm;
    va_list         ap;

    if (log == NULL || level < log->level) {
        return;
    }

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

    fprintf(log->fp, "%d:%s.%03dZ %c %s\n", (int) getpid(), when,
            (int) (tv.tv_usec / 1000), ob_log_marks[level], msg);
    fflush(log->fp);
}
