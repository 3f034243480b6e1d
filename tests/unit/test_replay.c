/* Replay semantics: cross-thread frees, address reuse at equal timestamps, munmap of part
 * of a mapping, frees of unknown blocks, the peak, sampling estimates, grouping by stack;
 * and the sites of snapshot objects (the same replay, following the asked blocks only). */
#include "test_util.h"
#include "trace_builder.h"
#include "trace_reader.h"
#include "event_stream.h"
#include "live_set.h"
#include "replay.h"
#include "snap_sites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TEST_GLOBALS;

enum { A = RS_EVENT_ALLOC, S = RS_EVENT_SAMPLED_ALLOC, F = RS_EVENT_FREE, U = RS_EVENT_MUNMAP };

struct ev {
    uint32_t tid;
    int type;
    uint64_t time, addr, size;
    uint32_t stack;
    uint8_t kind;
    uint64_t weight;
};

/* Each run of events of one thread becomes one chunk, in the order given: the order of
 * threads in the file is the order of their first events here. */
static struct rs_trace *trace_of(const struct ev *evs, size_t n)
{
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    size_t i = 0;
    while (i < n) {
        uint32_t tid = evs[i].tid;
        tb_chunk(&b, tid, evs[i].time);
        size_t k = 0;
        for (; i < n && evs[i].tid == tid; i++, k++) {
            const struct ev *e = &evs[i];
            switch (e->type) {
            case A: rs_rec_alloc(&b.w, e->kind, e->time, e->addr, e->size, e->stack); break;
            case S:
                rs_rec_sampled_alloc(&b.w, e->kind, e->time, e->addr, e->size, e->stack,
                                     e->weight);
                break;
            case F: rs_rec_free(&b.w, RS_FREE_FREE, e->time, e->addr); break;
            case U: rs_rec_munmap(&b.w, e->time, e->addr, e->size); break;
            }
        }
        tb_chunk_end(&b, k);
    }
    struct rs_trace *t = NULL;
    struct rs_read_error err;
    if (rs_trace_read_buffer(b.buf.data, b.buf.len, "replay.rsc", &t, &err) != RS_READ_OK)
        fprintf(stderr, "%s\n", err.message);
    CHECK(t != NULL);
    tb_free(&b);
    return t;
}

static bool replay(const struct ev *evs, size_t n, struct rs_replay *r)
{
    struct rs_trace *t = trace_of(evs, n);
    if (!t)
        return false;
    int rc = rs_replay_run(t, r);
    CHECK_EQ_U64(rc, 0);
    CHECK_EQ_U64(r->events, n);
    rs_trace_free(t);
    return rc == 0;
}

#define REPLAY(r, ...)                                                                   \
    do {                                                                                 \
        static const struct ev evs_[] = {__VA_ARGS__};                                   \
        if (!replay(evs_, sizeof evs_ / sizeof *evs_, (r)))                              \
            return;                                                                      \
    } while (0)

static void cross_thread_free(void)
{
    struct rs_replay r;
    REPLAY(&r, {1, A, 10, 0x1000, 100, 1, 0, 0}, {1, A, 11, 0x2000, 50, 2, 0, 0},
           {2, F, 20, 0x1000, 0, 0, 0, 0});
    CHECK_EQ_U64(r.allocs, 2);
    CHECK_EQ_U64(r.alloc_bytes, 150);
    CHECK_EQ_U64(r.frees, 1);
    CHECK_EQ_U64(r.freed_bytes, 100);
    CHECK_EQ_U64(r.frees_unknown, 0);
    CHECK_EQ_U64(r.live_blocks, 1);
    CHECK_EQ_U64(r.live_bytes, 50);
    CHECK_EQ_U64(r.nleaks, 1);
    CHECK_EQ_U64(r.leaks[0].stack_id, 2);
    CHECK_EQ_U64(r.peak_bytes, 150);
    CHECK_EQ_U64(r.peak_time, 11);
    rs_replay_free(&r);

    /* The free's thread comes first in the file, but its event comes later in time. */
    REPLAY(&r, {2, F, 20, 0x1000, 0, 0, 0, 0}, {1, A, 10, 0x1000, 100, 1, 0, 0});
    CHECK_EQ_U64(r.frees_unknown, 0);
    CHECK_EQ_U64(r.live_blocks, 0);
    CHECK_EQ_U64(r.peak_bytes, 100);
    rs_replay_free(&r);
}

static void reuse_at_equal_times(void)
{
    struct rs_replay r;
    /* 0x1000 is live; at t=30 thread 1 frees it and thread 2 gets the same address. Thread
     * 2 is first in the file, so only the state rule puts the free first. */
    REPLAY(&r, {2, A, 5, 0x9000, 1, 9, 0, 0}, {1, A, 10, 0x1000, 100, 1, 0, 0},
           {2, A, 30, 0x1000, 70, 2, 0, 0}, {1, F, 30, 0x1000, 0, 0, 0, 0});
    CHECK_EQ_U64(r.replaced, 0);
    CHECK_EQ_U64(r.frees_unknown, 0);
    CHECK_EQ_U64(r.live_blocks, 2);
    CHECK_EQ_U64(r.live_bytes, 71);
    CHECK_EQ_U64(r.nleaks, 2);
    CHECK_EQ_U64(r.leaks[0].stack_id, 2);
    CHECK_EQ_U64(r.leaks[0].bytes, 70);
    rs_replay_free(&r);

    /* 0x1000 is not live: the allocation goes first, then the other thread frees it. */
    REPLAY(&r, {1, F, 50, 0x1000, 0, 0, 0, 0}, {2, A, 50, 0x1000, 70, 2, 0, 0});
    CHECK_EQ_U64(r.frees_unknown, 0);
    CHECK_EQ_U64(r.live_blocks, 0);
    CHECK_EQ_U64(r.peak_bytes, 70);
    rs_replay_free(&r);

    /* Same thread: its own order stands, whatever the state says. */
    REPLAY(&r, {1, F, 50, 0x1000, 0, 0, 0, 0}, {1, A, 50, 0x1000, 70, 2, 0, 0});
    CHECK_EQ_U64(r.frees_unknown, 1);
    CHECK_EQ_U64(r.live_blocks, 1);
    rs_replay_free(&r);
}

static void munmap_splits(void)
{
    struct rs_replay r;
    const uint8_t M = RS_ALLOC_MMAP;
    REPLAY(&r, {1, A, 1, 0x10000, 0x10000, 1, M, 0},
           {1, A, 2, 0x14800, 0x10, 2, RS_ALLOC_MALLOC, 0}, /* not a mapping: munmap spares it */
           {1, U, 3, 0x14000, 0x1000, 0, 0, 0});           /* a hole in the middle */
    CHECK_EQ_U64(r.live_blocks, 3);
    CHECK_EQ_U64(r.live_bytes, 0xF000 + 0x10);
    CHECK_EQ_U64(r.unmapped_bytes, 0x1000);
    rs_replay_free(&r);

    REPLAY(&r, {1, A, 1, 0x10000, 0x10000, 1, M, 0},
           {1, U, 3, 0x14000, 0x1000, 0, 0, 0},   /* [0x10000,0x14000) [0x15000,0x20000) */
           {1, U, 4, 0x10000, 0x2000, 0, 0, 0},   /* head: [0x12000,0x14000) */
           {1, U, 5, 0x1F000, 0x2000, 0, 0, 0},   /* tail, past the end: [0x15000,0x1F000) */
           {1, F, 6, 0x12000, 0, 0, 0, 0},        /* the head piece moved: free finds it */
           {1, A, 7, 0x30000, 0x1000, 3, M, 0});
    CHECK_EQ_U64(r.frees_unknown, 0);
    CHECK_EQ_U64(r.live_blocks, 2);
    CHECK_EQ_U64(r.live_bytes, 0xA000 + 0x1000);
    CHECK_EQ_U64(r.unmapped_bytes, 0x1000 + 0x2000 + 0x1000);
    CHECK_EQ_U64(r.nleaks, 2);
    CHECK_EQ_U64(r.leaks[0].stack_id, 1);
    CHECK_EQ_U64(r.leaks[0].bytes, 0xA000);
    CHECK_EQ_U64(r.leaks[0].blocks, 1);
    rs_replay_free(&r);

    /* One munmap over several mappings, and one over nothing. */
    REPLAY(&r, {1, A, 1, 0x10000, 0x1000, 1, M, 0}, {1, A, 2, 0x12000, 0x1000, 1, M, 0},
           {1, U, 3, 0x50000, 0x1000, 0, 0, 0}, {1, U, 4, 0x0, 0x100000, 0, 0, 0});
    CHECK_EQ_U64(r.live_blocks, 0);
    CHECK_EQ_U64(r.unmapped_bytes, 0x2000);
    CHECK_EQ_U64(r.peak_bytes, 0x2000);
    rs_replay_free(&r);

    /* A new mapping over part of an old one replaces that part (MAP_FIXED). */
    REPLAY(&r, {1, A, 1, 0x10000, 0x4000, 1, M, 0}, {1, A, 2, 0x11000, 0x1000, 2, M, 0});
    CHECK_EQ_U64(r.live_blocks, 3);
    CHECK_EQ_U64(r.live_bytes, 0x4000);
    CHECK_EQ_U64(r.replaced, 0);
    rs_replay_free(&r);

    /* A range running to the end of the address space does not wrap. */
    REPLAY(&r, {1, A, 1, UINT64_MAX - 0xFFF, 0x1000, 1, M, 0},
           {1, U, 2, UINT64_MAX - 0x7FF, UINT64_MAX, 0, 0, 0});
    CHECK_EQ_U64(r.live_blocks, 1);
    CHECK_EQ_U64(r.live_bytes, 0x800);
    rs_replay_free(&r);
}

static void unknown_frees(void)
{
    struct rs_replay r;
    REPLAY(&r, {1, F, 1, 0xdead, 0, 0, 0, 0}, {1, F, 2, 0, 0, 0, 0, 0},
           {1, A, 3, 0xbeef, 8, 1, 0, 0}, {1, F, 4, 0xbeef, 0, 0, 0, 0},
           {1, F, 5, 0xbeef, 0, 0, 0, 0});
    CHECK_EQ_U64(r.frees_unknown, 2); /* 0xdead, and 0xbeef the second time; free(NULL) is not */
    CHECK_EQ_U64(r.frees, 3);
    CHECK_EQ_U64(r.free_records, 4);
    CHECK_EQ_U64(r.live_blocks, 0);
    rs_replay_free(&r);
}

static void peak(void)
{
    struct rs_replay r;
    REPLAY(&r, {1, A, 1, 0xA, 100, 1, 0, 0}, {1, A, 2, 0xB, 200, 2, 0, 0},
           {2, F, 3, 0xA, 0, 0, 0, 0}, {2, A, 4, 0xC, 50, 3, 0, 0},
           {1, F, 5, 0xB, 0, 0, 0, 0}, {1, A, 6, 0xD, 300, 4, 0, 0}, {1, A, 6, 0xE, 1, 4, 0, 0},
           {2, F, 7, 0xD, 0, 0, 0, 0}, {2, A, 8, 0xF, 10, 5, 0, 0});
    CHECK_EQ_U64(r.peak_bytes, 351);
    CHECK_EQ_U64(r.peak_blocks, 3);
    CHECK_EQ_U64(r.peak_time, 6);
    CHECK_EQ_U64(r.peak_event, 7);
    CHECK_EQ_U64(r.first_time, 1);
    CHECK_EQ_U64(r.last_time, 8);
    CHECK_EQ_U64(r.nat_peak, 2);
    if (r.nat_peak == 2) {
        CHECK_EQ_U64(r.at_peak[0].stack_id, 4);
        CHECK_EQ_U64(r.at_peak[0].blocks, 2);
        CHECK_EQ_U64(r.at_peak[0].bytes, 301);
        CHECK_EQ_U64(r.at_peak[1].stack_id, 3);
        CHECK_EQ_U64(r.at_peak[1].bytes, 50);
    }
    CHECK_EQ_U64(r.live_bytes, 61);
    CHECK_EQ_U64(r.nleaks, 3);
    if (r.nleaks == 3) {
        CHECK_EQ_U64(r.leaks[0].stack_id, 3);
        CHECK_EQ_U64(r.leaks[1].stack_id, 5);
        CHECK_EQ_U64(r.leaks[2].stack_id, 4);
        CHECK_EQ_U64(r.leaks[2].bytes, 1);
    }
    rs_replay_free(&r);

    /* No events at all. */
    struct rs_trace *t = trace_of(NULL, 0);
    if (t) {
        CHECK_EQ_U64(rs_replay_run(t, &r), 0);
        CHECK_EQ_U64(r.peak_bytes, 0);
        CHECK_EQ_U64(r.nleaks, 0);
        CHECK_EQ_U64(r.nat_peak, 0);
        rs_replay_free(&r);
        rs_trace_free(t);
    }
}

/* Enough blocks for the live set to grow many times, laid out as an allocator lays them
 * out (pages full of neighbours, whose slots form long runs in the table) and scattered;
 * then most of them freed in an order unrelated to either. A block lost or misplaced by a
 * growth shows up as an unknown free and as wrong totals. */
static void many_blocks_through_growth(void)
{
    enum { N = 150001 };
    struct ev *evs = calloc(2 * (size_t)N, sizeof *evs);
    CHECK(evs != NULL);
    if (!evs)
        return;
    uint64_t want_bytes = 0, want_blocks = 0, stack_bytes[6] = {0};
    size_t n = 0;
    uint64_t time = 1;
    for (uint64_t i = 0; i < N; i++) {
        uint64_t addr = i % 5 == 4 ? UINT64_C(0x7f0000000000) + (i * UINT64_C(2654435761) % N) * 4096
                                   : UINT64_C(0x10000000) + i / 256 * 3 * 4096 + i % 256 * 16;
        uint64_t size = 16 + i % 7 * 8;
        uint32_t stack = 1 + (uint32_t)(i % 5);
        evs[n++] = (struct ev){1 + (uint32_t)(i / 1000 % 2), A, time++, addr, size, stack, 0, 0};
        if (i % 3 == 0) {
            want_blocks++;
            want_bytes += size;
            stack_bytes[stack] += size;
        }
    }
    for (uint64_t k = 0; k < N; k++) {
        uint64_t i = k * 7919 % N; /* N is prime: every block once */
        if (i % 3 == 0)
            continue;
        evs[n++] = (struct ev){1 + (uint32_t)(k / 1000 % 2), F, time++, evs[i].addr, 0, 0, 0, 0};
    }
    struct rs_replay r;
    if (replay(evs, n, &r)) {
        CHECK_EQ_U64(r.frees_unknown, 0);
        CHECK_EQ_U64(r.peak_blocks, N);
        CHECK_EQ_U64(r.live_blocks, want_blocks);
        CHECK_EQ_U64(r.live_bytes, want_bytes);
        CHECK_EQ_U64(r.nleaks, 5);
        for (size_t k = 0; k < r.nleaks; k++)
            CHECK_EQ_U64(r.leaks[k].bytes, stack_bytes[r.leaks[k].stack_id % 6]);
        CHECK_EQ_U64(r.nat_peak, 5);
        rs_replay_free(&r);
    }
    free(evs);
}

/* The set grown from empty, past the size where its mapping is advised huge pages and
 * then extended in place: a growth once failed there ("out of memory") when the advice
 * had split the mapping. Wide blocks (samples, 64 MB and more) keep their bytes and
 * counts through the moves. */
static void live_set_grows_in_place(void)
{
    enum { N = 1000000 };
    struct rs_live_set s = {0};
    uint64_t bytes = 0, blocks = 0;
    bool ok = true;
    for (uint64_t i = 0; i < N && ok; i++) {
        struct rs_live_block b = {.addr = UINT64_C(0x20000000) + i * 48, .bytes = 16 + i % 100,
                                  .count = 1, .group = (uint32_t)(i % 7), .kind = RS_ALLOC_PY_OBJ};
        if (i % 1000 == 0) {
            b.bytes = i % 2000 ? UINT64_C(100) << 20 : 1000; /* 100 MB, or a sample of 7 */
            b.count = i % 2000 ? 1 : 7;
        }
        ok = rs_live_add(&s, &b, b.bytes, NULL);
        bytes += b.bytes;
        blocks += b.count;
    }
    CHECK(ok);
    CHECK(s.map_bytes > (size_t)8 << 20);
    CHECK_EQ_U64(s.bytes, bytes);
    CHECK_EQ_U64(s.blocks, blocks);
    uint64_t taken_bytes = 0, taken_blocks = 0, missing = 0, wrong = 0;
    for (uint64_t i = 0; i < N; i += 2) {
        struct rs_live_block b;
        if (!rs_live_take(&s, UINT64_C(0x20000000) + i * 48, &b)) {
            missing++;
            continue;
        }
        taken_bytes += b.bytes;
        taken_blocks += b.count;
        bool wide = i % 1000 == 0;
        uint64_t want_bytes = !wide ? 16 + i % 100 : i % 2000 ? UINT64_C(100) << 20 : 1000;
        uint32_t want_count = wide && i % 2000 == 0 ? 7 : 1;
        wrong += b.bytes != want_bytes || b.count != want_count || b.group != i % 7;
    }
    CHECK_EQ_U64(missing, 0);
    CHECK_EQ_U64(wrong, 0);
    CHECK_EQ_U64(s.bytes, bytes - taken_bytes);
    CHECK_EQ_U64(s.blocks, blocks - taken_blocks);
    CHECK(rs_live_has(&s, UINT64_C(0x20000000) + 48) && !rs_live_has(&s, UINT64_C(0x20000000)));
    rs_live_clear(&s);
}

static void sampling_and_replacement(void)
{
    struct rs_replay r;
    REPLAY(&r, {1, S, 1, 0x100, 100, 1, 0, 1000}, /* 10 blocks, 1000 bytes */
           {1, S, 2, 0x200, 300, 2, 0, 1000},      /* 3.33: 3 blocks */
           {1, S, 3, 0x300, 400, 2, 0, 1000},      /* 2.5: 3 blocks (half up) */
           {1, S, 4, 0x400, 0, 3, 0, 77},          /* size 0: 1 block */
           {1, F, 5, 0x100, 0, 0, 0, 0},
           {1, A, 6, 0x500, 10, 4, 0, 0}, {1, A, 7, 0x500, 20, 5, 0, 0}); /* missed free */
    CHECK_EQ_U64(r.sampled_records, 4);
    CHECK_EQ_U64(r.allocs, 10 + 3 + 3 + 1 + 2);
    CHECK_EQ_U64(r.alloc_bytes, 1000 + 1000 + 1000 + 77 + 30);
    CHECK_EQ_U64(r.frees, 10);
    CHECK_EQ_U64(r.freed_bytes, 1000);
    CHECK_EQ_U64(r.replaced, 1);
    CHECK_EQ_U64(r.live_blocks, 3 + 3 + 1 + 1);
    CHECK_EQ_U64(r.live_bytes, 2000 + 77 + 20);
    CHECK_EQ_U64(r.peak_bytes, 1000 + 1000 + 1000 + 77);
    CHECK_EQ_U64(r.leaks[0].stack_id, 2);
    CHECK_EQ_U64(r.leaks[0].blocks, 6);
    rs_replay_free(&r);

    /* Absurd sizes saturate the totals instead of wrapping them. */
    REPLAY(&r, {1, A, 1, 0x1, UINT64_MAX, 1, 0, 0}, {1, A, 2, 0x2, UINT64_MAX, 1, 0, 0});
    CHECK_EQ_U64(r.alloc_bytes, UINT64_MAX);
    rs_replay_free(&r);
}

/* The blocks live at each snapshot's time, their stacks and epochs, following only the
 * addresses asked about: every rule of the full replay that can change them must hold. */
static void sites_of_blocks(void)
{
    static const struct ev evs[] = {
        {2, A, 5, 0x9000, 16, 9, 0, 0},        /* never asked about */
        {1, A, 10, 0x1000, 64, 1, 0, 0},
        {1, A, 11, 0x2000, 64, 2, 0, 0},
        {1, A, 12, 0x3000, 4096, 3, RS_ALLOC_MMAP, 0},
        {1, A, 13, 0x4000, 64, 4, 0, 0},
        /* Addresses a slot of the table cannot hold (snap_sites.c): neither is the block at
         * 0x1000, and a block there is not followed. */
        {1, F, 14, 0x1004, 0, 0, 0, 0},
        {1, F, 15, (UINT64_C(1) << 48) | 0x1000, 0, 0, 0, 0},
        {1, A, 16, 0x6004, 64, 7, 0, 0},
        {1, A, 17, (UINT64_C(1) << 48) | 0x7000, 64, 8, 0, 0},
        /* checkpoint 0 at t=20 */
        {2, A, 30, 0x1000, 32, 5, 0, 0},       /* reused at the instant thread 1 frees it */
        {2, F, 31, 0x2000, 0, 0, 0, 0},        /* freed by another thread */
        {2, U, 32, 0x4000, 64, 0, 0, 0},       /* munmap over a malloc block: no effect */
        {2, U, 33, 0x3000, 4096, 0, 0, 0},     /* the whole mapping goes */
        {1, F, 30, 0x1000, 0, 0, 0, 0},
        {1, A, 40, 0x2000, 64, 6, 0, 0},       /* a new block where one was freed */
        /* checkpoint 1 at t=50 */
    };
    struct rs_trace *t = trace_of(evs, sizeof evs / sizeof *evs);
    if (!t)
        return;
    static const uint64_t blocks[] = {0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0, 0x6004,
                                      (UINT64_C(1) << 48) | 0x7000};
    enum { N = sizeof blocks / sizeof *blocks };
    uint64_t at0[N], at1[N]; /* the queries' addresses, answered in place */
    memcpy(at0, blocks, sizeof blocks);
    memcpy(at1, blocks, sizeof blocks);
    struct rs_site_query q[] = {{20, at0, N}, {50, at1, N}};
    char err[512];
    CHECK_EQ_U64(rs_sites_of_blocks(t, q, 2, err, sizeof err), 0);
    static const uint32_t want_site0[N] = {1, 2, 3, 4, RS_SITE_UNKNOWN, RS_SITE_UNKNOWN,
                                           RS_SITE_UNKNOWN, RS_SITE_UNKNOWN};
    static const uint32_t want_site1[N] = {5, 6, RS_SITE_UNKNOWN, 4, RS_SITE_UNKNOWN,
                                           RS_SITE_UNKNOWN, RS_SITE_UNKNOWN, RS_SITE_UNKNOWN};
    static const uint32_t want_epoch1[N] = {1, 1, RS_EPOCH_UNKNOWN, 0, RS_EPOCH_UNKNOWN,
                                            RS_EPOCH_UNKNOWN, RS_EPOCH_UNKNOWN, RS_EPOCH_UNKNOWN};
    for (size_t i = 0; i < N; i++) {
        CHECK_EQ_U64(rs_answer_site(at0[i]), want_site0[i]);
        CHECK_EQ_U64(rs_answer_epoch(at0[i]),
                     want_site0[i] == RS_SITE_UNKNOWN ? RS_EPOCH_UNKNOWN : 0);
        CHECK_EQ_U64(rs_answer_site(at1[i]), want_site1[i]);
        CHECK_EQ_U64(rs_answer_epoch(at1[i]), want_epoch1[i]);
    }
    rs_trace_free(t);
}

/* A trace read without its events replays them from its file, a chunk per thread at a
 * time (event_stream.h): the same replay and the same sites as from memory, for three
 * threads of many chunks with equal timestamps across them, sampled allocations, sizes
 * over 4 GiB and frees of other threads' blocks. A file changed since it was read is an
 * error, not another answer. */
enum { STREAM_THREADS = 3, STREAM_ROUNDS = 70, STREAM_PER_CHUNK = 5000 };
/* When the sites are asked for. */
#define STREAM_WHEN ((uint64_t)STREAM_ROUNDS * STREAM_PER_CHUNK / 3)

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005u + 1442695040888963407u;
    return *x >> 33;
}

static size_t build_threads_trace(struct tb *b, uint64_t *blocks)
{
    uint64_t rnd = 42, next_addr[STREAM_THREADS] = {0};
    size_t nblocks = 0;
    tb_init(b);
    tb_default_header(b);
    for (unsigned round = 0; round < STREAM_ROUNDS; round++) {
        for (unsigned th = 0; th < STREAM_THREADS; th++) {
            uint64_t base = (uint64_t)round * STREAM_PER_CHUNK / 2;
            tb_chunk(b, 11 + th, base);
            for (unsigned i = 0; i < STREAM_PER_CHUNK; i++) {
                uint64_t time = base + i / 2; /* ties within and across threads */
                uint64_t r = lcg(&rnd) % 10;
                if (r < 6 || nblocks == 0) {
                    uint64_t addr = ((uint64_t)(th + 1) << 32) + 16 * ++next_addr[th];
                    uint64_t size = lcg(&rnd) % 1000 == 0 ? (UINT64_C(5) << 30) : 16 + r;
                    if (r == 5)
                        rs_rec_sampled_alloc(&b->w, RS_ALLOC_MALLOC, time, addr, size,
                                             1 + (uint32_t)(lcg(&rnd) % 50), 4096);
                    else
                        rs_rec_alloc(&b->w, RS_ALLOC_PY_OBJ, time, addr, size,
                                     1 + (uint32_t)(lcg(&rnd) % 50));
                    blocks[nblocks++] = addr;
                } else if (r < 9) { /* any thread's block, live or not */
                    rs_rec_free(&b->w, RS_FREE_PY, time, blocks[lcg(&rnd) % nblocks]);
                } else {
                    rs_rec_munmap(&b->w, time, blocks[lcg(&rnd) % nblocks], 4096);
                }
            }
            tb_chunk_end(b, STREAM_PER_CHUNK);
        }
    }
    return nblocks;
}

/* The streamed replay and sites of `file` are those of `mem`, read from memory. */
static void streamed_same(const struct rs_trace *mem, const struct rs_trace *file,
                          const uint64_t *blocks, size_t nblocks)
{
    struct rs_replay rm, rf;
    CHECK_EQ_U64(rs_replay_run(mem, &rm), 0);
    CHECK_EQ_U64(rs_replay_run(file, &rf), 0);
    CHECK_EQ_U64(rf.events, (uint64_t)STREAM_THREADS * STREAM_ROUNDS * STREAM_PER_CHUNK);
    CHECK_EQ_U64(rf.events, rm.events);
    CHECK(rf.sampled_records > 0 && rf.munmap_records > 0 && rf.replaced == rm.replaced);
    CHECK_EQ_U64(rf.allocs, rm.allocs);
    CHECK_EQ_U64(rf.alloc_bytes, rm.alloc_bytes);
    CHECK_EQ_U64(rf.frees, rm.frees);
    CHECK_EQ_U64(rf.freed_bytes, rm.freed_bytes);
    CHECK_EQ_U64(rf.frees_unknown, rm.frees_unknown);
    CHECK_EQ_U64(rf.live_blocks, rm.live_blocks);
    CHECK_EQ_U64(rf.live_bytes, rm.live_bytes);
    CHECK(rf.live_bytes > (UINT64_C(5) << 30)); /* sizes over 4 GiB came back */
    CHECK_EQ_U64(rf.peak_bytes, rm.peak_bytes);
    CHECK_EQ_U64(rf.peak_event, rm.peak_event);
    rs_replay_free(&rm);
    rs_replay_free(&rf);

    /* Every block (too many for the filter in front of the table) and a few. */
    char err[512];
    size_t nfew = 100;
    uint64_t *a = malloc(nblocks * sizeof *a), *c = malloc(nblocks * sizeof *c);
    CHECK(a && c && nblocks > (UINT64_C(1) << 19));
    for (size_t part = 0; a && c && part < 2; part++) {
        size_t n = part ? nfew : nblocks;
        for (size_t i = 0; i < n; i++)
            a[i] = c[i] = blocks[part ? i * (nblocks / nfew) : i];
        struct rs_site_query qa = {STREAM_WHEN, a, (uint32_t)n}, qc = {STREAM_WHEN, c, (uint32_t)n};
        CHECK_EQ_U64(rs_sites_of_blocks(mem, &qa, 1, err, sizeof err), 0);
        CHECK_EQ_U64(rs_sites_of_blocks(file, &qc, 1, err, sizeof err), 0);
        size_t same = 0, known = 0;
        for (size_t i = 0; i < n; i++) {
            same += a[i] == c[i];
            known += rs_answer_site(a[i]) != RS_SITE_UNKNOWN;
        }
        CHECK_EQ_U64(same, n);
        CHECK(known > 0 && known < n);
    }
    free(a);
    free(c);
}

static void streamed_events(void)
{
    struct tb b;
    uint64_t *blocks = malloc((size_t)STREAM_THREADS * STREAM_ROUNDS * STREAM_PER_CHUNK *
                              sizeof *blocks);
    CHECK(blocks != NULL);
    if (!blocks)
        return;
    size_t nblocks = build_threads_trace(&b, blocks);
    char *path = tb_write_temp(b.buf.data, b.buf.len);
    struct rs_trace *mem = NULL, *file = NULL;
    struct rs_read_error e;
    CHECK(path != NULL);
    CHECK_EQ_U64(rs_trace_read_buffer(b.buf.data, b.buf.len, "mem.rsc", &mem, &e), RS_READ_OK);
    if (path)
        CHECK_EQ_U64(rs_trace_read_file_no_events(path, &file, &e), RS_READ_OK);
    if (!mem || !file)
        goto out;
    CHECK(file->events_dropped && file->nevents == mem->nevents);

    /* Mapped as one range larger than the file, then as ranges of 64 kB (two chunks) that
     * move as the replay goes through the file, and of 4 kB, less than a chunk. */
    size_t map_bytes = rs_event_stream_map_bytes;
    CHECK(b.buf.len > 16 * 65536);
    const size_t sizes[] = {b.buf.len + 65536, 65536, 4096};
    for (size_t round = 0; round < 3; round++) {
        rs_event_stream_map_bytes = sizes[round];
        streamed_same(mem, file, blocks, nblocks);
    }
    rs_event_stream_map_bytes = map_bytes;

    /* A chunk's byte changed, then the file cut shorter, after the first read. */
    char err[512];
    uint64_t few[100];
    for (size_t i = 0; i < 100; i++)
        few[i] = blocks[i * (nblocks / 100)];
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
        size_t at = b.chunk_start[5] + RS_CHUNK_HEADER_SIZE + 7;
        fseek(f, (long)at, SEEK_SET);
        fputc(b.buf.data[at] ^ 0x55, f);
        fclose(f);
        struct rs_site_query q = {STREAM_WHEN, few, 100};
        CHECK_EQ_U64(rs_sites_of_blocks(file, &q, 1, err, sizeof err), (uint64_t)-1);
        CHECK_CONTAINS(err, "checksum mismatch");
    }
    CHECK(truncate(path, (off_t)(b.buf.len / 2)) == 0);
    struct rs_site_query q = {STREAM_WHEN, few, 100};
    CHECK_EQ_U64(rs_sites_of_blocks(file, &q, 1, err, sizeof err), (uint64_t)-1);
    CHECK_CONTAINS(err, "shorter than when it was first read");
out:
    rs_trace_free(mem);
    rs_trace_free(file);
    if (path)
        unlink(path);
    free(path);
    free(blocks);
    tb_free(&b);
}

int main(void)
{
    cross_thread_free();
    reuse_at_equal_times();
    munmap_splits();
    unknown_frees();
    peak();
    many_blocks_through_growth();
    live_set_grows_in_place();
    sampling_and_replacement();
    sites_of_blocks();
    streamed_events();
    return test_result("replay");
}
