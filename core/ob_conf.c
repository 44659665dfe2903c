/*
 * ob_conf.c: the configuration tree, checked against a schema.
 *
 * The schema is data (ob_conf_section_t / ob_conf_key_t tables: the core
 * section in ob_conf_core.c, one section per module in the module's own
 * files).  This file turns it into behaviour:
 *
 *   defaults   ob_conf_init parses every key's JSON default, runs it through
 *              the same check as user values (so a bad default is caught by
 *              the unit tests, not in production) and builds
 *              {"core": {...}, "<module>": {...}} in schema order.
 *   file       ob_conf_load_file / ob_conf_merge overlay a JSON object.
 *   text       ob_conf_set_text converts one command-line string by the
 *              key's type, then checks it like a file value.
 *   reads      ob_conf_int/_double/_bool/_str for the modules' init.
 *
 * (--help, which prints the schema, is with the rest of the command line in
 * ob_conf_args.c.)
 *
 * Invariants:
 *
 *   - c->root only ever holds checked values, stored in a normal form: an
 *     INT is a JSON integer, a DOUBLE is always a JSON real (a file may say
 *     2 for 2.0), an OBJECT is a private deep copy.  The getters can
 *     therefore abort on a wrong type: it can only be a programming error.
 *   - An update is all or nothing.  ob_conf_merge checks every value of the
 *     object into a staging tree first and touches c->root only when all of
 *     them passed, so a file with one bad key changes nothing.
 *   - Every error message starts with the dotted key ("core.memory_mb: ..."),
 *     because that is what the user has to find in a file or a command line.
 *     The exceptions name what they are about instead: an unknown section,
 *     and a file that cannot be read or parsed ("FILE:LINE:COL: ...").
 *   - The core section always comes first.  The caller's array lists the
 *     module sections; it may list &ob_conf_core_section too (main.c does),
 *     which is then skipped rather than added twice.
 *   - A switchable section gets "enabled" (bool, default true) as its first
 *     key; the module does not list it.
 *
 * Key order in dumps is schema order: jansson keeps insertion order, and
 * replacing a value (json_object_set) keeps its place.
 */
#include "ob_conf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>


const ob_conf_key_t ob_conf_enabled_key = {
    .name = "enabled", .type = OB_CONF_BOOL, .def = "true",
    .help = "run this module"
};


/* Per type: what a value must be, for messages.  Indexed by
 * ob_conf_type_t.  ENUM's message goes on to list the choices. */
static const char *const ob_conf_type_must[] = {
    [OB_CONF_INT]    = "an integer",
    [OB_CONF_DOUBLE] = "a number",
    [OB_CONF_BOOL]   = "true or false",
    [OB_CONF_STRING] = "a string",
    [OB_CONF_ENUM]   = "one of",
    [OB_CONF_OBJECT] = "an object of string values"
};


/* The words a boolean takes on the command line (any case). */
static const struct {
    const char *word;
    int         value;
} ob_conf_bool_words[] = {
    { "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 },
    { "on", 1 },   { "off", 0 },   { "1", 1 },   { "0", 0 },
    { NULL, 0 }
};


/* The type error for key k of section s: "core.log_level: must be one of
 * debug, info, notice, warning, error".  Always returns OB_ERR. */
static int
ob_conf_fail_type(const ob_conf_section_t *s, const ob_conf_key_t *k,
    ob_err_t *err)
{
    size_t              len;
    const char *const  *ch;

    if (err == NULL) {
        return OB_ERR;
    }

    snprintf(err->msg, sizeof(err->msg), "%s.%s: must be %s",
             s->name, k->name, ob_conf_type_must[k->type]);

    if (k->type == OB_CONF_ENUM && k->choices != NULL) {
        for (ch = k->choices; *ch != NULL; ch++) {
            len = strlen(err->msg);
            snprintf(err->msg + len, sizeof(err->msg) - len, "%s %s",
                     ch == k->choices ? "" : ",", *ch);
        }
    }

    return OB_ERR;
}


/* Section i, for i in 0..c->nsections: core, then the caller's array, in
 * which core may appear again (callers skip it there).  borrowed. */
static const ob_conf_section_t *
ob_conf_nth_section(const ob_conf_t *c, size_t i)
{
    return (i == 0) ? &ob_conf_core_section : c->sections[i - 1];
}


/* The schema of section `name` (of length len), or NULL.  borrowed. */
static const ob_conf_section_t *
ob_conf_find_section(const ob_conf_t *c, const char *name, size_t len)
{
    size_t                    i;
    const ob_conf_section_t  *s;

    for (i = 0; i <= c->nsections; i++) {
        s = ob_conf_nth_section(c, i);
        if (strlen(s->name) == len && memcmp(s->name, name, len) == 0) {
            return s;
        }
    }

    return NULL;
}


/* The schema of key `name` in section s, or NULL.  borrowed. */
static const ob_conf_key_t *
ob_conf_find_key(const ob_conf_section_t *s, const char *name)
{
    const ob_conf_key_t  *k;

    if (s->switchable && strcmp(name, ob_conf_enabled_key.name) == 0) {
        return &ob_conf_enabled_key;
    }

    for (k = s->keys; k->name != NULL; k++) {
        if (strcmp(k->name, name) == 0) {
            return k;
        }
    }

    return NULL;
}


/*
 * Checks value v (borrowed) for key k of section s.  On success *out is a
 * new reference to the value in its normal form (see the invariants above),
 * to be stored as is.  Returns OB_OK, or OB_ERR with err naming the key.
 */
static int
ob_conf_check(const ob_conf_section_t *s, const ob_conf_key_t *k,
    const json_t *v, json_t **out, ob_err_t *err)
{
    long long           n;
    double              d;
    const char         *str;
    const char         *name;
    const char *const  *ch;
    json_t             *item;

    *out = NULL;

    if (json_is_null(v)) {
        if (!(k->flags & OB_CONF_NULLABLE)) {
            return ob_conf_fail_type(s, k, err);
        }
        *out = json_null();
        return OB_OK;
    }

    switch (k->type) {

    case OB_CONF_INT:
        if (!json_is_integer(v)) {
            return ob_conf_fail_type(s, k, err);
        }
        n = json_integer_value(v);
        if (n < k->imin || n > k->imax) {
            return ob_err_set(err, "%s.%s: must be between %lld and %lld "
                                "(got %lld)", s->name, k->name,
                                k->imin, k->imax, n);
        }
        *out = json_integer(n);
        break;

    case OB_CONF_DOUBLE:
        if (!json_is_number(v)) {
            return ob_conf_fail_type(s, k, err);
        }
        d = json_number_value(v);
        if (!(d >= k->dmin && d <= k->dmax)) {
            return ob_err_set(err, "%s.%s: must be between %g and %g "
                                "(got %g)", s->name, k->name,
                                k->dmin, k->dmax, d);
        }
        *out = json_real(d);
        break;

    case OB_CONF_BOOL:
        if (!json_is_boolean(v)) {
            return ob_conf_fail_type(s, k, err);
        }
        *out = json_boolean(json_is_true(v));
        break;

    case OB_CONF_STRING:
    case OB_CONF_ENUM:
        if (!json_is_string(v)) {
            return ob_conf_fail_type(s, k, err);
        }
        str = json_string_value(v);

        /* JSON allows "\u0000"; every reader of these values is C. */
        if (strlen(str) != json_string_length(v)) {
            return ob_err_set(err, "%s.%s: must not contain NUL characters",
                                s->name, k->name);
        }

        if (k->type == OB_CONF_ENUM) {
            for (ch = k->choices; ch != NULL && *ch != NULL; ch++) {
                if (strcmp(*ch, str) == 0) {
                    break;
                }
            }
            if (ch == NULL || *ch == NULL) {
                return ob_conf_fail_type(s, k, err);
            }
        }
        *out = json_string(str);
        break;

    case OB_CONF_OBJECT:
        if (!json_is_object(v)) {
            return ob_conf_fail_type(s, k, err);
        }
        /* jansson's iteration takes a non-const object; it only reads. */
        json_object_foreach((json_t *) v, name, item) {
            if (!json_is_string(item)) {
                return ob_conf_fail_type(s, k, err);
            }
        }
        *out = json_deep_copy(v);
        break;

    default:
        return ob_err_set(err, "%s.%s: the schema has an unknown type %d",
                            s->name, k->name, (int) k->type);
    }

    if (*out == NULL) {
        return ob_err_set(err, "%s.%s: out of memory", s->name, k->name);
    }

    return OB_OK;
}


/*
 * Converts command-line text for key k of section s into a JSON value and
 * checks it.  *out: new reference on OB_OK.  Integers and numbers must be
 * the whole string (no spaces, no trailing junk); an integer that overflows
 * long long gets the range message, quoting the text.
 */
static int
ob_conf_from_text(const ob_conf_section_t *s, const ob_conf_key_t *k,
    const char *text, json_t **out, ob_err_t *err)
{
    int           rc, i;
    char         *end;
    long long     n;
    double        d;
    json_t       *v;
    json_error_t  jerr;

    *out = NULL;
    v = NULL;

    if ((k->flags & OB_CONF_NULLABLE) && strcmp(text, "null") == 0) {
        *out = json_null();
        return OB_OK;
    }

    switch (k->type) {

    case OB_CONF_INT:
        if (text[0] == '\0' || isspace((unsigned char) text[0])) {
            return ob_conf_fail_type(s, k, err);
        }
        errno = 0;
        n = strtoll(text, &end, 10);
        if (*end != '\0') {
            return ob_conf_fail_type(s, k, err);
        }
        if (errno == ERANGE) {
            return ob_err_set(err, "%s.%s: must be between %lld and %lld "
                                "(got %s)", s->name, k->name,
                                k->imin, k->imax, text);
        }
        v = json_integer(n);
        break;

    case OB_CONF_DOUBLE:
        if (text[0] == '\0' || isspace((unsigned char) text[0])) {
            return ob_conf_fail_type(s, k, err);
        }
        d = strtod(text, &end);
        if (*end != '\0' || !isfinite(d)) {
            return ob_conf_fail_type(s, k, err);
        }
        v = json_real(d);
        break;

    case OB_CONF_BOOL:
        for (i = 0; ob_conf_bool_words[i].word != NULL; i++) {
            if (strcasecmp(ob_conf_bool_words[i].word, text) == 0) {
                break;
            }
        }
        if (ob_conf_bool_words[i].word == NULL) {
            return ob_conf_fail_type(s, k, err);
        }
        v = json_boolean(ob_conf_bool_words[i].value);
        break;

    case OB_CONF_STRING:
    case OB_CONF_ENUM:
        v = json_string(text);
        if (v == NULL) {
            return ob_err_set(err, "%s.%s: must be valid UTF-8",
                                s->name, k->name);
        }
        break;

    case OB_CONF_OBJECT:
        v = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        if (v == NULL) {
            return ob_err_set(err, "%s.%s: must be %s (bad JSON: %s)",
                                s->name, k->name,
                                ob_conf_type_must[k->type], jerr.text);
        }
        break;

    default:
        return ob_err_set(err, "%s.%s: the schema has an unknown type %d",
                            s->name, k->name, (int) k->type);
    }

    if (v == NULL) {
        return ob_err_set(err, "%s.%s: out of memory", s->name, k->name);
    }

    rc = ob_conf_check(s, k, v, out, err);
    json_decref(v);

    return rc;
}


/* Adds key k's checked default to obj (the section being built). */
static int
ob_conf_add_default(json_t *obj, const ob_conf_section_t *s,
    const ob_conf_key_t *k, ob_err_t *err)
{
    int           rc;
    json_t       *def, *v;
    json_error_t  jerr;

    if (json_object_get(obj, k->name) != NULL) {
        return ob_err_set(err, "%s.%s: the key is listed twice",
                            s->name, k->name);
    }

    /* Checked once here so that every other use may index by type. */
    if ((unsigned) k->type > OB_CONF_OBJECT) {
        return ob_err_set(err, "%s.%s: the schema has an unknown type %d",
                            s->name, k->name, (int) k->type);
    }

    if (k->def == NULL) {
        return ob_err_set(err, "%s.%s: the schema has no default",
                            s->name, k->name);
    }

    def = json_loads(k->def, JSON_DECODE_ANY, &jerr);
    if (def == NULL) {
        return ob_err_set(err, "%s.%s: bad default %s: %s",
                            s->name, k->name, k->def, jerr.text);
    }

    rc = ob_conf_check(s, k, def, &v, err);
    json_decref(def);
    if (rc != OB_OK) {
        return rc;
    }

    if (json_object_set_new(obj, k->name, v) != 0) {
        return ob_err_set(err, "%s.%s: out of memory", s->name, k->name);
    }

    return OB_OK;
}


/* Adds section s, with every default, to c->root. */
static int
ob_conf_add_section(ob_conf_t *c, const ob_conf_section_t *s, ob_err_t *err)
{
    json_t               *obj;
    const ob_conf_key_t  *k;

    if (json_object_get(c->root, s->name) != NULL) {
        return ob_err_set(err, "section '%s' is listed twice", s->name);
    }

    obj = json_object();
    if (obj == NULL || json_object_set_new(c->root, s->name, obj) != 0) {
        return ob_err_set(err, "%s: out of memory", s->name);
    }

    if (s->switchable
        && ob_conf_add_default(obj, s, &ob_conf_enabled_key, err) != OB_OK)
    {
        return OB_ERR;
    }

    for (k = s->keys; k->name != NULL; k++) {
        if (ob_conf_add_default(obj, s, k, err) != OB_OK) {
            return OB_ERR;
        }
    }

    return OB_OK;
}


int
ob_conf_init(ob_conf_t *c, const ob_conf_section_t *const *sections,
    size_t nsections, ob_err_t *err)
{
    size_t  i;

    c->sections = sections;
    c->nsections = nsections;
    c->root = json_object();
    if (c->root == NULL) {
        return ob_err_set(err, "out of memory");
    }

    for (i = 0; i <= nsections; i++) {
        if (i > 0 && sections[i - 1] == &ob_conf_core_section) {
            continue;
        }
        if (ob_conf_add_section(c, ob_conf_nth_section(c, i), err) != OB_OK) {
            ob_conf_free(c);
            return OB_ERR;
        }
    }

    return OB_OK;
}


void
ob_conf_free(ob_conf_t *c)
{
    json_decref(c->root);
    c->root = NULL;
}


/*
 * Phase one checks every value of obj into `staged` ({section: {key: value}},
 * values in normal form); phase two copies staged into c->root.  Only phase
 * two touches c->root, and it fails only when memory runs out.
 */
int
ob_conf_merge(ob_conf_t *c, const json_t *obj, ob_err_t *err)
{
    int                       rc;
    const char               *sname, *kname;
    json_t                   *staged, *ssec, *sval, *kval, *v;
    const ob_conf_key_t      *k;
    const ob_conf_section_t  *s;

    if (!json_is_object(obj)) {
        return ob_err_set(err, "the configuration must be a JSON object");
    }

    staged = json_object();
    if (staged == NULL) {
        return ob_err_set(err, "out of memory");
    }

    rc = OB_ERR;

    /* jansson's iteration takes a non-const object; it only reads. */
    json_object_foreach((json_t *) obj, sname, sval) {

        s = ob_conf_find_section(c, sname, strlen(sname));
        if (s == NULL) {
            ob_err_set(err, "unknown section '%s'", sname);
            goto done;
        }
        if (!json_is_object(sval)) {
            ob_err_set(err, "%s: must be an object", sname);
            goto done;
        }

        ssec = json_object();
        if (ssec == NULL || json_object_set_new(staged, sname, ssec) != 0) {
            ob_err_set(err, "out of memory");
            goto done;
        }

        json_object_foreach(sval, kname, kval) {
            k = ob_conf_find_key(s, kname);
            if (k == NULL) {
                ob_err_set(err, "unknown key %s.%s", sname, kname);
                goto done;
            }
            if (ob_conf_check(s, k, kval, &v, err) != OB_OK) {
                goto done;
            }
            if (json_object_set_new(ssec, kname, v) != 0) {
                ob_err_set(err, "out of memory");
                goto done;
            }
        }
    }

    json_object_foreach(staged, sname, ssec) {
        if (json_object_update(json_object_get(c->root, sname), ssec) != 0) {
            ob_err_set(err, "out of memory");
            goto done;
        }
    }

    rc = OB_OK;

done:

    json_decref(staged);
    return rc;
}


int
ob_conf_load_file(ob_conf_t *c, const char *path, ob_err_t *err)
{
    int           rc;
    FILE         *fp;
    json_t       *obj;
    json_error_t  jerr;

    /* Opened here rather than by json_load_file so that a missing file gets
     * the plain "FILE: No such file or directory". */
    fp = fopen(path, "r");
    if (fp == NULL) {
        return ob_err_set(err, "%s: %s", path, strerror(errno));
    }

    obj = json_loadf(fp, JSON_REJECT_DUPLICATES, &jerr);
    fclose(fp);

    if (obj == NULL) {
        return ob_err_set(err, "%s:%d:%d: %s", path, jerr.line, jerr.column,
                            jerr.text);
    }

    if (!json_is_object(obj)) {
        json_decref(obj);
        return ob_err_set(err, "%s: must be a JSON object", path);
    }

    rc = ob_conf_merge(c, obj, err);
    json_decref(obj);

    return rc;
}


int
ob_conf_set_text(ob_conf_t *c, const char *dotted_key, const char *text,
    ob_err_t *err)
{
    const char               *dot;
    json_t                   *v;
    const ob_conf_key_t      *k;
    const ob_conf_section_t  *s;

    dot = strchr(dotted_key, '.');
    if (dot == NULL) {
        return ob_err_set(err, "unknown key %s (keys are section.key)",
                            dotted_key);
    }

    /* A key given on its own names the whole key even when the section is
     * missing: "unknown key cache.port" says more than "unknown section". */
    s = ob_conf_find_section(c, dotted_key, (size_t) (dot - dotted_key));
    k = (s != NULL) ? ob_conf_find_key(s, dot + 1) : NULL;
    if (k == NULL) {
        return ob_err_set(err, "unknown key %s", dotted_key);
    }

    if (ob_conf_from_text(s, k, text, &v, err) != OB_OK) {
        return OB_ERR;
    }

    if (json_object_set_new(json_object_get(c->root, s->name), k->name, v)
        != 0)
    {
        return ob_err_set(err, "%s: out of memory", dotted_key);
    }

    return OB_OK;
}


char *
ob_conf_dump(const ob_conf_t *c)
{
    return json_dumps(c->root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}


const json_t *
ob_conf_section(const ob_conf_t *c, const char *section)
{
    return json_object_get(c->root, section);
}


/* The value of key in section, of JSON type `type` (JSON_TRUE standing for
 * either boolean); aborts otherwise.  Every key a module reads is in its
 * schema, so in the tree with its normal type: anything else is a bug.
 * borrowed. */
static const json_t *
ob_conf_get(const json_t *section, const char *key, json_type type)
{
    const json_t  *v;

    v = (section != NULL) ? json_object_get(section, key) : NULL;
    if (v == NULL
        || (type == JSON_TRUE ? !json_is_boolean(v) : json_typeof(v) != type))
    {
        abort();
    }

    return v;
}


long long
ob_conf_int(const json_t *section, const char *key)
{
    return json_integer_value(ob_conf_get(section, key, JSON_INTEGER));
}


double
ob_conf_double(const json_t *section, const char *key)
{
    return json_real_value(ob_conf_get(section, key, JSON_REAL));
}


int
ob_conf_bool(const json_t *section, const char *key)
{
    return json_is_true(ob_conf_get(section, key, JSON_TRUE));
}


const char *
ob_conf_str(const json_t *section, const char *key)
{
    const json_t  *v;

    v = (section != NULL) ? json_object_get(section, key) : NULL;
    if (json_is_null(v)) {
        return NULL;
    }

    return json_string_value(ob_conf_get(section, key, JSON_STRING));
}
