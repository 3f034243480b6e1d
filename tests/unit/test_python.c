/* Python-facing reports from crafted traces: Python frames resolved through PY_CODE and
 * PY_LINE, the Python and hybrid views of a stack (eval-loop frames replaced by the Python
 * frames they ran, with matching and mismatching counts), the program-end mark as "leaked
 * at exit", --thread, blocks kept by the C runtime, and inlined native frames.
 *
 * The native frames are this very program's functions (and the libc it runs with), so a
 * module map describing them lets libdwfl name them as it would in a real trace. */
#include "test_util.h"
#include "trace_builder.h"
#include "report.h"
#include "runtime_blocks.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <unistd.h>

TEST_GLOBALS;

/* ---- native functions that go into stacks --------------------------------------------- */

#define BODY __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop")

__attribute__((noinline, used)) void c_alloc_site(void)
{
    BODY;
}

/* Named like CPython's eval loop, so the symbolizer takes it for one. */
__attribute__((noinline, used)) void _PyEval_EvalFrameDefault(void)
{
    BODY;
}

__attribute__((noinline, used)) void c_trampoline(void)
{
    BODY;
}

__attribute__((noinline, used)) void c_main(void)
{
    BODY;
}

/* Inlining: outer_fn calls inlined_leaf, which the compiler must inline; inlined_leaf
 * calls record_caller, which remembers where it returns to (inside outer_fn). The
 * statement after each call is on a line of its own, so the return address itself is on
 * the next line: only a lookup one byte before it finds the call's line. */
static volatile uint64_t captured_return;
static volatile int leaf_line, outer_line, after_call;

__attribute__((noinline, noclone, used)) void record_caller(void)
{
    captured_return = (uint64_t)(uintptr_t)__builtin_return_address(0);
}

static inline __attribute__((always_inline)) void inlined_leaf(void)
{
    leaf_line = __LINE__ + 1;
    record_caller();
    after_call = __LINE__;
}

__attribute__((noinline, used)) void outer_fn(void)
{
    outer_line = __LINE__ + 1;
    inlined_leaf();
    after_call = __LINE__;
}

#define RET(fn, k) ((uint64_t)(uintptr_t)(fn) + (k))

/* ---- modules of this process ---------------------------------------------------------- */

struct module_info {
    char path[4096];
    uint64_t bias;
    struct rs_module_segment segs[16];
    uint32_t nsegs;
    uint8_t build_id[64];
    size_t build_id_len;
};

static struct module_info self_mod, libc_mod;

static void read_build_id(struct dl_phdr_info *info, struct module_info *m)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
            const uint8_t *name = p + sizeof *n;
            const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
                memcmp(name, "GNU", 4) == 0 && n->n_descsz <= sizeof m->build_id) {
                memcpy(m->build_id, desc, n->n_descsz);
                m->build_id_len = n->n_descsz;
                return;
            }
            p = desc + ((n->n_descsz + 3) & ~3u);
        }
    }
}

static void fill(struct dl_phdr_info *info, struct module_info *m, const char *path)
{
    snprintf(m->path, sizeof m->path, "%s", path);
    m->bias = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum && m->nsegs < 16; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD)
            m->segs[m->nsegs++] = (struct rs_module_segment){ph->p_vaddr, ph->p_memsz, ph->p_flags};
    }
    read_build_id(info, m);
}

static int find_modules(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    int *n = arg;
    if ((*n)++ == 0) {
        char self[4096];
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        self[len > 0 ? len : 0] = '\0';
        fill(info, &self_mod, self);
    } else if (info->dlpi_name && strstr(info->dlpi_name, "/libc.so.6")) {
        fill(info, &libc_mod, info->dlpi_name);
    }
    return 0;
}

static void put_module(struct rs_chunk_writer *w, const struct module_info *m)
{
    rs_rec_module(w, m->path, m->bias, m->segs, m->nsegs, m->build_id, m->build_id_len);
}

static const struct rs_module_segment fake_seg = {0, 0x1000, 5};

/* This program, its libc, and a dynamic loader that is not on disk, at 0x1000. */
static void module_map(struct rs_chunk_writer *w)
{
    rs_rec_modules_begin(w, 1);
    put_module(w, &self_mod);
    put_module(w, &libc_mod);
    rs_rec_module(w, "/nonexistent/ld-linux-x86-64.so.2", 0x1000, &fake_seg, 1, NULL, 0);
    rs_rec_modules_end(w, 1);
}

static uint64_t libc_symbol(const char *name)
{
    void *h = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    uint64_t a = h ? (uint64_t)(uintptr_t)dlsym(h, name) : 0;
    if (h)
        dlclose(h);
    CHECK(a != 0);
    return a;
}

/* ---- Python records ------------------------------------------------------------------- */

static void py_interp(struct rs_chunk_writer *w, const char *version, uint64_t hex, uint64_t flags)
{
    size_t at = rs_rec_begin(w, RS_TAG_PY_INTERP);
    rs_buf_string(w->out, version, strlen(version));
    rs_buf_varint(w->out, hex);
    rs_buf_varint(w->out, flags);
    rs_rec_end(w, at);
}

static void py_code(struct rs_chunk_writer *w, uint64_t id, const char *file, const char *name,
                    uint64_t first_line)
{
    size_t at = rs_rec_begin(w, RS_TAG_PY_CODE);
    rs_buf_varint(w->out, id);
    rs_buf_string(w->out, file, strlen(file));
    rs_buf_string(w->out, name, strlen(name));
    rs_buf_varint(w->out, first_line);
    rs_rec_end(w, at);
}

static void py_line(struct rs_chunk_writer *w, uint64_t code, uint64_t offset, uint64_t line)
{
    size_t at = rs_rec_begin(w, RS_TAG_PY_LINE);
    rs_buf_varint(w->out, code);
    rs_buf_varint(w->out, offset);
    rs_buf_varint(w->out, line);
    rs_rec_end(w, at);
}

#define PY(id) (RS_STACKWORD_PY | (uint64_t)(id))
#define ENTRY(off) (RS_PYOFFSET_ENTRY | (uint64_t)(off))

/* Code 1 Cache.add, 2 <module> of /app/cache.py, 3 setup of /app/pkg/__init__.py (no line
 * records for it); code 9 is not described at all. */
static void python_records(struct rs_chunk_writer *w)
{
    py_interp(w, "3.12.1 (main, Jan  1 2024) [GCC 12.2.0]", 0x030c01, RS_PY_HOOKS_EARLY);
    py_code(w, 1, "/app/cache.py", "Cache.add", 10);
    py_code(w, 2, "/app/cache.py", "<module>", 1);
    py_code(w, 3, "/app/pkg/__init__.py", "setup", 5);
    py_line(w, 1, 20, 12);
    py_line(w, 2, 8, 30);
    py_line(w, 2, 40, 31);
    py_line(w, 1, 99, 0); /* a line the shim could not resolve */
}

/* ---- helpers -------------------------------------------------------------------------- */

static char *capture(const struct rs_report *r, bool json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (json)
        rs_report_write_json(r, f);
    else
        rs_report_write_text(r, f);
    fclose(f);
    return buf;
}

static bool ends_with_newline(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && s[n - 1] == '\n' && (n < 2 || s[n - 2] != '\n');
}

static char *write_trace(struct tb *b)
{
    char *path = tb_write_temp(b->buf.data, b->buf.len);
    CHECK(path != NULL);
    return path;
}

static const struct rs_report_stack *stack_by_id(const struct rs_report_section *s, uint32_t id)
{
    for (size_t i = 0; i < s->nstacks; i++) {
        if (s->stacks[i].total->stack_id == id)
            return &s->stacks[i];
    }
    return NULL;
}

static bool frame_is(const struct rs_frames *f, size_t i, const char *function, int line)
{
    if (i >= f->n || !f->v[i]->function || strcmp(f->v[i]->function, function) != 0) {
        fprintf(stderr, "frame %zu: wanted %s, got %s\n", i, function,
                i < f->n && f->v[i]->function ? f->v[i]->function : "(none)");
        return false;
    }
    if (line >= 0 && f->v[i]->line != line) {
        fprintf(stderr, "frame %zu (%s): wanted line %d, got %d\n", i, function, line,
                f->v[i]->line);
        return false;
    }
    return true;
}

/* ---- Python frames -------------------------------------------------------------------- */

static void test_python_frames(void)
{
    const uint64_t s1[] = {PY(1), 20, PY(2), ENTRY(8)};
    const uint64_t s2[] = {PY(1), 20, PY(2), ENTRY(40)};
    const uint64_t s3[] = {PY(9), ENTRY(4)};
    const uint64_t s4[] = {PY(3), ENTRY(6)};
    const uint64_t s5[] = {PY(1), 99, PY(2), ENTRY(8)};
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    tb_chunk(&b, 0, 0);
    python_records(&b.w);
    rs_rec_stack(&b.w, 1, 0, 0, s1, 4);
    rs_rec_stack(&b.w, 2, 0, 0, s2, 4);
    rs_rec_stack(&b.w, 3, 0, 0, s3, 2);
    rs_rec_stack(&b.w, 4, 0, 0, s4, 2);
    rs_rec_stack(&b.w, 5, 0, 0, s5, 4);
    rs_rec_thread(&b.w, 500, RS_THREAD_MAIN, "python3");
    tb_chunk_end(&b, 0);
    tb_chunk(&b, 500, 0);
    uint64_t t = 10, a = 0x10000;
    for (int i = 0; i < 3; i++)
        rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, t++, a += 0x100, 100, 1);
    for (int i = 0; i < 2; i++)
        rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, t++, a += 0x100, 50, 2);
    rs_rec_alloc(&b.w, RS_ALLOC_PY_MEM, t++, a += 0x100, 7, 3);
    rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, t++, a += 0x100, 9, 4);
    rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, t++, a += 0x100, 1000, 0);
    rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, t++, a += 0x100, 1000, 0);
    rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, t++, a += 0x100, 3, 5);
    tb_chunk_end(&b, 10);
    tb_chunk(&b, 0, 0);
    rs_rec_end_of_trace(&b.w, 10, 0, 0, 100, RS_END_EXIT);
    tb_chunk_end(&b, 0);
    char *path = write_trace(&b);

    struct rs_report_options opt = {.top = 10, .stack_depth = 16};
    struct rs_report r;
    struct rs_read_error err;
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), 0);
    CHECK(r.python);
    CHECK(r.trace->py.present);
    CHECK_EQ_U64(r.trace->py.hexversion, 0x030c01);
    CHECK(r.program_end == NULL);
    CHECK_EQ_U64(r.leaked.ntotals, 6);
    CHECK_EQ_U64(r.leaked.blocks, 10);

    const struct rs_report_stack *st = stack_by_id(&r.leaked, 1);
    CHECK(st && st->frames.n == 2 && st->frames.view == RS_VIEW_PYTHON);
    if (st && st->frames.n == 2) {
        const struct rs_frame *f = st->frames.v[0];
        CHECK(f->python && f->py_code_known);
        CHECK_STR(f->function, "Cache.add");
        CHECK_STR(f->file, "/app/cache.py");
        CHECK_EQ_U64(f->line, 12);
        CHECK_EQ_U64(f->py_code, 1);
        CHECK_EQ_U64(f->py_offset, 20);
        CHECK_EQ_U64(f->py_first_line, 10);
        CHECK_STR(st->frames.v[1]->function, "<module>");
        CHECK_EQ_U64(st->frames.v[1]->line, 30);
        CHECK_EQ_U64(st->frames.v[1]->py_offset, 8); /* the entry bit is not part of it */
    }
    st = stack_by_id(&r.leaked, 3); /* unknown code object */
    CHECK(st && st->frames.n == 1);
    if (st && st->frames.n == 1) {
        CHECK_STR(st->frames.v[0]->function, "<python code #9>");
        CHECK(st->frames.v[0]->file == NULL);
        CHECK_EQ_U64(st->frames.v[0]->line, 0);
        CHECK(!st->frames.v[0]->py_code_known);
    }
    st = stack_by_id(&r.leaked, 4); /* known code, no line record */
    CHECK(st && st->frames.n == 1 && st->frames.v[0]->line == 0 &&
          strcmp(st->frames.v[0]->function, "setup") == 0);
    st = stack_by_id(&r.leaked, 5); /* line record saying 0 */
    CHECK(st && st->frames.n == 2 && st->frames.v[0]->line == 0);

    /* by line: stacks 1 and 2 share their innermost line; stackless blocks are start-up */
    CHECK_EQ_U64(r.leaked.nlines, 5);
    CHECK(r.leaked.nlines >= 2);
    if (r.leaked.nlines >= 2) {
        const struct rs_report_line *l0 = &r.leaked.lines[0], *l1 = &r.leaked.lines[1];
        CHECK_EQ_U64(l0->kind, RS_LINE_NO_STACK);
        CHECK_EQ_U64(l0->blocks, 2);
        CHECK_EQ_U64(l0->bytes, 2000);
        CHECK_EQ_U64(l1->kind, RS_LINE_PYTHON);
        CHECK_EQ_U64(l1->blocks, 5);
        CHECK_EQ_U64(l1->bytes, 400);
        CHECK_EQ_U64(l1->stacks, 2);
        CHECK(l1->frame && l1->frame->line == 12);
    }

    char *text = capture(&r, false);
    CHECK_CONTAINS(text, "python: 3.12.1 (main, Jan  1 2024) [GCC 12.2.0]\n");
    CHECK_CONTAINS(text, "Leaked at exit, by Python line:\n"
                         "#1   2 blocks, 2,000 bytes (2.0 kB)  (no stack: interpreter start-up)\n"
                         "#2   5 blocks, 400 bytes  Cache.add (cache.py:12)  (2 stacks)\n");
    CHECK_CONTAINS(text, "#2   3 blocks, 300 bytes\n     Cache.add (cache.py:12)\n"
                         "     <module> (cache.py:30)\n");
    CHECK_CONTAINS(text, "#5   1 block, 3 bytes  Cache.add (cache.py)\n"); /* line unknown */
    CHECK_CONTAINS(text, "     <module> (cache.py:31)\n");
    CHECK_CONTAINS(text, "     <python code #9>\n");
    CHECK_CONTAINS(text, "     setup (pkg/__init__.py)\n");
    CHECK_CONTAINS(text, "     (no stack: interpreter start-up)\n");
    CHECK(ends_with_newline(text));
    free(text);

    char *json = capture(&r, true);
    CHECK_CONTAINS(json, "\"version_info\": \"3.12.1\"");
    CHECK_CONTAINS(json, "\"hooks_early\": true");
    CHECK_CONTAINS(json, "\"code_objects\": 3");
    CHECK_CONTAINS(json, "\"label\": \"no stack: interpreter start-up\"");
    CHECK_CONTAINS(json, "\"function\": \"Cache.add\",\n"
                         "            \"file\": \"/app/cache.py\",\n"
                         "            \"line\": 12,");
    CHECK_CONTAINS(json, "\"code_known\": false");
    CHECK_CONTAINS(json, "\"first_line\": 10");
    CHECK_CONTAINS(json, "\"by_line\": [\n");
    CHECK_CONTAINS(json, "\"kind\": \"no_stack\"");
    CHECK_CONTAINS(json, "\"stacks\": 2\n");
    CHECK_CONTAINS(json, "\"stack_view\": \"python\"");
    CHECK_CONTAINS(json, "\"thread_filter\": null");
    CHECK_CONTAINS(json, "\"program_end\": null");
    CHECK_CONTAINS(json, "\"basis\": \"end_of_trace\"");
    CHECK_CONTAINS(json, "\"live_at_end_of_trace\": null");
    CHECK(ends_with_newline(json));
    free(json);
    rs_report_free(&r);
    unlink(path);
    free(path);
    tb_free(&b);
}

/* ---- views: Python only, hybrid ------------------------------------------------------- */

static void check_view(struct rs_report *r, uint32_t id, enum rs_stack_view view,
                       const char *const *want, size_t nwant, bool mismatch)
{
    const struct rs_trace_stack *st = rs_trace_stack_find(r->trace, id);
    CHECK(st != NULL);
    if (!st)
        return;
    struct rs_frames f;
    CHECK_EQ_U64(rs_symbolize_stack_view(r->sym, st->words, st->nwords, view, 0, &f), 0);
    CHECK_EQ_U64(f.n, nwant);
    bool same = f.n == nwant;
    for (size_t i = 0; same && i < nwant; i++)
        same = frame_is(&f, i, want[i], -1);
    if (!same)
        fprintf(stderr, "stack %u, view %d: frames differ (see above)\n", (unsigned)id, (int)view);
    CHECK(same);
    CHECK_EQ_U64(f.splice_mismatch, mismatch);
    CHECK_EQ_U64(f.python, 3);
    rs_frames_free(&f);
}

static void test_views(void)
{
    const uint64_t matched[] = {RET(c_alloc_site, 1), RET(_PyEval_EvalFrameDefault, 1),
                                RET(c_trampoline, 1), RET(_PyEval_EvalFrameDefault, 3),
                                RET(c_main, 1),
                                PY(1), 20, PY(2), ENTRY(8), PY(3), ENTRY(6)};
    /* three groups of Python frames, two eval-loop frames */
    const uint64_t mismatched[] = {RET(c_alloc_site, 1), RET(_PyEval_EvalFrameDefault, 1),
                                   RET(c_trampoline, 1), RET(_PyEval_EvalFrameDefault, 3),
                                   RET(c_main, 1),
                                   PY(1), ENTRY(20), PY(2), ENTRY(8), PY(3), ENTRY(6)};
    /* no eval-loop frame at all */
    const uint64_t no_eval[] = {RET(c_alloc_site, 1), RET(c_main, 1),
                                PY(1), 20, PY(2), 8, PY(3), ENTRY(6)};
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    tb_chunk(&b, 0, 0);
    python_records(&b.w);
    module_map(&b.w);
    rs_rec_stack(&b.w, 1, 0, 0, matched, sizeof matched / 8);
    rs_rec_stack(&b.w, 2, 0, 0, mismatched, sizeof mismatched / 8);
    rs_rec_stack(&b.w, 3, 0, 0, no_eval, sizeof no_eval / 8);
    tb_chunk_end(&b, 0);
    tb_chunk(&b, 600, 0);
    rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, 10, 0x100, 64, 1);
    rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, 11, 0x200, 32, 2);
    rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, 12, 0x300, 16, 3);
    tb_chunk_end(&b, 3);
    char *path = write_trace(&b);

    struct rs_report_options opt = {.top = 10, .stack_depth = 16};
    struct rs_report r;
    struct rs_read_error err;
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), 0);

    static const char *const python_only[] = {"Cache.add", "<module>", "setup"};
    check_view(&r, 1, RS_VIEW_PYTHON, python_only, 3, false);
    static const char *const hybrid[] = {"c_alloc_site", "Cache.add", "<module>",
                                         "c_trampoline", "setup", "c_main"};
    check_view(&r, 1, RS_VIEW_HYBRID, hybrid, 6, false);
    static const char *const hybrid_mismatch[] = {"c_alloc_site", "Cache.add", "<module>",
                                                  "setup", "c_trampoline",
                                                  "_PyEval_EvalFrameDefault", "c_main"};
    check_view(&r, 2, RS_VIEW_HYBRID, hybrid_mismatch, 7, true);
    static const char *const hybrid_no_eval[] = {"c_alloc_site", "c_main", "Cache.add",
                                                 "<module>", "setup"};
    check_view(&r, 3, RS_VIEW_HYBRID, hybrid_no_eval, 5, true);
    static const char *const native_only[] = {"c_alloc_site", "_PyEval_EvalFrameDefault",
                                              "c_trampoline", "_PyEval_EvalFrameDefault",
                                              "c_main"};
    check_view(&r, 1, RS_VIEW_NATIVE_ONLY, native_only, 5, false);

    /* the report's default is the Python view, --native the hybrid one */
    const struct rs_report_stack *st = stack_by_id(&r.leaked, 1);
    CHECK(st && st->frames.view == RS_VIEW_PYTHON && st->frames.n == 3);
    char *text = capture(&r, false);
    CHECK_CONTAINS(text, "#1   1 block, 64 bytes\n     Cache.add (cache.py:12)\n"
                         "     <module> (cache.py:30)\n     setup (pkg/__init__.py)\n#2 ");
    free(text);
    rs_report_free(&r);

    opt.native = true;
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), 0);
    st = stack_by_id(&r.leaked, 1);
    CHECK(st && st->frames.view == RS_VIEW_HYBRID && st->frames.n == 6);
    text = capture(&r, false);
    CHECK_CONTAINS(text, "#1   1 block, 64 bytes\n     c_alloc_site (test_python.c:");
    CHECK_CONTAINS(text, ")\n     Cache.add (cache.py:12)\n     <module> (cache.py:30)\n"
                         "     c_trampoline (test_python.c:");
    free(text);
    char *json = capture(&r, true);
    CHECK_CONTAINS(json, "\"stack_view\": \"hybrid\"");
    CHECK_CONTAINS(json, "\"view\": \"hybrid\"");
    CHECK_CONTAINS(json, "\"splice_mismatch\": true");
    CHECK_CONTAINS(json, "\"python_frames\": 3");
    free(json);
    rs_report_free(&r);
    unlink(path);
    free(path);
    tb_free(&b);
}

/* ---- inlined native frames ------------------------------------------------------------ */

static void test_inline(void)
{
    outer_fn();
    CHECK(captured_return != 0 && leaf_line > 0 && outer_line > 0);
    const uint64_t words[] = {captured_return, RET(c_main, 1)};
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    tb_chunk(&b, 0, 0);
    module_map(&b.w);
    rs_rec_stack(&b.w, 1, 0, 0, words, 2);
    tb_chunk_end(&b, 0);
    tb_chunk(&b, 600, 0);
    rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, 10, 0x100, 64, 1);
    tb_chunk_end(&b, 1);
    char *path = write_trace(&b);

    struct rs_report_options opt = {.top = 10, .stack_depth = 16};
    struct rs_report r;
    struct rs_read_error err;
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), 0);
    const struct rs_report_stack *st = stack_by_id(&r.leaked, 1);
    CHECK(st && st->frames.n == 3);
    if (st && st->frames.n == 3) {
        CHECK(frame_is(&st->frames, 0, "inlined_leaf", leaf_line));
        CHECK(frame_is(&st->frames, 1, "outer_fn", outer_line));
        CHECK(frame_is(&st->frames, 2, "c_main", -1));
        CHECK(st->frames.v[0]->inlined && !st->frames.v[1]->inlined);
        CHECK_EQ_U64(st->frames.v[0]->address, st->frames.v[1]->address);
        CHECK(st->frames.v[0]->file && strstr(st->frames.v[0]->file, "test_python.c"));
        CHECK(st->frames.v[1]->file && strstr(st->frames.v[1]->file, "test_python.c"));
    }
    char want[128];
    snprintf(want, sizeof want, "     inlined_leaf (test_python.c:%d)\n     outer_fn (test_python.c:%d)\n",
             leaf_line, outer_line);
    char *text = capture(&r, false);
    CHECK_CONTAINS(text, want);
    free(text);
    char *json = capture(&r, true);
    CHECK_CONTAINS(json, "\"inlined\": true");
    free(json);
    rs_report_free(&r);
    unlink(path);
    free(path);
    tb_free(&b);
}

/* ---- the program-end mark ------------------------------------------------------------- */

static void test_program_end(void)
{
    const uint64_t s1[] = {PY(1), ENTRY(20)};
    const uint64_t s2[] = {PY(2), ENTRY(8)};
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    tb_chunk(&b, 0, 0);
    python_records(&b.w);
    rs_rec_stack(&b.w, 1, 0, 0, s1, 2);
    rs_rec_stack(&b.w, 2, 0, 0, s2, 2);
    rs_rec_thread(&b.w, 700, RS_THREAD_MAIN, "python3");
    /* two marks: the later one in time counts, not the later one in the file */
    rs_rec_mark(&b.w, 35, RS_MARK_PROGRAM_END, "atexit");
    rs_rec_mark(&b.w, 5, RS_MARK_PROGRAM_END, "_exit");
    tb_chunk_end(&b, 0);
    tb_chunk(&b, 700, 0);
    rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, 10, 0x100, 100, 1);
    rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, 20, 0x200, 100, 1);
    rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, 30, 0x300, 10, 2);
    rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, 35, 0x400, 1, 0); /* at the mark's time: before it */
    rs_rec_free(&b.w, RS_FREE_PY, 40, 0x100);
    rs_rec_alloc(&b.w, RS_ALLOC_PY_OBJ, 50, 0x500, 1000, 0); /* teardown, no stack */
    rs_rec_free(&b.w, RS_FREE_PY, 60, 0x300);
    rs_rec_free(&b.w, RS_FREE_PY, 61, 0x400);
    tb_chunk_end(&b, 8);
    tb_chunk(&b, 0, 0);
    rs_rec_end_of_trace(&b.w, 8, 0, 0, 100, RS_END_EXIT);
    tb_chunk_end(&b, 0);
    char *path = write_trace(&b);

    struct rs_report_options opt = {.top = 10, .stack_depth = 16};
    struct rs_report r;
    struct rs_read_error err;
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), 0);
    CHECK(r.replay.has_program_end);
    CHECK_EQ_U64(r.replay.program_end_mark, 0);
    CHECK(r.program_end && r.program_end->time == 35);
    CHECK_EQ_U64(r.leaked.blocks, 4);
    CHECK_EQ_U64(r.leaked.bytes, 211);
    CHECK_EQ_U64(r.leaked.ntotals, 3);
    CHECK_EQ_U64(r.teardown_freed_blocks, 3);
    CHECK_EQ_U64(r.teardown_freed_bytes, 111);
    CHECK(r.end_of_trace.present);
    CHECK_EQ_U64(r.end_of_trace.blocks, 2);
    CHECK_EQ_U64(r.end_of_trace.bytes, 1100);
    CHECK_EQ_U64(r.replay.live_blocks, 2); /* the replay's end is the end of the trace */
    /* the stackless block made after the mark is teardown's */
    CHECK(r.end_of_trace.nlines >= 1 && r.end_of_trace.lines[0].kind == RS_LINE_NO_STACK &&
          (r.end_of_trace.lines[0].flags & RS_GROUP_AFTER_PROGRAM_END));
    CHECK(r.leaked.nlines >= 1);

    char *text = capture(&r, false);
    CHECK_CONTAINS(text, "leaked at exit: 4 blocks, 211 bytes, from 3 stacks: live when the "
                         "program finished (Python atexit, at 35 ns); 3 blocks (111 bytes) were "
                         "freed by interpreter teardown afterwards\n");
    CHECK_CONTAINS(text, "still live at end of trace: 2 blocks, 1,100 bytes, from 2 stacks\n");
    CHECK_CONTAINS(text, "Leaked at exit, by stack:\n#1   2 blocks, 200 bytes\n"
                         "     Cache.add (cache.py:12)\n");
    CHECK_CONTAINS(text, "Still live at end of trace (after teardown), by stack:\n"
                         "#1   1 block, 1,000 bytes (1.0 kB)\n"
                         "     (no stack: interpreter teardown)\n"
                         "#2   1 block, 100 bytes\n");
    CHECK_CONTAINS(text, "  35 ns      program_end  atexit\n");
    CHECK(ends_with_newline(text));
    free(text);
    char *json = capture(&r, true);
    CHECK_CONTAINS(json, "\"leaked_at_exit\": true");
    CHECK_CONTAINS(json, "\"program_end\": {\n    \"time_ns\": 35,\n    \"label\": \"atexit\"\n  }");
    CHECK_CONTAINS(json, "\"basis\": \"program_end\"");
    CHECK_CONTAINS(json, "\"freed_by_teardown\": {\n      \"blocks\": 3,\n      \"bytes\": 111\n");
    CHECK_CONTAINS(json, "\"live_at_end_of_trace\": {\n    \"time_ns\": 61,\n    \"blocks\": 2,\n"
                         "    \"bytes\": 1100,");
    CHECK_CONTAINS(json, "\"label\": \"no stack: interpreter teardown\"");
    free(json);
    rs_report_free(&r);
    unlink(path);
    free(path);
    tb_free(&b);

    /* A mark with no event after it: what is live at the end is live at the mark; an
     * incomplete trace with the mark still has its "at exit". */
    tb_init(&b);
    tb_default_header(&b);
    tb_chunk(&b, 0, 0);
    rs_rec_mark(&b.w, 1000, RS_MARK_PROGRAM_END, "_exit");
    tb_chunk_end(&b, 0);
    tb_chunk(&b, 701, 0);
    rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, 10, 0x100, 100, 0);
    rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, 20, 0x200, 100, 0);
    rs_rec_free(&b.w, RS_FREE_FREE, 30, 0x200);
    tb_chunk_end(&b, 3);
    path = write_trace(&b);
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), 0);
    CHECK_EQ_U64(r.status, RS_TRACE_INCOMPLETE);
    CHECK_EQ_U64(r.leaked.blocks, 1);
    CHECK_EQ_U64(r.teardown_freed_blocks, 0);
    CHECK_EQ_U64(r.end_of_trace.blocks, 1);
    text = capture(&r, false);
    CHECK_CONTAINS(text, "leaked at exit: 1 block, 100 bytes, from 1 stack: live when the "
                         "program finished (os._exit, at 1 us); 0 blocks (0 bytes) were freed");
    CHECK_CONTAINS(text, "     (no stack recorded)\n"); /* not a Python process */
    free(text);
    rs_report_free(&r);
    unlink(path);
    free(path);
    tb_free(&b);
}

/* ---- --thread --------------------------------------------------------------------------- */

static void thread_trace(struct tb *b)
{
    const uint64_t s1[] = {PY(1), ENTRY(20)};
    const uint64_t s2[] = {PY(2), ENTRY(8)};
    tb_init(b);
    tb_default_header(b);
    /* the first thread to appear is not the main one */
    tb_chunk(b, 103, 0);
    rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 5, 0x9000, 5, 2);
    tb_chunk_end(b, 1);
    tb_chunk(b, 0, 0);
    python_records(&b->w);
    rs_rec_stack(&b->w, 1, 0, 0, s1, 2);
    rs_rec_stack(&b->w, 2, 0, 0, s2, 2);
    rs_rec_thread(&b->w, 103, 0, "io-thread");
    rs_rec_thread(&b->w, 102, 0, "proc");
    rs_rec_thread(&b->w, 100, RS_THREAD_MAIN, "proc");
    rs_rec_thread(&b->w, 101, 0, "proc");
    rs_rec_thread(&b->w, 102, RS_THREAD_PYTHON_NAME, "worker_1");
    rs_rec_thread(&b->w, 101, RS_THREAD_PYTHON_NAME, "worker_0");
    rs_rec_thread(&b->w, 100, RS_THREAD_PYTHON_NAME, "MainThread");
    rs_rec_thread(&b->w, 101, RS_THREAD_EXITED, "proc"); /* exits later: keeps its Python name */
    rs_rec_thread(&b->w, 104, 0, "proc");
    rs_rec_thread(&b->w, 104, RS_THREAD_PYTHON_NAME, "worker_10");
    tb_chunk_end(b, 0);
    tb_chunk(b, 100, 0);
    rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 10, 0x1000, 1000, 1);
    tb_chunk_end(b, 1);
    tb_chunk(b, 101, 0);
    rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 11, 0x2000, 10, 1);
    rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 12, 0x2100, 10, 1);
    rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 13, 0x2200, 77, 1);
    rs_rec_free(&b->w, RS_FREE_FREE, 14, 0x2200);
    tb_chunk_end(b, 4);
    tb_chunk(b, 102, 0);
    for (int i = 0; i < 3; i++)
        rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 20 + i, 0x3000 + 0x100 * i, 20, 2);
    tb_chunk_end(b, 3);
    tb_chunk(b, 104, 0);
    rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 30, 0x4000, 1, 2);
    tb_chunk_end(b, 1);
    tb_chunk(b, 0, 0);
    rs_rec_end_of_trace(&b->w, 10, 0, 0, 100, RS_END_EXIT);
    tb_chunk_end(b, 0);
}

static void filtered(const char *path, const char *query, size_t ntids, uint64_t blocks,
                     uint64_t bytes)
{
    struct rs_report_options opt = {.top = 10, .stack_depth = 16, .thread = query};
    struct rs_report r;
    struct rs_read_error err;
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), 0);
    CHECK(r.filtered);
    CHECK_EQ_U64(r.ntids, ntids);
    CHECK_EQ_U64(r.nthreads, ntids);
    CHECK_EQ_U64(r.leaked.blocks, blocks);
    CHECK_EQ_U64(r.leaked.bytes, bytes);
    if (r.leaked.blocks != blocks)
        fprintf(stderr, "  (--thread %s)\n", query);
    rs_report_free(&r);
}

static void test_threads(void)
{
    struct tb b;
    thread_trace(&b);
    char *path = write_trace(&b);
    struct rs_report_options opt = {.top = 10, .stack_depth = 16};
    struct rs_report r;
    struct rs_read_error err;
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), 0);
    CHECK(!r.filtered);
    CHECK_EQ_U64(r.nthreads, 5);
    if (r.nthreads == 5) { /* main first, then by tid */
        CHECK_EQ_U64(r.threads[0]->tid, 100);
        CHECK_EQ_U64(r.threads[1]->tid, 101);
        CHECK_EQ_U64(r.threads[2]->tid, 102);
        CHECK_EQ_U64(r.threads[3]->tid, 103);
        CHECK(r.threads[1]->flags & RS_THREAD_EXITED);
    }
    CHECK_EQ_U64(r.leaked.blocks, 8);
    CHECK_EQ_U64(r.leaked.nthreads, 5);
    if (r.leaked.nthreads == 5) { /* largest first */
        CHECK_EQ_U64(r.leaked.threads[0].tid, 100);
        CHECK_EQ_U64(r.leaked.threads[1].tid, 102);
        CHECK_EQ_U64(r.leaked.threads[1].bytes, 60);
    }
    const struct rs_thread_activity *act = rs_replay_thread(&r.replay, 101);
    CHECK(act && act->allocs == 3 && act->frees == 1 && act->alloc_bytes == 97);
    char *text = capture(&r, false);
    CHECK_CONTAINS(text, "  100               1            1              1          1,000  "
                         "MainThread  [main]\n"
                         "  101               4            3              2             20  "
                         "worker_0  [exited]\n"
                         "  102               3            3              3             60  "
                         "worker_1\n"
                         "  103               1            1              1              5  "
                         "io-thread\n"
                         "  104               1            1              1              1  "
                         "worker_10\n");
    free(text);
    char *json = capture(&r, true);
    CHECK_CONTAINS(json, "\"tid\": 101,\n      \"name\": \"worker_0\",\n"
                         "      \"os_name\": \"proc\",\n      \"python_name\": \"worker_0\",");
    CHECK_CONTAINS(json, "\"allocations\": 3,\n      \"bytes_allocated\": 97,\n"
                         "      \"frees\": 1,\n      \"bytes_freed\": 77,\n"
                         "      \"leaked_blocks\": 2,\n      \"leaked_bytes\": 20,");
    CHECK_CONTAINS(json, "\"by_thread\": [\n      {\n        \"tid\": 100,\n"
                         "        \"name\": \"MainThread\",\n        \"blocks\": 1,");
    free(json);
    rs_report_free(&r);

    filtered(path, "worker", 3, 6, 81);     /* a prefix: worker_0, worker_1, worker_10 */
    filtered(path, "worker_1", 1, 3, 60);   /* a whole name wins over a prefix */
    filtered(path, "worker_", 3, 6, 81);
    filtered(path, "MainThread", 1, 1, 1000);
    filtered(path, "proc", 4, 7, 1081);     /* the OS name */
    filtered(path, "103", 1, 1, 5);         /* a tid */
    filtered(path, "io", 1, 1, 5);

    opt.thread = "worker";
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), 0);
    /* the process peaks when worker_0's three blocks are live (t 13), before worker_1's */
    CHECK_EQ_U64(r.at_peak.blocks, 3);
    CHECK_EQ_U64(r.at_peak.bytes, 97);
    CHECK_EQ_U64(r.leaked.nthreads, 3);
    CHECK_EQ_U64(r.leaked.ntotals, 2);
    text = capture(&r, false);
    CHECK_CONTAINS(text, "thread filter: only blocks allocated by worker_0 (tid 101), "
                         "worker_1 (tid 102), worker_10 (tid 104)\n");
    CHECK_CONTAINS(text, "leaked at exit: 6 blocks, 81 bytes, from 2 stacks\n");
    CHECK(!strstr(text, "MainThread"));
    CHECK(!strstr(text, "io-thread"));
    free(text);
    json = capture(&r, true);
    CHECK_CONTAINS(json, "\"thread_filter\": {\n    \"query\": \"worker\",\n    \"tids\": [\n"
                         "      101,\n      102,\n      104\n    ]\n  }");
    free(json);
    rs_report_free(&r);

    opt.thread = "nosuch";
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), RS_REPORT_NO_THREAD);
    CHECK_STR(err.message,
              "no thread in the trace matches 'nosuch' (a tid, a name or a name prefix)");
    opt.thread = "999";
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), RS_REPORT_NO_THREAD);
    unlink(path);
    free(path);
    tb_free(&b);
}

/* ---- blocks kept by the C runtime ------------------------------------------------------- */

static void test_runtime(void)
{
    uint64_t doalloc = libc_symbol("_IO_file_doallocate");
    uint64_t setloc = libc_symbol("setlocale");
    uint64_t lmalloc = libc_symbol("malloc");
    const uint64_t loader[] = {0x1500, RET(c_main, 1)};                  /* a thread DTV */
    const uint64_t stdio[] = {doalloc + 1, RET(c_main, 1)};
    const uint64_t locale[] = {lmalloc + 1, setloc + 1, RET(c_main, 1)};
    /* the program's own code called back from inside the loader and libc: its own */
    const uint64_t callback[] = {RET(c_alloc_site, 1), 0x1800, setloc + 1};
    const uint64_t plain[] = {RET(c_alloc_site, 1), RET(c_main, 1)};
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    tb_chunk(&b, 0, 0);
    module_map(&b.w);
    rs_rec_stack(&b.w, 1, 0, 0, loader, 2);
    rs_rec_stack(&b.w, 2, 0, 0, stdio, 2);
    rs_rec_stack(&b.w, 3, 0, 0, locale, 3);
    rs_rec_stack(&b.w, 4, 0, 0, callback, 3);
    rs_rec_stack(&b.w, 5, 0, 0, plain, 2);
    tb_chunk_end(&b, 0);
    tb_chunk(&b, 800, 0);
    rs_rec_alloc(&b.w, RS_ALLOC_CALLOC, 10, 0x100, 100, 1);
    rs_rec_alloc(&b.w, RS_ALLOC_CALLOC, 11, 0x200, 100, 1);
    rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, 12, 0x300, 4096, 2);
    rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, 13, 0x400, 50, 3);
    rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, 14, 0x500, 7, 4);
    for (int i = 0; i < 3; i++)
        rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, 15 + i, 0x600 + 0x10 * i, 10, 5);
    tb_chunk_end(&b, 8);
    tb_chunk(&b, 0, 0);
    rs_rec_end_of_trace(&b.w, 8, 0, 0, 100, RS_END_EXIT);
    tb_chunk_end(&b, 0);
    char *path = write_trace(&b);

    /* with the debug info this machine has, then with none: exported names suffice */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            setenv("REFSCOPE_DEBUGINFO_PATH", "/nonexistent", 1);
        struct rs_report_options opt = {.top = 10, .stack_depth = 16};
        struct rs_report r;
        struct rs_read_error err;
        CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), 0);
        const struct rs_report_section *s = &r.leaked;
        CHECK(s->runtime_split);
        CHECK_EQ_U64(s->blocks, 4);
        CHECK_EQ_U64(s->bytes, 37);
        CHECK_EQ_U64(s->ntotals, 2);
        CHECK_EQ_U64(s->runtime_blocks, 4);
        CHECK_EQ_U64(s->runtime_bytes, 4346);
        CHECK_EQ_U64(s->nruntime_totals, 3);
        CHECK(!r.at_peak.runtime_split && r.at_peak.blocks == 8);
        for (size_t i = 0; i < s->nruntime_stacks; i++) {
            const struct rs_report_stack *rs = &s->runtime_stacks[i];
            const char *why = rs->runtime_why ? rs->runtime_why : "";
            switch (rs->total->stack_id) {
            case 1: CHECK_STR(why, "allocated by the dynamic loader"); break;
            case 2: CHECK(strstr(why, "_IO_file_doallocate") != NULL); break;
            case 3: CHECK(strstr(why, "setlocale") != NULL); break;
            default: CHECK(!"a stack of the program's own counted as the runtime's");
            }
        }
        char *text = capture(&r, false);
        CHECK_CONTAINS(text, "leaked at exit: 4 blocks, 37 bytes, from 2 stacks\n"
                             "kept by the C runtime, not counted: 4 blocks, 4,346 bytes\n");
        CHECK_CONTAINS(text, "Kept by the C runtime (not counted), by stack:\n"
                             "#1   1 block, 4,096 bytes (4.1 kB)  [_IO_file_doallocate");
        CHECK_CONTAINS(text, "#2   2 blocks, 200 bytes  [allocated by the dynamic loader]\n"
                             "     ld-linux-x86-64.so.2+0x500\n");
        free(text);
        char *json = capture(&r, true);
        CHECK_CONTAINS(json, "\"runtime\": {\n      \"blocks\": 4,\n      \"bytes\": 4346,\n"
                             "      \"stacks\": 3,");
        CHECK_CONTAINS(json, "\"runtime_reason\": \"allocated by the dynamic loader\"");
        CHECK_CONTAINS(json, "\"runtime\": null"); /* live_at_peak */
        free(json);
        rs_report_free(&r);
    }
    unsetenv("REFSCOPE_DEBUGINFO_PATH");
    CHECK(rs_runtime_is_loader("ld-linux-x86-64.so.2"));
    CHECK(rs_runtime_is_loader("ld-linux-aarch64.so.1"));
    CHECK(rs_runtime_is_loader("ld64.so.2"));
    CHECK(!rs_runtime_is_loader("libld-helper.so"));
    CHECK(!rs_runtime_is_loader("ld-notes.txt"));
    unlink(path);
    free(path);
    tb_free(&b);
}

int main(void)
{
    int n = 0;
    dl_iterate_phdr(find_modules, &n);
    CHECK(self_mod.nsegs > 0 && libc_mod.nsegs > 0);
    test_python_frames();
    test_views();
    test_inline();
    test_program_end();
    test_threads();
    test_runtime();
    return test_result("python");
}
