/*
 * store_glob.c: Redis's glob semantics (see store_glob.h), matched without
 * recursion.
 *
 * Every token but '*' matches exactly one byte, so the classic one-star
 * backtrack is exact: on a mismatch, go back to the last '*' seen and let
 * it swallow one more byte.  Earlier stars never need revisiting (whatever
 * the last star's suffix needs, it can find further right).  The cost is
 * O(plen * slen) at worst, never the exponential blow-up of naive
 * recursion on patterns like "*a*a*a*a*b" (Redis had to bound that with
 * its skipLongerMatches flag).
 */
#include "store_glob.h"

#include <ctype.h>


static int
store_glob_fold(int c, int nocase)
{
    return nocase ? tolower(c) : c;
}


/*
 * Matches one token at pat[*pi] against byte c; advances *pi past the
 * token.  The token is not '*'.
 */
static int
store_glob_token(const char *pat, size_t plen, size_t *pi, unsigned char c,
    int nocase)
{
    size_t  i = *pi;
    int     neg = 0, hit = 0, lo, hi, t;

    switch (pat[i]) {
    case '?':
        *pi = i + 1;
        return 1;

    case '[':
        i++;
        if (i < plen && pat[i] == '^') {
            neg = 1;
            i++;
        }
        for (;;) {
            if (i >= plen) {
                break;                    /* unclosed: the set ends here */
            }
            if (pat[i] == '\\' && i + 1 < plen) {
                if ((unsigned char) pat[i + 1] == c) {
                    hit = 1;
                }
                i += 2;
            } else if (pat[i] == ']') {
                i++;
                break;
            } else if (i + 2 < plen && pat[i + 1] == '-') {
                lo = store_glob_fold((unsigned char) pat[i], nocase);
                hi = store_glob_fold((unsigned char) pat[i + 2], nocase);
                if (lo > hi) {
                    t = lo;
                    lo = hi;
                    hi = t;
                }
                t = store_glob_fold(c, nocase);
                if (t >= lo && t <= hi) {
                    hit = 1;
                }
                i += 3;
            } else {
                if (store_glob_fold((unsigned char) pat[i], nocase)
                    == store_glob_fold(c, nocase))
                {
                    hit = 1;
                }
                i++;
            }
        }
        *pi = i;
        return neg ? !hit : hit;

    case '\\':
        if (i + 1 < plen) {
            i++;
        }
        /* fall through */
    default:
        *pi = i + 1;
        return store_glob_fold((unsigned char) pat[i], nocase)
               == store_glob_fold(c, nocase);
    }
}


int
store_glob_match(const char *pat, size_t plen, const char *s, size_t slen,
    int nocase)
{
    size_t  pi = 0, si = 0, star_p = 0, star_s = 0, next;
    int     have_star = 0;

    while (si < slen) {
        if (pi < plen && pat[pi] == '*') {
            while (pi < plen && pat[pi] == '*') {
                pi++;
            }
            if (pi == plen) {
                return 1;                 /* a final star takes the rest */
            }
            have_star = 1;
            star_p = pi;
            star_s = si;
            continue;
        }
        next = pi;
        if (pi < plen
            && store_glob_token(pat, plen, &next, (unsigned char) s[si],
                                nocase))
        {
            pi = next;
            si++;
            continue;
        }
        if (!have_star) {
            return 0;
        }
        /* the last star swallows one more byte */
        pi = star_p;
        si = ++star_s;
    }

    while (pi < plen && pat[pi] == '*') {
        pi++;
    }
    return pi == plen;
}
