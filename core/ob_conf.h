/*
 * ob_conf.h: the configuration of the process, as one JSON tree checked
 * against a schema.
 *
 * The schema is data: the core section's keys, and one section per
 * compiled-in module (each module lists its own keys; every module section
 * also has "enabled", added here).  The effective configuration is built in
 * three layers, later ones winning:
 *
 *   1. defaults from the schema,
 *   2. the JSON file given with --config FILE,
 *   3. command-line flags: --section.key VALUE, and memcached's own flags,
 *      which are aliases of keys: the core's (-m -c -l -P -u -d -t -U -v
 *      -f) in ob_conf_args.c, a module's (the cache's -p -s -a -I -C -F -M)
 *      in its own section (ob_conf_section_t.aliases).
 *
 * Every value from every layer goes through the same validation (type, range,
 * choices), and the first failure stops start-up with a message that names
 * the key.  Nothing is started before the whole configuration is valid.
 */
#ifndef OB_CONF_H
#define OB_CONF_H

#include <stdio.h>
#include <jansson.h>
#include "ob_core.h"

typedef enum {
    OB_CONF_INT,       /* JSON integer within [imin, imax] */
    OB_CONF_DOUBLE,    /* JSON number within [dmin, dmax] */
    OB_CONF_BOOL,      /* JSON true/false; on the command line true/false/yes/no/1/0 */
    OB_CONF_STRING,    /* JSON string */
    OB_CONF_ENUM,      /* JSON string, one of `choices` */
    OB_CONF_OBJECT     /* JSON object of string -> string (e.g. mq.users); JSON text on the command line */
} ob_conf_type_t;

#define OB_CONF_NULLABLE  0x1   /* null is allowed (means "not set") */

typedef struct ob_conf_key_s {
    const char          *name;      /* "port"; NULL ends a key list */
    ob_conf_type_t       type;
    unsigned             flags;     /* OB_CONF_NULLABLE */
    long long            imin, imax;
    double               dmin, dmax;
    const char          *def;       /* default as JSON text: "11211", "\"127.0.0.1\"", "null" */
    const char *const   *choices;   /* OB_CONF_ENUM: NULL-terminated */
    const char          *help;      /* one line for --help */
} ob_conf_key_t;

/* How a short flag of a module (memcached's -p, -I ...) sets its key. */
typedef enum {
    OB_CONF_ALIAS_VALUE,   /* -p 11211: the value, as command-line text */
    OB_CONF_ALIAS_SIZE,    /* -I 2m: bytes, with memcached's k/m suffixes */
    OB_CONF_ALIAS_OCTAL,   /* -a 700: an octal number (memcached's -a) */
    OB_CONF_ALIAS_FIXED    /* -C: takes no value; sets `fixed` */
} ob_conf_alias_kind_t;

/* A short flag declared by the module that owns its key. */
typedef struct ob_conf_alias_s {
    char                  ch;       /* the letter; 0 ends a list */
    ob_conf_alias_kind_t  kind;
    const char           *key;      /* a key of the same section: "port" */
    const char           *fixed;    /* OB_CONF_ALIAS_FIXED: the value */
    const char           *arg;      /* --help: the value's name, "<num>" */
    const char           *help;     /* --help: one line */
} ob_conf_alias_t;

typedef struct ob_conf_section_s {
    const char             *name;      /* "core", "cache", ... */
    const ob_conf_key_t    *keys;      /* terminated by a key with name NULL */
    int                     switchable;/* 1: the section also has "enabled" (bool, default true) */
    const ob_conf_alias_t  *aliases;   /* its short flags, or NULL (see ob_args_parse) */
} ob_conf_section_t;

typedef struct ob_conf_s {
    json_t                         *root;       /* {"core": {...}, "cache": {...}} in schema order */
    const ob_conf_section_t *const *sections;   /* borrowed */
    size_t                          nsections;
} ob_conf_t;

/* "enabled" (bool, default true), the first key of every switchable
 * section; ob_conf adds it, --help lists it. */
extern const ob_conf_key_t ob_conf_enabled_key;

/* The core section's schema (core.listen, core.memory_mb, ...). */
extern const ob_conf_section_t ob_conf_core_section;

/*
 * Builds the defaults for the given sections.  Fails (OB_ERR, err filled)
 * only if a schema default is itself invalid, which is a programming error
 * that the unit tests catch.  Release with ob_conf_free.
 */
int  ob_conf_init(ob_conf_t *c, const ob_conf_section_t *const *sections,
                  size_t nsections, ob_err_t *err);
void ob_conf_free(ob_conf_t *c);

/* Merges a JSON file over the current values.  Unknown sections or keys,
 * wrong types and out-of-range values are errors naming the key
 * ("core.memory_mb: ..."); a file that is not valid JSON names the file,
 * line and column.  On error nothing of the file is applied. */
int ob_conf_load_file(ob_conf_t *c, const char *path, ob_err_t *err);

/* Same as ob_conf_load_file for a JSON object already parsed (borrowed). */
int ob_conf_merge(ob_conf_t *c, const json_t *obj, ob_err_t *err);

/* Sets one key from its command-line text: "core.memory_mb", "128".  The
 * text is converted by the key's type (an OBJECT takes JSON text; a
 * NULLABLE key takes "null" as null), then validated as a file value is. */
int ob_conf_set_text(ob_conf_t *c, const char *dotted_key, const char *text,
                     ob_err_t *err);

/* The effective configuration as indented JSON.  new: caller frees with free(). */
char *ob_conf_dump(const ob_conf_t *c);

/* A section's object, or NULL if there is no such section.  borrowed. */
const json_t *ob_conf_section(const ob_conf_t *c, const char *section);

/* Typed reads of validated values.  The key must exist in the section's
 * schema (a programming error otherwise: they abort).  ob_conf_str returns
 * NULL for a null value.  borrowed. */
long long   ob_conf_int(const json_t *section, const char *key);
double      ob_conf_double(const json_t *section, const char *key);
int         ob_conf_bool(const json_t *section, const char *key);
const char *ob_conf_str(const json_t *section, const char *key);

/* ---- the command line ---------------------------------------------------- */

#define OB_ARGS_MAX_SETS 256

/* What the command line asked for, before the file is read.  Values are
 * borrowed from argv. */
typedef struct ob_args_s {
    int         help;          /* --help or -h */
    int         version;       /* --version or -V */
    int         print_config;  /* --print-config */
    const char *config_file;   /* --config FILE, or NULL */
    size_t      nsets;
    struct {
        const char *key;       /* "core.memory_mb" (borrowed: argv or a static alias) */
        const char *value;     /* command-line text (argv, a static string, or valbuf) */
        const char *flag;      /* how it was given, for messages: "-m", "--core.memory_mb" */
        char        valbuf[32];/* holds a converted value, e.g. -I 2m -> "2097152" */
        char        keybuf[64];/* a module flag's "section.key" */
        char        flagbuf[4];/* a module flag's "-p" */
    } sets[OB_ARGS_MAX_SETS];
} ob_args_t;

/*
 * Parses argv (argv[0] is the program).  memcached's flags become sets of
 * their keys: the core's -m core.memory_mb, -c core.max_connections,
 * -l core.listen, -P core.pidfile, -u core.user, -d core.daemonize true,
 * -t core.threads, -f core.slab_growth_factor, -v/-vv/-vvv core.log_level
 * (info/debug/debug), -U (only 0: UDP is off); and each compiled-in
 * module's own (ob_modules[i]->conf->aliases: the cache's -p -s -a -I -C
 * -F -M).
 * Short flags take their value as the next argument or attached ("-m64").
 * Returns OB_OK, or OB_ERR with err naming the flag (an unknown flag, a
 * missing value).  Keys are not checked here: ob_conf_apply_args does that.
 */
int ob_args_parse(ob_args_t *a, int argc, char **argv, ob_err_t *err);

/* Applies the file (if any) and then every set, in order.  The first error
 * stops it, naming the key and the flag it came from. */
int ob_conf_apply_args(ob_conf_t *c, const ob_args_t *a, ob_err_t *err);

/* Writes --help: usage, the memcached flags, and every --section.key with
 * its type, default and help line. */
void ob_conf_usage(const ob_conf_t *c, FILE *out);

#endif /* OB_CONF_H */
