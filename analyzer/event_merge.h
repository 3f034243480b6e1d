/* All threads' events as one sequence ordered by time. Each thread's own order is kept
 * exactly (it is the order the thread made them); across threads only timestamps order
 * events, so when heads of several threads share the earliest time, the caller's `prefer`
 * says which event fits the current state (a free of a live block, an allocation at a free
 * address) and that one goes first. */
#ifndef REFSCOPE_EVENT_MERGE_H
#define REFSCOPE_EVENT_MERGE_H

#include "trace_model.h"

typedef bool (*rs_merge_prefer_fn)(const struct rs_trace_event *ev,
                                   const struct rs_trace_thread *thread, void *arg);

struct rs_merge;

/* NULL when out of memory. A trace whose events are not in memory (events_dropped) is
 * merged from its file, a chunk per thread at a time (event_stream.h). */
struct rs_merge *rs_merge_new(const struct rs_trace *t, rs_merge_prefer_fn prefer, void *arg);
/* The next event, or NULL after the last or on an error (rs_merge_error). *thread (if not
 * NULL) gets its thread, which is valid, with the event, until the next call. */
const struct rs_trace_event *rs_merge_next(struct rs_merge *m,
                                           const struct rs_trace_thread **thread);
void rs_merge_free(struct rs_merge *m);
/* Why the merge ended early (the trace's file could not be read back, or changed), one line;
 * NULL when it did not. */
const char *rs_merge_error(const struct rs_merge *m);

/* How far ahead a replay prefetches the table slot of its thread's coming events. */
#define RS_MERGE_AHEAD 16

/* The event RS_MERGE_AHEAD places after ev in its thread's own stream, or NULL. A replay's
 * table is far larger than the caches and each event's lookup would wait for memory; the
 * thread's next events are the ones the merge yields soon, so their slots are prefetched
 * now. Only a hint: it changes no order and no state. */
static inline const struct rs_trace_event *rs_merge_ahead(const struct rs_trace_thread *thread,
                                                          const struct rs_trace_event *ev)
{
    size_t next = (size_t)(ev - thread->events) + RS_MERGE_AHEAD;
    return next < thread->nevents ? &thread->events[next] : NULL;
}

#endif
