/* Encode a trace with every record kind and edge values, write it to a file, read it back,
 * and compare field by field. */
#include "test_util.h"
#include "trace_builder.h"
#include "report.h"
#include "trace_reader.h"

#include <stdlib.h>
#include <unistd.h>

TEST_GLOBALS;

static const uint64_t stack1[] = {0x401000, 0x401234, 0x7f0000001000};
/* Native words that go up and down by the largest deltas the format allows (below 2^62),
 * and Python frames with the largest code id and offset. */
static const uint64_t stack_max[] = {0x3fffffffffffffffull, 0, 0x3fffffffffffffffull, 1,
                                     RS_STACKWORD_PY | 5, RS_PYOFFSET_ENTRY | 12,
                                     RS_STACKWORD_PY | (RS_PYOFFSET_ENTRY - 1), 0xffffffffull};
static const uint8_t build_id[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01};
static const char odd_name[] = "work\n\x1b[31mer\xff";

struct expected_event {
    uint32_t tid;
    uint8_t type, kind, tag;
    uint64_t time, addr, size, weight;
    uint32_t stack_id;
};

static const struct expected_event events[] = {
    /* tid 100, first chunk, base time 1000 */
    {100, RS_EVENT_ALLOC, RS_ALLOC_MALLOC, 0x00, 1000, 0, 0, 0, 0},
    {100, RS_EVENT_ALLOC, RS_ALLOC_CALLOC, 0x01, 1005, UINT64_MAX, UINT64_MAX, 0, UINT32_MAX},
    {100, RS_EVENT_FREE, RS_FREE_REALLOC, 0x11, 1005, 0x1000, 0, 0, 0},
    {100, RS_EVENT_ALLOC, RS_ALLOC_REALLOC, 0x02, 1006, 0x1000, 1, 0, 1},
    {100, RS_EVENT_ALLOC, RS_ALLOC_ALIGNED, 0x03, 1007, 0x2000, 4096, 0, 2},
    {100, RS_EVENT_ALLOC, RS_ALLOC_MMAP, 0x04, 1008, 0x7f0000000000, 1ull << 40, 0, 1},
    {100, RS_EVENT_MUNMAP, 0, 0x20, 1009, 0x7f0000001000, 4096, 0, 0},
    {100, RS_EVENT_ALLOC, RS_ALLOC_PY_OBJ, 0x05, 1010, 0x3000, 32, 0, 3},
    {100, RS_EVENT_ALLOC, RS_ALLOC_PY_MEM, 0x06, 1011, 0x3100, 64, 0, 3},
    {100, RS_EVENT_FREE, RS_FREE_PY, 0x12, 1012, 0x3000, 0, 0, 0},
    {100, RS_EVENT_SAMPLED_ALLOC, RS_ALLOC_ALIGNED, 0x2b, 1013, 0x5000, 100, 1000, 2},
    {100, RS_EVENT_SAMPLED_ALLOC, RS_ALLOC_MALLOC, 0x28, 1014, 0x6000, 0, UINT64_MAX, 0},
    /* times up to the reader's limit (2^56 ns, 2.28 years) */
    {100, RS_EVENT_FREE, RS_FREE_FREE, 0x10, RS_EV_TIME_LIMIT - 8, 0x5000, 0, 0, 0},
    /* tid 100, second chunk: delta state restarts */
    {100, RS_EVENT_FREE, RS_FREE_FREE, 0x10, RS_EV_TIME_LIMIT - 7, 0x6000, 0, 0, 0},
    {100, RS_EVENT_ALLOC, RS_ALLOC_MALLOC, 0x00, RS_EV_TIME_LIMIT - 1, 1, 2, 0, 7},
    /* tid 200 */
    {200, RS_EVENT_FREE, RS_FREE_FREE, 0x10, 0, UINT64_MAX, 0, 0, 0},
    {200, RS_EVENT_MUNMAP, 0, 0x20, 0, 0, UINT64_MAX, 0, 0},
};
#define NEVENTS (sizeof events / sizeof *events)

static void put_event(struct rs_chunk_writer *w, const struct expected_event *e)
{
    switch (e->type) {
    case RS_EVENT_ALLOC:
        rs_rec_alloc(w, e->kind, e->time, e->addr, e->size, e->stack_id);
        break;
    case RS_EVENT_SAMPLED_ALLOC:
        rs_rec_sampled_alloc(w, e->kind, e->time, e->addr, e->size, e->stack_id, e->weight);
        break;
    case RS_EVENT_FREE:
        rs_rec_free(w, e->kind, e->time, e->addr);
        break;
    case RS_EVENT_MUNMAP:
        rs_rec_munmap(w, e->time, e->addr, e->size);
        break;
    }
}

static void unknown_record(struct rs_chunk_writer *w, uint8_t tag)
{
    size_t at = rs_rec_begin(w, (enum rs_record_tag)tag);
    rs_buf_varint(w->out, 12345);
    rs_buf_string(w->out, "future", 6);
    rs_rec_end(w, at);
}

static void build(struct tb *b)
{
    struct rs_buf f;
    tb_fields_init(&f);
    rs_hdr_u64(&f, RS_HDR_PID, 4242);
    rs_hdr_u64(&f, RS_HDR_PPID, 4241);
    rs_hdr_u64(&f, RS_HDR_START_REALTIME, UINT64_MAX);
    rs_hdr_u64(&f, RS_HDR_START_MONOTONIC, 0);
    rs_hdr_u64(&f, RS_HDR_CLOCK, 1);
    rs_hdr_bytes(&f, (enum rs_header_field)99, "ignored", 7); /* a later minor's field */
    rs_hdr_bytes(&f, RS_HDR_EXE, "/usr/bin/prog", 13);
    rs_hdr_bytes(&f, RS_HDR_ARGV, "prog\0--flag\0\0x y\0", 17);
    rs_hdr_u64(&f, RS_HDR_STACK_DEPTH, 64);
    rs_hdr_u64(&f, RS_HDR_PAGE_SIZE, 4096);
    rs_hdr_u64(&f, RS_HDR_FLAGS, RS_TRACE_FLAG_FORK_CHILD | RS_TRACE_FLAG_DROP_ON_FULL);
    rs_hdr_u64(&f, RS_HDR_SAMPLE_BYTES, 0);
    rs_hdr_bytes(&f, RS_HDR_HOSTNAME, "host\0name", 9);
    tb_header(b, &f);
    tb_fields_free(&f);

    tb_chunk(b, 100, 1000);
    for (size_t i = 0; i < 13; i++)
        put_event(&b->w, &events[i]);
    unknown_record(&b->w, 0x7f); /* skipped by its length, in a thread chunk too */
    tb_chunk_end(b, 13);

    tb_chunk(b, 100, RS_EV_TIME_LIMIT - 8);
    for (size_t i = 13; i < 15; i++)
        put_event(&b->w, &events[i]);
    tb_chunk_end(b, 2);

    tb_chunk(b, 0, 0);
    rs_rec_stack(&b->w, 1, 0, 0, stack1, 3);
    rs_rec_stack(&b->w, UINT32_MAX, 0, 0, stack_max, sizeof stack_max / sizeof *stack_max);
    rs_rec_stack(&b->w, 2, 0, 0, NULL, 0);
    rs_rec_thread(&b->w, 100, RS_THREAD_MAIN, "main");
    rs_rec_thread(&b->w, 100, RS_THREAD_MAIN | RS_THREAD_PYTHON_NAME, "renamed");
    rs_rec_thread(&b->w, 200, RS_THREAD_EXITED, odd_name);
    rs_rec_modules_begin(&b->w, 1);
    struct rs_module_segment segs[] = {{0, 0x1000, 4}, {0x1000, 0x5000, 5}, {UINT64_MAX, 1, 6}};
    rs_rec_module(&b->w, "/usr/bin/prog", 0x555555554000, segs, 3, build_id, sizeof build_id);
    rs_rec_module(&b->w, "[vdso]", UINT64_MAX, NULL, 0, NULL, 0);
    rs_rec_modules_end(&b->w, 1);
    rs_rec_counters(&b->w, 100, 10, 1, 2, 300);
    rs_rec_counters(&b->w, 100, 20, 3, 4, 500); /* cumulative: the latest wins */
    rs_rec_counters(&b->w, 300, UINT64_MAX, 0, 0, UINT64_MAX);
    unknown_record(&b->w, 0x90); /* Python range, not decoded yet */
    unknown_record(&b->w, 0xff); /* snapshot range */
    rs_rec_note(&b->w, 0, "hello");
    rs_rec_note(&b->w, 1, "");
    rs_rec_mark(&b->w, 5, RS_MARK_FORK_PARENT, "child 4243");
    rs_rec_mark(&b->w, UINT64_MAX, 77, "");
    tb_chunk_end(b, 0);

    tb_chunk(b, 200, 0);
    for (size_t i = 15; i < NEVENTS; i++)
        put_event(&b->w, &events[i]);
    tb_chunk_end(b, 2);

    tb_chunk(b, 0, 0);
    rs_rec_modules_begin(&b->w, UINT64_MAX);
    rs_rec_module(&b->w, "/lib/libc.so.6", 0x7f0000000000, segs, 2, build_id, 1);
    rs_rec_modules_end(&b->w, UINT64_MAX);
    rs_rec_end_of_trace(&b->w, 17, 4, 3, UINT64_MAX, RS_END__EXIT);
    tb_chunk_end(b, 0);
}

static bool text_is(const struct rs_text *t, const char *s, size_t len)
{
    return t->len == len && t->s && memcmp(t->s, s, len) == 0 && t->s[len] == '\0';
}

static void check_trace(const struct rs_trace *t, size_t file_size)
{
    const struct rs_trace_header *h = &t->hdr;
    CHECK_EQ_U64(t->file_size, file_size);
    CHECK(!t->partial);
    CHECK_EQ_U64(t->nchunks, 5);
    CHECK_EQ_U64(h->version_major, RS_VERSION_MAJOR);
    CHECK_EQ_U64(h->version_minor, RS_VERSION_MINOR);
    CHECK_EQ_U64(h->pid, 4242);
    CHECK_EQ_U64(h->ppid, 4241);
    CHECK_EQ_U64(h->start_realtime, UINT64_MAX);
    CHECK_EQ_U64(h->start_monotonic, 0);
    CHECK(rs_header_has(h, RS_HDR_START_MONOTONIC));
    CHECK_EQ_U64(h->clock, 1);
    CHECK_EQ_U64(h->stack_depth, 64);
    CHECK_EQ_U64(h->page_size, 4096);
    CHECK_EQ_U64(h->flags, RS_TRACE_FLAG_FORK_CHILD | RS_TRACE_FLAG_DROP_ON_FULL);
    CHECK(rs_header_has(h, RS_HDR_SAMPLE_BYTES));
    CHECK(text_is(&h->exe, "/usr/bin/prog", 13));
    CHECK(text_is(&h->hostname, "host\0name", 9));
    CHECK_EQ_U64(h->argc, 4);
    if (h->argc == 4) {
        CHECK(text_is(&h->argv[0], "prog", 4));
        CHECK(text_is(&h->argv[1], "--flag", 6));
        CHECK(text_is(&h->argv[2], "", 0));
        CHECK(text_is(&h->argv[3], "x y", 3));
    }

    /* events, per thread, in order */
    CHECK_EQ_U64(t->nevents, NEVENTS);
    CHECK_EQ_U64(t->nthreads, 3);
    const struct rs_trace_thread *t100 = rs_trace_thread_find(t, 100);
    const struct rs_trace_thread *t200 = rs_trace_thread_find(t, 200);
    const struct rs_trace_thread *t300 = rs_trace_thread_find(t, 300);
    CHECK(t100 && t200 && t300);
    if (!t100 || !t200 || !t300)
        return;
    CHECK_EQ_U64(t100->nevents, 15);
    CHECK_EQ_U64(t200->nevents, 2);
    CHECK_EQ_U64(t300->nevents, 0);
    size_t i100 = 0, i200 = 0;
    for (size_t i = 0; i < NEVENTS; i++) {
        const struct expected_event *e = &events[i];
        const struct rs_trace_thread *th = e->tid == 100 ? t100 : t200;
        size_t *idx = e->tid == 100 ? &i100 : &i200;
        if (*idx >= th->nevents)
            break;
        const struct rs_trace_event *ev = &th->events[(*idx)++];
        CHECK_EQ_U64(rs_ev_type(ev), e->type);
        CHECK_EQ_U64(rs_ev_kind(ev), e->kind);
        CHECK_EQ_U64(ev->tag, e->tag);
        CHECK_EQ_U64(ev->time, e->time);
        CHECK_EQ_U64(ev->addr, e->addr);
        CHECK_EQ_U64(rs_ev_size(th, ev), e->size);
        CHECK_EQ_U64(rs_event_weight(th, ev), e->weight);
        CHECK_EQ_U64(ev->stack_id, e->stack_id);
    }

    /* threads: latest name and flags win; a name from Python is kept beside the OS's and
     * preferred for display */
    CHECK(t100->named && text_is(&t100->name, "main", 4));
    CHECK(t100->has_py_name && text_is(&t100->py_name, "renamed", 7));
    CHECK(rs_thread_name(t100) == &t100->py_name);
    CHECK(rs_thread_name(t200) == &t200->name);
    CHECK_EQ_U64(t100->flags, RS_THREAD_MAIN | RS_THREAD_PYTHON_NAME);
    CHECK(text_is(&t200->name, odd_name, strlen(odd_name)));
    CHECK_EQ_U64(t200->flags, RS_THREAD_EXITED);
    CHECK(!t300->named);
    CHECK(t100->has_counters && !t200->has_counters && t300->has_counters);
    CHECK_EQ_U64(t100->counters.events, 20);
    CHECK_EQ_U64(t100->counters.waits, 3);
    CHECK_EQ_U64(t100->counters.drops, 4);
    CHECK_EQ_U64(t100->counters.wait_ns, 500);
    CHECK_EQ_U64(t300->counters.events, UINT64_MAX);
    CHECK_EQ_U64(t300->counters.wait_ns, UINT64_MAX);

    /* stacks */
    const struct rs_trace_stack *s1 = rs_trace_stack_find(t, 1);
    const struct rs_trace_stack *smax = rs_trace_stack_find(t, UINT32_MAX);
    const struct rs_trace_stack *s2 = rs_trace_stack_find(t, 2);
    CHECK(s1 && smax && s2 && !rs_trace_stack_find(t, 3));
    if (s1 && smax && s2) {
        CHECK_EQ_U64(s1->nwords, 3);
        for (uint32_t i = 0; i < 3 && i < s1->nwords; i++)
            CHECK_EQ_U64(s1->words[i], stack1[i]);
        CHECK_EQ_U64(smax->nwords, sizeof stack_max / sizeof *stack_max);
        for (uint32_t i = 0; i < smax->nwords; i++)
            CHECK_EQ_U64(smax->words[i], stack_max[i]);
        CHECK_EQ_U64(s2->nwords, 0);
    }

    /* module maps, in order of appearance */
    CHECK_EQ_U64(HASH_COUNT(t->module_maps), 2);
    CHECK(t->open_map == NULL);
    const struct rs_trace_module_map *m1 = t->module_maps;
    const struct rs_trace_module_map *m2 = m1 ? m1->hh.next : NULL;
    CHECK(m1 && m2);
    if (m1 && m2) {
        CHECK_EQ_U64(m1->generation, 1);
        CHECK(m1->complete);
        CHECK_EQ_U64(m1->nmodules, 2);
        const struct rs_trace_module *p = &m1->modules[0];
        CHECK(text_is(&p->path, "/usr/bin/prog", 13));
        CHECK_EQ_U64(p->load_bias, 0x555555554000);
        CHECK_EQ_U64(p->nsegs, 3);
        CHECK_EQ_U64(p->segs[1].vaddr, 0x1000);
        CHECK_EQ_U64(p->segs[1].memsz, 0x5000);
        CHECK_EQ_U64(p->segs[1].flags, 5);
        CHECK_EQ_U64(p->segs[2].vaddr, UINT64_MAX);
        CHECK(p->build_id_len == sizeof build_id &&
              memcmp(p->build_id, build_id, sizeof build_id) == 0);
        const struct rs_trace_module *v = &m1->modules[1];
        CHECK(text_is(&v->path, "[vdso]", 6));
        CHECK_EQ_U64(v->load_bias, UINT64_MAX);
        CHECK_EQ_U64(v->nsegs, 0);
        CHECK_EQ_U64(v->build_id_len, 0);
        CHECK_EQ_U64(m2->generation, UINT64_MAX);
        CHECK_EQ_U64(m2->nmodules, 1);
        CHECK(m2->complete);
        CHECK_EQ_U64(m2->modules[0].build_id_len, 1);
    }

    CHECK(t->end.present);
    CHECK_EQ_U64(t->end.total_events, 17);
    CHECK_EQ_U64(t->end.total_drops, 4);
    CHECK_EQ_U64(t->end.total_waits, 3);
    CHECK_EQ_U64(t->end.end_time, UINT64_MAX);
    CHECK_EQ_U64(t->end.reason, RS_END__EXIT);

    CHECK_EQ_U64(t->nnotes, 2);
    if (t->nnotes == 2) {
        CHECK_EQ_U64(t->notes[0].level, 0);
        CHECK(text_is(&t->notes[0].text, "hello", 5));
        CHECK_EQ_U64(t->notes[1].level, 1);
        CHECK(text_is(&t->notes[1].text, "", 0));
    }
    CHECK_EQ_U64(t->nmarks, 2);
    if (t->nmarks == 2) {
        CHECK_EQ_U64(t->marks[0].time, 5);
        CHECK_EQ_U64(t->marks[0].kind, RS_MARK_FORK_PARENT);
        CHECK(text_is(&t->marks[0].label, "child 4243", 10));
        CHECK_EQ_U64(t->marks[1].time, UINT64_MAX);
        CHECK_EQ_U64(t->marks[1].kind, 77);
    }
}

/* A chunk long enough for the reader's run decoder (trace_records.c rs_decode_event_run):
 * allocations and frees of every kind it takes, with sizes up to the last one an event
 * holds and stack ids up to 2^32 - 1, mixed with the records it leaves to the general
 * decoders (sampled allocations, munmaps, sizes beyond an event, time deltas of 9 bytes
 * and more), so that the decoding passes from one to the other in every way. Every field
 * read back is compared with what was written. */
enum { LONG_EVENTS = 2000 };

static void long_event(size_t i, struct expected_event *e, uint64_t *time, uint64_t *seed)
{
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t r = *seed >> 11;
    unsigned pick = (unsigned)(r % 16);
    uint64_t dt = i % 97 == 0 ? (UINT64_C(1) << 50) + r % 1000 : r % 300; /* now and then a long varint */
    *time += dt;
    *e = (struct expected_event){.tid = 7, .time = *time, .addr = (r * 4096) ^ (r >> 7)};
    if (pick < 8) {
        e->type = RS_EVENT_ALLOC;
        e->kind = (uint8_t)(pick % RS_ALLOC_KIND_COUNT);
        e->size = pick == 7 ? UINT32_MAX - 1 : r % 100000;
        e->stack_id = pick == 6 ? UINT32_MAX : (uint32_t)(r % 5000);
    } else if (pick < 13) {
        e->type = RS_EVENT_FREE;
        e->kind = (uint8_t)(pick % RS_FREE_KIND_COUNT);
    } else if (pick == 13) {
        e->type = RS_EVENT_SAMPLED_ALLOC;
        e->kind = RS_ALLOC_MALLOC;
        e->size = r % 1000;
        e->weight = 4096 + r % 7;
        e->stack_id = 3;
    } else if (pick == 14) {
        e->type = RS_EVENT_MUNMAP;
        e->size = 4096 * (1 + r % 9);
    } else {
        e->type = RS_EVENT_ALLOC;
        e->kind = RS_ALLOC_MMAP;
        e->size = UINT32_MAX + (r % 3); /* beyond what an event holds */
        e->stack_id = 9;
    }
}

static void long_chunk(void)
{
    struct expected_event *want = calloc(LONG_EVENTS, sizeof *want);
    CHECK(want != NULL);
    if (!want)
        return;
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    tb_chunk(&b, 7, 0);
    uint64_t time = 0, seed = 42;
    for (size_t i = 0; i < LONG_EVENTS; i++) {
        long_event(i, &want[i], &time, &seed);
        put_event(&b.w, &want[i]);
    }
    tb_chunk_end(&b, LONG_EVENTS);
    struct rs_trace *t = NULL;
    struct rs_read_error err;
    CHECK_EQ_U64(rs_trace_read_buffer(b.buf.data, b.buf.len, "long", &t, &err), RS_READ_OK);
    const struct rs_trace_thread *th = t ? rs_trace_thread_find(t, 7) : NULL;
    CHECK(th && th->nevents == LONG_EVENTS);
    CHECK(t && t->nevents == LONG_EVENTS);
    size_t bad = 0;
    for (size_t i = 0; th && i < th->nevents && i < LONG_EVENTS; i++) {
        const struct expected_event *e = &want[i];
        const struct rs_trace_event *ev = &th->events[i];
        bool same = rs_ev_type(ev) == e->type && rs_ev_kind(ev) == e->kind && ev->time == e->time &&
                    ev->addr == e->addr && rs_ev_size(th, ev) == e->size &&
                    rs_event_weight(th, ev) == e->weight && ev->stack_id == e->stack_id;
        if (!same && bad++ < 3)
            fprintf(stderr, "long chunk: event %zu differs\n", i);
    }
    CHECK_EQ_U64(bad, 0);
    rs_trace_free(t);
    tb_free(&b);
    free(want);
}

int main(void)
{
    long_chunk();
    struct tb b;
    tb_init(&b);
    build(&b);
    CHECK(!b.buf.failed);

    char *path = tb_write_temp(b.buf.data, b.buf.len);
    CHECK(path != NULL);
    if (path) {
        struct rs_trace *t = NULL;
        struct rs_read_error err;
        enum rs_read_status s = rs_trace_read_file(path, &t, &err);
        CHECK_EQ_U64(s, RS_READ_OK);
        if (s != RS_READ_OK)
            fprintf(stderr, "read error: %s\n", err.message);
        if (t) {
            CHECK_STR(t->name, path);
            check_trace(t, b.buf.len);
        }
        rs_trace_free(t);
        unlink(path);

        /* Reading a path that is gone names it and says why. */
        s = rs_trace_read_file(path, &t, &err);
        CHECK_EQ_U64(s, RS_READ_ERR_IO);
        CHECK(t == NULL);
        CHECK_CONTAINS(err.message, "No such file or directory");
        CHECK(strncmp(err.message, path, strlen(path)) == 0);
        free(path);
    }

    /* The same bytes from memory give the same trace. */
    struct rs_trace *t = NULL;
    struct rs_read_error err;
    CHECK_EQ_U64(rs_trace_read_buffer(b.buf.data, b.buf.len, "mem", &t, &err), RS_READ_OK);
    if (t)
        check_trace(t, b.buf.len);
    rs_trace_free(t);

    tb_free(&b);
    return test_result("roundtrip");
}
