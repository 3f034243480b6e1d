#include "symbolize.h"

#include "python_frames.h"
#include "rs_uthash.h"

#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A file mapped at one load bias; the same library in several module maps is one. */
struct sym_module {
    const struct rs_trace_module *tm;
    char *key;               /* "<bias>:<path>" */
    const char *basename;
    Dwfl_Module *dw;
    bool loaded;             /* loading was tried */
    UT_hash_handle hh;
};

struct range {
    uint64_t lo, hi;         /* [lo, hi) at run time */
    struct sym_module *mod;
};

struct generation {
    struct range *ranges;    /* sorted by lo */
    size_t n;
};

struct cached_frame {
    uint64_t key;
    struct rs_frame frame;
    UT_hash_handle hh;
};

struct py_key {
    uint64_t code, offset;
};

struct cached_py_frame {
    struct py_key key;
    struct rs_frame frame;
    UT_hash_handle hh;
};

struct rs_symbolizer {
    const struct rs_trace *trace;
    struct rs_notes *notes;
    Dwfl *dwfl;
    char *debuginfo_path;
    Dwfl_Callbacks callbacks;
    struct sym_module *modules;
    struct generation *gens; /* module maps as address ranges, newest first */
    size_t ngens;
    struct cached_frame *innermost; /* by address: looked up as is */
    struct cached_frame *outer;     /* by address: a return address, looked up at -1 */
    struct cached_py_frame *python;
};

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static uint64_t end_of(uint64_t a, uint64_t len)
{
    return a + len < a ? UINT64_MAX : a + len;
}

static struct sym_module *module_for(struct rs_symbolizer *s, const struct rs_trace_module *tm)
{
    char *key = NULL;
    if (asprintf(&key, "%llx:%s", (unsigned long long)tm->load_bias, tm->path.s) < 0)
        return NULL;
    struct sym_module *m = NULL;
    HASH_FIND_STR(s->modules, key, m);
    if (m) {
        free(key);
        return m;
    }
    m = calloc(1, sizeof *m);
    if (!m) {
        free(key);
        return NULL;
    }
    m->tm = tm;
    m->key = key;
    m->basename = base_name(tm->path.s);
    HASH_ADD_KEYPTR(hh, s->modules, m->key, strlen(m->key), m);
    return m;
}

static int by_lo(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool build_generation(struct rs_symbolizer *s, const struct rs_trace_module_map *map,
                             struct generation *g)
{
    size_t cap = 0;
    for (size_t j = 0; j < map->nmodules; j++) {
        const struct rs_trace_module *tm = &map->modules[j];
        struct sym_module *m = module_for(s, tm);
        if (!m)
            return false;
        for (uint32_t k = 0; k < tm->nsegs; k++) {
            const struct rs_trace_segment *seg = &tm->segs[k];
            if (seg->memsz == 0)
                continue;
            if (!rs_grow((void **)&g->ranges, &cap, g->n, sizeof *g->ranges))
                return false;
            uint64_t lo = tm->load_bias + seg->vaddr;
            g->ranges[g->n++] = (struct range){lo, end_of(lo, seg->memsz), m};
        }
    }
    qsort(g->ranges, g->n, sizeof *g->ranges, by_lo);
    return true;
}

/* Stacks carry no module map generation, so an address is looked up in the newest map that
 * covers it: generations are kept newest first. */
static bool build_ranges(struct rs_symbolizer *s)
{
    const struct rs_trace *t = s->trace;
    size_t n = HASH_CNT(hh, t->module_maps);
    if (!n)
        return true;
    s->gens = calloc(n, sizeof *s->gens);
    if (!s->gens)
        return false;
    s->ngens = n;
    size_t i = n;
    for (const struct rs_trace_module_map *m = t->module_maps; m && i > 0; m = m->hh.next) {
        if (!build_generation(s, m, &s->gens[--i]))
            return false;
    }
    return true;
}

static struct sym_module *module_at(const struct rs_symbolizer *s, uint64_t addr)
{
    for (size_t i = 0; i < s->ngens; i++) {
        const struct generation *g = &s->gens[i];
        size_t lo = 0, hi = g->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (addr < g->ranges[mid].lo)
                hi = mid;
            else if (addr >= g->ranges[mid].hi)
                lo = mid + 1;
            else
                return g->ranges[mid].mod;
        }
    }
    return NULL;
}

static void check_build_id(struct rs_symbolizer *s, struct sym_module *m)
{
    const struct rs_trace_module *tm = m->tm;
    const unsigned char *bits = NULL;
    GElf_Addr vaddr;
    if (tm->build_id_len == 0)
        return;
    int n = dwfl_module_build_id(m->dw, &bits, &vaddr);
    if (n <= 0) {
        rs_notes_add(s->notes, RS_NOTE_WARNING,
                     "%s has no build-id on disk but had one when traced: its symbols may be "
                     "wrong", tm->path.s);
    } else if ((size_t)n != tm->build_id_len || memcmp(bits, tm->build_id, (size_t)n) != 0) {
        rs_notes_add(s->notes, RS_NOTE_WARNING,
                     "%s on disk is not the build that was traced (build-id differs): its "
                     "symbols may be wrong", tm->path.s);
    }
}

/* Modules are loaded when a frame first needs them: a process maps many libraries and
 * stacks touch few. */
static void load_module(struct rs_symbolizer *s, struct sym_module *m)
{
    m->loaded = true;
    const char *path = m->tm->path.s;
    if (path[0] != '/' || strlen(path) != m->tm->path.len)
        return; /* [vdso] and the like: no file to read */
    if (access(path, R_OK) != 0) {
        rs_notes_add(s->notes, RS_NOTE_WARNING,
                     "%s: not found on this machine; its frames show as module+offset", path);
        return;
    }
    dwfl_report_begin_add(s->dwfl);
    m->dw = dwfl_report_elf(s->dwfl, m->basename, path, -1, m->tm->load_bias, false);
    if (dwfl_report_end(s->dwfl, NULL, NULL) != 0)
        m->dw = NULL;
    if (!m->dw) {
        rs_notes_add(s->notes, RS_NOTE_WARNING, "%s: cannot read symbols (%s)", path,
                     dwfl_errmsg(-1));
        return;
    }
    check_build_id(s, m);
}

static bool symbolize_native(struct rs_symbolizer *s, uint64_t addr, bool return_address,
                             struct rs_frame *f)
{
    /* A return address points after the call; the call itself is one byte before. */
    uint64_t at = return_address && addr > 0 ? addr - 1 : addr;
    f->address = addr;
    struct sym_module *m = module_at(s, at);
    if (!m)
        return true;
    f->module = m->basename;
    f->module_path = m->tm->path.s;
    f->module_offset = addr - m->tm->load_bias;
    if (!m->loaded)
        load_module(s, m);
    if (!m->dw)
        return true;
    const char *name = dwfl_module_addrname(m->dw, at);
    if (name && !(f->function = strdup(name)))
        return false;
    Dwfl_Line *line = dwfl_module_getsrc(m->dw, at);
    if (line) {
        int lineno = 0;
        const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
        if (file && !(f->file = strdup(file)))
            return false;
        f->line = lineno;
    }
    return true;
}

static const struct rs_frame *native_frame(struct rs_symbolizer *s, uint64_t addr,
                                           bool return_address)
{
    struct cached_frame **cache = return_address ? &s->outer : &s->innermost;
    struct cached_frame *c = NULL;
    HASH_FIND(hh, *cache, &addr, sizeof addr, c);
    if (c)
        return &c->frame;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->key = addr;
    if (!symbolize_native(s, addr, return_address, &c->frame)) {
        free(c->frame.function);
        free(c->frame.file);
        free(c);
        return NULL;
    }
    HASH_ADD(hh, *cache, key, sizeof c->key, c);
    return &c->frame;
}

static const struct rs_frame *python_frame(struct rs_symbolizer *s, uint64_t code,
                                           uint64_t offset)
{
    struct py_key key = {code, offset};
    struct cached_py_frame *c = NULL;
    HASH_FIND(hh, s->python, &key, sizeof key, c);
    if (c)
        return &c->frame;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->key = key;
    if (!rs_python_frame_resolve(s->trace, code, offset, &c->frame)) {
        free(c->frame.function);
        free(c->frame.file);
        free(c);
        return NULL;
    }
    HASH_ADD(hh, s->python, key, sizeof c->key, c);
    return &c->frame;
}

struct rs_symbolizer *rs_symbolizer_new(const struct rs_trace *t, struct rs_notes *notes)
{
    struct rs_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->trace = t;
    s->notes = notes;
    s->callbacks.find_elf = dwfl_build_id_find_elf;
    s->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
    s->callbacks.section_address = dwfl_offline_section_address;
    s->callbacks.debuginfo_path = &s->debuginfo_path; /* NULL: the standard places */
    s->dwfl = dwfl_begin(&s->callbacks);
    if (!s->dwfl || !build_ranges(s)) {
        rs_symbolizer_free(s);
        return NULL;
    }
    return s;
}

static void free_frame(struct rs_frame *f)
{
    free(f->function);
    free(f->file);
}

void rs_symbolizer_free(struct rs_symbolizer *s)
{
    if (!s)
        return;
    struct cached_frame *c, *ct;
    HASH_ITER(hh, s->innermost, c, ct) {
        HASH_DEL(s->innermost, c);
        free_frame(&c->frame);
        free(c);
    }
    HASH_ITER(hh, s->outer, c, ct) {
        HASH_DEL(s->outer, c);
        free_frame(&c->frame);
        free(c);
    }
    struct cached_py_frame *p, *pt;
    HASH_ITER(hh, s->python, p, pt) {
        HASH_DEL(s->python, p);
        free_frame(&p->frame);
        free(p);
    }
    struct sym_module *m, *mt;
    HASH_ITER(hh, s->modules, m, mt) {
        HASH_DEL(s->modules, m);
        free(m->key);
        free(m);
    }
    for (size_t i = 0; i < s->ngens; i++)
        free(s->gens[i].ranges);
    free(s->gens);
    if (s->dwfl)
        dwfl_end(s->dwfl);
    free(s);
}

/* ---- which frames to show ------------------------------------------------------------ */

static bool is_refscope_frame(const struct rs_frame *f)
{
    return f->module && strncmp(f->module, "librefscope", 11) == 0;
}

static bool is_libc(const char *module)
{
    return module && (strncmp(module, "libc.so", 7) == 0 || strncmp(module, "libc-", 5) == 0);
}

static bool is_allocator_function(const char *fn)
{
    static const char *const names[] = {
        "malloc", "calloc", "realloc", "reallocarray", "free", "cfree", "posix_memalign",
        "aligned_alloc", "memalign", "valloc", "pvalloc", "mmap", "mmap64", "mremap",
        "munmap", "sysmalloc", "sysmalloc_mmap", "_mid_memalign",
    };
    static const char *const prefixes[] = {"__libc_", "_int_", "tcache", "__mmap", "__mremap",
                                           "__munmap", "__GI_"};
    if (!fn)
        return false;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (strcmp(fn, names[i]) == 0)
            return true;
    }
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        if (strncmp(fn, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    }
    return false;
}

int rs_symbolize_stack(struct rs_symbolizer *s, const uint64_t *words, uint32_t nwords,
                       unsigned max_depth, struct rs_frames *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = nwords ? nwords : 1;
    out->v = calloc(cap, sizeof *out->v);
    if (!out->v)
        return -1;
    bool on_top = true; /* no frame of the program's own shown yet */
    size_t shown = 0;
    for (uint32_t i = 0; i < nwords;) {
        const struct rs_frame *f;
        if (words[i] & RS_STACKWORD_PY) {
            uint64_t code = words[i] & ~RS_STACKWORD_PY;
            uint64_t offset = i + 1 < nwords ? words[i + 1] & ~RS_PYOFFSET_ENTRY : 0;
            f = python_frame(s, code, offset);
            i += 2;
        } else {
            f = native_frame(s, words[i], i > 0);
            i += 1;
        }
        if (!f) {
            rs_frames_free(out);
            return -1;
        }
        if (is_refscope_frame(f))
            continue;
        if (on_top && !f->python && is_libc(f->module) && is_allocator_function(f->function))
            continue;
        on_top = false;
        if (max_depth && shown >= max_depth) {
            out->omitted++;
            continue;
        }
        out->v[out->n++] = f;
        shown++;
    }
    return 0;
}

void rs_frames_free(struct rs_frames *f)
{
    free(f->v);
    f->v = NULL;
    f->n = f->omitted = 0;
}
