#include "escape.h"

#include <stdbool.h>
#include <string.h>

size_t rs_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char b = s[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (b >= 0xC2 && b <= 0xDF) {
        len = 2, v = b & 0x1F, min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3, v = b & 0x0F, min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4, v = b & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* Output goes to a FILE or to a bounded buffer. */
struct sink {
    FILE *f;
    char *buf;
    size_t cap;
    size_t len;
    bool full;
};

static void put(struct sink *k, const char *p, size_t n)
{
    if (k->f) {
        fwrite(p, 1, n, k->f);
        return;
    }
    /* Whole pieces only (never half an escape), and none after one that did not fit. */
    if (k->full || k->len + n + 1 > k->cap) {
        k->full = true;
        return;
    }
    memcpy(k->buf + k->len, p, n);
    k->len += n;
    k->buf[k->len] = '\0';
}

static bool terminal_unsafe(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

static void escape_terminal(struct sink *k, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    char tmp[16];
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = rs_utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            snprintf(tmp, sizeof tmp, "\\x%02X", s[i]);
            put(k, tmp, strlen(tmp));
            i++;
            continue;
        }
        if (!terminal_unsafe(cp)) {
            put(k, (const char *)s + i, n);
        } else if (cp == '\n') {
            put(k, "\\n", 2);
        } else if (cp == '\t') {
            put(k, "\\t", 2);
        } else if (cp == '\r') {
            put(k, "\\r", 2);
        } else if (cp < 0x80) {
            snprintf(tmp, sizeof tmp, "\\x%02X", (unsigned)cp);
            put(k, tmp, strlen(tmp));
        } else {
            snprintf(tmp, sizeof tmp, "\\u%04X", (unsigned)cp);
            put(k, tmp, strlen(tmp));
        }
        i += n;
    }
}

void rs_fput_escaped(FILE *f, const char *s, size_t len)
{
    struct sink k = {.f = f};
    escape_terminal(&k, s, len);
}

size_t rs_escape_to(char *out, size_t cap, const char *s, size_t len)
{
    if (cap == 0)
        return 0;
    out[0] = '\0';
    struct sink k = {.buf = out, .cap = cap};
    escape_terminal(&k, s, len);
    return k.len;
}

void rs_fput_json_string_body(FILE *f, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = rs_utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            fputs("\\ufffd", f);
            i++;
            continue;
        }
        switch (cp) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (cp < 0x20 || cp == 0x7F)
                fprintf(f, "\\u%04x", (unsigned)cp);
            else
                fwrite(s + i, 1, n, f);
        }
        i += n;
    }
}
