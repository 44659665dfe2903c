/*
 * mq_topic.c: topic-exchange matching of a routing key against a binding
 * pattern, as RabbitMQ's rabbit_exchange_type_topic does it.
 *
 * Both are split into words at '.', RabbitMQ's way: the empty string has
 * no words at all, and otherwise there is one word more than there are
 * dots (so "a..b" is "a", "", "b" and "a." is "a", "").  In a pattern '*'
 * matches exactly one word and '#' zero or more.
 *
 * This is glob matching over words ('#' for '*', '*' for '?'), done with
 * the classic two-cursor walk that remembers only the last '#' seen: when
 * a later word fails, the last '#' takes one more key word and the walk
 * resumes behind it.  Earlier '#'s never need revisiting (whatever they
 * could absorb the last one can), so the worst case is words(pattern) *
 * words(key) comparisons, and "#.#.#.#.x" against a long key stays cheap.
 * No recursion, no allocation.
 */
#include "mq_wire_int.h"

#include <string.h>


/*
 * A word cursor: the offset of a word's first byte, from 0 to len; len + 1
 * means "no more words".  The empty string starts past its end.
 */
static size_t
mq_topic_first(ob_str_t s)
{
    return s.len == 0 ? 1 : 0;
}


/* The length of the word at `at`.  Words are short: a plain loop beats
 * memchr's call. */
static size_t
mq_topic_word_len(ob_str_t s, size_t at)
{
    size_t  i;

    for (i = at; i < s.len && s.data[i] != '.'; i++) {
        /* void */
    }

    return i - at;
}


static int
mq_topic_is(ob_str_t s, size_t at, size_t wlen, char c)
{
    return wlen == 1 && s.data[at] == (uint8_t) c;
}


/* See the top of the file: two cursors and the last '#' to fall back on. */
int
mq_topic_match(ob_str_t pattern, ob_str_t key)
{
    size_t  pi, ki, plen, klen, star_p, star_k, pend, kend;
    int     have_star;

    pend = pattern.len + 1;
    kend = key.len + 1;
    pi = mq_topic_first(pattern);
    ki = mq_topic_first(key);
    have_star = 0;
    star_p = 0;
    star_k = 0;

    while (ki < kend) {
        klen = mq_topic_word_len(key, ki);

        if (pi < pend) {
            plen = mq_topic_word_len(pattern, pi);

            if (mq_topic_is(pattern, pi, plen, '#')) {
                pi += plen + 1;
                have_star = 1;
                star_p = pi;
                star_k = ki;
                continue;
            }

            if (mq_topic_is(pattern, pi, plen, '*')
                || (plen == klen
                    && memcmp(pattern.data + pi, key.data + ki, plen) == 0))
            {
                pi += plen + 1;
                ki += klen + 1;
                continue;
            }
        }

        if (!have_star) {
            return 0;
        }

        /* The last '#' takes one more key word. */
        star_k += mq_topic_word_len(key, star_k) + 1;
        ki = star_k;
        pi = star_p;
    }

    while (pi < pend) {
        plen = mq_topic_word_len(pattern, pi);
        if (!mq_topic_is(pattern, pi, plen, '#')) {
            return 0;
        }
        pi += plen + 1;
    }

    return 1;
}
