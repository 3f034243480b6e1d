/* Reads a trace file into a struct rs_trace, trusting nothing in it.
 *
 * A file cut short inside a chunk (the writer was killed) is not an error: the trace is
 * marked partial and keeps every complete chunk. Anything that cannot be the writer's
 * output cut short (bad magic, bad checksum, out-of-order chunk, a record that does not
 * decode) is an error naming the byte offset. */
#ifndef REFSCOPE_TRACE_READER_H
#define REFSCOPE_TRACE_READER_H

#include "trace_model.h"

enum rs_read_status {
    RS_READ_OK = 0,
    RS_READ_ERR_IO,               /* cannot open or read the file (message: strerror) */
    RS_READ_ERR_EMPTY,
    RS_READ_ERR_MAGIC,            /* not a refscope trace */
    RS_READ_ERR_VERSION,          /* another major version */
    RS_READ_ERR_HEADER_TRUNCATED, /* the file ends inside the file header */
    RS_READ_ERR_HEADER_CORRUPT,   /* header checksum, size or field encoding */
    RS_READ_ERR_CHUNK_CORRUPT,    /* chunk magic, size, checksum or sequence */
    RS_READ_ERR_RECORD_CORRUPT,   /* a record inside a checked chunk does not decode */
    RS_READ_ERR_NOMEM,
};

struct rs_read_error {
    enum rs_read_status status;
    uint64_t offset;              /* where the problem is, for the corrupt-* classes */
    char message[512];            /* one line: "<name>: <what is wrong>" */
};

/* Both return RS_READ_OK and set *out, or an error status with *out NULL and `err` filled.
 * `name` is used in messages (the path, normally). */
enum rs_read_status rs_trace_read_file(const char *path, struct rs_trace **out,
                                       struct rs_read_error *err);
/* The same, without keeping the events (they are still decoded, checked and counted):
 * for commands that only need what else the trace says (events_dropped is set). */
enum rs_read_status rs_trace_read_file_no_events(const char *path, struct rs_trace **out,
                                                 struct rs_read_error *err);
/* Without the events when the file is a regular one: a replay reads them back from it as
 * it goes (event_stream.h). From a pipe, which cannot be read twice, with them. */
enum rs_read_status rs_trace_read_file_streamed(const char *path, struct rs_trace **out,
                                                struct rs_read_error *err);
enum rs_read_status rs_trace_read_buffer(const uint8_t *data, size_t len, const char *name,
                                         struct rs_trace **out, struct rs_read_error *err);

/* Decodes one chunk of `len` bytes (header included) found at byte `at` of t's file, a
 * chunk of thread `tid`, into t, after checking it whole again: how an event stream
 * (event_stream.h) reads a thread's events back once they were dropped. */
enum rs_read_status rs_trace_read_chunk(struct rs_trace *t, const uint8_t *chunk, size_t len,
                                        uint64_t at, uint32_t tid, struct rs_read_error *err);

/* Fills err with status, offset and the one-line message "<name>: <fmt...>" (the name
 * escaped for a terminal); returns status. */
__attribute__((format(printf, 5, 6))) enum rs_read_status
rs_read_fail(struct rs_read_error *err, const char *name, enum rs_read_status status,
             uint64_t offset, const char *fmt, ...);

const char *rs_read_status_name(enum rs_read_status s);

#endif
