/*
 * store_types.h: payload operations of the aggregate types, by type
 * (store_types.c dispatches to the type files).
 */
#ifndef STORE_TYPES_H
#define STORE_TYPES_H

#include <stddef.h>
#include "ob_arena.h"
#include "store_object.h"

void         store_type_free(ob_arena_t *a, int owner, store_obj_t *o);
store_obj_t *store_type_dup(ob_arena_t *a, int owner, const store_obj_t *o);
size_t       store_type_mem(const ob_arena_t *a, const store_obj_t *o);

#endif /* STORE_TYPES_H */
