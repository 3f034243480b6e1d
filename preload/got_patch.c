/* GOT patching for attach mode: see got_patch.h. Runs outside any allocator hook, with no
 * lock of the program held; it allocates nothing (its tables come from rs_sys_map). */
#define _GNU_SOURCE
#include "got_patch.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#define RS_R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define RS_R_GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define RS_R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define RS_R_GLOB_DAT R_AARCH64_GLOB_DAT
#else
#error "GOT patching: relocation types of this architecture are not known"
#endif

/* Families are patched all or nothing: refscope's malloc must never see a block of an
 * allocator it does not call on. Process-level functions stand alone. */
enum { FAM_MALLOC = 0, FAM_MMAP = 1, FAM_SINGLE = 2 };

struct target {
    const char *name;
    int family;
    void *ours;    /* refscope's definition */
    void *libc;    /* the definition refscope calls on (dlsym RTLD_NEXT) */
    bool enabled;
};

static struct target targets[] = {
    {"malloc", FAM_MALLOC, 0, 0, 0},
    {"free", FAM_MALLOC, 0, 0, 0},
    {"calloc", FAM_MALLOC, 0, 0, 0},
    {"realloc", FAM_MALLOC, 0, 0, 0},
    {"reallocarray", FAM_MALLOC, 0, 0, 0},
    {"posix_memalign", FAM_MALLOC, 0, 0, 0},
    {"aligned_alloc", FAM_MALLOC, 0, 0, 0},
    {"memalign", FAM_MALLOC, 0, 0, 0},
    {"valloc", FAM_MALLOC, 0, 0, 0},
    {"pvalloc", FAM_MALLOC, 0, 0, 0},
    {"mmap", FAM_MMAP, 0, 0, 0},
    {"mmap64", FAM_MMAP, 0, 0, 0},
    {"munmap", FAM_MMAP, 0, 0, 0},
    {"mremap", FAM_MMAP, 0, 0, 0},
    {"_exit", FAM_SINGLE + 0, 0, 0, 0},
    {"_Exit", FAM_SINGLE + 1, 0, 0, 0},
    {"execve", FAM_SINGLE + 2, 0, 0, 0},
    {"execv", FAM_SINGLE + 3, 0, 0, 0},
    {"execvp", FAM_SINGLE + 4, 0, 0, 0},
    {"execvpe", FAM_SINGLE + 5, 0, 0, 0},
    {"fexecve", FAM_SINGLE + 6, 0, 0, 0},
    {"dlclose", FAM_SINGLE + 7, 0, 0, 0},
    {"pthread_setname_np", FAM_SINGLE + 8, 0, 0, 0},
    {"prctl", FAM_SINGLE + 9, 0, 0, 0},
};
#define NTARGETS (sizeof targets / sizeof targets[0])
#define NFAMILIES (FAM_SINGLE + 10)

struct patch {
    void **slot;
    void *old;
    void *new;
    uintptr_t obj_base;
    uint32_t obj_hash;
    bool seen;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool initialized;
static unsigned long long seen_adds = ~0ull, seen_subs = ~0ull;
static struct patch *patches;
static size_t npatches, patches_cap;

/* ---- /proc/self/maps: the protection of a page ------------------------------------ */

struct range {
    uintptr_t lo, hi;
    int prot;
};

static struct range *ranges;
static size_t nranges, ranges_cap;
static char *maps_text;
static size_t maps_cap;

static bool read_maps(void)
{
    nranges = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t len = 0;
    for (;;) {
        if (len + 4096 > maps_cap) {
            size_t cap = maps_cap ? maps_cap * 2 : (1u << 20);
            char *p = rs_sys_map(cap);
            if (!p) {
                close(fd);
                return false;
            }
            if (maps_text) {
                memcpy(p, maps_text, len);
                rs_sys_unmap(maps_text, maps_cap);
            }
            maps_text = p;
            maps_cap = cap;
        }
        ssize_t n = read(fd, maps_text + len, maps_cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    maps_text[len] = 0;
    for (char *line = maps_text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3) {
            if (nranges == ranges_cap) {
                size_t cap = ranges_cap ? ranges_cap * 2 : 4096;
                struct range *p = rs_sys_map(cap * sizeof *p);
                if (!p)
                    return false;
                if (ranges) {
                    memcpy(p, ranges, nranges * sizeof *p);
                    rs_sys_unmap(ranges, ranges_cap * sizeof *p);
                }
                ranges = p;
                ranges_cap = cap;
            }
            int prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
                       (perms[2] == 'x' ? PROT_EXEC : 0);
            ranges[nranges++] = (struct range){lo, hi, prot};
        }
        line = next;
    }
    return true;
}

/* -1: not mapped */
static int prot_of(uintptr_t addr)
{
    size_t lo = 0, hi = nranges; /* the kernel lists mappings in address order */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (addr < ranges[mid].lo)
            hi = mid;
        else if (addr >= ranges[mid].hi)
            lo = mid + 1;
        else
            return ranges[mid].prot;
    }
    return -1;
}

/* One aligned pointer store; a read-only page (RELRO) is writable only for it. */
static bool write_slot(void **slot, void *value)
{
    int prot = prot_of((uintptr_t)slot);
    if (prot < 0 || !(prot & PROT_READ))
        return false;
    if (prot & PROT_WRITE) {
        __atomic_store_n(slot, value, __ATOMIC_RELEASE);
        return true;
    }
    uintptr_t page = (uintptr_t)slot & ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1);
    size_t len = (size_t)sysconf(_SC_PAGESIZE);
    if (mprotect((void *)page, len, prot | PROT_WRITE) != 0)
        return false;
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    mprotect((void *)page, len, prot);
    return true;
}

/* ---- objects ---------------------------------------------------------------------- */

struct object {
    const struct dl_phdr_info *info;
    uintptr_t base;
    const char *name;
    uint32_t name_hash;
    const ElfW(Sym) *symtab;
    const char *strtab;
    const uint32_t *gnu_hash;
    const uint32_t *sysv_hash;
    const ElfW(Rela) *jmprel;
    size_t jmprel_size;
    const ElfW(Rela) *rela;
    size_t rela_size;
};

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static bool name_has(const char *name, const char *part)
{
    return name && strstr(name, part) != NULL;
}

static bool contains(const struct dl_phdr_info *info, uintptr_t addr, bool exec_only)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || (exec_only && !(ph->p_flags & PF_X)))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (addr >= lo && addr < lo + ph->p_memsz)
            return true;
    }
    return false;
}

/* Objects never patched: refscope, the dynamic loader, the vDSO, the libunwind refscope
 * loaded for itself. */
static bool skipped_object(const struct dl_phdr_info *info)
{
    if (contains(info, (uintptr_t)&rs_got_patch, true))
        return true;
    if (info->dlpi_addr && info->dlpi_addr == (uintptr_t)getauxval(AT_BASE))
        return true;
    const char *n = info->dlpi_name;
    return name_has(n, "linux-vdso") || name_has(n, "linux-gate") || name_has(n, "/libunwind") ||
           name_has(n, "/ld-linux");
}

/* Dynamic-section pointers: glibc rewrites them to run-time addresses when it loads an
 * object; other loaders (and the vDSO) leave link-time values. */
static const void *dyn_ptr(uintptr_t base, ElfW(Addr) v)
{
    return (const void *)(v < base ? base + v : v);
}

static bool describe(const struct dl_phdr_info *info, struct object *o)
{
    memset(o, 0, sizeof *o);
    o->info = info;
    o->base = info->dlpi_addr;
    o->name = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "(the executable)";
    o->name_hash = fnv1a(o->name);
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    if (!dyn)
        return false;
    ElfW(Sxword) pltrel = DT_RELA;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB: o->symtab = dyn_ptr(o->base, dyn->d_un.d_ptr); break;
        case DT_STRTAB: o->strtab = dyn_ptr(o->base, dyn->d_un.d_ptr); break;
        case DT_GNU_HASH: o->gnu_hash = dyn_ptr(o->base, dyn->d_un.d_ptr); break;
        case DT_HASH: o->sysv_hash = dyn_ptr(o->base, dyn->d_un.d_ptr); break;
        case DT_JMPREL: o->jmprel = dyn_ptr(o->base, dyn->d_un.d_ptr); break;
        case DT_PLTRELSZ: o->jmprel_size = dyn->d_un.d_val; break;
        case DT_PLTREL: pltrel = (ElfW(Sxword))dyn->d_un.d_val; break;
        case DT_RELA: o->rela = dyn_ptr(o->base, dyn->d_un.d_ptr); break;
        case DT_RELASZ: o->rela_size = dyn->d_un.d_val; break;
        }
    }
    if (pltrel != DT_RELA) /* REL-style PLT relocations: not an architecture refscope runs on */
        o->jmprel = NULL;
    return o->symtab && o->strtab;
}

static uint32_t gnu_hash(const char *s)
{
    uint32_t h = 5381;
    for (; *s; s++)
        h = h * 33 + (uint8_t)*s;
    return h;
}

static uint32_t sysv_hash(const char *s)
{
    uint32_t h = 0;
    for (; *s; s++) {
        h = (h << 4) + (uint8_t)*s;
        uint32_t g = h & 0xf0000000u;
        if (g)
            h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

static bool sym_defines(const ElfW(Sym) *s)
{
    int type = ELF64_ST_TYPE(s->st_info);
    return s->st_shndx != SHN_UNDEF && s->st_value != 0 && (type == STT_FUNC || type == STT_GNU_IFUNC);
}

/* Whether the object defines a function of that name (in its dynamic symbols). */
static bool defines(const struct object *o, const char *name)
{
    if (o->gnu_hash) {
        const uint32_t *h = o->gnu_hash;
        uint32_t nbuckets = h[0], symoffset = h[1], bloom_size = h[2];
        if (!nbuckets)
            return false;
        const ElfW(Addr) *bloom = (const ElfW(Addr) *)&h[4];
        const uint32_t *buckets = (const uint32_t *)&bloom[bloom_size];
        const uint32_t *chain = &buckets[nbuckets];
        uint32_t hash = gnu_hash(name);
        uint32_t i = buckets[hash % nbuckets];
        if (i < symoffset)
            return false;
        for (;; i++) {
            uint32_t h2 = chain[i - symoffset];
            if ((hash | 1) == (h2 | 1) && strcmp(o->strtab + o->symtab[i].st_name, name) == 0 &&
                sym_defines(&o->symtab[i]))
                return true;
            if (h2 & 1)
                return false;
        }
    }
    if (o->sysv_hash) {
        const uint32_t *h = o->sysv_hash;
        uint32_t nbucket = h[0];
        if (!nbucket)
            return false;
        const uint32_t *bucket = &h[2], *chain = &bucket[nbucket];
        for (uint32_t i = bucket[sysv_hash(name) % nbucket]; i; i = chain[i])
            if (strcmp(o->strtab + o->symtab[i].st_name, name) == 0 && sym_defines(&o->symtab[i]))
                return true;
    }
    return false;
}

/* ---- set-up --------------------------------------------------------------------------- */

static bool init_targets(void)
{
    Dl_info self;
    if (!dladdr((void *)&rs_got_patch, &self) || !self.dli_fname)
        return false;
    void *handle = dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD);
    if (!handle)
        return false;
    for (size_t i = 0; i < NTARGETS; i++) {
        struct target *t = &targets[i];
        t->ours = dlsym(handle, t->name);
        t->libc = dlsym(RTLD_NEXT, t->name);
        t->enabled = t->ours && t->libc && t->ours != t->libc;
    }
    dlclose(handle); /* the library is -z nodelete: this only drops the count NOLOAD took */
    return targets[0].enabled; /* malloc: libc is found through it */
}

static const struct target *find_target(const char *name)
{
    for (size_t i = 0; i < NTARGETS; i++)
        if (targets[i].enabled && targets[i].name[0] == name[0] && strcmp(targets[i].name, name) == 0)
            return &targets[i];
    return NULL;
}

/* ---- a pass ------------------------------------------------------------------------- */

struct pass {
    struct rs_got_stats *st;
    bool interposed[NFAMILIES];
    bool restore;
    unsigned restored;
    unsigned long long adds, subs;
};

static bool is_libc(const struct dl_phdr_info *info)
{
    return contains(info, (uintptr_t)targets[0].libc, true);
}

static void note_counters(struct pass *p, const struct dl_phdr_info *info, size_t size)
{
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        p->adds = info->dlpi_adds;
        p->subs = info->dlpi_subs;
    }
}

static int scan_interposers(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct pass *p = arg;
    note_counters(p, info, size);
    struct object o;
    if (skipped_object(info) || is_libc(info) || !describe(info, &o))
        return 0;
    for (size_t i = 0; i < NTARGETS; i++) {
        const struct target *t = &targets[i];
        if (!t->enabled || p->interposed[t->family] || !defines(&o, t->name))
            continue;
        p->interposed[t->family] = true;
        char *out = p->st->interposed;
        size_t used = strlen(out);
        const char *base = strrchr(o.name, '/');
        rs_format(out + used, sizeof p->st->interposed - used, "%s%s (%s)", used ? ", " : "",
                  t->family == FAM_MALLOC ? "malloc family" : t->family == FAM_MMAP ? "mmap family" : t->name,
                  base ? base + 1 : o.name);
    }
    return 0;
}

static bool add_patch(void **slot, void *old, void *new, const struct object *o)
{
    if (npatches == patches_cap) {
        size_t cap = patches_cap ? patches_cap * 2 : 1024;
        struct patch *np = rs_sys_map(cap * sizeof *np);
        if (!np)
            return false;
        if (patches) {
            memcpy(np, patches, npatches * sizeof *np);
            rs_sys_unmap(patches, patches_cap * sizeof *np);
        }
        patches = np;
        patches_cap = cap;
    }
    patches[npatches++] = (struct patch){slot, old, new, o->base, o->name_hash, true};
    return true;
}

static void patch_relocs(struct pass *p, const struct object *o, const ElfW(Rela) *rel, size_t bytes)
{
    if (!rel)
        return;
    size_t n = bytes / sizeof *rel;
    for (size_t i = 0; i < n; i++) {
        unsigned long type = ELF64_R_TYPE(rel[i].r_info);
        if (type != RS_R_JUMP_SLOT && type != RS_R_GLOB_DAT)
            continue;
        size_t symi = ELF64_R_SYM(rel[i].r_info);
        if (!symi)
            continue;
        const struct target *t = find_target(o->strtab + o->symtab[symi].st_name);
        if (!t)
            continue;
        void **slot = (void **)(o->base + rel[i].r_offset);
        if (prot_of((uintptr_t)slot) < 0)
            continue;
        void *v = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        if (v == t->ours)
            continue; /* patched by an earlier pass */
        bool lazy = type == RS_R_JUMP_SLOT && contains(o->info, (uintptr_t)v, true);
        if (p->interposed[t->family] || (v != t->libc && !lazy)) {
            p->st->skipped++;
            continue;
        }
        if (add_patch(slot, v, t->ours, o)) {
            if (write_slot(slot, t->ours))
                p->st->patched++;
            else
                npatches--;
        }
    }
}

static int patch_one(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct pass *p = arg;
    note_counters(p, info, size);
    struct object o;
    if (skipped_object(info) || !describe(info, &o))
        return 0;
    /* patches of this object stay valid: it is the same load */
    for (size_t i = 0; i < npatches; i++)
        if (patches[i].obj_base == o.base && patches[i].obj_hash == o.name_hash &&
            contains(info, (uintptr_t)patches[i].slot, false))
            patches[i].seen = true;
    if (p->restore) {
        for (size_t i = 0; i < npatches; i++) {
            struct patch *q = &patches[i];
            if (q->seen && q->obj_base == o.base && q->obj_hash == o.name_hash &&
                __atomic_load_n(q->slot, __ATOMIC_ACQUIRE) == q->new && write_slot(q->slot, q->old))
                p->restored++;
        }
        return 0;
    }
    p->st->objects++;
    patch_relocs(p, &o, o.jmprel, o.jmprel_size);
    patch_relocs(p, &o, o.rela, o.rela_size);
    return 0;
}

static void forget_unseen(void)
{
    size_t kept = 0;
    for (size_t i = 0; i < npatches; i++)
        if (patches[i].seen)
            patches[kept++] = patches[i];
    npatches = kept;
}

void rs_got_patch(struct rs_got_stats *st)
{
    memset(st, 0, sizeof *st);
    rs_tl_busy++;
    pthread_mutex_lock(&lock);
    if (!initialized && !init_targets()) {
        rs_log("cannot find refscope's or libc's allocator functions: native calls are not tracked");
        initialized = true;
        for (size_t i = 0; i < NTARGETS; i++)
            targets[i].enabled = false;
    }
    initialized = true;
    struct pass p = {.st = st};
    if (!read_maps()) {
        rs_log("cannot read /proc/self/maps: native calls are not tracked");
    } else {
        dl_iterate_phdr(scan_interposers, &p);
        for (size_t i = 0; i < npatches; i++)
            patches[i].seen = false;
        dl_iterate_phdr(patch_one, &p);
        forget_unseen();
        seen_adds = p.adds;
        seen_subs = p.subs;
    }
    st->total = (unsigned)npatches;
    pthread_mutex_unlock(&lock);
    rs_tl_busy--;
}

static int read_counters(struct dl_phdr_info *info, size_t size, void *arg)
{
    note_counters(arg, info, size);
    return 1;
}

bool rs_got_modules_changed(void)
{
    struct pass p = {0};
    dl_iterate_phdr(read_counters, &p);
    return p.adds != seen_adds || p.subs != seen_subs;
}

unsigned rs_got_restore(void)
{
    rs_tl_busy++;
    pthread_mutex_lock(&lock);
    struct rs_got_stats st;
    memset(&st, 0, sizeof st);
    struct pass p = {.st = &st, .restore = true};
    if (npatches && read_maps()) {
        for (size_t i = 0; i < npatches; i++)
            patches[i].seen = false;
        dl_iterate_phdr(patch_one, &p);
    }
    npatches = 0;
    pthread_mutex_unlock(&lock);
    rs_tl_busy--;
    return p.restored;
}
