/*
 * store_types.c: the one place that knows every value type's payload
 * functions, so that store_object.c (free, copy, memory) and the keyspace
 * stay ignorant of lists, hashes and the rest.  Each type file provides
 * store_<type>_free, _dup and _mem (store_int.h).
 */
#include "store_types.h"

#include "store_int.h"


/* Frees the payload of an aggregate (its header is the caller's). */
void
store_type_free(ob_arena_t *a, int owner, store_obj_t *o)
{
    switch ((store_obj_type_t) o->type) {
    case STORE_OBJ_LIST:
        store_list_free(a, owner, o);
        break;
    case STORE_OBJ_HASH:
        store_hash_free(a, owner, o);
        break;
    case STORE_OBJ_SET:
        store_set_free(a, owner, o);
        break;
    case STORE_OBJ_ZSET:
        store_zset_free(a, owner, o);
        break;
    case STORE_OBJ_STREAM:
        store_stream_free(a, owner, o);
        break;
    default:
        break;
    }
}


/* A deep copy of an aggregate, or NULL (OOM, or a type without payload). */
store_obj_t *
store_type_dup(ob_arena_t *a, int owner, const store_obj_t *o)
{
    switch ((store_obj_type_t) o->type) {
    case STORE_OBJ_LIST:
        return store_list_dup(a, owner, o);
    case STORE_OBJ_HASH:
        return store_hash_dup(a, owner, o);
    case STORE_OBJ_SET:
        return store_set_dup(a, owner, o);
    case STORE_OBJ_ZSET:
        return store_zset_dup(a, owner, o);
    case STORE_OBJ_STREAM:
        return store_stream_dup(a, owner, o);
    default:
        return NULL;
    }
}


/* The bytes an aggregate holds in the arena, header included; 0 when the
 * type is not an aggregate. */
size_t
store_type_mem(const ob_arena_t *a, const store_obj_t *o)
{
    switch ((store_obj_type_t) o->type) {
    case STORE_OBJ_LIST:
        return store_list_mem(a, o);
    case STORE_OBJ_HASH:
        return store_hash_mem(a, o);
    case STORE_OBJ_SET:
        return store_set_mem(a, o);
    case STORE_OBJ_ZSET:
        return store_zset_mem(a, o);
    case STORE_OBJ_STREAM:
        return store_stream_mem(a, o);
    default:
        return 0;
    }
}
