/* A trace's events read back from its file one chunk at a time, for a trace read without
 * them (rs_trace_read_file_no_events) or that dropped them (rs_trace_drop_events).
 *
 * A replay of a large trace needs each event once, in order; holding all of them (24
 * bytes each, half a gigabyte for 20 million) only to walk through them once cost more in
 * fresh pages than the walk itself. A stream holds one decoded chunk per thread: each
 * thread's window is a struct rs_trace_thread whose `events` are those of its current
 * chunk, with the original's tid and order (event_merge.c merges these windows exactly as
 * it merges whole threads). Every chunk is checked again as it is read back, so a file
 * changed since the first read is an error, never a different answer. */
#ifndef REFSCOPE_EVENT_STREAM_H
#define REFSCOPE_EVENT_STREAM_H

#include "trace_model.h"
#include "trace_reader.h"

/* The trace's events are not in memory but can be read back from its file. */
static inline bool rs_event_stream_wanted(const struct rs_trace *t)
{
    return t->events_dropped && t->from_file && t->nevents > 0;
}

/* Its events can be replayed: in memory, or from its file. */
static inline bool rs_trace_events_readable(const struct rs_trace *t)
{
    return t->nevents > 0 && (!t->events_dropped || t->from_file);
}

struct rs_event_stream;

/* Bytes of the file one mapping of a stream covers (4 MB; a test makes it small so that
 * the mapped range moves often). */
extern size_t rs_event_stream_map_bytes;

/* NULL on failure, with `err` filled (the file cannot be opened, out of memory). */
struct rs_event_stream *rs_event_stream_open(const struct rs_trace *t, struct rs_read_error *err);
/* The stream's threads are numbered by their `order` in the trace, 0..n-1. */
size_t rs_event_stream_nthreads(const struct rs_event_stream *s);
const struct rs_trace_thread *rs_event_stream_thread(const struct rs_event_stream *s,
                                                     size_t order);
/* Replaces the thread's window by the events of its next chunk that has any. False when
 * the thread has no chunk left, or on an error (rs_event_stream_error). */
bool rs_event_stream_next(struct rs_event_stream *s, size_t order);
/* NULL while nothing went wrong. */
const struct rs_read_error *rs_event_stream_error(const struct rs_event_stream *s);
void rs_event_stream_close(struct rs_event_stream *s);

#endif
