/*
 * ob_conf_core.c: the schema of the "core" configuration section.
 *
 * These are the settings that belong to the process rather than to one
 * module: where to listen, the one memory budget, connection limits, logging,
 * and the arena's geometry.  The table is data read by ob_conf.c, which
 * builds the defaults, validates values and prints --help from it; nothing
 * here has code.
 *
 * Notes on the choices:
 *
 *   - Names and meanings follow memcached where a memcached flag exists (the
 *     flag is given in the help line), because onebox accepts those flags as
 *     aliases (see ob_conf_args.c).
 *   - Ranges are what the code can honour, not what is sensible: a limit too
 *     small to be useful is still accepted if nothing breaks with it.  The
 *     byte limits go past 4 GiB, so they need the full long long range.
 *   - The core section is not switchable: there is no core.enabled.
 *   - Defaults are JSON text, so that "null" (not set) and strings read the
 *     same as they would in a configuration file.
 */
#include "ob_conf.h"


static const char *const ob_conf_log_levels[] = {
    "debug", "info", "notice", "warning", "error", NULL
};


static const ob_conf_key_t ob_conf_core_keys[] = {

    { .name = "listen", .type = OB_CONF_STRING,
      .def = "\"127.0.0.1\"",
      .help = "comma-separated addresses to bind (IPv4 or IPv6, e.g. "
              "\"127.0.0.1,::1\") (memcached -l)" },

    { .name = "http_port", .type = OB_CONF_INT, .imin = 0, .imax = 65535,
      .def = "8080",
      .help = "admin HTTP port (/health, /stats); 0 turns it off" },

    /* Not core.listen: opening the cache wider must not open the admin
     * pages with it. */
    { .name = "http_listen", .type = OB_CONF_STRING,
      .def = "\"127.0.0.1\"",
      .help = "comma-separated addresses of the admin HTTP port (loopback "
              "unless set here, whatever -l says)" },

    { .name = "http_max_connections", .type = OB_CONF_INT,
      .imin = 1, .imax = 100000,
      .def = "64",
      .help = "simultaneous admin HTTP connections; more wait in the "
              "kernel's backlog" },

    { .name = "http_timeout", .type = OB_CONF_INT, .imin = 1, .imax = 86400,
      .def = "10",
      .help = "seconds an admin HTTP connection may stay idle or slow" },

    { .name = "memory_mb", .type = OB_CONF_INT, .imin = 1, .imax = 1048576,
      .def = "64",
      .help = "memory budget for all modules, MiB (memcached -m)" },

    { .name = "max_connections", .type = OB_CONF_INT,
      .imin = 1, .imax = 1000000,
      .def = "1024",
      .help = "simultaneous client connections (memcached -c)" },

    { .name = "data_dir", .type = OB_CONF_STRING,
      .def = "\"./data\"",
      .help = "where modules keep their files" },

    { .name = "pidfile", .type = OB_CONF_STRING, .flags = OB_CONF_NULLABLE,
      .def = "null",
      .help = "write the process id here (memcached -P)" },

    { .name = "user", .type = OB_CONF_STRING, .flags = OB_CONF_NULLABLE,
      .def = "null",
      .help = "drop privileges to this user after binding (memcached -u)" },

    { .name = "daemonize", .type = OB_CONF_BOOL,
      .def = "false",
      .help = "run in the background (memcached -d)" },

    { .name = "log_level", .type = OB_CONF_ENUM,
      .choices = ob_conf_log_levels,
      .def = "\"notice\"",
      .help = "least severe message that is logged (memcached -v, -vv)" },

    { .name = "log_file", .type = OB_CONF_STRING, .flags = OB_CONF_NULLABLE,
      .def = "null",
      .help = "log here instead of stderr" },

    /* memcached spreads connections over -t worker threads; onebox has one
     * reactor thread, so the value is only kept to be reported. */
    { .name = "threads", .type = OB_CONF_INT, .imin = 1, .imax = 256,
      .def = "4",
      .help = "memcached -t: accepted for compatibility; onebox serves all "
              "connections from one reactor thread; reported in stats" },

    { .name = "idle_timeout", .type = OB_CONF_INT, .imin = 0, .imax = 31536000,
      .def = "0",
      .help = "close client connections that make no progress (no request "
              "completed, no reply byte written) for this many seconds; "
              "0 never" },

    { .name = "max_input_buffer", .type = OB_CONF_INT,
      .imin = 4096, .imax = 4294967296LL,
      .def = "1073741824",
      .help = "bytes a connection may have buffered unparsed before it is "
              "closed" },

    { .name = "output_buffer_soft", .type = OB_CONF_INT,
      .imin = 0, .imax = 4294967296LL,
      .def = "4194304",
      .help = "pending reply bytes above which a connection is not read "
              "until they drain; 0 no limit" },

    { .name = "output_buffer_hard", .type = OB_CONF_INT,
      .imin = 0, .imax = 1099511627776LL,
      .def = "268435456",
      .help = "pending reply bytes above which a connection is closed; "
              "0 no limit" },

    { .name = "reqs_per_event", .type = OB_CONF_INT, .imin = 1,
      .imax = 1000000,
      .def = "20",
      .help = "requests a connection may have handled per event before it "
              "yields to the others (memcached -R)" },

    { .name = "shutdown_timeout", .type = OB_CONF_INT, .imin = 0,
      .imax = 3600,
      .def = "5",
      .help = "on SIGTERM/SIGINT, seconds to keep writing pending replies "
              "before closing; 0 closes at once" },

    { .name = "slab_page_size", .type = OB_CONF_INT,
      .imin = 4096, .imax = 134217728,
      .def = "1048576",
      .help = "arena page size in bytes; halved while memory_mb would "
              "hold fewer than 64 pages (down to 4096)" },

    { .name = "slab_growth_factor", .type = OB_CONF_DOUBLE,
      .dmin = 1.01, .dmax = 100.0,
      .def = "1.25",
      .help = "chunk size growth factor between slab classes (memcached -f)" },

    { .name = "slab_min_chunk", .type = OB_CONF_INT,
      .imin = 16, .imax = 1048576,
      .def = "96",
      .help = "where memcached's size classes start (its -n plus a "
              "48-byte header): the cache's smallest item chunk and class "
              "1; below it, 8-byte classes from 16 for the store" },

    { .name = NULL }
};


const ob_conf_section_t ob_conf_core_section = {
    .name = "core",
    .keys = ob_conf_core_keys,
    .switchable = 0
};
