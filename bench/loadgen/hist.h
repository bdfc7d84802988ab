/*
 * hist.h: a log-linear latency histogram (the HdrHistogram idea, in 60 lines).
 *
 * Values are recorded in nanoseconds. Below 256 ns every value has its own
 * bucket; above, each power of two is split into 128 equal buckets, so any
 * recorded value is known to within 1/128 (< 0.8 %) whatever its size. That is
 * far finer than the microsecond resolution the reports print, for p50, p99 and
 * p99.9 alike. Fixed size (7424 counters, 58 KiB), no allocation while
 * recording, and two histograms merge by adding counters.
 */
#ifndef ECHO_HIST_H
#define ECHO_HIST_H

#include <stdint.h>
#include <string.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)          /* 128 buckets per octave */
#define HIST_BUCKETS ((64 - HIST_SUB_BITS) * HIST_SUB) /* 7296, enough for 2^64 */

struct hist {
    uint64_t count;
    uint64_t max;
    uint64_t min;
    uint64_t b[HIST_BUCKETS + HIST_SUB];
};

static inline void hist_init(struct hist *h) { memset(h, 0, sizeof *h); h->min = UINT64_MAX; }

static inline unsigned hist_index(uint64_t v)
{
    if (v < 2 * HIST_SUB) return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* v in [2^e, 2^(e+1)) */
    unsigned shift = e - HIST_SUB_BITS;              /* >= 1 */
    return shift * HIST_SUB + (unsigned)(v >> shift); /* v >> shift in [128, 256) */
}

/* Lowest value that maps to bucket i, and the bucket's width. */
static inline uint64_t hist_lower(unsigned i, uint64_t *width)
{
    if (i < 2 * HIST_SUB) { *width = 1; return i; }
    unsigned shift = i / HIST_SUB - 1;
    uint64_t mant = i - shift * HIST_SUB;
    *width = 1ull << shift;
    return mant << shift;
}

static inline void hist_record(struct hist *h, uint64_t v)
{
    h->b[hist_index(v)]++;
    h->count++;
    if (v > h->max) h->max = v;
    if (v < h->min) h->min = v;
}

static inline void hist_merge(struct hist *into, const struct hist *from)
{
    for (unsigned i = 0; i < HIST_BUCKETS + HIST_SUB; i++) into->b[i] += from->b[i];
    into->count += from->count;
    if (from->max > into->max) into->max = from->max;
    if (from->min < into->min) into->min = from->min;
}

/* Value at quantile q (0..1): the middle of the bucket holding the rank, clamped
 * to the exact min/max so p100 is the true maximum. */
static inline uint64_t hist_quantile(const struct hist *h, double q)
{
    if (!h->count) return 0;
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.5);
    if (rank < 1) rank = 1;
    if (rank >= h->count) return h->max;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS + HIST_SUB; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t w, lo = hist_lower(i, &w);
            uint64_t v = lo + w / 2;
            if (v > h->max) v = h->max;
            if (v < h->min) v = h->min;
            return v;
        }
    }
    return h->max;
}

#endif
