/*
 * store_intset.h: Redis's intset, a sorted array of distinct integers in
 * the narrowest width that holds them all, byte for byte as Redis lays it
 * out (intset.h), so that RDB and DEBUG-style dumps can copy it whole:
 *
 *   uint32_t encoding    2, 4 or 8: bytes per element (little-endian)
 *   uint32_t length      elements
 *   int8_t   contents[]  length * encoding bytes, ascending
 *
 * The blob lives in the arena.  The caller keeps how many bytes the block
 * has (`*alloc`): the functions resize it to exactly 8 + length * encoding
 * bytes, but a shrink the arena cannot serve keeps the larger block, so
 * the size cannot be derived from the contents.
 *
 *   uint8_t *is;
 *   size_t   alloc;
 *   int      added;
 *
 *   is = store_intset_new(a, owner, &alloc);
 *   store_intset_add(a, owner, &is, &alloc, 70000, &added);  upgrades to 4
 *   store_intset_find(is, 70000, NULL);                      1
 *   store_intset_free(a, owner, is, alloc);
 */
#ifndef STORE_INTSET_H
#define STORE_INTSET_H

#include <stddef.h>
#include <stdint.h>
#include "ob_core.h"
#include "ob_arena.h"

#define STORE_INTSET_ENC_INT16  2
#define STORE_INTSET_ENC_INT32  4
#define STORE_INTSET_ENC_INT64  8
#define STORE_INTSET_HDR        8

/* An empty intset (encoding int16), *alloc set.  NULL on OOM.  new. */
uint8_t *store_intset_new(ob_arena_t *a, int owner, size_t *alloc /* OUT */);

void store_intset_free(ob_arena_t *a, int owner, uint8_t *is, size_t alloc);

/* A copy of is (exactly sized).  NULL on OOM.  new. */
uint8_t *store_intset_dup(ob_arena_t *a, int owner, const uint8_t *is,
                          size_t *alloc /* OUT */);

/*
 * Adds v, upgrading the encoding when v needs a wider one.  OB_OK with
 * *added 1 (inserted) or 0 (already there); OB_ERR when the arena refuses
 * the larger block: the set is unchanged.  *is may move.
 */
int store_intset_add(ob_arena_t *a, int owner, uint8_t **is, size_t *alloc,
                     int64_t v, int *added /* OUT */);

/* Removes v; 1 if it was there, else 0.  Never fails (the encoding is
 * never downgraded, as in Redis).  *is may move. */
int store_intset_remove(ob_arena_t *a, int owner, uint8_t **is, size_t *alloc,
                        int64_t v);

/* Removes the element at pos (< length).  *is may move. */
void store_intset_remove_at(ob_arena_t *a, int owner, uint8_t **is,
                            size_t *alloc, uint32_t pos);

/* 1 when v is in is (and *pos, when not NULL, its position), else 0. */
int store_intset_find(const uint8_t *is, int64_t v, uint32_t *pos /* OUT */);

uint32_t store_intset_len(const uint8_t *is);
uint32_t store_intset_encoding(const uint8_t *is);   /* 2, 4 or 8 */
/* The bytes the contents need: 8 + length * encoding. */
size_t   store_intset_blob_len(const uint8_t *is);
/* The element at pos (< length). */
int64_t  store_intset_get(const uint8_t *is, uint32_t pos);

/*
 * 1 when blob[0..len) is a well-formed intset (Redis's
 * intsetValidateIntegrity): encoding 2, 4 or 8, a length that accounts
 * for every byte, elements strictly ascending.  For bytes from outside
 * (an RDB file) before they are used as an intset.
 */
int store_intset_valid(const uint8_t *blob, size_t len);

#endif /* STORE_INTSET_H */
