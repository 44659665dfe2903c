/*
 * ob_modules.c: the static registry of the modules compiled into onebox.
 *
 * Each module adds its descriptor here when it lands (cache, store, mq,
 * orm, in that order: the ORM uses the cache, so it starts after it).  The
 * order is the start-up order; shutdown runs in reverse.
 */
#include "ob_module.h"

#include <stddef.h>

#include "cache/cache.h"
#include "store/store.h"
#include "mq/mq.h"


const ob_module_t *const ob_modules[] = {
    &cache_module,
    &store_module,
    &mq_module,
    NULL
};
