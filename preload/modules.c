#define _GNU_SOURCE
#include "modules.h"

#include "rs_trace_encode.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

static unsigned long long emitted_adds, emitted_subs;
/* Read at start-up: once the main thread has exited, /proc/self/exe can no longer be read. */
static char exe_path[4096];

void rs_modules_init(void)
{
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    exe_path[n > 0 ? n : 0] = 0;
}
static bool emitted_once;
static uint64_t generation;

struct counters {
    unsigned long long adds, subs;
};

static int read_counters(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct counters *c = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        c->adds = info->dlpi_adds;
        c->subs = info->dlpi_subs;
    }
    return 1; /* the counters are the same in every entry: stop at the first */
}

bool rs_modules_changed(void)
{
    struct counters c = {0, 0};
    dl_iterate_phdr(read_counters, &c);
    return !emitted_once || c.adds != emitted_adds || c.subs != emitted_subs;
}

size_t rs_build_id_in_notes(const uint8_t *p, size_t len, const uint8_t **id)
{
    const uint8_t *end = p + len;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
        const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
        size_t name_sz = (nh->n_namesz + 3) & ~3u, desc_sz = (nh->n_descsz + 3) & ~3u;
        const uint8_t *name = p + sizeof *nh, *desc = name + name_sz;
        if (name_sz > len || desc_sz > len || desc + desc_sz > end)
            break;
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
            *id = desc;
            return nh->n_descsz;
        }
        p = desc + desc_sz;
    }
    return 0;
}

size_t rs_modules_build_id(const struct dl_phdr_info *info, const uint8_t **id)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        size_t n = rs_build_id_in_notes((const uint8_t *)(info->dlpi_addr + ph->p_vaddr), ph->p_memsz, id);
        if (n)
            return n;
    }
    return 0;
}

const char *rs_modules_exe_path(void)
{
    return exe_path;
}

struct emit_ctx {
    struct rs_chunk_writer *w;
    struct counters counters;
};

static int emit_one(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct emit_ctx *ctx = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        ctx->counters.adds = info->dlpi_adds;
        ctx->counters.subs = info->dlpi_subs;
    }
    const char *path = info->dlpi_name;
    if (!path || !*path)
        path = exe_path;
    if (strstr(path, "linux-vdso") || strstr(path, "linux-gate"))
        return 0; /* no file to read symbols from */
    struct rs_module_segment segs[16];
    uint32_t nsegs = 0;
    for (int i = 0; i < info->dlpi_phnum && nsegs < 16; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD)
            segs[nsegs++] = (struct rs_module_segment){ph->p_vaddr, ph->p_memsz, ph->p_flags};
    }
    const uint8_t *build_id = NULL;
    size_t build_id_len = rs_modules_build_id(info, &build_id);
    rs_rec_module(ctx->w, path, info->dlpi_addr, segs, nsegs, build_id, build_id_len);
    return 0;
}

void rs_modules_emit(struct rs_chunk_writer *w)
{
    struct emit_ctx ctx = {.w = w};
    generation++;
    rs_rec_modules_begin(w, generation);
    dl_iterate_phdr(emit_one, &ctx);
    rs_rec_modules_end(w, generation);
    emitted_adds = ctx.counters.adds;
    emitted_subs = ctx.counters.subs;
    emitted_once = true;
}

void rs_modules_after_fork_child(void)
{
    emitted_once = false;
    generation = 0;
}

struct self_range {
    uintptr_t probe, lo, hi;
};

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct self_range *r = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && r->probe >= lo && r->probe < hi) {
            r->lo = lo;
            r->hi = hi;
            return 1;
        }
    }
    return 0;
}

void rs_modules_self_range(uintptr_t *lo, uintptr_t *hi)
{
    struct self_range r = {(uintptr_t)&rs_modules_self_range, 0, 0};
    dl_iterate_phdr(find_self, &r);
    *lo = r.lo;
    *hi = r.hi;
}
