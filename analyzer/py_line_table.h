/* Python code objects' line tables (PY_CODE records), decoded offline into the line of
 * each range of bytecode offsets. The shim ships each code object's table once instead of
 * asking PyCode_Addr2Line for every (code, offset) pair its stacks meet: that call walks
 * the table from its start each time, with the GIL held, and on an import-heavy start-up
 * it was a fifth of what refscope added. */
#ifndef REFSCOPE_PY_LINE_TABLE_H
#define REFSCOPE_PY_LINE_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* Bytecode offsets [previous range's end, end) are on `line` (<= 0: no line). */
struct rs_py_line_range {
    uint32_t end;
    int32_t line;
};

/* Decodes a table of `format` (RS_PY_LINES_*) for a code object whose first line is
 * first_line, into *ranges (malloc'd, ascending ends; NULL when none). Returns 0, -1 when
 * the bytes are not such a table, -2 when out of memory. */
int rs_py_line_table_decode(uint64_t format, const uint8_t *table, size_t len,
                            uint64_t first_line, struct rs_py_line_range **ranges, uint32_t *n);

/* The line of the instruction at byte `offset`, as PyCode_Addr2Line gives it for the
 * same table; 0 when it has none. */
uint32_t rs_py_line_at(const struct rs_py_line_range *ranges, uint32_t n, uint64_t offset);

#endif
