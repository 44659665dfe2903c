/*
 * store.h: the store module (a Redis 7.0-compatible server) as the core
 * sees it: its descriptor, nothing else.
 */
#ifndef STORE_H
#define STORE_H

#include "ob_module.h"

extern const ob_module_t store_module;

/* "100mb" -> bytes, Redis's units; OB_ERR when not a size. */
int store_memory_parse(const char *s, long long *out /* OUT */);

/* notify-keyspace-events letters -> STORE_NOTIFY_* flags, K and E. */
int store_notify_parse(const char *s, unsigned *flags /* OUT */,
                       int *keyspace /* OUT */, int *keyevent /* OUT */);

#endif /* STORE_H */
