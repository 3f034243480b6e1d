#include "shim.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

RS_HIDDEN struct rs_clock rs_clock;

static bool clocksource_is(const char *buf, const char *name)
{
    size_t n = strlen(name);
    return strncmp(buf, name, n) == 0 && (buf[n] == '\n' || buf[n] == 0);
}

/* The start of the mapping /proc/self/maps names `name`, or 0. Read a piece at a time into
 * the stack: this runs in the constructor, where nothing may be allocated. */
static uintptr_t mapping_named(const char *name)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[4096 + 1];
    size_t have = 0, nlen = strlen(name);
    uintptr_t found = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = 0;
        char *line = buf, *end;
        while (!found && (end = strchr(line, '\n')) != NULL) {
            if ((size_t)(end - line) >= nlen && memcmp(end - nlen, name, nlen) == 0)
                found = (uintptr_t)strtoull(line, NULL, 16);
            line = end + 1;
        }
        if (found)
            break;
        have -= (size_t)(line - buf);
        if (have == sizeof buf - 1) /* a line longer than the buffer: not the one */
            have = 0;
        memmove(buf, line, have);
    }
    close(fd);
    return found;
}

/* Under KVM the kernel keeps kvm-clock even where the TSC is good. The host sets
 * PVCLOCK_TSC_STABLE_BIT in the clock page when the TSCs of all vCPUs are synchronized (and
 * only then lets the vDSO read the clock without a system call); the page is the first of
 * the [vvar_vclock] mapping (Linux 6.13 on), flags at byte 29 of
 * struct pvclock_vcpu_time_info. Elsewhere the answer is no. */
static bool kvm_clock_is_stable_tsc(void)
{
    uintptr_t page = mapping_named("[vvar_vclock]");
    if (!page)
        return false;
    uint8_t flags = *(volatile const uint8_t *)(page + 29);
    return flags & 1u;
}

/* The TSC runs at one rate whatever the CPU's power state (CPUID 0x80000007, EDX bit 8). */
static bool tsc_invariant(void)
{
#if defined(__x86_64__)
    unsigned a, b, c, d;
    return __get_cpuid(0x80000007u, &a, &b, &c, &d) && (d & (1u << 8));
#else
    return false;
#endif
}

/* The kernel keeps "tsc" as clocksource only once it has found the TSC constant and
 * synchronized across CPUs; a KVM guest's kvm-clock says so through its stable bit. Under
 * kvm-clock every other clock read is a vDSO call of 27 ns on the VM we measure, against
 * 11 for the TSC, and with two program threads or more every event reads the clock. */
static bool kernel_trusts_tsc(void)
{
    char buf[32] = {0};
    int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    if (clocksource_is(buf, "tsc"))
        return true;
    return clocksource_is(buf, "kvm-clock") && tsc_invariant() && kvm_clock_is_stable_tsc();
}

#define CALIBRATION_NS (200 * 1000)

void rs_clock_init(void)
{
    rs_clock.tsc = false;
#if defined(__x86_64__)
    if (!kernel_trusts_tsc())
        return;
    uint64_t t0 = __builtin_ia32_rdtsc(), n0 = rs_monotonic_ns(), t1, n1;
    do {
        t1 = __builtin_ia32_rdtsc();
        n1 = rs_monotonic_ns();
    } while (n1 - n0 < CALIBRATION_NS);
    if (t1 <= t0)
        return;
    rs_clock.mult = (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / (t1 - t0));
    rs_clock.tsc0 = t1;
    rs_clock.ns0 = n1;
    rs_clock.tsc = rs_clock.mult != 0;
#endif
}
