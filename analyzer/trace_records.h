/* Record decoders, one per tag, found through a table so that new records (Python, object
 * graph snapshots) plug in with one table entry and no change to the chunk loop. */
#ifndef REFSCOPE_TRACE_RECORDS_H
#define REFSCOPE_TRACE_RECORDS_H

#include "decode_cursor.h"
#include "trace_model.h"

/* Decoding state of the chunk being read. Delta state restarts at every chunk. */
struct rs_chunk_ctx {
    struct rs_trace *trace;
    uint32_t tid;
    struct rs_trace_thread *thread; /* NULL in the metadata chunk */
    uint64_t time;                  /* time of the previous event (starts at base_time) */
    uint64_t addr;                  /* address of the previous event (starts at 0) */
    const uint8_t *chunk;           /* the chunk's first byte in memory... */
    uint64_t chunk_at;              /* ...and in the file: offsets of records */
    uint64_t rec_at;                /* file offset of the record being decoded (its tag) */
};

/* File offset of a byte of the chunk being decoded. */
static inline uint64_t rs_chunk_file_offset(const struct rs_chunk_ctx *ctx, const uint8_t *p)
{
    return ctx->chunk_at + (uint64_t)(p - ctx->chunk);
}

enum rs_record_result {
    RS_REC_OK = 0,
    RS_REC_CORRUPT = -1,
    RS_REC_NOMEM = -2,
};

/* For an event record (tag < RS_TAG_LENGTH_PREFIXED), `c` spans the rest of the chunk and
 * the decoder advances it past the record. For a length-prefixed record, `c` spans exactly
 * the body; bytes the decoder leaves unread are ignored, so a later minor version may
 * append fields to a record. On RS_REC_CORRUPT, *why says what was wrong. */
typedef int (*rs_record_decoder)(struct rs_chunk_ctx *ctx, uint8_t tag, struct rs_cursor *c,
                                 const char **why);

enum rs_record_where {
    RS_REC_IN_META = 1 << 0,
    RS_REC_IN_THREAD = 1 << 1,
    RS_REC_ANYWHERE = RS_REC_IN_META | RS_REC_IN_THREAD,
};

struct rs_record_handler {
    rs_record_decoder decode;
    uint8_t where;                  /* rs_record_where: chunks it may appear in */
};

/* In a thread chunk of a trace read without its events (events_dropped): steps over the
 * event records from *at on, counting them, without decoding them (an event stream,
 * event_stream.h, decodes and checks them when a command replays them; a command that
 * never does gives no answer that depends on them). Returns RS_REC_OK with *at at the first
 * record that is not an event (or at end), or RS_REC_CORRUPT with *at at the record cut
 * short and *why set. */
int rs_count_events(struct rs_trace *t, const uint8_t **at, const uint8_t *end, const char **why);

/* What counting event records adds up to: their number, allocations less frees, and the
 * highest value that difference reached (0 at least) on the way. */
struct rs_event_tally {
    uint64_t nevents;
    int64_t live;
    uint64_t peak;
};
/* rs_count_events into a tally of its own (a chunk counted apart from the trace). */
int rs_count_events_into(struct rs_event_tally *c, const uint8_t **at, const uint8_t *end,
                         const char **why);
/* Adds the tally of a chunk counted apart, as if its events had been counted at this
 * point of the file. */
void rs_trace_add_tally(struct rs_trace *t, const struct rs_event_tally *c);

/* In a thread chunk whose events are kept: decodes the event records from c->p on into
 * the thread's array, as their general decoders would, for as long as they are
 * allocations of a size that fits in an event and frees, well formed and not within a
 * record's length of the end; c->p is left at the first record it did not take, for the
 * general decoders (which judge a damaged one). A run of such records is most of a
 * trace, and this loop decodes them with no call or check per record beyond the record's
 * own bytes. */
void rs_decode_event_run(struct rs_chunk_ctx *ctx, struct rs_cursor *c);

/* NULL when this reader does not know the tag. */
const struct rs_record_handler *rs_record_handler(uint8_t tag);

#endif
