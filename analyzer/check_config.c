/* refscope check: rule limits, suppressions and the config file.
 *
 * The config file (.refscope-check, found in the current directory or a parent up to the
 * repository's top) is line-based:
 *
 *     # comment
 *     max-leaked-bytes = 1MB          # a size (B, kB, MB, GB, KiB, MiB, GiB) or off
 *     max-growth = 100                # objects, or off
 *     max-leaked-references = 0
 *     max-uncollectable = 0
 *     max-cyclic-garbage = 1000
 *     baseline-tolerance = 10%
 *     default-suppressions = yes      # or no
 *     suppress type:myapp.Session
 *     suppress site:*\/myapp/cache.py:*
 *     suppress stack:*warm_up*
 *     suppress rule:growth type:dict site:*\/myapp/registry.py:*
 *
 * A suppression is one or more terms that must all match; a term is negated by a leading
 * '!'. Errors name the file and line. */
#include "check.h"

#include "snap_sites.h"
#include "symbolize.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const rule_ids[RS_RULE_COUNT] = {
    "leaked-bytes", "growth", "leaked-references", "uncollectable", "cyclic-garbage",
};
static const char *const rule_keys[RS_RULE_COUNT] = {
    "max-leaked-bytes", "max-growth", "max-leaked-references", "max-uncollectable",
    "max-cyclic-garbage",
};

const char *rs_check_rule_id(enum rs_check_rule r)
{
    return r < RS_RULE_COUNT ? rule_ids[r] : "?";
}

const char *rs_check_rule_key(enum rs_check_rule r)
{
    return r < RS_RULE_COUNT ? rule_keys[r] : "?";
}

int rs_check_rule_from_id(const char *id)
{
    for (int r = 0; r < RS_RULE_COUNT; r++) {
        if (strcmp(id, rule_ids[r]) == 0)
            return r;
    }
    return -1;
}

const char *rs_check_rule_unit(enum rs_check_rule r)
{
    return r == RS_RULE_LEAKED_BYTES ? "bytes" : "objects";
}

const char *rs_verdict_name(enum rs_verdict v)
{
    switch (v) {
    case RS_VERDICT_PASS: return "pass";
    case RS_VERDICT_FAIL: return "fail";
    case RS_VERDICT_SKIPPED: return "skipped";
    case RS_VERDICT_OFF: return "off";
    }
    return "?";
}

/* ---- the built-in suppressions ------------------------------------------------------ */

/* What a program that does not leak still shows, because the interpreter, the standard
 * library or the C library keep it on purpose. Each is a suppression in the config file's
 * syntax; `refscope check --show-config` prints them. */
static const struct {
    const char *text;
    const char *why;
} default_suppressions[] = {
    {"interpreter",
     "made by the interpreter itself: interpreter start-up and teardown, module imports "
     "(modules imported late included), frozen modules, code with no Python frame"},
    {"site:*/re.py:*", "re's cache of compiled patterns (3.8-3.10)"},
    {"site:*/sre_compile.py:*", "re's cache of compiled patterns (3.8-3.10)"},
    {"site:*/sre_parse.py:*", "re's cache of compiled patterns (3.8-3.10)"},
    {"site:*/re/__init__.py:*", "re's cache of compiled patterns (3.11+)"},
    {"site:*/re/_compiler.py:*", "re's cache of compiled patterns (3.11+)"},
    {"site:*/re/_parser.py:*", "re's cache of compiled patterns (3.11+)"},
    {"site:*/functools.py:*",
     "functools caches: lru_cache wrappers, singledispatch registries, cached_property"},
    {"type:functools._lru_list_elem", "the links of functools.lru_cache's cache (C)"},
    {"site:*/typing.py:*", "typing's caches of parametrised generics (List[int]...)"},
    {"site:*/linecache.py:*", "linecache: source lines of the files tracebacks showed"},
    {"site:*/tokenize.py:*", "linecache: source lines of the files tracebacks showed"},
    {"site:*/encodings/*", "codecs found by the codec registry, cached for good"},
    {"rule:leaked-references type:_contextvars.Context",
     "the thread state holds its current contextvars context"},
    {"rule:leaked-references type:Context",
     "the thread state holds its current contextvars context (3.8, 3.9)"},
    {"rule:leaked-references type:hamt*", "the thread state's contextvars context"},
    {"rule:leaked-references site:*/lib/python3.*/* !site:*-packages/*",
     "standard-library objects held from C by the interpreter: argument parsers' keyword "
     "tuples, the abc caches, running threads' bootstrap, empty singletons"},
    {"stack:__nss_*", "glibc keeps its name-service (NSS) state for the process"},
    {"stack:__resolv_context_get*", "glibc keeps its resolver state for the process"},
    {"stack:bindtextdomain", "glibc keeps gettext's message-catalog bindings for the process"},
    /* Run-once initializers make what the process keeps: never more than once. */
    {"stack:__pthread_once_slow", "what a pthread_once initializer makes, once per process"},
    {"stack:once_cell::*", "Rust's lazily initialized statics (once_cell)"},
    {"stack:pyo3::sync::*[Oo]nce*", "Rust extensions' lazily initialized statics (pyo3)"},
    {"stack:pyo3::impl_::pyclass::lazy_type_object::*",
     "pyo3 makes each Rust class's Python type once, on first use"},
    /* OpenSSL 3 builds these on first use and frees them only in OPENSSL_cleanup at exit,
     * which a library that initializes it with OPENSSL_INIT_NO_ATEXIT never runs (the
     * Rust bindings of pip's `cryptography`, with their own copy of OpenSSL). */
    {"stack:ossl_method_construct*", "OpenSSL 3's store of the algorithms it fetched"},
    {"stack:ossl_method_store_cache_set", "OpenSSL 3's cache of the algorithms it fetched"},
    {"stack:ossl_namemap_*", "OpenSSL 3's table of algorithm names"},
    {"stack:rand_get0_primary", "OpenSSL 3's random generators, one per process and thread"},
    {"stack:rand_new_drbg", "OpenSSL 3's random generators, one per process and thread"},
    {"stack:CRYPTO_THREAD_set_local_ex", "OpenSSL 3's per-thread state"},
    {"stack:ossl_init_thread_start", "OpenSSL 3's per-thread state"},
    {"stack:RAND_*bytes_ex stack:ossl_sa_set", "OpenSSL 3's per-thread random generators"},
    {"rule:leaked-bytes stack:orjson.cpython-*.so",
     "orjson keeps one parse buffer (8 MiB) for the process; its objects are Python's"},
    {"stack:textdomain", "glibc keeps gettext's message-catalog bindings for the process"},
};

#define NDEFAULTS (sizeof default_suppressions / sizeof *default_suppressions)

/* ---- configuration ------------------------------------------------------------------- */

void rs_check_config_init(struct rs_check_config *c)
{
    memset(c, 0, sizeof *c);
    c->limit[RS_RULE_LEAKED_BYTES] = 0;
    c->limit[RS_RULE_GROWTH] = RS_DEFAULT_MAX_GROWTH;
    c->limit[RS_RULE_LEAKED_REFS] = 0;
    c->limit[RS_RULE_UNCOLLECTABLE] = 0;
    c->limit[RS_RULE_CYCLIC_GARBAGE] = RS_DEFAULT_MAX_CYCLIC_GARBAGE;
    for (int r = 0; r < RS_RULE_COUNT; r++)
        c->limit_origin[r] = "default";
    c->defaults = true;
    c->tolerance_pct = RS_DEFAULT_TOLERANCE_PCT;
}

static void free_supp(struct rs_suppression *s)
{
    for (size_t i = 0; i < s->nterms; i++)
        free(s->terms[i].pattern);
    free(s->terms);
    free(s->text);
    free(s->origin);
}

void rs_check_config_free(struct rs_check_config *c)
{
    for (size_t i = 0; i < c->nsupp; i++)
        free_supp(&c->supp[i]);
    free(c->supp);
    free(c->file);
    memset(c, 0, sizeof *c);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

bool rs_parse_limit(const char *s, bool bytes, uint64_t *out)
{
    while (isspace((unsigned char)*s))
        s++;
    if (strcasecmp(s, "off") == 0 || strcasecmp(s, "none") == 0 ||
        strcasecmp(s, "unlimited") == 0) {
        *out = RS_LIMIT_OFF;
        return true;
    }
    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    double whole = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return false;
    bool fraction = false;
    if (*end == '.') { /* 1.5MB */
        whole = strtod(s, &end);
        fraction = true;
    }
    while (isspace((unsigned char)*end))
        end++;
    uint64_t mult = 1;
    if (*end) {
        if (!bytes)
            return false;
        static const struct {
            const char *unit;
            uint64_t mult;
        } units[] = {
            {"b", 1}, {"byte", 1}, {"bytes", 1},
            {"k", 1000}, {"kb", 1000}, {"m", 1000000}, {"mb", 1000000},
            {"g", 1000000000}, {"gb", 1000000000},
            {"kib", 1024}, {"mib", 1024 * 1024}, {"gib", 1024 * 1024 * 1024},
        };
        size_t i;
        for (i = 0; i < sizeof units / sizeof *units; i++) {
            if (strcasecmp(end, units[i].unit) == 0)
                break;
        }
        if (i == sizeof units / sizeof *units)
            return false;
        mult = units[i].mult;
    } else if (fraction) {
        return false;
    }
    if (fraction) {
        double d = whole * (double)mult;
        if (d < 0 || d >= 1.8e19)
            return false;
        *out = (uint64_t)(d + 0.5);
        return true;
    }
    if (v > UINT64_MAX / mult)
        return false;
    *out = (uint64_t)v * mult;
    return *out != RS_LIMIT_OFF;
}

static bool parse_bool(const char *s, bool *out)
{
    if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcasecmp(s, "on") ||
        !strcmp(s, "1")) {
        *out = true;
        return true;
    }
    if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcasecmp(s, "off") ||
        !strcmp(s, "0")) {
        *out = false;
        return true;
    }
    return false;
}

int rs_check_config_set(struct rs_check_config *c, const char *key, const char *value,
                        const char *origin, char *err, size_t errcap)
{
    for (int r = 0; r < RS_RULE_COUNT; r++) {
        if (strcmp(key, rule_keys[r]) != 0)
            continue;
        uint64_t v;
        if (!rs_parse_limit(value, r == RS_RULE_LEAKED_BYTES, &v)) {
            snprintf(err, errcap, "%s: '%s' is not %s or off", key, value,
                     r == RS_RULE_LEAKED_BYTES ? "a size (1000, 64kB, 1MB, 2MiB)"
                                               : "a whole number");
            return -1;
        }
        c->limit[r] = v;
        c->limit_origin[r] = origin;
        return 0;
    }
    if (strcmp(key, "default-suppressions") == 0) {
        if (!parse_bool(value, &c->defaults)) {
            snprintf(err, errcap, "%s: '%s' is not yes or no", key, value);
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "baseline-tolerance") == 0) {
        char buf[32];
        snprintf(buf, sizeof buf, "%s", value);
        char *v = trim(buf);
        size_t n = strlen(v);
        if (n && v[n - 1] == '%')
            v[--n] = '\0';
        unsigned pct;
        char *end;
        errno = 0;
        unsigned long l = strtoul(v, &end, 10);
        if (!n || errno || *trim(end) || l > 1000000 || !isdigit((unsigned char)v[0])) {
            snprintf(err, errcap, "%s: '%s' is not a percentage", key, value);
            return -1;
        }
        pct = (unsigned)l;
        c->tolerance_pct = pct;
        return 0;
    }
    snprintf(err, errcap, "unknown setting '%s' (known: max-leaked-bytes, max-growth, "
             "max-leaked-references, max-uncollectable, max-cyclic-garbage, "
             "baseline-tolerance, default-suppressions, suppress)", key);
    return -1;
}

static int parse_term(const char *word, struct rs_supp_term *t, char *err, size_t errcap)
{
    memset(t, 0, sizeof *t);
    if (*word == '!') {
        t->negate = true;
        word++;
    }
    if (strcmp(word, "interpreter") == 0) {
        t->kind = RS_TERM_INTERPRETER;
        return 0;
    }
    static const struct {
        const char *prefix;
        enum rs_term_kind kind;
    } kinds[] = {
        {"type:", RS_TERM_TYPE}, {"site:", RS_TERM_SITE}, {"stack:", RS_TERM_STACK},
        {"rule:", RS_TERM_RULE},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        size_t n = strlen(kinds[i].prefix);
        if (strncmp(word, kinds[i].prefix, n) != 0)
            continue;
        const char *pat = word + n;
        if (!*pat) {
            snprintf(err, errcap, "'%s' needs a pattern after the colon", word);
            return -1;
        }
        t->kind = kinds[i].kind;
        if (t->kind == RS_TERM_RULE) {
            t->rule = rs_check_rule_from_id(pat);
            if (t->rule < 0) {
                snprintf(err, errcap, "unknown rule '%s' (rules: leaked-bytes, growth, "
                         "leaked-references, uncollectable, cyclic-garbage)", pat);
                return -1;
            }
        }
        t->pattern = strdup(pat);
        if (!t->pattern) {
            snprintf(err, errcap, "out of memory");
            return -1;
        }
        return 0;
    }
    snprintf(err, errcap, "'%s' is not a suppression term (type:GLOB, site:GLOB, stack:GLOB, "
             "rule:RULE, interpreter; '!' before one negates it)", word);
    return -1;
}

int rs_check_add_suppression(struct rs_check_config *c, const char *text, const char *origin,
                             const char *why, char *err, size_t errcap)
{
    struct rs_suppression s;
    memset(&s, 0, sizeof s);
    char *copy = strdup(text);
    size_t cap = 0;
    if (!copy)
        goto nomem;
    char *save = NULL;
    for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (!rs_grow((void **)&s.terms, &cap, s.nterms, sizeof *s.terms))
            goto nomem;
        if (parse_term(w, &s.terms[s.nterms], err, errcap) != 0) {
            free(copy);
            free_supp(&s);
            return -1;
        }
        struct rs_supp_term *t = &s.terms[s.nterms++];
        if (t->kind == RS_TERM_TYPE)
            s.has_type = true;
        if (t->kind == RS_TERM_SITE || t->kind == RS_TERM_STACK || t->kind == RS_TERM_INTERPRETER)
            s.has_where = true;
    }
    free(copy);
    copy = NULL;
    if (!s.nterms) {
        snprintf(err, errcap, "an empty suppression (give type:GLOB, site:GLOB or stack:GLOB)");
        return -1;
    }
    bool only_rule = true;
    for (size_t i = 0; i < s.nterms; i++)
        only_rule = only_rule && s.terms[i].kind == RS_TERM_RULE && !s.terms[i].negate;
    if (only_rule) {
        snprintf(err, errcap, "suppressing a whole rule: set its limit to off instead");
        free_supp(&s);
        return -1;
    }
    /* The text, normalised (single spaces). */
    size_t len = 0;
    for (size_t i = 0; i < s.nterms; i++)
        len += strlen(text) + 16;
    s.text = malloc(len + 1);
    s.origin = strdup(origin);
    if (!s.text || !s.origin)
        goto nomem;
    s.text[0] = '\0';
    for (size_t i = 0; i < s.nterms; i++) {
        const struct rs_supp_term *t = &s.terms[i];
        static const char *const names[] = {"type:", "site:", "stack:", "rule:", "interpreter"};
        if (i)
            strcat(s.text, " ");
        if (t->negate)
            strcat(s.text, "!");
        strcat(s.text, names[t->kind]);
        if (t->pattern)
            strcat(s.text, t->pattern);
    }
    s.why = why;
    if (!rs_grow((void **)&c->supp, &c->cap, c->nsupp, sizeof *c->supp))
        goto nomem;
    c->supp[c->nsupp++] = s;
    return 0;
nomem:
    free(copy);
    free_supp(&s);
    snprintf(err, errcap, "out of memory");
    return -1;
}

int rs_check_config_read(struct rs_check_config *c, const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    free(c->file);
    c->file = strdup(path);
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    int rc = 0;
    char msg[512];
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *hash = line;
        /* A comment starts with '#' at the start or after a space ('#' inside a pattern,
         * like site:*#x, stays). */
        while ((hash = strchr(hash, '#'))) {
            if (hash == line || isspace((unsigned char)hash[-1])) {
                *hash = '\0';
                break;
            }
            hash++;
        }
        char *s = trim(line);
        if (!*s)
            continue;
        char origin[PATH_MAX + 32];
        snprintf(origin, sizeof origin, "%s:%u", path, lineno);
        msg[0] = '\0';
        if (strncmp(s, "suppress", 8) == 0 && (isspace((unsigned char)s[8]) || s[8] == '=')) {
            char *rest = trim(s + 8);
            if (*rest == '=')
                rest = trim(rest + 1);
            if (rs_check_add_suppression(c, rest, origin, NULL, msg, sizeof msg) == 0)
                continue;
        } else {
            char *eq = strchr(s, '=');
            if (!eq) {
                snprintf(msg, sizeof msg, "expected 'key = value' or 'suppress TERM...'");
            } else {
                *eq = '\0';
                char *key = trim(s), *value = trim(eq + 1);
                /* Origins must outlive the config: keep the file's name only. */
                if (rs_check_config_set(c, key, value, c->file, msg, sizeof msg) == 0)
                    continue;
            }
        }
        snprintf(err, errcap, "%s:%u: %s", path, lineno, msg);
        rc = -1;
        break;
    }
    free(line);
    fclose(f);
    return rc;
}

char *rs_check_config_find(void)
{
    char dir[PATH_MAX];
    if (!getcwd(dir, sizeof dir))
        return NULL;
    for (;;) {
        char path[PATH_MAX + 32];
        struct stat st;
        snprintf(path, sizeof path, "%s/.refscope-check", strcmp(dir, "/") ? dir : "");
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            return strdup(path);
        snprintf(path, sizeof path, "%s/.git", strcmp(dir, "/") ? dir : "");
        if (stat(path, &st) == 0 || strcmp(dir, "/") == 0)
            return NULL; /* the repository's top, or the root */
        char *slash = strrchr(dir, '/');
        if (!slash)
            return NULL;
        if (slash == dir)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
}

int rs_check_config_finish(struct rs_check_config *c)
{
    if (!c->defaults)
        return 0;
    char err[256];
    for (size_t i = 0; i < NDEFAULTS; i++) {
        if (rs_check_add_suppression(c, default_suppressions[i].text, "default",
                                     default_suppressions[i].why, err, sizeof err) != 0)
            return -1;
    }
    return 0;
}

static void write_limit(FILE *out, const struct rs_check_config *c, enum rs_check_rule r)
{
    fprintf(out, "%s = ", rule_keys[r]);
    if (c->limit[r] == RS_LIMIT_OFF)
        fputs("off", out);
    else
        fprintf(out, "%llu", (unsigned long long)c->limit[r]);
    fprintf(out, "%*s# %s\n", 8, "", c->limit_origin[r]);
}

void rs_check_config_write(const struct rs_check_config *c, FILE *out)
{
    fputs("# refscope check: the effective configuration", out);
    if (c->file)
        fprintf(out, " (config file: %s)", c->file);
    fputs("\n", out);
    for (int r = 0; r < RS_RULE_COUNT; r++)
        write_limit(out, c, r);
    fprintf(out, "baseline-tolerance = %u%%\n", c->tolerance_pct);
    fprintf(out, "default-suppressions = %s\n", c->defaults ? "yes" : "no");
    for (size_t i = 0; i < c->nsupp; i++) {
        const struct rs_suppression *s = &c->supp[i];
        fprintf(out, "suppress %s", s->text);
        if (s->why)
            fprintf(out, "    # %s: %s", s->origin, s->why);
        else
            fprintf(out, "    # %s", s->origin);
        fputc('\n', out);
    }
}

/* ---- matching ------------------------------------------------------------------------- */

static bool glob(const char *pattern, const char *s)
{
    return s && fnmatch(pattern, s, 0) == 0;
}

bool rs_supp_rule_match(const struct rs_suppression *s, int rule)
{
    for (size_t i = 0; i < s->nterms; i++) {
        const struct rs_supp_term *t = &s->terms[i];
        if (t->kind == RS_TERM_RULE && (t->rule == rule) == t->negate)
            return false;
    }
    return true;
}

bool rs_supp_type_match(const struct rs_suppression *s, const char *type)
{
    for (size_t i = 0; i < s->nterms; i++) {
        const struct rs_supp_term *t = &s->terms[i];
        if (t->kind != RS_TERM_TYPE)
            continue;
        bool m = false;
        if (type) {
            const char *display = strncmp(type, "builtins.", 9) == 0 && type[9] ? type + 9 : type;
            m = glob(t->pattern, type) || glob(t->pattern, display);
        }
        if (m == t->negate)
            return false;
    }
    return true;
}

/* "FILE:LINE FUNCTION", "FILE:LINE" (for patterns with a colon), the function, the file,
 * the module: a frame matches when the pattern matches any of them. */
static bool frame_match(const char *pattern, const struct rs_frame *f)
{
    char buf[4096];
    if (f->file) {
        if (f->line > 0 && strchr(pattern, ':')) {
            snprintf(buf, sizeof buf, "%s:%d", f->file, f->line);
            if (glob(pattern, buf))
                return true;
            if (f->function) {
                snprintf(buf, sizeof buf, "%s:%d %s", f->file, f->line, f->function);
                if (glob(pattern, buf))
                    return true;
            }
        }
        if (glob(pattern, f->file))
            return true;
    }
    return glob(pattern, f->function) || glob(pattern, f->module) ||
           glob(pattern, f->module_path);
}

static bool site_match(const char *pattern, const struct rs_site_name *site)
{
    if (!site)
        return glob(pattern, "(unknown site)");
    if (site->text && glob(pattern, site->text))
        return true;
    return site->frame && frame_match(pattern, site->frame);
}

bool rs_supp_where_match(const struct rs_suppression *s, const struct rs_site_name *site,
                         const struct rs_frames *frames, bool python)
{
    for (size_t i = 0; i < s->nterms; i++) {
        const struct rs_supp_term *t = &s->terms[i];
        bool m;
        switch (t->kind) {
        case RS_TERM_SITE:
            m = site_match(t->pattern, site);
            break;
        case RS_TERM_STACK:
            m = false;
            for (size_t k = 0; frames && k < frames->n && !m; k++)
                m = frame_match(t->pattern, frames->v[k]);
            break;
        case RS_TERM_INTERPRETER:
            m = python && (!site || site->internal);
            break;
        default:
            continue;
        }
        if (m == t->negate)
            return false;
    }
    return true;
}
