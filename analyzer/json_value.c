#include "json_value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct parser {
    const char *s;
    size_t len, pos;
    char *err;
    size_t errcap;
    bool failed;
};

static int fail(struct parser *p, const char *what)
{
    if (!p->failed)
        snprintf(p->err, p->errcap, "%s at byte %zu", what, p->pos);
    p->failed = true;
    return -1;
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static bool lit(struct parser *p, const char *w)
{
    size_t n = strlen(w);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
        return false;
    p->pos += n;
    return true;
}

static int hex4(struct parser *p, unsigned *out)
{
    if (p->len - p->pos < 4)
        return fail(p, "short \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return fail(p, "bad \\u escape");
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* At the opening quote. */
static int string(struct parser *p, char **out, size_t *outlen)
{
    p->pos++;
    size_t start = p->pos;
    while (p->pos < p->len && p->s[p->pos] != '"') /* the decoded text is never longer */
        p->pos += p->s[p->pos] == '\\' ? 2 : 1;
    if (p->pos >= p->len)
        return fail(p, "unterminated string");
    size_t end = p->pos;
    char *o = malloc(end - start + 1);
    if (!o)
        return fail(p, "out of memory");
    size_t n = 0;
    p->pos = start;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos++];
        if (c < 0x20) {
            free(o);
            return fail(p, "control character in a string");
        }
        if (c != '\\') {
            o[n++] = (char)c;
            continue;
        }
        char e = p->s[p->pos++];
        unsigned cp;
        switch (e) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u':
            if (hex4(p, &cp)) {
                free(o);
                return -1;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF && p->pos + 6 <= end && p->s[p->pos] == '\\' &&
                p->s[p->pos + 1] == 'u') {
                unsigned lo;
                size_t save = p->pos;
                p->pos += 2;
                if (hex4(p, &lo)) {
                    free(o);
                    return -1;
                }
                if (lo >= 0xDC00 && lo <= 0xDFFF)
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                else
                    p->pos = save;
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD; /* a lone surrogate */
            n += put_utf8(o + n, cp); /* \uXXXX is 6 bytes: room for 4 */
            break;
        default:
            free(o);
            return fail(p, "bad escape");
        }
    }
    p->pos = end + 1;
    o[n] = '\0';
    *out = o;
    *outlen = n;
    return 0;
}

static int value(struct parser *p, struct rs_jv *v, int depth);

static int push(struct parser *p, struct rs_jv *v, size_t *cap, bool keyed)
{
    if (v->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct rs_jv *it = realloc(v->items, nc * sizeof *it);
        if (!it)
            return fail(p, "out of memory");
        v->items = it;
        if (keyed) {
            char **k = realloc(v->keys, nc * sizeof *k);
            if (!k)
                return fail(p, "out of memory");
            v->keys = k;
        }
        *cap = nc;
    }
    memset(&v->items[v->n], 0, sizeof v->items[0]);
    if (keyed)
        v->keys[v->n] = NULL;
    v->n++;
    return 0;
}

static int container(struct parser *p, struct rs_jv *v, int depth, bool obj)
{
    if (depth >= MAX_DEPTH)
        return fail(p, "nested too deeply");
    v->type = obj ? RS_JV_OBJECT : RS_JV_ARRAY;
    p->pos++;
    size_t cap = 0;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
        p->pos++;
        return 0;
    }
    for (;;) {
        skip_ws(p);
        if (push(p, v, &cap, obj))
            return -1;
        if (obj) {
            size_t klen;
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return fail(p, "expected a key");
            if (string(p, &v->keys[v->n - 1], &klen))
                return -1;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':')
                return fail(p, "expected ':'");
            p->pos++;
        }
        if (value(p, &v->items[v->n - 1], depth + 1))
            return -1;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
            p->pos++;
            return 0;
        }
        return fail(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int number(struct parser *p, struct rs_jv *v)
{
    size_t start = p->pos;
    if (p->s[p->pos] == '-')
        p->pos++;
    size_t digits = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
        p->pos++;
    if (p->pos == digits)
        return fail(p, "bad number");
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        size_t f = p->pos;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
        if (p->pos == f)
            return fail(p, "bad number");
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        size_t e = p->pos;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
        if (p->pos == e)
            return fail(p, "bad number");
    }
    v->type = RS_JV_NUMBER;
    v->len = p->pos - start;
    if (!(v->str = malloc(v->len + 1)))
        return fail(p, "out of memory");
    memcpy(v->str, p->s + start, v->len);
    v->str[v->len] = '\0';
    return 0;
}

static int value(struct parser *p, struct rs_jv *v, int depth)
{
    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, "unexpected end");
    char c = p->s[p->pos];
    if (c == '{' || c == '[')
        return container(p, v, depth, c == '{');
    if (c == '"') {
        v->type = RS_JV_STRING;
        return string(p, &v->str, &v->len);
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return number(p, v);
    if (lit(p, "true") || lit(p, "false")) {
        v->type = RS_JV_BOOL;
        v->b = p->s[p->pos - 1] == 'e' && p->s[p->pos - 2] == 'u';
        return 0;
    }
    if (lit(p, "null")) {
        v->type = RS_JV_NULL;
        return 0;
    }
    return fail(p, "unexpected character");
}

int rs_jv_parse(const char *text, size_t len, struct rs_jv *out, char *err, size_t errcap)
{
    struct parser p = {.s = text, .len = len, .err = err, .errcap = errcap};
    memset(out, 0, sizeof *out);
    if (value(&p, out, 0) == 0) {
        skip_ws(&p);
        if (p.pos == p.len)
            return 0;
        fail(&p, "text after the JSON value");
    }
    rs_jv_free(out);
    return -1;
}

void rs_jv_free(struct rs_jv *v)
{
    for (size_t i = 0; i < v->n; i++) {
        rs_jv_free(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    memset(v, 0, sizeof *v);
}

const struct rs_jv *rs_jv_get(const struct rs_jv *v, const char *key)
{
    if (!v || v->type != RS_JV_OBJECT)
        return NULL;
    for (size_t i = 0; i < v->n; i++) {
        if (v->keys[i] && strcmp(v->keys[i], key) == 0)
            return &v->items[i];
    }
    return NULL;
}

const char *rs_jv_str(const struct rs_jv *v)
{
    return v && v->type == RS_JV_STRING ? v->str : NULL;
}
