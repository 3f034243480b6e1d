/* A streaming JSON writer: it tracks nesting and commas so callers only say what comes
 * next, and it escapes every string (they may come from the traced program). Output is
 * indented by two spaces per level. */
#ifndef REFSCOPE_JSON_WRITER_H
#define REFSCOPE_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RS_JSON_MAX_DEPTH 32

struct rs_json {
    FILE *out;
    int depth;
    bool has_items[RS_JSON_MAX_DEPTH]; /* a value was written at this level */
    bool after_key;                    /* the next value completes "key": */
};

void rs_json_init(struct rs_json *j, FILE *out);
void rs_json_object_begin(struct rs_json *j);
void rs_json_object_end(struct rs_json *j);
void rs_json_array_begin(struct rs_json *j);
void rs_json_array_end(struct rs_json *j);
void rs_json_key(struct rs_json *j, const char *key);

void rs_json_string(struct rs_json *j, const char *s, size_t len);
void rs_json_cstring(struct rs_json *j, const char *s); /* NULL writes null */
void rs_json_u64(struct rs_json *j, uint64_t v);
void rs_json_i64(struct rs_json *j, int64_t v);
void rs_json_double(struct rs_json *j, double v);
void rs_json_bool(struct rs_json *j, bool v);
void rs_json_null(struct rs_json *j);
/* Ends the document with a newline. */
void rs_json_finish(struct rs_json *j);

#endif
