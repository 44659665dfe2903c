/*
 * ob_conf_args.c: the command line, and memcached's flags as aliases of
 * configuration keys.
 *
 * Parsing and applying are two steps because the file named by --config must
 * be read before the flags, which win over it, wherever --config appears:
 *
 *   ob_args_parse       argv -> ob_args_t: --help/--version/--print-config,
 *                       the config file, and an ordered list of
 *                       (key, text, flag) sets.  No key is checked here, so
 *                       the parser needs no schema (and -p parses even in a
 *                       build without the cache).
 *   ob_conf_apply_args  the file, then every set through ob_conf_set_text,
 *                       so that flags are validated exactly like the file.
 *
 * The short flags follow memcached's getopt string: flags may be bundled
 * ("-dv"), a flag's value may be attached ("-m64") or the next argument
 * ("-m 64", even if it starts with '-'), and "--" ends the options.  Each
 * flag is declared by whoever owns its key: the core's in the table below,
 * a module's in its configuration section (ob_conf_section_t.aliases), found
 * through the registry of compiled-in modules (ob_modules), so the parser
 * still needs no schema.  --help (ob_conf_usage, here because it is part of
 * the command line) prints both lists.
 *
 * Values that need converting (-I 2m, -v counts) are written into the set's
 * valbuf; everything else is borrowed from argv or from the table.  argv is
 * never modified, so parsing twice gives the same result.  For the form
 * --section.key=VALUE the key is copied into valbuf too (the key in argv is
 * not NUL-terminated there), which limits that form to keys shorter than
 * valbuf; longer keys can still be written --section.key VALUE.
 */
#include "ob_conf.h"
#include "ob_module.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>


typedef enum {
    OB_ARGS_VALUE,      /* takes a value, passed through as text */
    OB_ARGS_SIZE,       /* takes a size with memcached's k/m suffix (-I) */
    OB_ARGS_OCTAL,      /* takes an octal number (-a) */
    OB_ARGS_FIXED,      /* no value: sets key to `fixed` (-d) */
    OB_ARGS_VERBOSE,    /* no value: each one raises core.log_level (-v) */
    OB_ARGS_UDP,        /* takes a value that must be 0 (-U) */
    OB_ARGS_HELP,       /* no value: --help */
    OB_ARGS_VERSION     /* no value: --version */
} ob_args_kind_t;


typedef struct {
    char            ch;      /* the flag letter */
    const char     *flag;    /* "-m", for messages (static, so borrowable) */
    ob_args_kind_t  kind;
    const char     *key;     /* the dotted key it sets, or NULL */
    const char     *fixed;   /* OB_ARGS_FIXED: the value */
    const char     *arg;     /* --help: the value's name */
    const char     *help;    /* --help: one line */
} ob_args_alias_t;


/* The core's flags; the modules declare theirs (see the top comment). */
static const ob_args_alias_t ob_args_aliases[] = {
    { 'l', "-l", OB_ARGS_VALUE, "core.listen", NULL, "<addr>",
      "addresses to listen on, comma-separated" },
    { 'd', "-d", OB_ARGS_FIXED, "core.daemonize", "true", "",
      "run as a daemon" },
    { 'u', "-u", OB_ARGS_VALUE, "core.user", NULL, "<user>",
      "drop privileges to this user" },
    { 'm', "-m", OB_ARGS_VALUE, "core.memory_mb", NULL, "<num>",
      "memory for all modules, in megabytes" },
    { 'c', "-c", OB_ARGS_VALUE, "core.max_connections", NULL, "<num>",
      "maximum simultaneous connections" },
    { 'v', "-v", OB_ARGS_VERBOSE, "core.log_level", NULL, "",
      "verbose: -v info, -vv debug" },
    { 'P', "-P", OB_ARGS_VALUE, "core.pidfile", NULL, "<file>",
      "save the process id in this file" },
    { 'f', "-f", OB_ARGS_VALUE, "core.slab_growth_factor", NULL, "<factor>",
      "chunk size growth factor" },
    { 't', "-t", OB_ARGS_VALUE, "core.threads", NULL, "<num>",
      "accepted; onebox runs one reactor thread" },
    { 'R', "-R", OB_ARGS_VALUE, "core.reqs_per_event", NULL, "<num>",
      "requests handled per connection before yielding to others" },
    { 'U', "-U", OB_ARGS_UDP, NULL, NULL, "0",
      "UDP port: only 0 (off) is accepted" },
    { 'h', "-h", OB_ARGS_HELP, NULL, NULL, "",
      "print this help and exit" },
    { 'V', "-V", OB_ARGS_VERSION, NULL, NULL, "",
      "print the version and exit" },
    { 0, NULL, OB_ARGS_HELP, NULL, NULL, NULL, NULL }
};


/* The long options that are not --section.key. */
typedef enum {
    OB_ARGS_LONG_HELP,
    OB_ARGS_LONG_VERSION,
    OB_ARGS_LONG_PRINT_CONFIG,
    OB_ARGS_LONG_CONFIG
} ob_args_long_t;


static const struct {
    const char      *name;
    ob_args_long_t   opt;
    int              has_value;
} ob_args_long_opts[] = {
    { "help",         OB_ARGS_LONG_HELP,         0 },
    { "version",      OB_ARGS_LONG_VERSION,      0 },
    { "print-config", OB_ARGS_LONG_PRINT_CONFIG, 0 },
    { "config",       OB_ARGS_LONG_CONFIG,       1 },
    { NULL,           OB_ARGS_LONG_HELP,         0 }
};


/* How --help names a value of each type that has no range or choices to
 * show.  Indexed by ob_conf_type_t. */
static const char *const ob_args_type_names[] = {
    [OB_CONF_INT]    = "int",
    [OB_CONF_DOUBLE] = "number",
    [OB_CONF_BOOL]   = "bool",
    [OB_CONF_STRING] = "string",
    [OB_CONF_ENUM]   = "enum",
    [OB_CONF_OBJECT] = "json"
};


/* Multipliers of -I's suffixes, as memcached reads them. */
static const struct {
    char                suffix;
    unsigned long long  mult;
} ob_args_size_units[] = {
    { 'k', 1024ULL }, { 'K', 1024ULL },
    { 'm', 1048576ULL }, { 'M', 1048576ULL },
    { 0, 0 }
};


/* Appends a set to a (its valbuf empty).  Returns OB_OK, or OB_ERR with err
 * set when OB_ARGS_MAX_SETS are already taken. */
static int
ob_args_add(ob_args_t *a, const char *key, const char *value,
    const char *flag, ob_err_t *err)
{
    if (a->nsets == OB_ARGS_MAX_SETS) {
        return ob_err_set(err, "too many settings on the command line "
                            "(at most %d)", OB_ARGS_MAX_SETS);
    }

    a->sets[a->nsets].key = key;
    a->sets[a->nsets].value = value;
    a->sets[a->nsets].flag = flag;
    a->sets[a->nsets].valbuf[0] = '\0';
    a->nsets++;

    return OB_OK;
}


/*
 * Converts memcached's -I text ("1048576", "512k", "2m") into decimal bytes
 * in buf.  Returns OB_OK, or OB_ERR for anything else, including overflow;
 * the range is left to cache.max_item_size's schema.
 */
static int
ob_args_size(const char *text, char *buf, size_t size)
{
    int                 i;
    char               *end;
    unsigned long long  n, mult;

    if (text[0] < '0' || text[0] > '9') {
        return OB_ERR;
    }

    errno = 0;
    n = strtoull(text, &end, 10);
    if (errno == ERANGE) {
        return OB_ERR;
    }

    mult = 1;
    if (*end != '\0') {
        for (i = 0; ob_args_size_units[i].suffix != 0; i++) {
            if (ob_args_size_units[i].suffix == *end) {
                break;
            }
        }
        if (ob_args_size_units[i].suffix == 0 || end[1] != '\0') {
            return OB_ERR;
        }
        mult = ob_args_size_units[i].mult;
    }

    if (n > ~0ULL / mult) {
        return OB_ERR;
    }

    snprintf(buf, size, "%llu", n * mult);

    return OB_OK;
}


/*
 * The value of an option whose text ends at argv[*i]: `attached` if it is
 * not NULL ("-m64", "--x=v"), else the next argument, whatever it looks like
 * (as getopt does), advancing *i.  NULL when there is none.  borrowed.
 */
static const char *
ob_args_value(int argc, char **argv, int *i, const char *attached)
{
    if (attached != NULL) {
        return attached;
    }

    if (*i + 1 < argc) {
        return argv[++*i];
    }

    return NULL;
}


/* The kinds of a module's flag, as the parser's. */
static const ob_args_kind_t ob_args_module_kinds[] = {
    [OB_CONF_ALIAS_VALUE] = OB_ARGS_VALUE,
    [OB_CONF_ALIAS_SIZE]  = OB_ARGS_SIZE,
    [OB_CONF_ALIAS_OCTAL] = OB_ARGS_OCTAL,
    [OB_CONF_ALIAS_FIXED] = OB_ARGS_FIXED
};


/* The module flag ch of a compiled-in module, or NULL; *section is its
 * section.  borrowed. */
static const ob_conf_alias_t *
ob_args_module_alias(char ch, const ob_conf_section_t **section /* OUT */)
{
    const ob_conf_alias_t  *ma;
    size_t                  i;

    for (i = 0; ob_modules[i] != NULL; i++) {
        if (ob_modules[i]->conf == NULL
            || ob_modules[i]->conf->aliases == NULL)
        {
            continue;
        }
        for (ma = ob_modules[i]->conf->aliases; ma->ch != 0; ma++) {
            if (ma->ch == ch) {
                *section = ob_modules[i]->conf;
                return ma;
            }
        }
    }

    return NULL;
}


/*
 * The alias of flag letter ch, in *out: the core's, or a module's (its key
 * then NULL and *ma, *section set, for the caller to name the key).
 * OB_OK, or OB_DECLINED for an unknown letter.
 */
static int
ob_args_alias(char ch, ob_args_alias_t *out, const ob_conf_alias_t **ma,
    const ob_conf_section_t **section)
{
    const ob_args_alias_t  *al;

    *ma = NULL;
    *section = NULL;
    for (al = ob_args_aliases; al->ch != 0; al++) {
        if (al->ch == ch) {
            *out = *al;
            return OB_OK;
        }
    }

    *ma = ob_args_module_alias(ch, section);
    if (*ma == NULL) {
        return OB_DECLINED;
    }
    memset(out, 0, sizeof(*out));
    out->ch = ch;
    out->kind = ob_args_module_kinds[(*ma)->kind];
    out->fixed = (*ma)->fixed;
    return OB_OK;
}


/* Names the key and flag of the set just added for a module's flag. */
static void
ob_args_name_module_set(ob_args_t *a, char ch, const ob_conf_alias_t *ma,
    const ob_conf_section_t *section)
{
    size_t  i = a->nsets - 1;

    snprintf(a->sets[i].keybuf, sizeof(a->sets[i].keybuf), "%s.%s",
             section->name, ma->key);
    a->sets[i].key = a->sets[i].keybuf;
    a->sets[i].flagbuf[0] = '-';
    a->sets[i].flagbuf[1] = ch;
    a->sets[i].flagbuf[2] = '\0';
    a->sets[i].flag = a->sets[i].flagbuf;
}


/* memcached's -a: an octal mask ("700") into decimal text in buf. */
static int
ob_args_octal(const char *text, char *buf, size_t size)
{
    char  *end;
    long   n;

    if (text[0] < '0' || text[0] > '7') {
        return OB_ERR;
    }
    errno = 0;
    n = strtol(text, &end, 8);
    if (errno == ERANGE || *end != '\0') {
        return OB_ERR;
    }
    snprintf(buf, size, "%ld", n);
    return OB_OK;
}


/*
 * Handles the bundle of short flags in argv[*i] ("-m64", "-dv", "-vv").  A
 * flag that takes a value ends the bundle.  *verbose is the index of the set
 * -v wrote and *nverbose how many -v were seen, so that "-v -v" raises one
 * set to debug rather than adding two.
 */
static int
ob_args_short(ob_args_t *a, int argc, char **argv, int *i, size_t *verbose,
    int *nverbose, ob_err_t *err)
{
    char                     *buf, flag[3];
    const char               *p, *value;
    ob_args_alias_t           al;
    const ob_conf_alias_t    *ma;
    const ob_conf_section_t  *section;

    for (p = argv[*i] + 1; *p != '\0'; p++) {

        if (ob_args_alias(*p, &al, &ma, &section) != OB_OK) {
            return ob_err_set(err, "unknown option '-%c'", *p);
        }
        if (ma != NULL) {
            /* for messages; the set gets its own copy (flagbuf) */
            flag[0] = '-';
            flag[1] = *p;
            flag[2] = '\0';
            al.flag = flag;
        }

        switch (al.kind) {

        case OB_ARGS_HELP:
            a->help = 1;
            continue;

        case OB_ARGS_VERSION:
            a->version = 1;
            continue;

        case OB_ARGS_FIXED:
            if (ob_args_add(a, al.key, al.fixed, al.flag, err) != OB_OK) {
                return OB_ERR;
            }
            if (ma != NULL) {
                ob_args_name_module_set(a, *p, ma, section);
            }
            continue;

        case OB_ARGS_VERBOSE:
            if (*nverbose == 0) {
                if (ob_args_add(a, al.key, "info", al.flag, err) != OB_OK) {
                    return OB_ERR;
                }
                *verbose = a->nsets - 1;
            } else {
                a->sets[*verbose].value = "debug";
            }
            (*nverbose)++;
            continue;

        default:
            break;
        }

        value = ob_args_value(argc, argv, i, p[1] != '\0' ? p + 1 : NULL);
        if (value == NULL) {
            return ob_err_set(err, "option '%s' needs a value", al.flag);
        }

        switch (al.kind) {

        case OB_ARGS_UDP:
            /* UDP is off in onebox; -U 0 says just that, so it sets nothing */
            if (strcmp(value, "0") != 0) {
                return ob_err_set(err, "-U: UDP is not supported; only -U 0 "
                                    "is accepted");
            }
            return OB_OK;

        case OB_ARGS_SIZE:
        case OB_ARGS_OCTAL:
            if (ob_args_add(a, al.key, NULL, al.flag, err) != OB_OK) {
                return OB_ERR;
            }
            buf = a->sets[a->nsets - 1].valbuf;
            if (al.kind == OB_ARGS_SIZE
                && ob_args_size(value, buf, sizeof(a->sets[0].valbuf))
                   != OB_OK)
            {
                return ob_err_set(err, "%s: bad size '%s' (a number of "
                                    "bytes, optionally followed by k or m)",
                                    al.flag, value);
            }
            if (al.kind == OB_ARGS_OCTAL
                && ob_args_octal(value, buf, sizeof(a->sets[0].valbuf))
                   != OB_OK)
            {
                return ob_err_set(err, "%s: bad mask '%s' (an octal number, "
                                    "e.g. 700)", al.flag, value);
            }
            a->sets[a->nsets - 1].value = buf;
            break;

        default:
            if (ob_args_add(a, al.key, value, al.flag, err) != OB_OK) {
                return OB_ERR;
            }
            break;
        }

        if (ma != NULL) {
            ob_args_name_module_set(a, *p, ma, section);
        }
        return OB_OK;
    }

    return OB_OK;
}


/*
 * Handles "--name", "--name=VALUE" or "--name VALUE" in argv[*i].  Names with
 * a dot are settings (not checked here); the others come from ob_args_long_opts.
 * A setting's flag is the whole argument: messages name only short flags.
 */
static int
ob_args_long(ob_args_t *a, int argc, char **argv, int *i, ob_err_t *err)
{
    int          o;
    char        *buf;
    size_t       len;
    const char  *arg, *name, *eq, *value;

    arg = argv[*i];
    name = arg + 2;
    eq = strchr(name, '=');
    len = (eq != NULL) ? (size_t) (eq - name) : strlen(name);

    if (memchr(name, '.', len) != NULL) {
        value = ob_args_value(argc, argv, i, eq != NULL ? eq + 1 : NULL);
        if (value == NULL) {
            return ob_err_set(err, "option '%s' needs a value", arg);
        }

        if (eq == NULL) {
            return ob_args_add(a, name, value, arg, err);
        }

        /* The key must be NUL-terminated and argv is not ours to cut (a
         * second parse must see the same argv): copy it. */
        if (len >= sizeof(a->sets[0].valbuf)) {
            return ob_err_set(err, "option '--%.*s': name too long for the "
                                "'=' form; write '--%.*s VALUE'", (int) len,
                                name, (int) len, name);
        }
        if (ob_args_add(a, NULL, value, arg, err) != OB_OK) {
            return OB_ERR;
        }
        buf = a->sets[a->nsets - 1].valbuf;
        memcpy(buf, name, len);
        buf[len] = '\0';
        a->sets[a->nsets - 1].key = buf;

        return OB_OK;
    }

    for (o = 0; ob_args_long_opts[o].name != NULL; o++) {
        if (strlen(ob_args_long_opts[o].name) == len
            && memcmp(ob_args_long_opts[o].name, name, len) == 0)
        {
            break;
        }
    }
    if (ob_args_long_opts[o].name == NULL) {
        return ob_err_set(err, "unknown option '--%.*s'", (int) len, name);
    }

    if (!ob_args_long_opts[o].has_value && eq != NULL) {
        return ob_err_set(err, "option '--%.*s' takes no value", (int) len,
                            name);
    }

    switch (ob_args_long_opts[o].opt) {

    case OB_ARGS_LONG_HELP:
        a->help = 1;
        break;

    case OB_ARGS_LONG_VERSION:
        a->version = 1;
        break;

    case OB_ARGS_LONG_PRINT_CONFIG:
        a->print_config = 1;
        break;

    case OB_ARGS_LONG_CONFIG:
        value = ob_args_value(argc, argv, i, eq != NULL ? eq + 1 : NULL);
        if (value == NULL || value[0] == '\0') {
            return ob_err_set(err, "option '--config' needs a value");
        }
        a->config_file = value;
        break;
    }

    return OB_OK;
}


int
ob_args_parse(ob_args_t *a, int argc, char **argv, ob_err_t *err)
{
    int     i, nverbose, rc;
    size_t  verbose;

    memset(a, 0, sizeof(*a));
    nverbose = 0;
    verbose = 0;

    for (i = 1; i < argc; i++) {

        if (strcmp(argv[i], "--") == 0) {
            if (i + 1 < argc) {
                return ob_err_set(err, "unexpected argument '%s'",
                                    argv[i + 1]);
            }
            break;
        }

        if (argv[i][0] == '-' && argv[i][1] == '-') {
            rc = ob_args_long(a, argc, argv, &i, err);

        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            rc = ob_args_short(a, argc, argv, &i, &verbose, &nverbose, err);

        } else {
            return ob_err_set(err, "unexpected argument '%s'", argv[i]);
        }

        if (rc != OB_OK) {
            return rc;
        }
    }

    return OB_OK;
}


int
ob_conf_apply_args(ob_conf_t *c, const ob_args_t *a, ob_err_t *err)
{
    size_t  i, len;

    if (a->config_file != NULL
        && ob_conf_load_file(c, a->config_file, err) != OB_OK)
    {
        return OB_ERR;
    }

    for (i = 0; i < a->nsets; i++) {
        if (ob_conf_set_text(c, a->sets[i].key, a->sets[i].value, err)
            == OB_OK)
        {
            continue;
        }

        /* The message names the key; a short flag is an alias, so say which
         * one the user actually typed. */
        if (err != NULL && a->sets[i].flag != NULL
            && a->sets[i].flag[0] == '-' && a->sets[i].flag[1] != '-')
        {
            len = strlen(err->msg);
            snprintf(err->msg + len, sizeof(err->msg) - len, " (from %s)",
                     a->sets[i].flag);
        }

        return OB_ERR;
    }

    return OB_OK;
}


/* One "--section.key <type>" entry of --help: the type with its range or
 * choices, the default as JSON, and the help line. */
static void
ob_args_usage_key(const ob_conf_section_t *s, const ob_conf_key_t *k,
    FILE *out)
{
    const char *const  *ch;

    fprintf(out, "  --%s.%s <", s->name, k->name);

    switch (k->type) {

    case OB_CONF_INT:
        fprintf(out, "int %lld..%lld", k->imin, k->imax);
        break;

    case OB_CONF_DOUBLE:
        fprintf(out, "number %g..%g", k->dmin, k->dmax);
        break;

    case OB_CONF_ENUM:
        for (ch = k->choices; ch != NULL && *ch != NULL; ch++) {
            fprintf(out, "%s%s", ch == k->choices ? "" : "|", *ch);
        }
        break;

    default:
        fputs(ob_args_type_names[k->type], out);
        break;
    }

    fprintf(out, ">  (default %s)\n      %s\n", k->def, k->help);
}


void
ob_conf_usage(const ob_conf_t *c, FILE *out)
{
    size_t                    i, m;
    char                      dotted[64];
    const ob_conf_key_t      *k;
    const ob_args_alias_t    *al;
    const ob_conf_alias_t    *ma;
    const ob_conf_section_t  *s;

    fputs("Usage: onebox [options]\n"
          "\n"
          "Options:\n"
          "  --config FILE     read settings from FILE (JSON); the flags "
          "below win over it\n"
          "  --print-config    print the effective configuration as JSON "
          "and exit\n"
          "  --help, -h        print this help and exit\n"
          "  --version, -V     print the version and exit\n"
          "\n"
          "memcached-compatible flags (aliases of the settings below):\n",
          out);

    for (al = ob_args_aliases; al->ch != 0; al++) {
        fprintf(out, "  %s %-9s %-24s %s\n", al->flag, al->arg,
                al->key != NULL ? al->key : "", al->help);
    }
    for (m = 0; ob_modules[m] != NULL; m++) {
        s = ob_modules[m]->conf;
        for (ma = s != NULL ? s->aliases : NULL; ma != NULL && ma->ch != 0;
             ma++)
        {
            snprintf(dotted, sizeof(dotted), "%s.%s", s->name, ma->key);
            fprintf(out, "  -%c %-9s %-24s %s\n", ma->ch,
                    ma->arg != NULL ? ma->arg : "", dotted, ma->help);
        }
    }

    fputs("\nSettings (--section.key VALUE or --section.key=VALUE; a "
          "nullable setting takes null):\n", out);

    /* The tree's sections: core, then the caller's, where core may be
     * listed again (see ob_conf_init). */
    for (i = 0; i <= c->nsections; i++) {
        s = (i == 0) ? &ob_conf_core_section : c->sections[i - 1];
        if (i > 0 && s == &ob_conf_core_section) {
            continue;
        }
        fprintf(out, "\n%s:\n", s->name);

        if (s->switchable) {
            ob_args_usage_key(s, &ob_conf_enabled_key, out);
        }
        for (k = s->keys; k->name != NULL; k++) {
            ob_args_usage_key(s, k, out);
        }
    }
}
