#include "shim.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

RS_HIDDEN struct rs_clock rs_clock;

/* The kernel keeps "tsc" as clocksource only once it has found the TSC constant and
 * synchronized across CPUs. */
static bool kernel_trusts_tsc(void)
{
    char buf[32] = {0};
    int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n >= 3 && strncmp(buf, "tsc", 3) == 0 && (buf[3] == '\n' || buf[3] == 0);
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
