/* hostile_trace OUT PATH...: writes a small complete trace whose module map names each PATH
 * as a loaded module, with an allocation whose stack has a frame inside each: the analyzer
 * will want to read those files to symbolize. For the tests of hostile paths (FIFOs,
 * devices, directories...). */
#include "trace_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: hostile_trace OUT PATH...\n");
        return 2;
    }
    struct tb b;
    tb_init(&b);
    tb_default_header(&b);
    tb_chunk(&b, RS_CHUNK_TID_META, 0);
    rs_rec_modules_begin(&b.w, 1);
    int n = argc - 2;
    uint64_t words[64];
    for (int i = 0; i < n && i < 64; i++) {
        const struct rs_module_segment seg = {0x1000, 0x10000, 5};
        uint64_t bias = 0x7f0000000000ull + (uint64_t)i * 0x100000;
        rs_rec_module(&b.w, argv[i + 2], bias, &seg, 1, (const uint8_t *)"\x01\x02", 2);
        words[i] = bias + 0x1100;
    }
    rs_rec_modules_end(&b.w, 1);
    rs_rec_stack(&b.w, 1, 0, 0, words, (uint32_t)(n < 64 ? n : 64));
    rs_rec_thread(&b.w, 100, RS_THREAD_MAIN, "main");
    tb_chunk_end(&b, 0);
    tb_chunk(&b, 100, 10);
    rs_rec_alloc(&b.w, RS_ALLOC_MALLOC, 10, 0x10000, 100, 1);
    tb_chunk_end(&b, 1);
    tb_chunk(&b, RS_CHUNK_TID_META, 0);
    rs_rec_counters(&b.w, 100, 1, 0, 0, 0);
    rs_rec_end_of_trace(&b.w, 1, 0, 0, 20, RS_END_EXIT);
    tb_chunk_end(&b, 0);
    FILE *f = fopen(argv[1], "wb");
    if (!f || fwrite(b.buf.data, 1, b.buf.len, f) != b.buf.len || fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    tb_free(&b);
    return 0;
}
