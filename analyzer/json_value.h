/* A small JSON reader, for documents refscope reads back (the `refscope check --json`
 * results the HTML report shows). Strict (RFC 8259), nesting at most 64 deep; strings are
 * decoded to UTF-8 (a \u0000 stays in the bytes: use the length). */
#ifndef REFSCOPE_JSON_VALUE_H
#define REFSCOPE_JSON_VALUE_H

#include <stdbool.h>
#include <stddef.h>

enum rs_jv_type { RS_JV_NULL, RS_JV_BOOL, RS_JV_NUMBER, RS_JV_STRING, RS_JV_ARRAY, RS_JV_OBJECT };

struct rs_jv {
    enum rs_jv_type type;
    bool b;                  /* RS_JV_BOOL */
    char *str;               /* RS_JV_STRING: the decoded bytes; RS_JV_NUMBER: its text */
    size_t len;
    struct rs_jv *items;     /* RS_JV_ARRAY, RS_JV_OBJECT: n values */
    char **keys;             /* RS_JV_OBJECT: n keys (NUL-terminated, cut at a NUL) */
    size_t n;
};

/* Returns 0, or -1 with a message in err (with the byte offset). */
int rs_jv_parse(const char *text, size_t len, struct rs_jv *out, char *err, size_t errcap);
void rs_jv_free(struct rs_jv *v);
/* The member `key` of an object; NULL when v is not an object or has no such member. */
const struct rs_jv *rs_jv_get(const struct rs_jv *v, const char *key);
/* The string of a string value, or NULL. */
const char *rs_jv_str(const struct rs_jv *v);

#endif
