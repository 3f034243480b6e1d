#include "symbolize.h"

#include "demangle.h"

#include "out_file.h"

#include "python_frames.h"
#include "rs_uthash.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
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

/* One native stack word, symbolized: the function containing the address and, when the
 * debug info says code of other functions was inlined there, those too. */
struct cached_word {
    uint64_t key;
    struct rs_frame *frames; /* innermost (inlined) first; the last is the real function */
    size_t n;                /* at least 1 */
    bool eval;               /* CPython's eval loop (_PyEval_EvalFrameDefault) */
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
    struct cached_word *words;      /* by stack word (a return address, looked up at -1) */
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
    if (g->n > 1) /* a map without mapped segments has no ranges (NULL) */
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
    /* The path comes from the trace: it may name a FIFO (opening it would wait for a
     * writer forever), a device or a directory. Only a regular file is read, through the
     * descriptor that was checked. */
    int fd = rs_open_regular(path);
    if (fd < 0) {
        rs_notes_add(s->notes, RS_NOTE_WARNING,
                     errno == EINVAL ? "%s: not a regular file; its frames show as module+offset"
                                     : "%s: not found on this machine; its frames show as "
                                       "module+offset",
                     path);
        return;
    }
    dwfl_report_begin_add(s->dwfl);
    m->dw = dwfl_report_elf(s->dwfl, m->basename, path, fd, m->tm->load_bias, false);
    if (!m->dw)
        rs_close_if_open(fd); /* libdwfl takes the descriptor only on success */
    if (dwfl_report_end(s->dwfl, NULL, NULL) != 0)
        m->dw = NULL;
    if (!m->dw) {
        rs_notes_add(s->notes, RS_NOTE_WARNING, "%s: cannot read symbols (%s)", path,
                     dwfl_errmsg(-1));
        return;
    }
    check_build_id(s, m);
}

static void free_frame(struct rs_frame *f)
{
    free(f->function);
    free(f->file);
}

static void free_word(struct cached_word *w)
{
    for (size_t i = 0; i < w->n; i++)
        free_frame(&w->frames[i]);
    free(w->frames);
    free(w);
}

/* The name of a subprogram or inlined subroutine DIE: the linkage name when there is one
 * (as the ELF symbols are, not demangled), else its name; both found through
 * DW_AT_abstract_origin / DW_AT_specification. */
static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
    if (!name)
        name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
    if (!name)
        name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
    return name;
}

/* Where an inlined subroutine was called from: its DW_AT_call_file (an index into the line
 * table's files of its CU) and DW_AT_call_line. */
static void call_site(Dwarf_Die *cudie, Dwarf_Die *inl, const char **file, int *line)
{
    Dwarf_Attribute attr;
    Dwarf_Word idx, ln;
    *file = NULL;
    *line = 0;
    if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr), &idx) == 0) {
        Dwarf_Files *files;
        size_t nfiles;
        if (dwarf_getsrcfiles(cudie, &files, &nfiles) == 0 && idx < nfiles)
            *file = dwarf_filesrc(files, idx, NULL, NULL);
    }
    if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &attr), &ln) == 0 && ln <= INT32_MAX)
        *line = (int)ln;
}

/* Appends a frame to w (capacity `*cap`) with copies of the strings. */
static bool push_frame(struct cached_word *w, size_t *cap, const struct rs_frame *proto,
                       const char *function, const char *file, int line, bool inlined)
{
    if (!rs_grow((void **)&w->frames, cap, w->n, sizeof *w->frames))
        return false;
    struct rs_frame *f = &w->frames[w->n];
    *f = *proto;
    f->function = NULL;
    f->file = NULL;
    f->line = line;
    f->inlined = inlined;
    if (function)
        f->function = rs_demangle(function);
    if ((function && !f->function && !(f->function = strdup(function))) ||
        (file && !(f->file = strdup(file)))) {
        free_frame(f);
        return false;
    }
    w->n++;
    return true;
}

/* The frames of the call at `at`: the inlined subroutines that contain it, innermost
 * first, then the function (named by its ELF symbol, as the frames without debug info
 * are). Each frame's line is where it was when the next inner one was running: the line
 * table's for the innermost, the DW_AT_call_line of the inlined one inside for the rest. */
static bool expand_inline(struct cached_word *w, size_t *cap, Dwfl_Module *dw, uint64_t at,
                          const struct rs_frame *proto, const char *symbol)
{
    const char *file = NULL;
    int line = 0;
    Dwfl_Line *dl = dwfl_module_getsrc(dw, at);
    if (dl) {
        const char *f = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
        if (f)
            file = f;
    }
    Dwarf_Addr bias = 0;
    Dwarf_Die *cudie = dwfl_module_addrdie(dw, at, &bias);
    Dwarf_Die *scopes = NULL;
    int nscopes = cudie ? dwarf_getscopes(cudie, at - bias, &scopes) : 0;
    bool ok = true, done = false;
    for (int i = 0; i < nscopes && ok && !done; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_inlined_subroutine) {
            ok = push_frame(w, cap, proto, die_name(&scopes[i]), file, line, true);
            call_site(cudie, &scopes[i], &file, &line);
        } else if (tag == DW_TAG_subprogram) {
            const char *name = symbol ? symbol : die_name(&scopes[i]);
            ok = push_frame(w, cap, proto, name, file, line, false);
            done = true;
        }
    }
    free(scopes);
    if (ok && !done) /* no debug info, or no function DIE around the address */
        ok = push_frame(w, cap, proto, symbol, file, line, false);
    return ok;
}

static bool is_eval_loop(const char *symbol)
{
    static const char eval[] = "_PyEval_EvalFrameDefault";
    return symbol && strncmp(symbol, eval, sizeof eval - 1) == 0 &&
           (symbol[sizeof eval - 1] == '\0' || symbol[sizeof eval - 1] == '.' ||
            symbol[sizeof eval - 1] == '@');
}

/* Every native word is a return address: the shim's unwinding starts in its own hook
 * and drops those frames, so even the innermost word recorded is where a call (to the
 * allocator) returns. The call itself is one byte before. */
static bool symbolize_word(struct rs_symbolizer *s, uint64_t addr, struct cached_word *w)
{
    uint64_t at = addr > 0 ? addr - 1 : addr;
    struct rs_frame proto = {.address = addr};
    size_t cap = 0;
    struct sym_module *m = module_at(s, at);
    if (m) {
        proto.module = m->basename;
        proto.module_path = m->tm->path.s;
        proto.module_offset = addr - m->tm->load_bias;
        if (!m->loaded)
            load_module(s, m);
    }
    if (!m || !m->dw)
        return push_frame(w, &cap, &proto, NULL, NULL, 0, false);
    const char *symbol = dwfl_module_addrname(m->dw, at);
    w->eval = is_eval_loop(symbol);
    return expand_inline(w, &cap, m->dw, at, &proto, symbol);
}

static const struct cached_word *native_word(struct rs_symbolizer *s, uint64_t addr)
{
    struct cached_word *c = NULL;
    HASH_FIND(hh, s->words, &addr, sizeof addr, c);
    if (c)
        return c;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->key = addr;
    if (!symbolize_word(s, addr, c) || c->n == 0) {
        free_word(c);
        return NULL;
    }
    HASH_ADD(hh, s->words, key, sizeof c->key, c);
    return c;
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
    /* NULL: the standard places. REFSCOPE_DEBUGINFO_PATH replaces them, in libdwfl's
     * syntax (as eu-addr2line --debuginfo-path): to use other debug files, or none. */
    const char *dp = getenv("REFSCOPE_DEBUGINFO_PATH");
    if (dp && *dp && !(s->debuginfo_path = strdup(dp))) {
        free(s);
        return NULL;
    }
    s->callbacks.debuginfo_path = &s->debuginfo_path;
    s->dwfl = dwfl_begin(&s->callbacks);
    if (!s->dwfl || !build_ranges(s)) {
        rs_symbolizer_free(s);
        return NULL;
    }
    return s;
}

void rs_symbolizer_free(struct rs_symbolizer *s)
{
    if (!s)
        return;
    struct cached_word *c, *ct;
    HASH_ITER(hh, s->words, c, ct) {
        HASH_DEL(s->words, c);
        free_word(c);
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
    free(s->debuginfo_path);
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

struct py_item {
    const struct rs_frame *frame;
    bool entry;              /* the outermost frame run by one call of the eval loop */
};

/* Appends the frames of one native word, innermost first. */
static void put_word(struct rs_frames *out, const struct cached_word *w)
{
    for (size_t k = 0; k < w->n; k++)
        out->v[out->n++] = &w->frames[k];
}

static void put_python(struct rs_frames *out, const struct py_item *py, size_t from, size_t to)
{
    for (size_t k = from; k < to; k++)
        out->v[out->n++] = py[k].frame;
}

/* Native frames with the Python frames in place of the eval loop's C frames. The Python
 * frames split into groups, each ending (outwards) at a frame marked as an entry: the
 * frames one C call of the eval loop ran. When there are as many groups as eval-loop
 * frames, the k-th innermost group replaces the k-th innermost eval-loop frame. Otherwise
 * the shape is unclear (a native stack cut by the depth cap, an eval loop without symbols)
 * and all the Python frames go in place of the innermost eval-loop frame, or after the
 * native frames when there is none. */
static void splice(struct rs_frames *out, const struct cached_word *const *nat, size_t nn,
                   const struct py_item *py, size_t np)
{
    size_t ngroups = 0, nevals = 0;
    for (size_t k = 0; k < np; k++) {
        if (py[k].entry || k + 1 == np)
            ngroups++;
    }
    for (size_t k = 0; k < nn; k++)
        nevals += nat[k]->eval;
    if (np == 0) {
        for (size_t k = 0; k < nn; k++)
            put_word(out, nat[k]);
        return;
    }
    if (nevals == ngroups) {
        size_t next = 0; /* first Python frame of the next group */
        for (size_t k = 0; k < nn; k++) {
            if (!nat[k]->eval) {
                put_word(out, nat[k]);
                continue;
            }
            size_t end = next;
            while (end < np && !py[end].entry)
                end++;
            end = end < np ? end + 1 : np;
            put_python(out, py, next, end);
            next = end;
        }
        return;
    }
    out->splice_mismatch = true;
    bool placed = false;
    for (size_t k = 0; k < nn; k++) {
        if (nat[k]->eval && !placed) {
            put_python(out, py, 0, np);
            placed = true;
        } else {
            put_word(out, nat[k]);
        }
    }
    if (!placed)
        put_python(out, py, 0, np);
}

int rs_symbolize_stack_view(struct rs_symbolizer *s, const uint64_t *words, uint32_t nwords,
                            enum rs_stack_view view, unsigned max_depth, struct rs_frames *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = nwords ? nwords : 1;
    const struct cached_word **nat = calloc(cap, sizeof *nat);
    struct py_item *py = calloc(cap, sizeof *py);
    size_t nn = 0, np = 0, nframes = 0;
    int rc = -1;
    if (!nat || !py)
        goto done;
    bool on_top = true; /* no frame of the program's own seen yet */
    for (uint32_t i = 0; i < nwords;) {
        if (words[i] & RS_STACKWORD_PY) {
            uint64_t code = words[i] & ~RS_STACKWORD_PY;
            uint64_t off = i + 1 < nwords ? words[i + 1] : 0;
            const struct rs_frame *f = python_frame(s, code, off & ~RS_PYOFFSET_ENTRY);
            if (!f)
                goto done;
            py[np++] = (struct py_item){f, (off & RS_PYOFFSET_ENTRY) != 0};
            i += 2;
            continue;
        }
        const struct cached_word *w = native_word(s, words[i]);
        i += 1;
        if (!w)
            goto done;
        const struct rs_frame *real = &w->frames[w->n - 1];
        if (is_refscope_frame(real))
            continue;
        if (on_top && is_libc(real->module) && is_allocator_function(real->function))
            continue;
        on_top = false;
        nat[nn++] = w;
        nframes += w->n;
    }
    out->python = np;
    out->v = calloc(nframes + np + 1, sizeof *out->v);
    if (!out->v)
        goto done;
    if ((view == RS_VIEW_PYTHON || (view == RS_VIEW_HYBRID && nn == 0)) && np > 0) {
        out->view = RS_VIEW_PYTHON;
        put_python(out, py, 0, np);
    } else if (view == RS_VIEW_NATIVE_ONLY) {
        out->view = RS_VIEW_NATIVE_ONLY;
        for (size_t k = 0; k < nn; k++)
            put_word(out, nat[k]);
    } else {
        out->view = np ? RS_VIEW_HYBRID : RS_VIEW_NATIVE_ONLY;
        splice(out, nat, nn, py, np);
    }
    if (max_depth && out->n > max_depth) {
        out->omitted = out->n - max_depth;
        out->n = max_depth;
    }
    rc = 0;
done:
    free(nat);
    free(py);
    if (rc)
        rs_frames_free(out);
    return rc;
}

int rs_symbolize_stack(struct rs_symbolizer *s, const uint64_t *words, uint32_t nwords,
                       unsigned max_depth, struct rs_frames *out)
{
    return rs_symbolize_stack_view(s, words, nwords, RS_VIEW_PYTHON, max_depth, out);
}

void rs_frames_free(struct rs_frames *f)
{
    free(f->v);
    memset(f, 0, sizeof *f);
}
