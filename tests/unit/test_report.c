/* The report end to end: a trace whose module map describes this very test program (and
 * the libc it runs with), so symbolization with libdwfl can be checked against functions
 * known here; then the text and JSON outputs. */
#include "test_util.h"
#include "trace_builder.h"
#include "report.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <unistd.h>

TEST_GLOBALS;

/* Functions whose addresses go into the stacks. noinline + used keeps them real. */
__attribute__((noinline, used)) void leaky_function(void)
{
    __asm__ volatile("");
}

__attribute__((noinline, used)) void calling_function(void)
{
    leaky_function();
}

struct module_info {
    char path[4096];
    uint64_t bias;
    struct rs_module_segment segs[16];
    uint32_t nsegs;
    uint8_t build_id[64];
    size_t build_id_len;
};

struct find_ctx {
    struct module_info self, libc;
    int n;
};

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
    struct find_ctx *c = arg;
    if (c->n++ == 0) {
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        self[n > 0 ? n : 0] = '\0';
        fill(info, &c->self, self);
    } else if (info->dlpi_name && strstr(info->dlpi_name, "/libc.so.6")) {
        fill(info, &c->libc, info->dlpi_name);
    }
    return 0;
}

static void put_module(struct rs_chunk_writer *w, const struct module_info *m, bool wrong_id)
{
    uint8_t id[64];
    memcpy(id, m->build_id, m->build_id_len);
    if (wrong_id && m->build_id_len)
        id[0] ^= 0xff;
    rs_rec_module(w, m->path, m->bias, m->segs, m->nsegs, id, m->build_id_len);
}

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

static void build(struct tb *b, const struct find_ctx *mods, bool wrong_libc_id)
{
    uint64_t shim = 0x1500; /* inside the fake librefscope.so mapped at 0x1000 */
    uint64_t libc_malloc = 0;
    void *h = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    if (h) {
        libc_malloc = (uint64_t)(uintptr_t)dlsym(h, "malloc");
        dlclose(h);
    }
    CHECK(libc_malloc != 0);
    const uint64_t leak_stack[] = {shim, libc_malloc + 1, (uint64_t)(uintptr_t)leaky_function + 1,
                                   (uint64_t)(uintptr_t)calling_function + 1};
    const uint64_t odd_stack[] = {0x42, RS_STACKWORD_PY | 5, RS_PYOFFSET_ENTRY | 12};

    tb_default_header(b);
    tb_chunk(b, 0, 0);
    rs_rec_stack(&b->w, 1, 0, 0, leak_stack, 4);
    rs_rec_stack(&b->w, 2, 0, 0, odd_stack, 3);
    rs_rec_thread(&b->w, 4242, RS_THREAD_MAIN, "ma\x1bin");
    rs_rec_modules_begin(&b->w, 1);
    put_module(&b->w, &mods->self, false);
    put_module(&b->w, &mods->libc, wrong_libc_id);
    const struct rs_module_segment fake_seg = {0, 0x1000, 5};
    rs_rec_module(&b->w, "/nonexistent/librefscope.so", 0x1000, &fake_seg, 1, NULL, 0);
    rs_rec_modules_end(&b->w, 1);
    rs_rec_note(&b->w, 1, "a note from the shim");
    tb_chunk_end(b, 0);

    tb_chunk(b, 4242, 1000);
    rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 1000, 0x10, 100, 1);
    rs_rec_alloc(&b->w, RS_ALLOC_MALLOC, 2000, 0x20, 100, 1);
    rs_rec_alloc(&b->w, RS_ALLOC_CALLOC, 3000, 0x30, 50, 2);
    rs_rec_alloc(&b->w, RS_ALLOC_CALLOC, 3500, 0x40, 7, 9); /* stack 9 is not in the trace */
    rs_rec_free(&b->w, RS_FREE_FREE, 4000, 0x30);
    rs_rec_free(&b->w, RS_FREE_FREE, 5000, 0x999);
    tb_chunk_end(b, 6);

    tb_chunk(b, 0, 0);
    rs_rec_counters(&b->w, 4242, 6, 2, 0, 1500000);
    rs_rec_end_of_trace(&b->w, 6, 0, 2, 80000000, RS_END_EXIT);
    tb_chunk_end(b, 0);
}

/* The suspects' symbolizer has notes of its own, put in front of the report's when its
 * thread is joined; a note both symbolizers made is said once. */
static void test_notes_merge(void)
{
    struct rs_notes report = {0}, suspects = {0};
    rs_notes_add(&report, RS_NOTE_WARNING, "%s: not found on this machine", "/lib/a.so");
    rs_notes_add(&report, RS_NOTE_INFO, "report only");
    rs_notes_add(&suspects, RS_NOTE_WARNING, "%s: not found on this machine", "/lib/a.so");
    rs_notes_add(&suspects, RS_NOTE_WARNING, "suspects only");
    rs_notes_merge_front(&report, &suspects);
    CHECK_EQ_U64(report.n, 3);
    CHECK_EQ_U64(suspects.n, 0);
    if (report.n == 3) {
        CHECK_STR(report.items[0].text, "/lib/a.so: not found on this machine");
        CHECK_STR(report.items[1].text, "suspects only");
        CHECK_STR(report.items[2].text, "report only");
        CHECK_EQ_U64(report.items[2].level, RS_NOTE_INFO);
    }
    rs_notes_add(&report, RS_NOTE_INFO, "added after");
    CHECK_EQ_U64(report.n, 4);
    rs_notes_merge_front(&report, &suspects); /* nothing to move */
    CHECK_EQ_U64(report.n, 4);
    rs_notes_free(&report);
    rs_notes_free(&suspects);
}

int main(void)
{
    test_notes_merge();
    struct find_ctx mods = {0};
    dl_iterate_phdr(find_modules, &mods);
    CHECK(mods.self.nsegs > 0 && mods.libc.nsegs > 0);

    struct tb b;
    tb_init(&b);
    build(&b, &mods, true);
    char *path = tb_write_temp(b.buf.data, b.buf.len);
    CHECK(path != NULL);
    if (!path)
        return test_result("report");

    struct rs_report_options opt = {.top = 10, .stack_depth = 16};
    struct rs_report r;
    struct rs_read_error err;
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), 0);
    CHECK_EQ_U64(r.status, RS_TRACE_COMPLETE);
    CHECK_EQ_U64(r.leaked.nstacks, 2); /* stacks 1 and 9; stack 2's block was freed */
    CHECK_EQ_U64(r.at_peak.nstacks, 3);
    CHECK_EQ_U64(r.waits, 2);
    CHECK_EQ_U64(r.wait_ns, 1500000);
    CHECK(r.counts_exact);

    /* The leak stack, symbolized: shim and allocator frames gone, the rest named. */
    const struct rs_report_stack *top = &r.leaked.stacks[0];
    CHECK_EQ_U64(top->total->stack_id, 1);
    CHECK_EQ_U64(top->total->blocks, 2);
    CHECK_EQ_U64(top->frames.n, 2);
    if (top->frames.n == 2) {
        CHECK_STR(top->frames.v[0]->function, "leaky_function");
        CHECK_STR(top->frames.v[1]->function, "calling_function");
        CHECK(top->frames.v[0]->file && strstr(top->frames.v[0]->file, "test_report.c"));
        CHECK(top->frames.v[0]->line > 0);
        CHECK(top->frames.v[0]->module && strstr(mods.self.path, top->frames.v[0]->module));
    }

    char *text = capture(&r, false);
    CHECK_CONTAINS(text, "refscope report: ");
    CHECK_CONTAINS(text, "program: /usr/bin/prog (pid 4242, parent 4241), ran 0.08 s\n");
    CHECK_CONTAINS(text, "command: prog -x\n");
    CHECK_CONTAINS(text, "trace: complete\n");
    CHECK_CONTAINS(text, "events: 4 allocations (257 bytes), 2 frees; 0 lost\n");
    CHECK_CONTAINS(text, "1 free of blocks never seen allocated");
    CHECK_CONTAINS(text, "threads waited 2 times for refscope's full buffer, 1.5 ms in total");
    CHECK_CONTAINS(text, "peak: 257 bytes live in 4 blocks at 3.5 us");
    CHECK_CONTAINS(text, "leaked at exit: 3 blocks, 207 bytes, from 2 stacks\n");
    CHECK_CONTAINS(text, "Leaked at exit, by stack:\n#1   2 blocks, 200 bytes\n"
                         "     leaky_function (test_report.c:");
    CHECK_CONTAINS(text, "     calling_function (test_report.c:");
    CHECK_CONTAINS(text, "(stack #9 is not in the trace)");
    CHECK_CONTAINS(text, "Live at peak, by stack:\n#1   2 blocks, 200 bytes\n");
    /* Python frames only by default; the code id is not described by the trace */
    CHECK_CONTAINS(text, "#2   1 block, 50 bytes\n     <python code #5>\n#3 ");
    CHECK_CONTAINS(text, "ma\\x1Bin  [main]");
    CHECK_CONTAINS(text, "warning (from the trace): a note from the shim");
    CHECK_CONTAINS(text, "/nonexistent/librefscope.so: not found on this machine");
    CHECK_CONTAINS(text, "build-id differs");
    CHECK(!strstr(text, "malloc"));
    CHECK(!strstr(text, "\x1b"));
    free(text);

    char *json = capture(&r, true);
    CHECK_CONTAINS(json, "\"schema\": \"refscope.report/1\"");
    CHECK_CONTAINS(json, "\"status\": \"complete\"");
    CHECK_CONTAINS(json, "\"end_reason\": \"exit\"");
    CHECK_CONTAINS(json, "\"argv\": [\n      \"prog\",\n      \"-x\"\n    ]");
    CHECK_CONTAINS(json, "\"allocations\": 4,");
    CHECK_CONTAINS(json, "\"frees_unknown\": 1,");
    CHECK_CONTAINS(json, "\"function\": \"leaky_function\"");
    CHECK_CONTAINS(json, "\"name\": \"ma\\u001bin\"");
    CHECK_CONTAINS(json, "\"function\": \"<python code #5>\"");
    CHECK_CONTAINS(json, "\"python\": {\n");
    CHECK_CONTAINS(json, "\"code\": 5,\n");
    CHECK_CONTAINS(json, "\"offset\": 12,\n");
    CHECK_CONTAINS(json, "\"view\": \"python\"");
    CHECK_CONTAINS(json, "\"source\": \"analyzer\"");
    CHECK_CONTAINS(json, "\"leaked_at_exit\": true");
    free(json);
    rs_report_free(&r);

    /* --top and --stack-depth cut what is shown, not the totals. */
    opt.top = 1;
    opt.stack_depth = 1;
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), 0);
    CHECK_EQ_U64(r.leaked.nstacks, 1);
    CHECK_EQ_U64(r.replay.nleaks, 2);
    CHECK_EQ_U64(r.leaked.stacks[0].frames.n, 1);
    CHECK_EQ_U64(r.leaked.stacks[0].frames.omitted, 1);
    text = capture(&r, false);
    CHECK_CONTAINS(text, "Leaked at exit, by stack (top 1 of 2):");
    CHECK_CONTAINS(text, "     ... 1 more frame\n");
    free(text);
    rs_report_free(&r);
    unlink(path);
    free(path);

    /* The right build-id: no warning about it. Cut short: said so. */
    tb_free(&b);
    tb_init(&b);
    build(&b, &mods, false);
    path = tb_write_temp(b.buf.data, b.chunk_start[2] + 10);
    opt.top = 10;
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), 0);
    text = capture(&r, false);
    CHECK(!strstr(text, "build-id differs"));
    char want[128];
    snprintf(want, sizeof want, "trace: PARTIAL — cut short at byte %zu, last complete chunk kept",
             b.chunk_start[2]);
    CHECK_CONTAINS(text, want);
    CHECK_CONTAINS(text, "; 0 lost (counts cover only what reached the file)\n");
    CHECK_CONTAINS(text, "live at end of trace: 3 blocks");
    free(text);
    json = capture(&r, true);
    CHECK_CONTAINS(json, "\"status\": \"partial\"");
    CHECK_CONTAINS(json, "\"leaked_at_exit\": false");
    free(json);
    rs_report_free(&r);
    unlink(path);
    free(path);

    /* Stacks name no module map: the newest map covering an address wins. */
    opt.stack_depth = 16;
    tb_free(&b);
    tb_init(&b);
    tb_default_header(&b);
    tb_chunk(&b, 0, 0);
    const struct rs_module_segment seg = {0x1000, 0x1000, 5};
    const uint64_t words[] = {0x401800, 0x402800};
    rs_rec_stack(&b.w, 1, 0, 0, words, 2);
    rs_rec_modules_begin(&b.w, 1);
    rs_rec_module(&b.w, "/gone/old.so", 0x400000, &seg, 1, NULL, 0);
    rs_rec_module(&b.w, "/gone/other.so", 0x401000, &seg, 1, NULL, 0);
    rs_rec_modules_end(&b.w, 1);
    rs_rec_modules_begin(&b.w, 2);
    rs_rec_module(&b.w, "/gone/new.so", 0x400000, &seg, 1, NULL, 0);
    rs_rec_modules_end(&b.w, 2);
    tb_chunk_end(&b, 0);
    tb_chunk(&b, 9, 0);
    rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, 1, 0x10, 8, 1);
    tb_chunk_end(&b, 1);
    path = tb_write_temp(b.buf.data, b.buf.len);
    CHECK_EQ_U64(rs_report_build(&r, path, &opt, &err), 0);
    CHECK_EQ_U64(r.status, RS_TRACE_INCOMPLETE);
    CHECK(r.leaked.nstacks == 1 && r.leaked.stacks[0].frames.n == 2);
    if (r.leaked.nstacks == 1 && r.leaked.stacks[0].frames.n == 2) {
        CHECK_STR(r.leaked.stacks[0].frames.v[0]->module, "new.so");
        CHECK_EQ_U64(r.leaked.stacks[0].frames.v[0]->module_offset, 0x1800);
        CHECK_STR(r.leaked.stacks[0].frames.v[1]->module, "other.so"); /* only the old map has it */
    }
    text = capture(&r, false);
    CHECK_CONTAINS(text, "     new.so+0x1800\n     other.so+0x1800\n");
    CHECK_CONTAINS(text, "trace: INCOMPLETE — no end record");
    free(text);
    rs_report_free(&r);
    unlink(path);
    free(path);

    /* Errors come back as one line naming the file. */
    CHECK_EQ_U64(rs_report_build(&r, "/nonexistent/x.rsc", &opt, &err), 1);
    CHECK_STR(err.message, "/nonexistent/x.rsc: No such file or directory");

    tb_free(&b);
    return test_result("report");
}
