#include "json_writer.h"

#include "escape.h"

#include <math.h>
#include <string.h>

void rs_json_init(struct rs_json *j, FILE *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
}

static void newline(struct rs_json *j)
{
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->out);
}

/* Everything before a value: the comma and the line break, unless it follows its key. */
static void before_value(struct rs_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth == 0)
        return;
    if (j->has_items[j->depth])
        fputc(',', j->out);
    j->has_items[j->depth] = true;
    newline(j);
}

static void json_open(struct rs_json *j, char c)
{
    before_value(j);
    fputc(c, j->out);
    if (j->depth + 1 < RS_JSON_MAX_DEPTH)
        j->depth++;
    j->has_items[j->depth] = false;
}

static void json_close(struct rs_json *j, char c)
{
    bool had = j->has_items[j->depth];
    if (j->depth > 0)
        j->depth--;
    if (had)
        newline(j);
    fputc(c, j->out);
}

void rs_json_object_begin(struct rs_json *j) { json_open(j, '{'); }
void rs_json_object_end(struct rs_json *j) { json_close(j, '}'); }
void rs_json_array_begin(struct rs_json *j) { json_open(j, '['); }
void rs_json_array_end(struct rs_json *j) { json_close(j, ']'); }

void rs_json_key(struct rs_json *j, const char *key)
{
    before_value(j);
    fputc('"', j->out);
    rs_fput_json_string_body(j->out, key, strlen(key));
    fputs("\": ", j->out);
    j->after_key = true;
}

void rs_json_string(struct rs_json *j, const char *s, size_t len)
{
    before_value(j);
    fputc('"', j->out);
    rs_fput_json_string_body(j->out, s, len);
    fputc('"', j->out);
}

void rs_json_cstring(struct rs_json *j, const char *s)
{
    if (s)
        rs_json_string(j, s, strlen(s));
    else
        rs_json_null(j);
}

void rs_json_u64(struct rs_json *j, uint64_t v)
{
    before_value(j);
    fprintf(j->out, "%llu", (unsigned long long)v);
}

void rs_json_i64(struct rs_json *j, int64_t v)
{
    before_value(j);
    fprintf(j->out, "%lld", (long long)v);
}

void rs_json_double(struct rs_json *j, double v)
{
    if (!isfinite(v)) { /* JSON has no NaN or infinity */
        rs_json_null(j);
        return;
    }
    before_value(j);
    fprintf(j->out, "%.17g", v);
}

void rs_json_bool(struct rs_json *j, bool v)
{
    before_value(j);
    fputs(v ? "true" : "false", j->out);
}

void rs_json_null(struct rs_json *j)
{
    before_value(j);
    fputs("null", j->out);
}

void rs_json_finish(struct rs_json *j)
{
    fputc('\n', j->out);
}
