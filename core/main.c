/*
 * main.c: the onebox server binary.
 *
 * Start-up is strict so that nothing runs half-configured:
 *
 *   1. parse the command line                      error -> exit 2
 *   2. defaults <- --config FILE <- flags          error -> exit 2
 *      --help / --version / --print-config print and exit 0 here
 *   3. cross-checks (user exists, slab geometry)   error -> exit 2
 *   4. -d: fork; the foreground waits for step 7
 *   5. cycle: logger, arena, modules' init         error -> exit 2
 *   6. pidfile (-P) opened and locked: held by a  error -> exit 1
 *      running server -> stop here, file untouched;
 *      modules' start (listeners), admin HTTP,
 *      drop privileges (-u); pid written
 *   7. report ready; run the reactor
 *   8. SIGTERM/SIGINT: stop accepting, modules stop, pending replies
 *      written for up to core.shutdown_timeout s, pidfile removed (if
 *      still ours), exit 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ob_conf.h"
#include "ob_cycle.h"
#include "ob_module.h"
#include "ob_process.h"

#define OB_EXIT_CONFIG  2
#define OB_EXIT_RUNTIME 1


/* The sections the configuration knows: core, then each compiled-in
 * module's.  `out` must hold OB_MAX_MODULES + 1 entries. */
static size_t
ob_main_sections(const ob_conf_section_t **out)
{
    size_t n = 0, i;

    out[n++] = &ob_conf_core_section;
    for (i = 0; ob_modules[i] != NULL && n <= OB_MAX_MODULES; i++) {
        if (ob_modules[i]->conf != NULL) {
            out[n++] = ob_modules[i]->conf;
        }
    }
    return n;
}


/* Checks that need more than one key, or the system, before anything
 * starts. */
static int
ob_main_check(const ob_conf_t *conf, ob_err_t *err)
{
    const json_t *core = ob_conf_section(conf, "core");
    const char   *user = ob_conf_str(core, "user");
    long long     page = ob_conf_int(core, "slab_page_size");
    uid_t         uid;
    gid_t         gid;

    if ((page & (page - 1)) != 0) {
        return ob_err_set(err, "core.slab_page_size: must be "
                 "a power of two (got %lld)", page);
    }
    if (ob_conf_int(core, "slab_min_chunk") > page / 2) {
        return ob_err_set(err, "core.slab_min_chunk: must be "
                 "at most half of core.slab_page_size (%lld)", page / 2);
    }
    if (user != NULL && ob_process_find_user(user, &uid, &gid, err) != OB_OK) {
        return OB_ERR;
    }
    return OB_OK;
}


/* Steps 5 to 8.  Returns the exit status. */
static int
ob_main_serve(const ob_conf_t *conf, int ready_fd)
{
    const json_t *core = ob_conf_section(conf, "core");
    long long     maxconns = ob_conf_int(core, "max_connections");
    ob_pidfile_t  pid;
    ob_cycle_t    cy;
    ob_err_t      err;
    long          fds;
    int           code;

    fds = ob_process_raise_fd_limit((long) maxconns);

    if (ob_cycle_init(&cy, conf, ob_modules, &err) != OB_OK) {
        fprintf(stderr, "onebox: %s\n", err.msg);
        ob_process_ready(ready_fd, OB_EXIT_CONFIG, 1);
        return OB_EXIT_CONFIG;
    }
    if (fds >= 0 && fds < maxconns + OB_PROCESS_RESERVED_FDS) {
        ob_log_warning(&cy.log, "the descriptor limit is %ld and cannot be "
                       "raised to core.max_connections (%lld) + %d: past "
                       "about %ld clients, accepting pauses and waiting "
                       "clients are closed (listen_disabled_num in /stats) "
                       "until connections close; raise ulimit -n or lower "
                       "-c", fds, maxconns, OB_PROCESS_RESERVED_FDS,
                       fds > OB_PROCESS_RESERVED_FDS
                       ? fds - OB_PROCESS_RESERVED_FDS : 0);
    }

    /* The lock comes before the ports, so that a second instance stops
     * before it can bind (or fail to) and never touches the running one's
     * file; the pid is written once the ports are bound. */
    if (ob_process_pidfile_open(&pid, ob_conf_str(core, "pidfile"), &err)
        != OB_OK)
    {
        ob_log_error(&cy.log, "%s", err.msg);
        if (cy.log.fp != stderr) {
            fprintf(stderr, "onebox: %s\n", err.msg);
        }
        ob_process_ready(ready_fd, OB_EXIT_RUNTIME, 1);
        ob_cycle_fini(&cy);
        return OB_EXIT_RUNTIME;
    }
    if (ob_cycle_start(&cy, &err) != OB_OK
        || ob_process_drop_privileges(ob_conf_str(core, "user"), &err)
           != OB_OK
        || ob_process_pidfile_write(&pid, &err) != OB_OK)
    {
        ob_log_error(&cy.log, "%s", err.msg);
        if (cy.log.fp != stderr) {
            fprintf(stderr, "onebox: %s\n", err.msg);
        }
        ob_process_ready(ready_fd, OB_EXIT_RUNTIME, 1);
        ob_cycle_fini(&cy);
        ob_process_pidfile_remove(&pid);
        return OB_EXIT_RUNTIME;
    }

    ob_log_notice(&cy.log, "onebox %s ready (pid %ld, %d module(s), "
                  "memory %lld MiB, max connections %lld)", OB_VERSION,
                  (long) getpid(), (int) cy.nslots,
                  ob_conf_int(core, "memory_mb"),
                  ob_conf_int(core, "max_connections"));
    ob_process_ready(ready_fd, 0, cy.log.fp != stderr);

    code = ob_cycle_run(&cy);
    ob_cycle_fini(&cy);
    ob_process_pidfile_remove(&pid);
    return code;
}


int
main(int argc, char **argv)
{
    const ob_conf_section_t *sections[OB_MAX_MODULES + 1];
    ob_args_t               *args;
    ob_conf_t                conf;
    ob_err_t                 err;
    char                    *dump;
    int                      code, ready_fd = -1;

    /* ob_args_t holds every set with its buffer: too big for the stack of
     * a small thread, fine on the heap. */
    args = calloc(1, sizeof(*args));
    if (args == NULL) {
        return OB_EXIT_RUNTIME;
    }
    if (ob_args_parse(args, argc, argv, &err) != OB_OK) {
        fprintf(stderr, "onebox: %s (see --help)\n", err.msg);
        free(args);
        return OB_EXIT_CONFIG;
    }
    if (ob_conf_init(&conf, sections, ob_main_sections(sections), &err)
        != OB_OK)
    {
        fprintf(stderr, "onebox: %s\n", err.msg);
        free(args);
        return OB_EXIT_CONFIG;
    }

    if (args->help) {
        ob_conf_usage(&conf, stdout);
        code = 0;
        goto done;
    }
    if (args->version) {
        printf("onebox %s\n", OB_VERSION);
        code = 0;
        goto done;
    }

    if (ob_conf_apply_args(&conf, args, &err) != OB_OK
        || ob_main_check(&conf, &err) != OB_OK)
    {
        fprintf(stderr, "onebox: %s\n", err.msg);
        code = OB_EXIT_CONFIG;
        goto done;
    }

    if (args->print_config) {
        dump = ob_conf_dump(&conf);
        if (dump != NULL) {
            printf("%s\n", dump);
            free(dump);
        }
        code = 0;
        goto done;
    }

    if (ob_conf_bool(ob_conf_section(&conf, "core"), "daemonize")
        && ob_process_daemonize(&ready_fd, &err) != OB_OK)
    {
        fprintf(stderr, "onebox: %s\n", err.msg);
        code = OB_EXIT_RUNTIME;
        goto done;
    }

    code = ob_main_serve(&conf, ready_fd);

done:
    ob_conf_free(&conf);
    free(args);
    return code;
}
