/* refscope check: the baseline (an earlier check's JSON) and the outputs: text for a
 * terminal, JSON (refscope.check/1, docs/json-schema.md), JUnit XML, Markdown. Strings from
 * the traced program (types, sites, labels, argv) are escaped for each format. */
#include "check.h"

#include "escape.h"
#include "format_num.h"
#include "json_value.h"
#include "json_writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- baseline ------------------------------------------------------------------------ */

struct base_entry {
    char *key;
    char *loose;
    uint64_t value;
};

struct rs_baseline {
    struct base_entry *v[RS_RULE_COUNT];
    size_t n[RS_RULE_COUNT];
};

void rs_baseline_free(struct rs_baseline *b)
{
    if (!b)
        return;
    for (int r = 0; r < RS_RULE_COUNT; r++) {
        for (size_t i = 0; i < b->n[r]; i++) {
            free(b->v[r][i].key);
            free(b->v[r][i].loose);
        }
        free(b->v[r]);
    }
    free(b);
}

static bool jv_u64(const struct rs_jv *v, uint64_t *out)
{
    if (!v || v->type != RS_JV_NUMBER || !v->str)
        return false;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v->str, &end, 10);
    if (errno || *end || v->str[0] == '-')
        return false;
    *out = x;
    return true;
}

int rs_baseline_load(struct rs_baseline **out, const char *path, char *err, size_t errcap)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "baseline %s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    size_t got;
    while (text && (got = fread(text + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            if (cap > ((size_t)1 << 30)) {
                free(text);
                text = NULL;
                break;
            }
            char *p = realloc(text, cap * 2);
            if (!p) {
                free(text);
                text = NULL;
                break;
            }
            text = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (!text) {
        snprintf(err, errcap, "baseline %s: too large or out of memory", path);
        return -1;
    }
    struct rs_jv doc;
    char jerr[256];
    if (rs_jv_parse(text, len, &doc, jerr, sizeof jerr) != 0) {
        free(text);
        snprintf(err, errcap, "baseline %s: not JSON: %s", path, jerr);
        return -1;
    }
    free(text);
    const char *schema = rs_jv_str(rs_jv_get(&doc, "schema"));
    const struct rs_jv *rules = rs_jv_get(&doc, "rules");
    if (!schema || strcmp(schema, "refscope.check/1") != 0 || !rules ||
        rules->type != RS_JV_ARRAY) {
        rs_jv_free(&doc);
        snprintf(err, errcap, "baseline %s: not the JSON of refscope check (schema "
                 "refscope.check/1)", path);
        return -1;
    }
    struct rs_baseline *b = calloc(1, sizeof *b);
    if (!b)
        goto nomem;
    for (size_t i = 0; i < rules->n; i++) {
        const struct rs_jv *rule = &rules->items[i];
        const char *id = rs_jv_str(rs_jv_get(rule, "rule"));
        int r = id ? rs_check_rule_from_id(id) : -1;
        const struct rs_jv *fs = rs_jv_get(rule, "findings");
        if (r < 0 || !fs || fs->type != RS_JV_ARRAY)
            continue;
        b->v[r] = calloc(fs->n ? fs->n : 1, sizeof *b->v[r]);
        if (!b->v[r])
            goto nomem;
        for (size_t k = 0; k < fs->n; k++) {
            const struct rs_jv *fv = &fs->items[k];
            const char *key = rs_jv_str(rs_jv_get(fv, "key"));
            const char *loose = rs_jv_str(rs_jv_get(fv, "loose_key"));
            uint64_t value;
            if (!key || !jv_u64(rs_jv_get(fv, "value"), &value))
                continue;
            struct base_entry *e = &b->v[r][b->n[r]];
            e->key = strdup(key);
            e->loose = loose ? strdup(loose) : NULL;
            e->value = value;
            if (!e->key || (loose && !e->loose)) {
                free(e->key);
                free(e->loose);
                goto nomem;
            }
            b->n[r]++;
        }
    }
    rs_jv_free(&doc);
    *out = b;
    return 0;
nomem:
    rs_jv_free(&doc);
    rs_baseline_free(b);
    snprintf(err, errcap, "baseline %s: out of memory", path);
    return -1;
}

bool rs_baseline_find(const struct rs_baseline *b, enum rs_check_rule rule, const char *key,
                      const char *loose_key, uint64_t *value)
{
    for (size_t i = 0; i < b->n[rule]; i++) {
        if (strcmp(b->v[rule][i].key, key) == 0) {
            *value = b->v[rule][i].value;
            return true;
        }
    }
    /* The same site after an edit moved its line: the loose key (file and function). */
    for (size_t i = 0; loose_key && i < b->n[rule]; i++) {
        if (b->v[rule][i].loose && strcmp(b->v[rule][i].loose, loose_key) == 0) {
            *value = b->v[rule][i].value;
            return true;
        }
    }
    return false;
}

/* ---- shared ------------------------------------------------------------------------------ */

static const char *limit_text(char *buf, uint64_t limit)
{
    if (limit == RS_LIMIT_OFF)
        return "off";
    return rs_fmt_count(buf, limit);
}

static bool over_limit(const struct rs_check_result *r, const struct rs_check_finding *f)
{
    if (r->verdict != RS_VERDICT_FAIL && r->verdict != RS_VERDICT_PASS)
        return false;
    return r->per_item ? f->excess > r->limit : f->excess > 0 && r->verdict == RS_VERDICT_FAIL;
}

static const char *verdict_word(const struct rs_check *c)
{
    return c->failures ? "FAIL" : "pass";
}

/* ---- text ---------------------------------------------------------------------------------- */

static void put(FILE *out, const char *s)
{
    if (s)
        rs_fput_escaped(out, s, strlen(s));
}

void rs_check_write_text(const struct rs_check *c, FILE *out, bool verbose)
{
    fputs("refscope check: ", out);
    put(out, c->path);
    fprintf(out, ": %s", verdict_word(c));
    unsigned active = 0;
    for (int r = 0; r < RS_RULE_COUNT; r++)
        active += c->results[r].verdict == RS_VERDICT_PASS ||
                  c->results[r].verdict == RS_VERDICT_FAIL;
    if (c->failures)
        fprintf(out, " (%u of %u rule%s broken)", c->failures, active, active == 1 ? "" : "s");
    fputc('\n', out);
    for (int r = 0; r < RS_RULE_COUNT; r++) {
        const struct rs_check_result *res = &c->results[r];
        if (res->verdict != RS_VERDICT_FAIL)
            continue;
        fprintf(out, "FAIL %s: ", rs_check_rule_id(r));
        put(out, res->reason);
        fputc('\n', out);
    }
    const char *groups[] = {"pass", "skipped", "off"};
    enum rs_verdict vs[] = {RS_VERDICT_PASS, RS_VERDICT_SKIPPED, RS_VERDICT_OFF};
    bool first_group = true;
    for (int k = 0; k < 3 && !verbose; k++) {
        bool any = false;
        for (int r = 0; r < RS_RULE_COUNT; r++) {
            if (c->results[r].verdict != vs[k])
                continue;
            fprintf(out, "%s%s", any ? ", " : first_group ? "" : "; ", any ? "" : groups[k]);
            if (!any)
                fputs(": ", out);
            fputs(rs_check_rule_id(r), out);
            any = true;
            first_group = false;
        }
    }
    if (!first_group)
        fputc('\n', out);
    if (verbose) {
        for (int r = 0; r < RS_RULE_COUNT; r++) {
            const struct rs_check_result *res = &c->results[r];
            char a[RS_NUM_BUF];
            fprintf(out, "\n%s %s (limit %s %s)\n", rs_verdict_name(res->verdict),
                    rs_check_rule_id(r), limit_text(a, res->limit), rs_check_rule_unit(r));
            if (res->measure) {
                fputs("  measured: ", out);
                put(out, res->measure);
                fputc('\n', out);
            }
            if (res->reason && res->verdict != RS_VERDICT_FAIL) {
                fputs("  ", out);
                put(out, res->reason);
                fputc('\n', out);
            }
            for (size_t i = 0; i < res->nfindings && i < 10; i++) {
                const struct rs_check_finding *f = &res->findings[i];
                fprintf(out, "  %s %s", over_limit(res, f) ? "*" : "-", rs_fmt_count(a, f->value));
                if (f->has_base)
                    fprintf(out, " (baseline %llu)", (unsigned long long)f->base);
                fputs("  ", out);
                put(out, f->key);
                if (f->what) {
                    fputs("  ", out);
                    put(out, f->what);
                }
                fputc('\n', out);
                if (f->chain) {
                    fputs("      held by ", out);
                    put(out, f->chain);
                    fputc('\n', out);
                }
            }
            if (res->nfindings > 10)
                fprintf(out, "  ... %zu more\n", res->nfindings - 10);
            if (res->suppressed)
                fprintf(out, "  suppressed: %s %s\n", rs_fmt_count(a, res->suppressed),
                        rs_check_rule_unit(r));
        }
    }
    for (size_t i = 0; i < c->notes.n; i++) {
        fprintf(out, "%s: ", c->notes.items[i].level == RS_NOTE_WARNING ? "warning" : "note");
        put(out, c->notes.items[i].text);
        fputc('\n', out);
    }
}

/* ---- JSON -------------------------------------------------------------------------------- */

static void json_limit(struct rs_json *j, uint64_t v)
{
    if (v == RS_LIMIT_OFF)
        rs_json_null(j);
    else
        rs_json_u64(j, v);
}

static void json_snap(struct rs_json *j, const char *key, const struct rs_check_snap *s)
{
    rs_json_key(j, key);
    if (!s->present) {
        rs_json_null(j);
        return;
    }
    rs_json_object_begin(j);
    rs_json_key(j, "id");
    rs_json_u64(j, s->id);
    rs_json_key(j, "label");
    rs_json_cstring(j, s->label);
    rs_json_key(j, "time_ns");
    rs_json_u64(j, s->time);
    rs_json_object_end(j);
}

static void json_finding(struct rs_json *j, const struct rs_check_result *r,
                         const struct rs_check_finding *f)
{
    rs_json_object_begin(j);
    rs_json_key(j, "key");
    rs_json_cstring(j, f->key);
    rs_json_key(j, "loose_key");
    rs_json_cstring(j, f->loose_key);
    rs_json_key(j, "type");
    rs_json_cstring(j, f->type);
    rs_json_key(j, "site");
    if (f->site) {
        rs_json_object_begin(j);
        rs_json_key(j, "text");
        rs_json_cstring(j, f->site);
        rs_json_key(j, "file");
        rs_json_cstring(j, f->site_file);
        rs_json_key(j, "line");
        if (f->site_line > 0)
            rs_json_u64(j, (uint64_t)f->site_line);
        else
            rs_json_null(j);
        rs_json_key(j, "function");
        rs_json_cstring(j, f->site_function);
        rs_json_key(j, "called_from");
        rs_json_cstring(j, f->site_caller);
        rs_json_object_end(j);
    } else {
        rs_json_null(j);
    }
    rs_json_key(j, "what");
    rs_json_cstring(j, f->what);
    rs_json_key(j, "value");
    rs_json_u64(j, f->value);
    rs_json_key(j, "count");
    rs_json_u64(j, f->count);
    rs_json_key(j, "bytes");
    rs_json_u64(j, f->bytes);
    rs_json_key(j, "from");
    if (r->rule == RS_RULE_GROWTH)
        rs_json_u64(j, f->from);
    else
        rs_json_null(j);
    rs_json_key(j, "to");
    if (r->rule == RS_RULE_GROWTH)
        rs_json_u64(j, f->to);
    else
        rs_json_null(j);
    rs_json_key(j, "baseline");
    if (f->has_base)
        rs_json_u64(j, f->base);
    else
        rs_json_null(j);
    rs_json_key(j, "excess");
    rs_json_u64(j, f->excess);
    rs_json_key(j, "over_limit");
    rs_json_bool(j, over_limit(r, f));
    rs_json_key(j, "chain");
    rs_json_cstring(j, f->chain);
    rs_json_key(j, "root");
    if (f->root_kind) {
        rs_json_object_begin(j);
        rs_json_key(j, "kind");
        rs_json_cstring(j, f->root_kind);
        rs_json_key(j, "name");
        rs_json_cstring(j, f->root_name);
        rs_json_object_end(j);
    } else {
        rs_json_null(j);
    }
    rs_json_key(j, "steps");
    rs_json_array_begin(j);
    for (size_t i = 0; i < f->nsteps; i++) {
        const struct rs_check_step *st = &f->steps[i];
        char addr[32];
        rs_json_object_begin(j);
        rs_json_key(j, "node");
        rs_json_cstring(j, st->node);
        rs_json_key(j, "type");
        rs_json_cstring(j, st->type);
        rs_json_key(j, "label");
        rs_json_cstring(j, st->label);
        snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)st->addr);
        rs_json_key(j, "address");
        rs_json_cstring(j, addr);
        rs_json_key(j, "edge");
        if (!st->edge_kind) {
            rs_json_null(j);
        } else {
            rs_json_object_begin(j);
            rs_json_key(j, "kind");
            rs_json_cstring(j, st->edge_kind == 3 ? "index" : st->edge_kind == 2 ? "key" : "attr");
            rs_json_key(j, "text");
            rs_json_cstring(j, st->edge_text);
            rs_json_key(j, "index");
            if (st->edge_kind == 3)
                rs_json_u64(j, st->edge_index);
            else
                rs_json_null(j);
            rs_json_object_end(j);
        }
        rs_json_object_end(j);
    }
    rs_json_array_end(j);
    rs_json_object_end(j);
}

void rs_check_write_json(const struct rs_check *c, FILE *out)
{
    struct rs_json j;
    rs_json_init(&j, out);
    rs_json_object_begin(&j);
    rs_json_key(&j, "schema");
    rs_json_cstring(&j, "refscope.check/1");
    rs_json_key(&j, "file");
    rs_json_cstring(&j, c->path);
    rs_json_key(&j, "verdict");
    rs_json_cstring(&j, c->failures ? "fail" : "pass");
    rs_json_key(&j, "failed_rules");
    rs_json_u64(&j, c->failures);
    rs_json_key(&j, "trace");
    rs_json_object_begin(&j);
    rs_json_key(&j, "status");
    rs_json_cstring(&j, c->trace_status);
    rs_json_key(&j, "program");
    rs_json_cstring(&j, c->program && c->program[0] ? c->program : NULL);
    rs_json_key(&j, "python");
    rs_json_bool(&j, c->python);
    rs_json_key(&j, "python_version");
    rs_json_cstring(&j, c->python_version);
    rs_json_object_end(&j);
    rs_json_key(&j, "window");
    rs_json_object_begin(&j);
    rs_json_key(&j, "kind");
    rs_json_cstring(&j, c->window);
    rs_json_key(&j, "snapshots");
    rs_json_u64(&j, c->snapshots);
    json_snap(&j, "from", &c->from);
    json_snap(&j, "to", &c->to);
    rs_json_key(&j, "explicit_from");
    rs_json_bool(&j, c->explicit_from);
    rs_json_object_end(&j);
    rs_json_key(&j, "leak_point");
    rs_json_cstring(&j, c->leak_point);
    rs_json_key(&j, "config");
    rs_json_object_begin(&j);
    rs_json_key(&j, "file");
    rs_json_cstring(&j, c->cfg->file);
    rs_json_key(&j, "default_suppressions");
    rs_json_bool(&j, c->cfg->defaults);
    rs_json_key(&j, "baseline");
    rs_json_cstring(&j, c->opt.baseline);
    rs_json_key(&j, "baseline_tolerance_pct");
    rs_json_u64(&j, c->cfg->tolerance_pct);
    rs_json_key(&j, "limits");
    rs_json_object_begin(&j);
    for (int r = 0; r < RS_RULE_COUNT; r++) {
        rs_json_key(&j, rs_check_rule_key(r));
        json_limit(&j, c->cfg->limit[r]);
    }
    rs_json_object_end(&j);
    rs_json_object_end(&j);
    rs_json_key(&j, "rules");
    rs_json_array_begin(&j);
    for (int r = 0; r < RS_RULE_COUNT; r++) {
        const struct rs_check_result *res = &c->results[r];
        rs_json_object_begin(&j);
        rs_json_key(&j, "rule");
        rs_json_cstring(&j, rs_check_rule_id(r));
        rs_json_key(&j, "verdict");
        rs_json_cstring(&j, rs_verdict_name(res->verdict));
        rs_json_key(&j, "reason");
        rs_json_cstring(&j, res->reason);
        rs_json_key(&j, "limit");
        json_limit(&j, res->limit);
        rs_json_key(&j, "unit");
        rs_json_cstring(&j, rs_check_rule_unit(r));
        rs_json_key(&j, "per_item");
        rs_json_bool(&j, res->per_item);
        rs_json_key(&j, "value");
        rs_json_u64(&j, res->value);
        rs_json_key(&j, "counted");
        rs_json_u64(&j, res->counted);
        rs_json_key(&j, "measure");
        rs_json_cstring(&j, res->measure);
        rs_json_key(&j, "skipped_why");
        rs_json_cstring(&j, res->skipped_why);
        rs_json_key(&j, "suppressed");
        rs_json_u64(&j, res->suppressed);
        rs_json_key(&j, "findings");
        rs_json_array_begin(&j);
        for (size_t i = 0; i < res->nfindings; i++)
            json_finding(&j, res, &res->findings[i]);
        rs_json_array_end(&j);
        rs_json_object_end(&j);
    }
    rs_json_array_end(&j);
    rs_json_key(&j, "suppressions");
    rs_json_array_begin(&j);
    for (size_t i = 0; i < c->nsupp; i++) {
        const struct rs_suppression *s = &c->supp[i];
        rs_json_object_begin(&j);
        rs_json_key(&j, "text");
        rs_json_cstring(&j, s->text);
        rs_json_key(&j, "origin");
        rs_json_cstring(&j, s->origin);
        rs_json_key(&j, "why");
        rs_json_cstring(&j, s->why);
        rs_json_key(&j, "hits");
        rs_json_u64(&j, s->hits);
        rs_json_object_end(&j);
    }
    rs_json_array_end(&j);
    rs_json_key(&j, "notes");
    rs_json_array_begin(&j);
    for (size_t i = 0; i < c->notes.n; i++) {
        rs_json_object_begin(&j);
        rs_json_key(&j, "level");
        rs_json_cstring(&j, c->notes.items[i].level == RS_NOTE_WARNING ? "warning" : "info");
        rs_json_key(&j, "text");
        rs_json_cstring(&j, c->notes.items[i].text);
        rs_json_object_end(&j);
    }
    rs_json_array_end(&j);
    rs_json_key(&j, "elapsed_ns");
    rs_json_u64(&j, c->elapsed_ns);
    rs_json_object_end(&j);
    rs_json_finish(&j);
}

/* ---- XML (JUnit) --------------------------------------------------------------------------- */

/* XML 1.0 text or attribute value: markup characters as entities, newlines kept in text and
 * escaped in attributes, characters XML cannot hold (C0 controls, invalid UTF-8) replaced by
 * U+FFFD. */
static void xml_put(FILE *out, const char *s, bool attr)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char ch = p[i];
        if (ch < 0x80) {
            switch (ch) {
            case '&': fputs("&amp;", out); break;
            case '<': fputs("&lt;", out); break;
            case '>': fputs("&gt;", out); break;
            case '"': fputs(attr ? "&quot;" : "\"", out); break;
            case '\'': fputs(attr ? "&apos;" : "'", out); break;
            case '\n': fputs(attr ? "&#10;" : "\n", out); break;
            case '\t': fputs(attr ? "&#9;" : "\t", out); break;
            case '\r': fputs("&#13;", out); break;
            default:
                if (ch < 0x20 || ch == 0x7f)
                    fputs("\xEF\xBF\xBD", out);
                else
                    fputc(ch, out);
            }
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = rs_utf8_decode(p + i, n - i, &cp);
        if (!len || (cp >= 0x80 && cp <= 0x9f) || cp == 0xFFFE || cp == 0xFFFF) {
            fputs("\xEF\xBF\xBD", out);
            i += len ? len : 1;
            continue;
        }
        fwrite(p + i, 1, len, out);
        i += len;
    }
}

static void xml_finding_lines(FILE *out, const struct rs_check_result *r)
{
    char a[RS_NUM_BUF];
    for (size_t i = 0; i < r->nfindings && i < 20; i++) {
        const struct rs_check_finding *f = &r->findings[i];
        if (!over_limit(r, f))
            continue;
        fprintf(out, "%s%s ", rs_fmt_count(a, f->excess), "");
        xml_put(out, rs_check_rule_unit(r->rule), false);
        fputs(": ", out);
        xml_put(out, f->key, false);
        if (f->what) {
            fputs(" (", out);
            xml_put(out, f->what, false);
            fputc(')', out);
        }
        if (f->site && strncmp(f->key, "site:", 5) != 0) {
            fputs(" at ", out);
            xml_put(out, f->site, false);
        }
        fputc('\n', out);
        if (f->chain) {
            fputs("    held by ", out);
            xml_put(out, f->chain, false);
            fputc('\n', out);
        }
    }
}

void rs_check_write_junit(const struct rs_check *c, FILE *out)
{
    unsigned tests = RS_RULE_COUNT, skipped = 0;
    for (int r = 0; r < RS_RULE_COUNT; r++)
        skipped += c->results[r].verdict == RS_VERDICT_SKIPPED ||
                   c->results[r].verdict == RS_VERDICT_OFF;
    double secs = (double)c->elapsed_ns / 1e9;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out, "<testsuites name=\"refscope check\" tests=\"%u\" failures=\"%u\" errors=\"0\" "
            "skipped=\"%u\" time=\"%.3f\">\n", tests, c->failures, skipped, secs);
    fputs("  <testsuite name=\"refscope check: ", out);
    xml_put(out, c->path, true);
    fprintf(out, "\" tests=\"%u\" failures=\"%u\" errors=\"0\" skipped=\"%u\" time=\"%.3f\">\n",
            tests, c->failures, skipped, secs);
    fputs("    <properties>\n      <property name=\"trace\" value=\"", out);
    xml_put(out, c->path, true);
    fputs("\"/>\n", out);
    if (c->program) {
        fputs("      <property name=\"program\" value=\"", out);
        xml_put(out, c->program, true);
        fputs("\"/>\n", out);
    }
    fprintf(out, "      <property name=\"verdict\" value=\"%s\"/>\n", c->failures ? "fail" : "pass");
    fputs("    </properties>\n", out);
    for (int r = 0; r < RS_RULE_COUNT; r++) {
        const struct rs_check_result *res = &c->results[r];
        fprintf(out, "    <testcase classname=\"refscope.check\" name=\"%s\" time=\"0\"",
                rs_check_rule_id(r));
        switch (res->verdict) {
        case RS_VERDICT_PASS:
            fputs("/>\n", out);
            break;
        case RS_VERDICT_FAIL:
            fputs(">\n      <failure type=\"", out);
            xml_put(out, rs_check_rule_id(r), true);
            fputs("\" message=\"", out);
            xml_put(out, res->reason, true);
            fputs("\">", out);
            xml_put(out, res->reason, false);
            fputs("\n", out);
            if (res->measure) {
                fputs("measured: ", out);
                xml_put(out, res->measure, false);
                fputc('\n', out);
            }
            xml_finding_lines(out, res);
            fputs("</failure>\n    </testcase>\n", out);
            break;
        case RS_VERDICT_SKIPPED:
        case RS_VERDICT_OFF:
            fputs(">\n      <skipped message=\"", out);
            xml_put(out, res->verdict == RS_VERDICT_OFF ? "the rule is off" : res->skipped_why,
                    true);
            fputs("\"/>\n    </testcase>\n", out);
            break;
        }
    }
    if (c->notes.n) {
        fputs("    <system-out>", out);
        for (size_t i = 0; i < c->notes.n; i++) {
            xml_put(out, c->notes.items[i].text, false);
            fputc('\n', out);
        }
        fputs("</system-out>\n", out);
    }
    fputs("  </testsuite>\n</testsuites>\n", out);
}

/* ---- Markdown ------------------------------------------------------------------------------- */

/* Text in a Markdown table cell or paragraph: control characters and invalid UTF-8 as in a
 * terminal, then the characters that would start emphasis, code, links or HTML, or end a
 * table cell, behind a backslash. */
static void md_put(FILE *out, const char *s)
{
    if (!s)
        return;
    char *buf = malloc(strlen(s) * 4 + 1);
    if (!buf)
        return;
    rs_escape_to(buf, strlen(s) * 4 + 1, s, strlen(s));
    for (const char *p = buf; *p; p++) {
        if (strchr("\\`*_[]<>|~", *p))
            fputc('\\', out);
        fputc(*p, out);
    }
    free(buf);
}

/* Inside a code span: backticks cannot be escaped, so they become apostrophes. */
static void md_code(FILE *out, const char *s)
{
    if (!s)
        return;
    char *buf = malloc(strlen(s) * 4 + 1);
    if (!buf)
        return;
    rs_escape_to(buf, strlen(s) * 4 + 1, s, strlen(s));
    fputc('`', out);
    for (const char *p = buf; *p; p++)
        fputc(*p == '`' ? '\'' : *p == '|' ? '/' : *p, out);
    fputc('`', out);
    free(buf);
}

void rs_check_write_markdown(const struct rs_check *c, FILE *out)
{
    char a[RS_NUM_BUF], b[RS_NUM_BUF];
    unsigned active = 0;
    for (int r = 0; r < RS_RULE_COUNT; r++)
        active += c->results[r].verdict == RS_VERDICT_PASS ||
                  c->results[r].verdict == RS_VERDICT_FAIL;
    if (c->failures)
        fprintf(out, "## refscope check: \xE2\x9D\x8C FAIL (%u of %u rule%s broken)\n\n",
                c->failures, active, active == 1 ? "" : "s");
    else
        fprintf(out, "## refscope check: \xE2\x9C\x85 pass (%u rule%s checked)\n\n", active,
                active == 1 ? "" : "s");
    fputs("Trace ", out);
    md_code(out, c->path);
    fprintf(out, " (%s)", c->trace_status);
    if (c->program && c->program[0]) {
        fputs(" of ", out);
        md_code(out, c->program);
    }
    if (c->python)
        fprintf(out, ", Python %s", c->python_version ? c->python_version : "");
    if (c->to.present) {
        if (c->from.present)
            fprintf(out, ", snapshots %u \xE2\x86\x92 %u", (unsigned)c->from.id, (unsigned)c->to.id);
        else
            fprintf(out, ", snapshot %u (since the start)", (unsigned)c->to.id);
    }
    if (c->opt.baseline) {
        fputs(", baseline ", out);
        md_code(out, c->opt.baseline);
    }
    fputs(".\n\n| rule | limit | measured | result |\n| --- | ---: | ---: | --- |\n", out);
    for (int r = 0; r < RS_RULE_COUNT; r++) {
        const struct rs_check_result *res = &c->results[r];
        fprintf(out, "| %s | %s %s | ", rs_check_rule_id(r), limit_text(a, res->limit),
                res->limit == RS_LIMIT_OFF ? "" : rs_check_rule_unit(r));
        if (res->verdict == RS_VERDICT_PASS || res->verdict == RS_VERDICT_FAIL)
            fprintf(out, "%s%s", rs_fmt_count(b, res->counted),
                    res->per_item ? " (largest)" : "");
        else
            fputs("\xE2\x80\x94", out);
        switch (res->verdict) {
        case RS_VERDICT_PASS: fputs(" | \xE2\x9C\x85 pass |\n", out); break;
        case RS_VERDICT_FAIL: fputs(" | \xE2\x9D\x8C **fail** |\n", out); break;
        case RS_VERDICT_SKIPPED:
            fputs(" | skipped: ", out);
            md_put(out, res->skipped_why);
            fputs(" |\n", out);
            break;
        case RS_VERDICT_OFF: fputs(" | off |\n", out); break;
        }
    }
    for (int r = 0; r < RS_RULE_COUNT; r++) {
        const struct rs_check_result *res = &c->results[r];
        if (res->verdict != RS_VERDICT_FAIL)
            continue;
        fprintf(out, "\n### \xE2\x9D\x8C %s\n\n", rs_check_rule_id(r));
        md_put(out, res->reason);
        fputs("\n\n", out);
        if (res->measure) {
            fputs("Measured: ", out);
            md_put(out, res->measure);
            fputs(".\n\n", out);
        }
        fprintf(out, "| %s | finding | site | held by |\n| ---: | --- | --- | --- |\n",
                rs_check_rule_unit(r));
        size_t shown = 0;
        for (size_t i = 0; i < res->nfindings && shown < 10; i++) {
            const struct rs_check_finding *f = &res->findings[i];
            if (!over_limit(res, f))
                continue;
            shown++;
            fprintf(out, "| %s", rs_fmt_count(a, f->excess));
            if (f->has_base)
                fprintf(out, " (was %s)", rs_fmt_count(b, f->base));
            fputs(" | ", out);
            bool at_site = strncmp(f->key, "site:", 5) == 0;
            if (at_site && f->type) {
                fputs("at this site, mostly ", out);
                md_code(out, f->type);
            } else if (f->type) {
                fputs("type ", out);
                md_code(out, f->type);
            } else if (at_site) {
                fputs("at this site", out);
            }
            if (f->what) {
                fputc(' ', out);
                md_put(out, f->what);
            }
            if (r == RS_RULE_GROWTH)
                fprintf(out, ", %s \xE2\x86\x92 %s", rs_fmt_count(a, f->from), rs_fmt_count(b, f->to));
            fputs(" | ", out);
            if (f->site)
                md_code(out, f->site);
            fputs(" | ", out);
            if (f->chain)
                md_code(out, f->chain);
            fputs(" |\n", out);
        }
    }
    if (c->notes.n) {
        fputs("\n<details><summary>Notes</summary>\n\n", out);
        for (size_t i = 0; i < c->notes.n; i++) {
            fputs("- ", out);
            md_put(out, c->notes.items[i].text);
            fputc('\n', out);
        }
        fputs("\n</details>\n", out);
    }
}
