#include "html_escape.h"

#include "escape.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Terminal escaping (escape.h) of at most `max` bytes of s: malloc'd, *len set, *cut when
 * the input was longer. NULL when out of memory. */
static char *visible(const char *s, size_t n, size_t max, size_t *len, bool *cut)
{
    *cut = max && n > max;
    if (*cut) {
        /* not in the middle of a UTF-8 sequence */
        while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
            max--;
        n = max;
    }
    size_t cap = n * 6 + 1; /* each byte becomes at most \uNNNN or \xNN */
    char *tmp = malloc(cap);
    if (tmp)
        *len = rs_escape_to(tmp, cap, s, n);
    return tmp;
}

void rs_html_text(struct rs_strbuf *b, const char *s, size_t n, size_t max)
{
    size_t m;
    bool cut;
    char *tmp = visible(s, n, max, &m, &cut);
    if (!tmp) {
        b->failed = true;
        return;
    }
    size_t run = 0; /* start of the bytes not written yet */
    for (size_t i = 0; i < m; i++) {
        const char *ent;
        switch (tmp[i]) {
        case '&': ent = "&amp;"; break;
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '"': ent = "&quot;"; break;
        case '\'': ent = "&#39;"; break;
        default: continue;
        }
        rs_sb_put(b, tmp + run, i - run);
        rs_sb_put(b, ent, strlen(ent));
        run = i + 1;
    }
    rs_sb_put(b, tmp + run, m - run);
    if (cut)
        rs_sb_put(b, "\xE2\x80\xA6", 3);
    free(tmp);
}

void rs_html_cstr(struct rs_strbuf *b, const char *s)
{
    if (s)
        rs_html_text(b, s, strlen(s), 0);
}

void rs_html_json_string(struct rs_strbuf *b, const char *s, size_t n, size_t max)
{
    size_t m;
    bool cut;
    char *tmp = visible(s, n, max, &m, &cut);
    if (!tmp) {
        b->failed = true;
        return;
    }
    rs_sb_put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < m; i++) {
        const unsigned char c = (unsigned char)tmp[i];
        const char *rep = NULL;
        size_t skip = 1;
        switch (c) {
        case '"': rep = "\\\""; break;
        case '\\': rep = "\\\\"; break;
        case '<': rep = "\\u003c"; break;
        case '>': rep = "\\u003e"; break;
        case '&': rep = "\\u0026"; break;
        case 0xE2: /* U+2028 and U+2029 are E2 80 A8 and E2 80 A9 */
            if (i + 2 < m && (unsigned char)tmp[i + 1] == 0x80 &&
                ((unsigned char)tmp[i + 2] == 0xA8 || (unsigned char)tmp[i + 2] == 0xA9)) {
                rep = (unsigned char)tmp[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
                skip = 3;
            }
            break;
        default:
            if (c < 0x20) /* cannot happen after terminal escaping; kept for safety */
                rep = "\\ufffd";
        }
        if (!rep)
            continue;
        rs_sb_put(b, tmp + run, i - run);
        rs_sb_put(b, rep, strlen(rep));
        i += skip - 1;
        run = i + 1;
    }
    rs_sb_put(b, tmp + run, m - run);
    if (cut)
        rs_sb_put(b, "\\u2026", 6);
    rs_sb_put(b, "\"", 1);
    free(tmp);
}

/* ---- Graphviz SVG -------------------------------------------------------------------- */

static bool name_in(const char *s, size_t n, const char *const *list)
{
    for (size_t i = 0; list[i]; i++) {
        if (strlen(list[i]) == n && memcmp(list[i], s, n) == 0)
            return true;
    }
    return false;
}

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == ':' || c == '-' || c == '_';
}

int rs_html_embed_svg(struct rs_strbuf *b, const char *svg, size_t len, const char *id_prefix)
{
    static const char *const tags[] = {"svg", "g", "title", "polygon", "polyline", "path",
                                       "ellipse", "text", "a", NULL};
    static const char *const attrs[] = {
        "width", "height", "viewBox", "xmlns", "xmlns:xlink", "id", "class", "transform",
        "fill", "stroke", "stroke-width", "stroke-dasharray", "points", "d", "cx", "cy", "rx",
        "ry", "x", "y", "text-anchor", "font-family", "font-size", "font-weight", "font-style",
        "xlink:title", "fill-opacity", "stroke-opacity", NULL};
    const char *start = NULL;
    for (size_t i = 0; i + 4 <= len; i++) {
        if (memcmp(svg + i, "<svg", 4) == 0) {
            start = svg + i;
            break;
        }
    }
    if (!start)
        return -1;
    const char *p = start, *end = svg + len;
    struct rs_strbuf out = {0};
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt) {
            rs_sb_put(&out, p, (size_t)(end - p));
            break;
        }
        rs_sb_put(&out, p, (size_t)(lt - p)); /* text: Graphviz escaped it */
        if (end - lt >= 4 && memcmp(lt, "<!--", 4) == 0) {
            const char *c = lt + 4;
            while (c + 3 <= end && memcmp(c, "-->", 3) != 0)
                c++;
            if (c + 3 > end)
                goto reject;
            p = c + 3;
            continue;
        }
        const char *q = lt + 1;
        bool closing = q < end && *q == '/';
        if (closing)
            q++;
        const char *name = q;
        while (q < end && name_char(*q))
            q++;
        if (!name_in(name, (size_t)(q - name), tags))
            goto reject;
        rs_sb_put(&out, lt, (size_t)(q - lt));
        /* attributes */
        for (;;) {
            const char *ws = q;
            while (q < end && isspace((unsigned char)*q))
                q++;
            if (q >= end)
                goto reject;
            if (*q == '>' || (*q == '/' && q + 1 < end && q[1] == '>')) {
                size_t n = *q == '>' ? 1 : 2;
                rs_sb_put(&out, q, n);
                q += n;
                break;
            }
            if (closing || q == ws)
                goto reject;
            const char *an = q;
            while (q < end && name_char(*q))
                q++;
            size_t anl = (size_t)(q - an);
            if (!anl || q + 1 >= end || *q != '=' || (q[1] != '"' && q[1] != '\''))
                goto reject;
            if (!name_in(an, anl, attrs))
                goto reject;
            char quote = q[1];
            const char *v = q + 2, *ve = memchr(v, quote, (size_t)(end - v));
            if (!ve || memchr(v, '<', (size_t)(ve - v)))
                goto reject;
            rs_sb_put(&out, " ", 1);
            rs_sb_put(&out, an, anl);
            rs_sb_put(&out, "=\"", 2);
            if (anl == 2 && memcmp(an, "id", 2) == 0)
                rs_sb_put(&out, id_prefix, strlen(id_prefix));
            for (const char *c = v; c < ve; c++) { /* the value, always double-quoted */
                if (*c == '"')
                    rs_sb_put(&out, "&quot;", 6);
                else
                    rs_sb_put(&out, c, 1);
            }
            rs_sb_put(&out, "\"", 1);
            q = ve + 1;
        }
        p = q;
    }
    if (out.failed)
        goto reject;
    rs_sb_put(b, out.s, out.len);
    rs_sb_free(&out);
    return 0;
reject:
    rs_sb_free(&out);
    return -1;
}
