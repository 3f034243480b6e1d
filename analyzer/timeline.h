/* Live bytes over time, for the HTML report's memory chart: the replay feeds it the live
 * bytes (all, and the Python allocator domains' share) after every event, and it keeps at
 * most RS_TIMELINE_BUCKETS time buckets of equal width, each with the largest values seen
 * in it and the values at its end. The width starts at 1 us and doubles (neighbouring
 * buckets merged) whenever the trace runs past the last bucket, so memory stays bounded
 * however long the trace is, and no peak is lost to the downsampling. */
#ifndef REFSCOPE_TIMELINE_H
#define REFSCOPE_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RS_TIMELINE_BUCKETS 2000

struct rs_timeline_bucket {
    bool used;               /* an event fell in it */
    uint64_t max_bytes;      /* largest live bytes in it */
    uint64_t max_py;         /* largest Python-domain live bytes in it */
    uint64_t max_native;     /* largest native (not Python-domain) live bytes in it */
    uint64_t end_bytes;      /* after its last event */
    uint64_t end_py;
};

struct rs_timeline {
    uint64_t width;          /* ns per bucket */
    size_t n;                /* buckets in use: the last event's bucket + 1 */
    uint64_t events;
    struct rs_timeline_bucket b[RS_TIMELINE_BUCKETS];
};

void rs_timeline_init(struct rs_timeline *tl);
/* After an event at `time` (ns since trace start): live bytes, of them Python-domain. */
void rs_timeline_add(struct rs_timeline *tl, uint64_t time, uint64_t bytes, uint64_t py_bytes);

#endif
