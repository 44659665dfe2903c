/*
 * store_glob.h: glob-style matching as Redis's stringmatchlen does it, for
 * KEYS, SCAN MATCH, PSUBSCRIBE and CONFIG GET patterns.
 *
 *   *       any run of bytes, the empty one included
 *   ?       any one byte
 *   [abc]   one of the set; [^abc] none of it (only '^' negates: [!a]
 *           is the set {!, a}); [a-z] a range, reversed [z-a] too; \x
 *           inside a set is x itself; an unclosed set ends at the pattern's
 *           end
 *   \x      x itself (a trailing lone '\' is a '\')
 *
 * With nocase, ASCII letters compare folded (ranges too).  Binary safe:
 * both strings come with their lengths.
 */
#ifndef STORE_GLOB_H
#define STORE_GLOB_H

#include <stddef.h>

/* 1 when s[0..slen) matches pat[0..plen), else 0. */
int store_glob_match(const char *pat, size_t plen, const char *s,
                     size_t slen, int nocase);

#endif /* STORE_GLOB_H */
