/* make_seeds DIR: writes small crafted traces into DIR, a seed corpus for fuzz_trace that
 * covers every record kind the reader knows (header fields, events of every kind, stacks
 * with native and Python frames, threads, module maps, counters, notes, marks, END, Python
 * code and line records, snapshots of every record kind, spread over chunks, cut short).
 * Real traces, made by the shim, are in tests/fuzz/corpus. */
#include "snap_scenes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;

static void save(struct tb *b, const char *name, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->buf.data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void header(struct tb *b, bool fork_child, uint64_t sample)
{
    struct rs_buf f;
    tb_fields_init(&f);
    rs_hdr_u64(&f, RS_HDR_PID, 4242);
    rs_hdr_u64(&f, RS_HDR_PPID, 4241);
    rs_hdr_u64(&f, RS_HDR_START_REALTIME, 1700000000000000000ull);
    rs_hdr_u64(&f, RS_HDR_START_MONOTONIC, 1000);
    rs_hdr_u64(&f, RS_HDR_CLOCK, 1);
    rs_hdr_bytes(&f, RS_HDR_EXE, "/nonexistent/prog\n\"<b>", 22);
    rs_hdr_bytes(&f, RS_HDR_ARGV, "prog\0--flag\0\x1b[31mred\0", 22);
    rs_hdr_u64(&f, RS_HDR_STACK_DEPTH, 64);
    rs_hdr_u64(&f, RS_HDR_PAGE_SIZE, 4096);
    rs_hdr_u64(&f, RS_HDR_FLAGS, fork_child ? RS_TRACE_FLAG_FORK_CHILD : 0);
    rs_hdr_u64(&f, RS_HDR_SAMPLE_BYTES, sample);
    rs_hdr_bytes(&f, RS_HDR_HOSTNAME, "host", 4);
    tb_header(b, &f);
    tb_fields_free(&f);
}

/* Native events of two threads, with everything around them. */
static void native(struct tb *b, bool end)
{
    tb_chunk(b, RS_CHUNK_TID_META, 0);
    rs_rec_modules_begin(&b->w, 1);
    const struct rs_module_segment segs[] = {{0x1000, 0x5000, 5}};
    rs_rec_module(&b->w, "/nonexistent/libleak.so", 0x7f0000000000ull, segs, 1,
                  (const uint8_t *)"\x01\x02\x03\x04", 4);
    rs_rec_module(&b->w, "[vdso]", 0x7fff00000000ull, segs, 1, NULL, 0);
    rs_rec_modules_end(&b->w, 1);
    uint64_t w1[] = {0x7f0000001100ull, 0x7f0000001200ull, 0x7f0000001300ull};
    rs_rec_stack(&b->w, 1, 0, 0, w1, 3);
    uint64_t w2[] = {0x7f0000001500ull};
    rs_rec_stack(&b->w, 2, 1, 2, w2, 1);
    rs_rec_thread(&b->w, 100, RS_THREAD_MAIN, "main");
    rs_rec_thread(&b->w, 101, 0, "worker\x1b]0;x\a");
    rs_rec_thread(&b->w, 101, RS_THREAD_PYTHON_NAME, "Thread-1 (work)");
    rs_rec_note(&b->w, 1, "a note with <markup> and \"quotes\"\n");
    tb_chunk_end(b, 0);

    tb_chunk(b, 100, 10);
    rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 10, 0x10000, 100, 1);
    rs_rec_alloc(&b->w, RS_ALLOC_CALLOC, 20, 0x10100, 200, 2);
    rs_rec_alloc(&b->w, RS_ALLOC_ALIGNED, 30, 0x11000, 4096, 1);
    rs_rec_alloc(&b->w, RS_ALLOC_MMAP, 40, 0x7f1000000000ull, 1 << 20, 2);
    rs_rec_munmap(&b->w, 50, 0x7f1000010000ull, 0x10000);
    rs_rec_free(&b->w, RS_FREE_REALLOC, 60, 0x10000);
    rs_rec_alloc(&b->w, RS_ALLOC_REALLOC, 60, 0x12000, 300, 1);
    rs_rec_free(&b->w, RS_FREE_FREE, 70, 0);
    rs_rec_free(&b->w, RS_FREE_FREE, 80, 0x99999);
    tb_chunk_end(b, 9);
    tb_chunk(b, 101, 15);
    rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 15, 0x20000, 64, 2);
    rs_rec_free(&b->w, RS_FREE_FREE, 65, 0x10100);
    rs_rec_sampled_alloc(&b->w, RS_ALLOC_MALLOC, 66, 0x21000, 100, 1, 5000);
    tb_chunk_end(b, 3);

    tb_chunk(b, RS_CHUNK_TID_META, 0);
    rs_rec_counters(&b->w, 100, 9, 1, 0, 1234);
    rs_rec_counters(&b->w, 101, 3, 0, 0, 0);
    rs_rec_mark(&b->w, 62, RS_MARK_FORK_PARENT, "fork");
    rs_rec_mark(&b->w, 68, RS_MARK_PROGRAM_END, "atexit");
    rs_rec_thread(&b->w, 101, RS_THREAD_EXITED, "worker");
    if (end)
        rs_rec_end_of_trace(&b->w, 12, 0, 1, 90, RS_END_EXIT);
    tb_chunk_end(b, 0);
}

/* Python records, a stack with Python frames, allocations of the objects of scenes A
 * and B, then both snapshots. */
static void python(struct tb *b, size_t batch, int chunks)
{
    tb_chunk(b, RS_CHUNK_TID_META, 0);
    size_t at = rs_rec_begin(&b->w, RS_TAG_PY_INTERP);
    rs_buf_string(&b->buf, "3.11.2 (main) [GCC]", 19);
    rs_buf_varint(&b->buf, 0x030b02);
    rs_buf_varint(&b->buf, RS_PY_HOOKS_EARLY);
    rs_rec_end(&b->w, at);
    sc_py_code(b, 7, "/src/leaky.py", "Node.__init__", 6);
    sc_py_line(b, 7, 42, 7);
    sc_py_code(b, 8, "/src/<script>\".py", "<module>", 1);
    sc_py_line(b, 8, 10, 12);
    uint64_t words[] = {0x401000, RS_STACKWORD_PY | 7, 42 | RS_PYOFFSET_ENTRY,
                        RS_STACKWORD_PY | 8, 10};
    rs_rec_stack(&b->w, 5, 0, 0, words, 5);
    tb_chunk_end(b, 0);
    tb_chunk(b, 100, 0);
    for (int k = 0; k < 4; k++)
        rs_rec_alloc(&b->w, RS_ALLOC_PY_OBJ, 500, 0x4000 + 0x100 * (uint64_t)k - 16, 64, 5);
    rs_rec_alloc(&b->w, RS_ALLOC_PY_OBJ, 600, 0xc100 - 16, 64, 5);
    rs_rec_alloc(&b->w, RS_ALLOC_PY_OBJ, 600, 0xc200 - 16, 64, 5);
    rs_rec_alloc(&b->w, RS_ALLOC_PY_MEM, 600, 0xe100 - 16, 64, 5);
    rs_rec_free(&b->w, RS_FREE_PY, 700, 0xe100 - 16);
    tb_chunk_end(b, 8);
    sc_write(b, 1, 1000, "start", &scene_a, batch, chunks, true);
    sc_write(b, 2, 2000, "later \"<i>\"", &scene_b, batch, chunks, true);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    dir = argv[1];
    struct tb b;

    tb_init(&b);
    header(&b, false, 0);
    native(&b, true);
    save(&b, "native.rsc", b.buf.len);
    /* the same cut inside its last chunk: partial */
    save(&b, "native-partial.rsc", b.chunk_start[b.nchunks - 1] + 20);
    tb_free(&b);

    tb_init(&b);
    header(&b, true, 4096);
    native(&b, false);
    save(&b, "native-forked-sampled.rsc", b.buf.len);
    tb_free(&b);

    tb_init(&b);
    header(&b, false, 0);
    python(&b, 0, 1);
    save(&b, "python-snapshots.rsc", b.buf.len);
    tb_free(&b);

    tb_init(&b);
    header(&b, false, 0);
    python(&b, 2, 3);
    /* and one more snapshot the process never finished */
    sc_write(&b, 3, 3000, "cut", &scene_a, 3, 2, false);
    save(&b, "python-chunked.rsc", b.buf.len);
    tb_free(&b);

    tb_init(&b);
    header(&b, false, 0);
    python(&b, 0, 1);
    native(&b, true);
    save(&b, "mixed.rsc", b.buf.len);
    tb_free(&b);
    return 0;
}
