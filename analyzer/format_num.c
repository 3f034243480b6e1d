#include "format_num.h"

#include <stdio.h>
#include <string.h>

char *rs_fmt_count(char *buf, uint64_t n)
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    char *o = buf;
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            *o++ = ',';
        *o++ = digits[i];
    }
    *o = '\0';
    return buf;
}

char *rs_fmt_bytes(char *buf, uint64_t n)
{
    static const char *const units[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
    if (n < 1000) {
        snprintf(buf, RS_NUM_BUF, "%llu byte%s", (unsigned long long)n, n == 1 ? "" : "s");
        return buf;
    }
    double v = (double)n;
    size_t u = 0;
    v /= 1000.0;
    while (v >= 999.95 && u + 1 < sizeof units / sizeof *units) {
        v /= 1000.0;
        u++;
    }
    snprintf(buf, RS_NUM_BUF, "%.1f %s", v, units[u]);
    return buf;
}

char *rs_fmt_duration(char *buf, uint64_t ns)
{
    double s = (double)ns / 1e9;
    if (ns == 0)
        snprintf(buf, RS_NUM_BUF, "0 s");
    else if (ns < 1000)
        snprintf(buf, RS_NUM_BUF, "%llu ns", (unsigned long long)ns);
    else if (ns < 1000000)
        snprintf(buf, RS_NUM_BUF, "%.3g us", (double)ns / 1e3);
    else if (ns < 10000000) /* under 10 ms: 0.00123 s would be hard to read */
        snprintf(buf, RS_NUM_BUF, "%.3g ms", (double)ns / 1e6);
    else if (s < 100)
        snprintf(buf, RS_NUM_BUF, "%.3g s", s);
    else
        snprintf(buf, RS_NUM_BUF, "%.0f s", s);
    return buf;
}
