#include "event_stream.h"

#include "trace_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct rs_event_stream {
    const struct rs_trace *trace;           /* the one read without its events */
    struct rs_trace *scratch;               /* the windows: chunks decode into its threads */
    const struct rs_trace_thread **source;  /* trace's threads, by order: their chunks */
    struct rs_trace_thread **window;        /* scratch's, by the same order */
    size_t *next_chunk;                     /* by order */
    size_t nthreads;
    int fd;
    uint64_t page;
    /* A range of the file around the chunks being decoded, mapped: pread() copied every
     * byte out of the page cache (5 % of `cycles` on a 5M-object trace). */
    uint8_t *map;
    size_t map_len;
    uint64_t map_from; /* the file offset of map[0] */
    struct rs_read_error err;
    bool failed;
};

static void unmap_range(struct rs_event_stream *s)
{
    if (s->map)
        munmap(s->map, s->map_len);
    s->map = NULL;
    s->map_len = 0;
}

/* A mapping per chunk made two calls that change the address space (mmap, munmap) per
 * 270 kB: each waits for the process's memory lock, which the report's other thread holds
 * while it populates its tables, and each munmap flushes the other CPU's TLB; on the
 * 5M-object trace the replay lost 0.25 s there. Chunks are read back nearly in file order
 * (the merge takes them by time, and a chunk is written soon after its events), so one
 * range mapped from a little before a chunk on serves the chunks after it; its pages stay
 * mapped, up to rs_event_stream_map_bytes a stream, until the range moves. 4 MB: with 16,
 * the report on 1M objects peaked 24 MB higher (1.97x its trace, from 1.73x) and no
 * faster; with 4, +5 MB, and 133 munmap calls in the 5M report, from 1,802. */
size_t rs_event_stream_map_bytes = (size_t)4 << 20;

/* A chunk whole: its first byte, or NULL with s->err set. Its span is the first read's
 * (rs_trace_read_chunk checks it is still the same chunk); the file is no shorter than then
 * (rs_event_stream_open), and the range ends at that length, so no page of the mapping
 * lies past the file's end. */
static const uint8_t *map_chunk(struct rs_event_stream *s, struct rs_chunk_span span)
{
    if (!s->map || span.at < s->map_from || span.at + span.len > s->map_from + s->map_len) {
        unmap_range(s);
        uint64_t back = rs_event_stream_map_bytes / 4 - rs_event_stream_map_bytes / 4 % s->page;
        uint64_t from = span.at - span.at % s->page;
        from = from > back ? from - back : 0;
        uint64_t end = from + rs_event_stream_map_bytes;
        if (end < span.at + span.len)
            end = span.at + span.len;
        if (end > s->trace->file_size)
            end = s->trace->file_size;
        void *p = mmap(NULL, (size_t)(end - from), PROT_READ, MAP_PRIVATE, s->fd, (off_t)from);
        if (p == MAP_FAILED) {
            rs_read_fail(&s->err, s->trace->name,
                         errno == ENOMEM ? RS_READ_ERR_NOMEM : RS_READ_ERR_IO, span.at, "%s",
                         strerror(errno));
            return NULL;
        }
        s->map = p;
        s->map_len = (size_t)(end - from);
        s->map_from = from;
    }
    const uint8_t *chunk = s->map + (span.at - s->map_from);
#ifdef MADV_POPULATE_READ
    /* The chunk's pages in one call, as MAP_POPULATE did for a chunk's own mapping, instead
     * of a fault every few pages; it only reads the address space, beside the other
     * thread's faults. */
    uint64_t page_at = span.at - span.at % s->page;
    (void)madvise(s->map + (page_at - s->map_from), (size_t)(span.at + span.len - page_at),
                  MADV_POPULATE_READ);
#endif
    return chunk;
}

/* A thread with no chunk left gives its window's memory back. */
static void release_window(struct rs_trace_thread *w)
{
    free(w->events);
    free(w->extras);
    w->events = NULL;
    w->extras = NULL;
    w->nevents = w->cap = w->nextras = w->extras_cap = 0;
}

bool rs_event_stream_next(struct rs_event_stream *s, size_t order)
{
    if (s->failed || order >= s->nthreads)
        return false;
    const struct rs_trace_thread *src = s->source[order];
    struct rs_trace_thread *w = s->window[order];
    if (!src || !w)
        return false;
    while (s->next_chunk[order] < src->nchunks) {
        struct rs_chunk_span span = src->chunks[s->next_chunk[order]++];
        const uint8_t *chunk = map_chunk(s, span);
        w->nevents = w->nextras = w->nchunks = 0;
        if (!chunk || rs_trace_read_chunk(s->scratch, chunk, span.len, span.at, src->tid,
                                          &s->err) != RS_READ_OK) {
            unmap_range(s);
            s->failed = true;
            return false;
        }
        if (w->nevents)
            return true;
    }
    release_window(w);
    return false;
}

struct rs_event_stream *rs_event_stream_open(const struct rs_trace *t, struct rs_read_error *err)
{
    memset(err, 0, sizeof *err);
    struct rs_event_stream *s = calloc(1, sizeof *s);
    if (!s)
        goto nomem;
    s->trace = t;
    s->fd = -1;
    s->nthreads = t->nthreads;
    size_t n = s->nthreads ? s->nthreads : 1;
    s->source = calloc(n, sizeof *s->source);
    s->window = calloc(n, sizeof *s->window);
    s->next_chunk = calloc(n, sizeof *s->next_chunk);
    s->scratch = rs_trace_new(t->name);
    if (!s->source || !s->window || !s->next_chunk || !s->scratch)
        goto nomem;
    const struct rs_trace_thread *th, *tmp;
    HASH_ITER(hh, t->threads, th, tmp) {
        if (th->order < s->nthreads)
            s->source[th->order] = th;
    }
    /* Created in order, the windows get the same order numbers as their threads. */
    for (size_t i = 0; i < s->nthreads; i++) {
        /* orders are 0..n-1 by construction (rs_trace_thread_get) */
        s->window[i] = s->source[i] ? rs_trace_thread_get(s->scratch, s->source[i]->tid) : NULL;
        if (!s->window[i])
            goto nomem;
    }
    s->page = (uint64_t)sysconf(_SC_PAGESIZE);
    s->fd = open(t->name, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (s->fd < 0 || fstat(s->fd, &st) != 0)
        rs_read_fail(err, t->name, RS_READ_ERR_IO, 0, "%s", strerror(errno));
    /* A mapped chunk past the end of a file cut shorter would fault. */
    else if ((uint64_t)st.st_size < t->file_size)
        rs_read_fail(err, t->name, RS_READ_ERR_CHUNK_CORRUPT, (uint64_t)st.st_size,
                     "the file is shorter than when it was first read (it changed)");
    else
        return s;
    rs_event_stream_close(s);
    return NULL;
nomem:
    rs_read_fail(err, t->name, RS_READ_ERR_NOMEM, 0, "out of memory");
    rs_event_stream_close(s);
    return NULL;
}

size_t rs_event_stream_nthreads(const struct rs_event_stream *s)
{
    return s->nthreads;
}

const struct rs_trace_thread *rs_event_stream_thread(const struct rs_event_stream *s,
                                                     size_t order)
{
    return order < s->nthreads ? s->window[order] : NULL;
}

const struct rs_read_error *rs_event_stream_error(const struct rs_event_stream *s)
{
    return s->failed ? &s->err : NULL;
}

void rs_event_stream_close(struct rs_event_stream *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    rs_trace_free(s->scratch);
    free(s->source);
    free(s->window);
    free(s->next_chunk);
    unmap_range(s);
    free(s);
}
