#define _GNU_SOURCE
#include "unwind_rules.h"

#include "modules.h"

#include <dlfcn.h>
#include <elf.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

RS_HIDDEN _Atomic uint32_t rs_unwind_generation;

/* libdw is loaded with RTLD_LOCAL rather than linked, for the reason libunwind is
 * (native_stack.c): nothing of it may become visible to the program. */
static struct {
    unsigned (*elf_version)(unsigned);
    Elf *(*elf_begin)(int, Elf_Cmd, Elf *);
    int (*elf_cntl)(Elf *, Elf_Cmd);
    int (*elf_end)(Elf *);
    Dwarf_CFI *(*getcfi_elf)(Elf *);
    int (*cfi_end)(Dwarf_CFI *);
    int (*cfi_addrframe)(Dwarf_CFI *, Dwarf_Addr, Dwarf_Frame **);
    int (*frame_info)(Dwarf_Frame *, Dwarf_Addr *, Dwarf_Addr *, bool *);
    int (*frame_cfa)(Dwarf_Frame *, Dwarf_Op **, size_t *);
    int (*frame_register)(Dwarf_Frame *, int, Dwarf_Op[3], Dwarf_Op **, size_t *);
} dw;
static bool dw_ready;

struct module {
    uint64_t lo, hi; /* the span of its executable segments */
    uint64_t bias;
    Elf *elf;
    Dwarf_CFI *cfi; /* NULL: nothing usable here, every pc is unsupported */
};

#define MAX_MODULES 512
/* Everything below is used only by the thread holding `computing`. */
static atomic_flag computing = ATOMIC_FLAG_INIT;
static struct module modules[MAX_MODULES];
static unsigned nmodules;
static uint32_t modules_generation;

#define LOAD(field, name) (*(void **)&dw.field = dlsym(lib, name))

bool rs_unwind_rules_init(void)
{
    if (dw_ready)
        return true;
    void *lib = dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return false;
    LOAD(elf_version, "elf_version");
    LOAD(elf_begin, "elf_begin");
    LOAD(elf_cntl, "elf_cntl");
    LOAD(elf_end, "elf_end");
    LOAD(getcfi_elf, "dwarf_getcfi_elf");
    LOAD(cfi_end, "dwarf_cfi_end");
    LOAD(cfi_addrframe, "dwarf_cfi_addrframe");
    LOAD(frame_info, "dwarf_frame_info");
    LOAD(frame_cfa, "dwarf_frame_cfa");
    LOAD(frame_register, "dwarf_frame_register");
    void **fns = (void **)&dw;
    for (size_t i = 0; i < sizeof dw / sizeof(void *); i++)
        if (!fns[i])
            return false;
    dw.elf_version(EV_CURRENT);
    dw_ready = true;
    return true;
}

void rs_unwind_modules_changed(void)
{
    atomic_fetch_add_explicit(&rs_unwind_generation, 1, memory_order_release);
}

static void drop_modules(void)
{
    for (unsigned i = 0; i < nmodules; i++) {
        if (modules[i].cfi)
            dw.cfi_end(modules[i].cfi);
        if (modules[i].elf)
            dw.elf_end(modules[i].elf);
    }
    nmodules = 0;
}

/* The build-id of the file at path (its PT_NOTE segments read with pread), to be sure the
 * file read is the one mapped: a library replaced on disk after it was loaded has other
 * unwind tables. */
static size_t file_build_id(int fd, uint8_t *out, size_t cap)
{
    ElfW(Ehdr) eh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) ||
        eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum > 64)
        return 0;
    ElfW(Phdr) ph[64];
    ssize_t want = (ssize_t)(eh.e_phnum * sizeof ph[0]);
    if (pread(fd, ph, (size_t)want, (off_t)eh.e_phoff) != want)
        return 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type != PT_NOTE)
            continue;
        uint8_t notes[2048];
        size_t len = ph[i].p_filesz < sizeof notes ? ph[i].p_filesz : sizeof notes;
        if (pread(fd, notes, len, (off_t)ph[i].p_offset) != (ssize_t)len)
            continue;
        const uint8_t *id;
        size_t n = rs_build_id_in_notes(notes, len, &id);
        if (n && n <= cap) {
            memcpy(out, id, n);
            return n;
        }
    }
    return 0;
}

struct module_probe {
    uint64_t pc;
    struct module *m;
    const char *path;
    const uint8_t *build_id;
    size_t build_id_len;
};

static int find_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct module_probe *p = arg;
    uint64_t lo = UINT64_MAX, hi = 0;
    bool contains = false;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uint64_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
        contains |= p->pc >= a && p->pc < b;
    }
    if (!contains)
        return 0;
    p->m->lo = lo;
    p->m->hi = hi;
    p->m->bias = info->dlpi_addr;
    p->path = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : rs_modules_exe_path();
    p->build_id_len = rs_modules_build_id(info, &p->build_id);
    return 1;
}

/* The module holding pc, its unwind tables opened; NULL when no loaded object holds it
 * (generated code) or the table is full. */
static struct module *module_at(uint64_t pc)
{
    for (unsigned i = 0; i < nmodules; i++)
        if (pc >= modules[i].lo && pc < modules[i].hi)
            return &modules[i];
    if (nmodules == MAX_MODULES)
        return NULL;
    struct module *m = &modules[nmodules];
    *m = (struct module){0};
    struct module_probe probe = {.pc = pc, .m = m};
    if (!dl_iterate_phdr(find_object, &probe))
        return NULL;
    nmodules++;
    if (!probe.build_id_len || !probe.path || !*probe.path)
        return m;
    int fd = open(probe.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return m;
    uint8_t id[64];
    size_t id_len = file_build_id(fd, id, sizeof id);
    if (id_len == probe.build_id_len && memcmp(id, probe.build_id, id_len) == 0) {
        /* Read, not mapped: a second mapping of a loaded file would mislead whoever reads
         * /proc/PID/maps for the object's base (refscope attach, py-spy, gdb). libdw reads
         * the unwind sections whole when it opens the CFI; nothing needs the fd after. */
        m->elf = dw.elf_begin(fd, ELF_C_READ, NULL);
        if (m->elf) {
            m->cfi = dw.getcfi_elf(m->elf);
            dw.elf_cntl(m->elf, ELF_C_FDDONE);
        }
    }
    close(fd);
    return m;
}

/* A register rule "at CFA + off" in libdw's form: DW_OP_call_frame_cfa, then an optional
 * constant added. */
static bool cfa_relative(const Dwarf_Op *ops, size_t nops, int64_t *off)
{
    if (nops == 0 || ops[0].atom != DW_OP_call_frame_cfa)
        return false;
    if (nops == 1) {
        *off = 0;
        return true;
    }
    if (nops == 2 && ops[1].atom == DW_OP_plus_uconst) {
        *off = (int64_t)ops[1].number;
        return true;
    }
    if (nops == 3 && (ops[1].atom == DW_OP_consts || ops[1].atom == DW_OP_constu) &&
        ops[2].atom == DW_OP_plus) {
        *off = (int64_t)ops[1].number;
        return true;
    }
    return false;
}

#define DWARF_RBP 6
#define DWARF_RSP 7
#define DWARF_RA 16

/* Fills what the frame at pc does; leaves RS_RULE_UNSUPPORTED set for anything else. */
static void read_rule(struct module *m, uint64_t pc, struct rs_unwind_rule *r)
{
    Dwarf_Frame *frame = NULL;
    if (dw.cfi_addrframe(m->cfi, pc - m->bias, &frame) != 0 || !frame)
        return;
    Dwarf_Addr start, end;
    bool signal = false;
    Dwarf_Op *ops, mem[3];
    size_t nops;
    int64_t off;
    uint8_t flags = 0;
    if (dw.frame_info(frame, &start, &end, &signal) != DWARF_RA || signal)
        goto out;
    if (dw.frame_cfa(frame, &ops, &nops) != 0 || nops != 1)
        goto out;
    int base_reg;
    if (ops[0].atom == DW_OP_bregx) {
        base_reg = (int)ops[0].number;
        off = (int64_t)ops[0].number2;
    } else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
        base_reg = ops[0].atom - DW_OP_breg0;
        off = (int64_t)ops[0].number;
    } else {
        goto out;
    }
    if ((base_reg != DWARF_RSP && base_reg != DWARF_RBP) || off < INT32_MIN || off > INT32_MAX)
        goto out;
    r->cfa_base = base_reg == DWARF_RSP ? RS_CFA_RSP : RS_CFA_RBP;
    r->cfa_off = (int32_t)off;

    if (dw.frame_register(frame, DWARF_RA, mem, &ops, &nops) != 0)
        goto out;
    if (nops == 0 && ops == mem)
        flags |= RS_RULE_OUTERMOST; /* undefined: the first frame of a thread */
    else if (!cfa_relative(ops, nops, &off) || off != -8)
        goto out;

    if (dw.frame_register(frame, DWARF_RBP, mem, &ops, &nops) != 0)
        goto out;
    if (nops == 0 && ops == NULL) {
        /* same value: the caller's rbp is this frame's */
    } else if (nops == 0) {
        flags |= RS_RULE_RBP_LOST;
    } else if (cfa_relative(ops, nops, &off) && off >= INT16_MIN && off <= INT16_MAX) {
        flags |= RS_RULE_RBP_SAVED;
        r->rbp_off = (int16_t)off;
    } else {
        goto out;
    }
    r->flags = flags;
out:
    free(frame);
}

bool rs_unwind_rule_compute(uint64_t pc, struct rs_unwind_rule *out)
{
    if (atomic_flag_test_and_set_explicit(&computing, memory_order_acquire))
        return false;
    *out = (struct rs_unwind_rule){.pc = pc, .flags = RS_RULE_UNSUPPORTED};
    if (dw_ready) {
        uint32_t generation = atomic_load_explicit(&rs_unwind_generation, memory_order_acquire);
        if (generation != modules_generation) {
            drop_modules();
            modules_generation = generation;
        }
        struct module *m = module_at(pc);
        if (m && m->cfi)
            read_rule(m, pc, out);
    }
    atomic_flag_clear_explicit(&computing, memory_order_release);
    return true;
}
