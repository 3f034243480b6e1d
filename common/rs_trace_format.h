/* The refscope trace format: the one definition shared by the shim (writer) and the
 * analyzer (reader). docs/trace-format.md explains it in prose; keep both in step.
 *
 * Layout of a trace file:
 *
 *   file header   RS_FILE_HEADER_SIZE fixed bytes, then `body_len` bytes of TLV fields
 *   chunk*        each: RS_CHUNK_HEADER_SIZE fixed bytes, then `payload_len` bytes of records
 *
 * Everything multi-byte in fixed headers is little-endian. Inside payloads, integers are
 * LEB128 varints; signed deltas are zig-zag encoded. Each chunk is self-contained: delta
 * state (time, address) restarts at every chunk, so a reader can stop at any complete
 * chunk, which is how a trace cut short (kill -9, crash) is still readable.
 */
#ifndef REFSCOPE_TRACE_FORMAT_H
#define REFSCOPE_TRACE_FORMAT_H

#include <libdeflate.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- file header ------------------------------------------------------------------ */

/* "\r\n" in the magic catches files mangled by text-mode transfers, as PNG does. */
#define RS_FILE_MAGIC "RSCOPE\r\n"
#define RS_FILE_MAGIC_LEN 8
/* A reader accepts any minor version of its major: minors only add length-prefixed
 * records (which old readers skip) or header fields (TLVs, skipped likewise). */
#define RS_VERSION_MAJOR 1
#define RS_VERSION_MINOR 0

/* magic[8] | u16 major | u16 minor | u32 body_len | u32 body_crc32 | u32 reserved */
#define RS_FILE_HEADER_SIZE 24
#define RS_FILE_HEADER_MAX_BODY (1u << 20)

/* Header body: a sequence of (varint field id, varint length, bytes). Integers are varints
 * inside their field bytes; strings are raw bytes, not NUL-terminated. */
enum rs_header_field {
    RS_HDR_PID = 1,            /* varint */
    RS_HDR_PPID = 2,           /* varint */
    RS_HDR_START_REALTIME = 3, /* varint: ns since the Unix epoch at trace start */
    RS_HDR_START_MONOTONIC = 4,/* varint: CLOCK_MONOTONIC ns at trace start; event times are
                                * ns relative to it */
    RS_HDR_CLOCK = 5,          /* varint: clock id used for event times (CLOCK_MONOTONIC) */
    RS_HDR_EXE = 6,            /* string: /proc/self/exe */
    RS_HDR_ARGV = 7,           /* bytes: the arguments, each followed by a NUL */
    RS_HDR_STACK_DEPTH = 8,    /* varint: native stack depth cap */
    RS_HDR_PAGE_SIZE = 9,      /* varint */
    RS_HDR_FLAGS = 10,         /* varint: RS_TRACE_FLAG_* */
    RS_HDR_SAMPLE_BYTES = 11,  /* varint: mean sampling interval in bytes (0: every event) */
    RS_HDR_HOSTNAME = 12,      /* string */
};

enum rs_trace_flags {
    RS_TRACE_FLAG_FORK_CHILD = 1 << 0, /* this process was forked from a traced parent */
    RS_TRACE_FLAG_DROP_ON_FULL = 1 << 1,
    /* `refscope attach` loaded the library into a running process: blocks allocated before
     * the trace started are not in it (their frees are normal), and objects of snapshots
     * allocated then have no site ("before attach"). The trace ends with END reason
     * RS_END_DETACH when `refscope detach` stopped it. */
    RS_TRACE_FLAG_ATTACHED = 1 << 2,
};

/* The checksum of the file header's body and of each chunk: the CRC-32 of zlib and gzip,
 * computed by libdeflate, which uses the processor's carry-less multiply (4x zlib's
 * speed here: the writer checksums every byte it writes, the analyzer every byte it
 * reads). */
static inline uint32_t rs_crc32(const void *p, size_t n)
{
    return (uint32_t)libdeflate_crc32(0, p, n);
}

/* ---- chunks ----------------------------------------------------------------------- */

/* u32 magic | u32 payload_len | u32 crc32 | u32 tid | u64 base_time | u32 seq | u32 flags
 * crc32 (rs_crc32) covers bytes 12..end of payload: tid, base_time, seq, flags, payload. */
#define RS_CHUNK_MAGIC 0x4b435352u /* "RSCK" */
#define RS_CHUNK_HEADER_SIZE 32
#define RS_CHUNK_MAX_PAYLOAD (64u << 20)
/* tid 0: process-wide metadata (stacks, modules, threads, end). Other tids: that thread's
 * events, in the order the thread made them. `seq` counts chunks in the file from 0, so a
 * reader notices a missing or reordered chunk. */
#define RS_CHUNK_TID_META 0u

/* ---- records ---------------------------------------------------------------------- */
/* A record starts with a tag byte. Hot event records (tags below RS_TAG_LENGTH_PREFIXED)
 * have a fixed shape known to every reader. Every other record is
 *   tag, varint body_len, body
 * so a reader of an older minor version can skip records it does not know. */

#define RS_TAG_LENGTH_PREFIXED 0x40

/* Event records, in thread chunks. `dt` = varint ns since the previous event of the chunk
 * (the first is relative to the chunk's base_time); `da` = zig-zag varint delta of the
 * address from the previous address of the chunk (starting at 0). */
enum rs_event_tag {
    /* ALLOC | kind: dt, da, varint size, varint stack_id */
    RS_TAG_ALLOC = 0x00,
    /* FREE | kind: dt, da */
    RS_TAG_FREE = 0x10,
    /* MUNMAP: dt, da, varint length (may cover part of a mapping, or several) */
    RS_TAG_MUNMAP = 0x20,
    /* SAMPLED_ALLOC | kind: as ALLOC, then varint weight (bytes this sample stands for);
     * used only when sampling is on */
    RS_TAG_SAMPLED_ALLOC = 0x28,
};
#define RS_TAG_KIND_MASK 0x07

/* Who allocated a block. A block is freed by the family that allocated it. */
enum rs_alloc_kind {
    RS_ALLOC_MALLOC = 0,   /* malloc, reallocarray (realloc of NULL) */
    RS_ALLOC_CALLOC = 1,
    RS_ALLOC_REALLOC = 2,  /* the new block of a realloc; the old one gets FREE|RS_FREE_REALLOC */
    RS_ALLOC_ALIGNED = 3,  /* posix_memalign, aligned_alloc, memalign, valloc, pvalloc */
    RS_ALLOC_MMAP = 4,     /* anonymous mmap/mremap */
    RS_ALLOC_PY_OBJ = 5,   /* PyObject_Malloc domain */
    RS_ALLOC_PY_MEM = 6,   /* PyMem_Malloc domain */
    RS_ALLOC_KIND_COUNT = 7,
};

enum rs_free_kind {
    RS_FREE_FREE = 0,
    RS_FREE_REALLOC = 1,   /* the old block of a realloc that moved or shrank to 0 */
    RS_FREE_PY = 2,        /* PyObject_Free / PyMem_Free */
    RS_FREE_KIND_COUNT = 3,
};

/* Length-prefixed records. Body fields listed in order. */
enum rs_record_tag {
    /* Meta chunk (tid 0) */
    RS_TAG_STACK = 0x40,       /* varint id, varint base id (0: none), varint shared,
                                * varint nframes, nframes x frame (see "stack records").
                                * The stack is the frames given (innermost first) followed by
                                * the outermost `shared` words of stack `base`, which is
                                * defined earlier in the file: stacks share their outer
                                * frames, and each is written as what it adds. */
    RS_TAG_THREAD = 0x41,      /* varint tid, varint flags (RS_THREAD_*), string name
                                * (varint len + bytes); repeated when a thread is renamed */
    RS_TAG_MODULES_BEGIN = 0x42, /* varint generation; the module map is replaced by the
                                  * RS_TAG_MODULE records that follow, up to MODULES_END */
    RS_TAG_MODULE = 0x43,      /* string path, varint load_bias, varint nsegs,
                                * nsegs x (varint vaddr, varint memsz, varint flags PF_*),
                                * string build_id (raw bytes) */
    RS_TAG_MODULES_END = 0x44, /* varint generation */
    RS_TAG_COUNTERS = 0x45,    /* varint tid, varint events, varint waits, varint drops,
                                * varint wait_ns; cumulative for the thread so far */
    RS_TAG_END = 0x46,         /* varint total_events, varint total_drops, varint total_waits,
                                * varint end_time, varint reason (RS_END_*). Present only
                                * when the process flushed its trace to the end. */
    RS_TAG_NOTE = 0x47,        /* varint level (0 info, 1 warning), string text: something
                                * the shim wants the report to say */
    RS_TAG_MARK = 0x48,        /* varint time, varint kind, string label: a point on the
                                * timeline (fork, exec, snapshot request...) */

    /* Python records (meta chunk). Python frames in stacks name code objects by a small id;
     * these records say what each id and each (id, offset) pair is. */
    RS_TAG_PY_INTERP = 0x80,   /* string version (Py_GetVersion), varint hexversion
                                * (major<<16 | minor<<8 | micro), varint flags RS_PY_* */
    RS_TAG_PY_CODE = 0x81,     /* varint code_id, string filename, string qualname,
                                * varint first line, then (optional) varint line table
                                * format (RS_PY_LINES_*), string the code object's line
                                * table: the analyzer finds the line of each offset */
    RS_TAG_PY_LINE = 0x82,     /* varint code_id, varint offset, varint line (0: unknown);
                                * for codes whose line table the trace lacks */
    /* 0x83-0xBF: reserved for Python */

    /* Object-graph snapshots, in meta chunks written by the snapshotting thread. A snapshot
     * runs from SNAP_BEGIN to SNAP_END (same id) and may span many chunks; one without its
     * END (the process died mid-snapshot) is incomplete and must be ignored. Types and
     * labels are numbered within their snapshot. Addresses are the objects' (PyObject *). */
    RS_TAG_SNAP_BEGIN = 0xC0,  /* varint id, varint time, varint trigger (RS_SNAP_*),
                                * string label */
    RS_TAG_SNAP_TYPE = 0xC1,   /* varint type_id (>= 1), varint type address, string name
                                * (module.qualname), varint flags (RS_SNAPTYPE_*),
                                * varint basicsize, varint itemsize */
    RS_TAG_SNAP_NODES = 0xC2,  /* varint count, then count x (zig-zag delta of the address
                                * from the previous node of the record (first from 0),
                                * varint type_id, varint size (bytes, as __sizeof__),
                                * varint refcnt (ob_refcnt; meaningless if IMMORTAL),
                                * varint flags (RS_NODE_*), varint preheader (bytes below the
                                * object where its allocation starts), string label) */
    RS_TAG_SNAP_EDGES = 0xC3,  /* varint count, then count x (zig-zag delta of the source
                                * address from the previous source of the record,
                                * varint n, n x (zig-zag delta of the target address from
                                * the previous target of this source (first from the
                                * source), varint label (RS_EDGE_LABEL_*))) */
    RS_TAG_SNAP_LABEL = 0xC4,  /* varint label_id (>= 1), varint kind (RS_EDGE_*),
                                * string text */
    RS_TAG_SNAP_ROOT = 0xC5,   /* varint address, varint kind (RS_ROOT_*), string name */
    RS_TAG_SNAP_END = 0xC6,    /* varint id, varint nodes, varint edges, varint pause_ns */
    RS_TAG_SNAP_WEAK = 0xC7,   /* varint count, then count x (varint address of a weak
                                * reference, varint address of the object it refers to):
                                * not references (they keep nothing alive), but a weak
                                * reference to garbage goes when the garbage is collected */
    RS_TAG_SNAP_BUFFERS = 0xC8, /* varint count, then count x (varint address of an object,
                                 * varint address of the block that holds its items: a
                                 * list's or an array's items, a bytearray's bytes, a dict's
                                 * keys, a set's table, a deque's last block, a BytesIO's
                                 * bytes), for objects whose items take 4 kB or more: where
                                 * the block was last (re)allocated is where it fills up */
    /* 0xC9-0xFF: reserved for snapshots */
    /* 0xC0-0xFF: object-graph snapshot records */
};

/* The line tables of PY_CODE records, as CPython stores them. Offsets in stacks are in
 * bytes of bytecode, as PyCode_Addr2Line takes them. */
enum rs_py_line_format {
    RS_PY_LINES_NONE = 0,
    RS_PY_LINES_LNOTAB = 1,    /* 3.8-3.9 co_lnotab: (byte delta, signed line delta) pairs */
    RS_PY_LINES_PAIRS = 2,     /* 3.10 co_linetable: (byte delta, signed line delta or -128
                                * for no line) pairs */
    RS_PY_LINES_LOCATIONS = 3, /* 3.11+ co_linetable: the location table (entries of code
                                * units, Objects/locations.md in CPython) */
};

enum rs_py_flags {
    RS_PY_HOOKS_EARLY = 1 << 0,   /* allocator hooks were in place before Py_Initialize */
    RS_PY_NATIVE_STACKS = 1 << 1, /* Python-domain allocations carry native frames too */
};

enum rs_thread_flags {
    RS_THREAD_MAIN = 1 << 0,
    RS_THREAD_EXITED = 1 << 1,
    RS_THREAD_PYTHON_NAME = 1 << 2, /* name as Python's threading module knows it */
    RS_THREAD_REFSCOPE = 1 << 3,    /* one of refscope's own threads (writer, Python poller) */
};

enum rs_end_reason {
    RS_END_EXIT = 0,     /* exit() / return from main: library destructor */
    RS_END__EXIT = 1,    /* _exit() / _Exit() */
    RS_END_EXEC = 2,     /* about to exec another image */
    RS_END_DETACH = 3,   /* refscope detach */
    RS_END_PYTHON_ATEXIT = 4,
};

enum rs_mark_kind {
    RS_MARK_FORK_PARENT = 1,
    RS_MARK_EXEC = 2,
    RS_MARK_SNAPSHOT_REQUEST = 3,
    /* The program's own code has finished (Python's atexit, or os._exit): what is live here
     * is what the program left behind; interpreter teardown frees much of it afterwards. */
    RS_MARK_PROGRAM_END = 4,
    /* A full (generation 2) collection ended; label "collected N, uncollectable M". */
    RS_MARK_GC = 5,
    /* A crash signal is about to kill the process (label "SIGSEGV", "SIGABRT"...): the
     * events recorded before it were written; no END record follows. */
    RS_MARK_FATAL_SIGNAL = 6,
};

/* ---- snapshots ----------------------------------------------------------------------- */

enum rs_snap_trigger {
    RS_SNAP_EXIT = 1,      /* the final snapshot, at Python's atexit */
    RS_SNAP__EXIT = 2,     /* the final snapshot of a process ending in os._exit */
    RS_SNAP_SIGNAL = 3,    /* REFSCOPE_SNAPSHOT_SIGNAL */
    RS_SNAP_INTERVAL = 4,  /* REFSCOPE_SNAPSHOT_INTERVAL */
    RS_SNAP_GC = 5,        /* after every Kth full collection */
    RS_SNAP_API = 6,       /* refscope.snapshot(label) from the program */
    RS_SNAP_ATTACH = 7,    /* requested by `refscope attach` */
};

enum rs_snap_type_flags {
    RS_SNAPTYPE_GC = 1 << 0,           /* instances have Py_TPFLAGS_HAVE_GC */
    RS_SNAPTYPE_HEAP = 1 << 1,         /* a heap type (class statement) */
    RS_SNAPTYPE_FINALIZER = 1 << 2,    /* tp_finalize or __del__ */
    RS_SNAPTYPE_LEGACY_DEL = 1 << 3,   /* tp_del: uncollectable in a cycle */
    RS_SNAPTYPE_MANAGED_DICT = 1 << 4,
    RS_SNAPTYPE_CONTAINER = 1 << 5,    /* list, tuple, dict, set, frozenset, deque, or a
                                        * subclass: holds values for others */
};

enum rs_node_flags {
    RS_NODE_GC_TRACKED = 1 << 0,  /* seen by the collector; others are leaves (referents) */
    RS_NODE_IMMORTAL = 1 << 1,    /* refcount is not a count (3.12+) */
    RS_NODE_IN_GC_GARBAGE = 1 << 2,
    RS_NODE_FROZEN = 1 << 3,      /* gc.freeze()'d: in the permanent generation */
    RS_NODE_MODULE = 1 << 4,
    RS_NODE_TYPE = 1 << 5,
    RS_NODE_FRAME = 1 << 6,       /* a frame object, or a synthetic node for an
                                   * interpreter frame (3.11+) of a running thread */
    RS_NODE_SYNTHETIC = 1 << 7,   /* not a Python object (refcnt and size are 0) */
    RS_NODE_FUNCTION = 1 << 8,
    RS_NODE_TRUNCATED = 1 << 9,   /* its referents were not all recorded */
    RS_NODE_BOUNDED_CACHE = 1 << 10, /* holds a bounded number of entries (an lru_cache with
                                      * a maxsize): what only it holds cannot grow */
};

/* An edge label is a varint: 0 no label; odd: a sequence index ((index << 1) | 1);
 * even, non-zero: a SNAP_LABEL id (id << 1). */
#define RS_EDGE_LABEL_NONE 0u
#define RS_EDGE_LABEL_INDEX(i) (((uint64_t)(i) << 1) | 1u)
#define RS_EDGE_LABEL_ID(id) ((uint64_t)(id) << 1)

enum rs_edge_kind {
    RS_EDGE_ATTR = 1,     /* obj.name (instance dict, managed dict, slots, module globals) */
    RS_EDGE_KEY = 2,      /* dict[key]: text is a short repr of the key */
    RS_EDGE_LOCAL = 3,    /* a frame's local variable */
    RS_EDGE_SPECIAL = 4,  /* __dict__, __class__, __closure__, cell_contents, __self__... */
    RS_EDGE_DICT_KEY = 5, /* the dict refers to this object as a key */
};

enum rs_root_kind {
    RS_ROOT_MODULE = 1,   /* a module in sys.modules; name: its name */
    RS_ROOT_THREAD = 2,   /* a frame of a running thread; name: the thread's name */
};

/* ---- stack words -------------------------------------------------------------------- */
/* A stack is an array of 64-bit words, innermost frame first. A native frame is one word:
 * a return address (the call is at ip - 1). Native frames, when a stack has both, come
 * before its Python frames (innermost first too). A Python frame is two words:
 * (RS_STACKWORD_PY | code id), then the byte offset of the instruction in the code object,
 * with RS_PYOFFSET_ENTRY set on the outermost Python frame run by one C call
 * of the interpreter's eval loop (so a hybrid stack can replace that C frame by them). */
/* Native words are below 2^62 (user-space addresses); Python code ids below 2^62.
 * Stack records encode frames, not words: a varint v per frame; v even: a native frame,
 * ip = previous native ip of the record (first from 0) + unzigzag(v >> 1); v odd: a Python
 * frame with code id v >> 1, followed by a varint (offset << 1 | entry). */
#define RS_STACKWORD_PY (UINT64_C(1) << 63)
#define RS_PYOFFSET_ENTRY (UINT64_C(1) << 62)
#define RS_STACK_ID_NONE 0u /* no stack (not captured, or table full) */
#define RS_STACK_MAX_WORDS 512

/* ---- varints ---------------------------------------------------------------------- */

#define RS_VARINT_MAX 10

static inline size_t rs_put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

static inline uint64_t rs_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t rs_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Reads one varint from [*p, end). Returns 0 on success, -1 when the input ends first or
 * the varint is longer than 10 bytes (corrupt). */
static inline int rs_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    unsigned shift = 0;
    const uint8_t *q = *p;
    while (q < end) {
        uint8_t b = *q++;
        if (shift == 63 && b > 1)
            return -1;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            *p = q;
            return 0;
        }
        shift += 7;
        if (shift > 63)
            return -1;
    }
    return -1;
}

static inline void rs_put_u16le(uint8_t *out, uint16_t v)
{
    out[0] = (uint8_t)v;
    out[1] = (uint8_t)(v >> 8);
}

static inline void rs_put_u32le(uint8_t *out, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static inline void rs_put_u64le(uint8_t *out, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t rs_get_u16le(const uint8_t *in)
{
    return (uint16_t)(in[0] | (in[1] << 8));
}

static inline uint32_t rs_get_u32le(const uint8_t *in)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | in[i];
    return v;
}

static inline uint64_t rs_get_u64le(const uint8_t *in)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | in[i];
    return v;
}

/* Chunk header fields, decoded. */
struct rs_chunk_header {
    uint32_t payload_len;
    uint32_t crc;
    uint32_t tid;
    uint64_t base_time;
    uint32_t seq;
    uint32_t flags;
};

static inline void rs_encode_chunk_header(uint8_t out[RS_CHUNK_HEADER_SIZE],
                                          const struct rs_chunk_header *h)
{
    rs_put_u32le(out, RS_CHUNK_MAGIC);
    rs_put_u32le(out + 4, h->payload_len);
    rs_put_u32le(out + 8, h->crc);
    rs_put_u32le(out + 12, h->tid);
    rs_put_u64le(out + 16, h->base_time);
    rs_put_u32le(out + 24, h->seq);
    rs_put_u32le(out + 28, h->flags);
}

/* Returns 0 when the magic matches, -1 otherwise. */
static inline int rs_decode_chunk_header(const uint8_t in[RS_CHUNK_HEADER_SIZE],
                                         struct rs_chunk_header *h)
{
    if (rs_get_u32le(in) != RS_CHUNK_MAGIC)
        return -1;
    h->payload_len = rs_get_u32le(in + 4);
    h->crc = rs_get_u32le(in + 8);
    h->tid = rs_get_u32le(in + 12);
    h->base_time = rs_get_u64le(in + 16);
    h->seq = rs_get_u32le(in + 24);
    h->flags = rs_get_u32le(in + 28);
    return 0;
}

/* The bytes of a chunk header that its crc covers start here. */
#define RS_CHUNK_CRC_FROM 12

#endif
