/* What the trace reader produces: everything a trace file says, decoded, before any
 * interpretation (replay, symbolization). Strings from the trace are kept as bytes with a
 * length: they come from the traced program and may hold anything, NUL included. */
#ifndef REFSCOPE_TRACE_MODEL_H
#define REFSCOPE_TRACE_MODEL_H

#include "py_line_table.h"
#include "rs_trace_format.h"

#include <stdbool.h>
#include <stdint.h>
#include "rs_uthash.h"

/* Owned copy; `s` is also NUL-terminated so it can be passed where a C string is wanted
 * (it is cut at the first NUL there). */
struct rs_text {
    char *s;
    size_t len;
};

enum rs_event_type {
    RS_EVENT_ALLOC = 0,
    RS_EVENT_SAMPLED_ALLOC,
    RS_EVENT_FREE,
    RS_EVENT_MUNMAP,
};

/* 24 bytes: a large trace holds tens of millions of them, the most memory the analyzer
 * uses. What does not fit (a sampled allocation's weight, a size of 4 GiB or more) is kept
 * beside, in its thread's `extras`: use rs_ev_size and rs_event_weight. */
#define RS_EV_TIME_LIMIT (UINT64_C(1) << 56) /* 2.28 years */
#define RS_EV_SIZE_BEYOND UINT32_MAX        /* size32: the size is in the extras */
struct rs_trace_event {
    uint64_t time : 56; /* ns since trace start */
    uint64_t tag : 8;   /* the record tag as read: type and kind (rs_ev_type, rs_ev_kind) */
    uint64_t addr;
    uint32_t size32;    /* allocation size, or munmap length; 0 for frees */
    uint32_t stack_id;
};

static inline enum rs_event_type rs_ev_type(const struct rs_trace_event *ev)
{
    switch (ev->tag & ~RS_TAG_KIND_MASK) {
    case RS_TAG_ALLOC: return RS_EVENT_ALLOC;
    case RS_TAG_SAMPLED_ALLOC: return RS_EVENT_SAMPLED_ALLOC;
    case RS_TAG_FREE: return RS_EVENT_FREE;
    default: return RS_EVENT_MUNMAP;
    }
}

/* rs_alloc_kind or rs_free_kind (0 for munmap). */
static inline uint8_t rs_ev_kind(const struct rs_trace_event *ev)
{
    return ev->tag & RS_TAG_KIND_MASK;
}

/* What an event of a thread does not hold itself, by its index (ascending). */
struct rs_event_extra {
    size_t index;
    uint64_t size;
    uint64_t weight;
};

struct rs_trace_counters {
    uint64_t events;
    uint64_t waits;
    uint64_t drops;
    uint64_t wait_ns;
};

/* A whole chunk (header included) in the trace's file. */
struct rs_chunk_span {
    uint64_t at;
    size_t len;
};

struct rs_trace_thread {
    uint32_t tid;
    uint32_t flags;             /* RS_THREAD_*, from the latest THREAD record */
    bool named;                 /* a THREAD record was seen */
    struct rs_text name;        /* latest name from the OS (THREAD records without
                                 * RS_THREAD_PYTHON_NAME) */
    bool has_py_name;           /* a THREAD record with RS_THREAD_PYTHON_NAME was seen */
    struct rs_text py_name;     /* latest name as Python's threading module knows it */
    size_t order;               /* first appearance in the file, for stable output */
    struct rs_trace_event *events;
    size_t nevents;
    size_t cap;
    struct rs_event_extra *extras; /* by index: sampled allocations and sizes >= 4 GiB */
    size_t nextras, extras_cap;
    struct rs_chunk_span *chunks; /* the thread's chunks in the file, in file order: where
                                   * an event stream (event_stream.h) finds its events again */
    size_t nchunks, chunks_cap;
    bool has_counters;
    struct rs_trace_counters counters; /* latest COUNTERS record wins (they are cumulative) */
    UT_hash_handle hh;
};

const struct rs_event_extra *rs_event_extra(const struct rs_trace_thread *th,
                                            const struct rs_trace_event *ev);

/* Allocation size or munmap length (0 for frees). */
static inline uint64_t rs_ev_size(const struct rs_trace_thread *th,
                                  const struct rs_trace_event *ev)
{
    if (ev->size32 != RS_EV_SIZE_BEYOND)
        return ev->size32;
    const struct rs_event_extra *x = rs_event_extra(th, ev);
    return x ? x->size : 0;
}

/* Bytes a sampled allocation stands for; 0 for every other event. */
static inline uint64_t rs_event_weight(const struct rs_trace_thread *th,
                                       const struct rs_trace_event *ev)
{
    if (rs_ev_type(ev) != RS_EVENT_SAMPLED_ALLOC)
        return 0;
    const struct rs_event_extra *x = rs_event_extra(th, ev);
    return x ? x->weight : 0;
}

struct rs_trace_stack {
    uint32_t id;
    uint32_t nwords;
    uint64_t *words;            /* innermost first */
    UT_hash_handle hh;
};

struct rs_trace_segment {
    uint64_t vaddr;             /* as in the ELF program header: add load_bias for runtime */
    uint64_t memsz;
    uint32_t flags;             /* PF_* */
};

struct rs_trace_module {
    struct rs_text path;
    uint64_t load_bias;
    struct rs_trace_segment *segs;
    uint32_t nsegs;
    uint8_t *build_id;
    size_t build_id_len;
};

struct rs_trace_module_map {
    uint64_t generation;
    bool complete;              /* its MODULES_END was seen */
    struct rs_trace_module *modules;
    size_t nmodules;
    size_t cap;
    UT_hash_handle hh;          /* iteration order = order of appearance */
};

struct rs_trace_note {
    uint64_t level;             /* 0 info, 1 warning */
    struct rs_text text;
};

struct rs_trace_mark {
    uint64_t time;
    uint64_t kind;              /* rs_mark_kind */
    struct rs_text label;
};

struct rs_trace_end {
    bool present;
    uint64_t total_events;
    uint64_t total_drops;
    uint64_t total_waits;
    uint64_t end_time;
    uint64_t reason;            /* rs_end_reason */
};

/* Python records (RS_TAG_PY_*): what the code ids and (code id, offset) pairs of Python
 * frames in stacks mean. Decoded by trace_records_py.c. */
struct rs_trace_py_interp {
    bool present;
    struct rs_text version;     /* Py_GetVersion() */
    uint64_t hexversion;        /* major << 16 | minor << 8 | micro */
    uint64_t flags;             /* RS_PY_* */
};

struct rs_trace_py_code {
    uint64_t id;
    struct rs_text filename;
    struct rs_text qualname;
    uint64_t first_line;
    struct rs_py_line_range *lines;   /* its line table, decoded (py_line_table.h); a
                                       * PY_LINE record of a pair wins over it */
    uint32_t nlines;
    UT_hash_handle hh;
};

struct rs_trace_py_line_key {
    uint64_t code;
    uint64_t offset;
};

struct rs_trace_py_line {
    struct rs_trace_py_line_key key;
    uint64_t line;              /* 0: unknown */
    UT_hash_handle hh;
};

struct rs_trace_header {
    uint16_t version_major;
    uint16_t version_minor;
    uint32_t present;           /* bit (1 << field id) for each field seen */
    uint64_t pid;
    uint64_t ppid;
    uint64_t start_realtime;
    uint64_t start_monotonic;
    uint64_t clock;
    uint64_t stack_depth;
    uint64_t page_size;
    uint64_t flags;
    uint64_t sample_bytes;
    struct rs_text exe;
    struct rs_text hostname;
    struct rs_text *argv;
    size_t argc;
};

static inline bool rs_header_has(const struct rs_trace_header *h, enum rs_header_field f)
{
    return f < 32 && (h->present & (UINT32_C(1) << f));
}

struct rs_trace {
    char *name;                 /* the path it was read from, for messages */
    uint64_t file_size;
    struct rs_trace_header hdr;
    uint64_t nchunks;
    uint64_t nevents;           /* in the file (counted even when not kept) */
    /* Allocation records less free records, in file order, and its highest value: about
     * the most blocks live at once, for sizing a replay's table once (rs_live_reserve). The
     * chunks of threads interleave coarsely in the file, so it is only near the truth. */
    int64_t live_in_file_order;
    uint64_t peak_live_estimate;
    /* The threads' event arrays are empty: the trace was read without them (a command
     * that only needs snapshots) or they were dropped once used (rs_trace_drop_events). */
    bool events_dropped;
    /* It was read from the file `name` (not a buffer): its events can be decoded again from
     * there, chunk by chunk, once dropped (event_stream.h). */
    bool from_file;
    bool partial;               /* the file ends inside a chunk */
    uint64_t partial_at;        /* byte offset of that incomplete chunk */

    struct rs_trace_thread *threads;    /* by tid */
    size_t nthreads;
    struct rs_trace_stack *stacks;      /* by id */
    struct rs_trace_module_map *module_maps; /* by generation */
    struct rs_trace_module_map *open_map;    /* between MODULES_BEGIN and MODULES_END; it
                                              * is in module_maps too */
    struct rs_trace_note *notes;
    size_t nnotes, notes_cap;
    struct rs_trace_mark *marks;
    size_t nmarks, marks_cap;
    struct rs_trace_end end;
    struct rs_trace_py_interp py;       /* the latest PY_INTERP record */
    struct rs_trace_py_code *py_codes;  /* by id */
    struct rs_trace_py_line *py_lines;  /* by (code id, offset) */
    struct rs_snapshots *snapshots;     /* object-graph snapshots found (snap_index.h); NULL
                                         * when the trace has none */
};

struct rs_trace *rs_trace_new(const char *name);
/* Frees what the Python records left in `t` (trace_records_py.c). */
void rs_trace_python_free(struct rs_trace *t);
/* Frees the snapshot index (snap_index.c). */
void rs_snapshots_free(struct rs_snapshots *s);
void rs_trace_free(struct rs_trace *t);
/* Frees the threads' events (the largest part of a big trace), for a command that has
 * done with them; everything else stays. */
void rs_trace_drop_events(struct rs_trace *t);
void rs_trace_module_map_free(struct rs_trace_module_map *m);

/* Returns the thread, creating it (with no events) when new; NULL when out of memory. */
struct rs_trace_thread *rs_trace_thread_get(struct rs_trace *t, uint32_t tid);
struct rs_trace_thread *rs_trace_thread_find(const struct rs_trace *t, uint32_t tid);
const struct rs_trace_stack *rs_trace_stack_find(const struct rs_trace *t, uint32_t id);
/* The threads in order of first appearance; caller frees the array. NULL if out of memory
 * (or no threads: check nthreads). */
struct rs_trace_thread **rs_trace_threads_sorted(const struct rs_trace *t);

bool rs_text_set(struct rs_text *dst, const void *bytes, size_t len);
void rs_text_clear(struct rs_text *t);

/* Grows *array (of `elem` bytes each, `*cap` allocated) to hold one more than `n`.
 * Growth follows data that has actually been decoded, never a count from the file. */
bool rs_grow(void **array, size_t *cap, size_t n, size_t elem);

#endif
