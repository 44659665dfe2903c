/*
 * ob_cmd.h: a command table that every protocol module shares: names
 * looked up by hash, arity checked in one place (Redis's processCommand),
 * so that handlers never count their arguments.
 *
 * A module keeps its own entry type with ob_cmd_t as its FIRST member, and
 * a static array of them ended by an entry whose name is NULL:
 *
 *   typedef struct {
 *       ob_cmd_t        base;
 *       cache_cmd_pt    handler;
 *   } cache_cmd_t;
 *
 *   static const cache_cmd_t cmds[] = {
 *       { .base = { .name = "get", .arity_min = 2, .arity_max = -1,
 *                   .flags = OB_CMD_READONLY }, .handler = cache_cmd_get },
 *       { .base = { .name = NULL } }
 *   };
 *
 *   ob_cmd_table_init(&t, cmds, sizeof(cmds[0]), 0, &err);    (at init)
 *   rc = ob_cmd_lookup(&t, name, len, argc, &cmd);             (per request)
 *   if (rc == OB_OK) ((const cache_cmd_t *) cmd)->handler(...);
 *
 * Arity counts every token, the name included (Redis's convention): "get k"
 * has arity 2.
 */
#ifndef OB_CMD_H
#define OB_CMD_H

#include <stddef.h>
#include "ob_core.h"

/* Flags every module may use; a module's own flags start at OB_CMD_USER. */
#define OB_CMD_READONLY   0x0001   /* does not change data */
#define OB_CMD_WRITE      0x0002   /* may change data */
#define OB_CMD_ADMIN      0x0004   /* server administration */
#define OB_CMD_FAST       0x0008   /* O(1) or O(log n) */
#define OB_CMD_USER       0x0100

/* Table options (ob_cmd_table_init's `opts`). */
#define OB_CMD_NOCASE     0x1      /* names match in any case (Redis);
                                      memcached's are case-sensitive */

#define OB_CMD_NAME_MAX   64       /* longer names are never found */

typedef struct ob_cmd_s {
    const char *name;          /* NULL ends a table */
    int         arity_min;     /* tokens including the name */
    int         arity_max;     /* -1: unbounded */
    unsigned    flags;         /* OB_CMD_* and the module's own */
} ob_cmd_t;

typedef struct ob_cmd_table_s {
    const ob_cmd_t **slots;    /* open addressing, a power of two, >= 2n */
    size_t           mask;
    size_t           n;
    unsigned         opts;
} ob_cmd_table_t;

/*
 * Builds the index over `entries` (an array of entries of `entry_size`
 * bytes, each starting with an ob_cmd_t, ended by a NULL name; borrowed:
 * must outlive the table).  OB_ERR with err set on a duplicate name, a
 * name too long, arity_min < 1, arity_max below arity_min (and not -1), or
 * no memory.
 */
int  ob_cmd_table_init(ob_cmd_table_t *t, const void *entries,
                       size_t entry_size, unsigned opts, ob_err_t *err);
void ob_cmd_table_fini(ob_cmd_table_t *t);

/* The entry named name[0..len), or NULL.  borrowed (from the array). */
const ob_cmd_t *ob_cmd_find(const ob_cmd_table_t *t, const void *name,
                            size_t len);

/* 1 if a request of `argc` tokens suits cmd's arity. */
int  ob_cmd_arity_is_ok(const ob_cmd_t *cmd, size_t argc);

/*
 * The one call a dispatcher makes: finds the command and checks its
 * arity.  OB_OK with *cmd set; OB_DECLINED: no such command (*cmd NULL);
 * OB_PROTO_ERR: wrong number of arguments (*cmd set, for the message).
 */
int  ob_cmd_lookup(const ob_cmd_table_t *t, const void *name, size_t len,
                   size_t argc, const ob_cmd_t **cmd /* OUT */);

#endif /* OB_CMD_H */
