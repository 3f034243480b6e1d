/* Text from the traced program (type names, object labels, paths, symbols, thread names)
 * in an HTML page, where it must stay text: never markup, never the end of a script.
 *
 * Both functions first make the text visible the way the terminal report does (escape.h:
 * control characters and bidirectional overrides as \xNN / \uNNNN, invalid UTF-8 bytes as
 * \xNN), so the result is valid UTF-8 with nothing invisible in it. */
#ifndef REFSCOPE_HTML_ESCAPE_H
#define REFSCOPE_HTML_ESCAPE_H

#include "snap_dot.h" /* struct rs_strbuf */

#include <stddef.h>

/* Text content or a quoted attribute value: & < > " ' become entities. At most `max`
 * bytes of the input are shown (0: all); a longer text ends in "..." (an ellipsis). */
void rs_html_text(struct rs_strbuf *b, const char *s, size_t n, size_t max);
/* The same for a NUL-terminated string (NULL writes nothing). */
void rs_html_cstr(struct rs_strbuf *b, const char *s);

/* A JSON string literal, quotes included, safe inside <script type="application/json">
 * and inside a <script> block: besides JSON's own escapes, < > & are \u003c \u003e \u0026
 * (so no "</script" or "<!--" can appear) and U+2028, U+2029 are \u2028, \u2029. */
void rs_html_json_string(struct rs_strbuf *b, const char *s, size_t n, size_t max);

/* Embeds an SVG document that Graphviz rendered: the XML prolog, doctype and comments
 * dropped, ids prefixed with id_prefix (several drawings share a page). Only the
 * elements and attributes Graphviz's SVG uses are accepted: anything else (a script, an
 * event handler, a link, a style) rejects the whole drawing. Returns 0, or -1 when
 * rejected (nothing written). */
int rs_html_embed_svg(struct rs_strbuf *b, const char *svg, size_t len, const char *id_prefix);

#endif
