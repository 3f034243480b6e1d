/* Showing strings that come from the traced program (paths, thread names, notes) without
 * letting them steer the terminal or break the JSON: they may hold control characters,
 * invalid UTF-8, anything. */
#ifndef REFSCOPE_ESCAPE_H
#define REFSCOPE_ESCAPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Decodes one UTF-8 sequence at s[0..n). Returns its length and sets *cp, or returns 0
 * when s does not start a valid, shortest-form sequence of a Unicode scalar value. */
size_t rs_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* For a terminal: control characters (C0, DEL, C1) and bidirectional overrides become
 * \n, \t, \r, \xNN or \uNNNN; invalid UTF-8 bytes become \xNN; everything else is kept. */
void rs_fput_escaped(FILE *f, const char *s, size_t len);
/* The same into out[0..cap), always NUL-terminated, cut short if it does not fit. Returns
 * the length written. */
size_t rs_escape_to(char *out, size_t cap, const char *s, size_t len);

/* The body of a JSON string (without the quotes): ", \ and control characters escaped,
 * invalid UTF-8 replaced by U+FFFD. */
void rs_fput_json_string_body(FILE *f, const char *s, size_t len);

#endif
