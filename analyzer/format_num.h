/* Numbers for people: 20,108 / 12.3 MB / 0.051 s. */
#ifndef REFSCOPE_FORMAT_NUM_H
#define REFSCOPE_FORMAT_NUM_H

#include <stdint.h>

#define RS_NUM_BUF 48

/* Each writes into buf (RS_NUM_BUF bytes) and returns it. */
char *rs_fmt_count(char *buf, uint64_t n);     /* 1,234,567 */
char *rs_fmt_bytes(char *buf, uint64_t n);     /* 999 bytes, 1.2 kB, 12.3 MB (powers of 1000) */
char *rs_fmt_duration(char *buf, uint64_t ns); /* 0.051 s, 12.3 s, 1.5 ms, 4 us, 12 ns */

#endif
