#include "python_frames.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool rs_python_frame_resolve(const struct rs_trace *t, uint64_t code, uint64_t offset,
                             struct rs_frame *out)
{
    out->python = true;
    out->py_code = code;
    out->py_offset = offset;

    struct rs_trace_py_code *pc = NULL;
    HASH_FIND(hh, t->py_codes, &code, sizeof code, pc);
    if (pc) {
        out->py_code_known = true;
        out->py_first_line = pc->first_line;
        /* strndup: the name may hold a NUL; what follows it is not shown anyway */
        if (pc->filename.len && !(out->file = strndup(pc->filename.s, pc->filename.len)))
            return false;
        if (pc->qualname.len && !(out->function = strndup(pc->qualname.s, pc->qualname.len)))
            return false;
    }
    if (!out->function &&
        asprintf(&out->function, "<python code #%llu>", (unsigned long long)code) < 0) {
        out->function = NULL;
        return false;
    }

    struct rs_trace_py_line_key key;
    memset(&key, 0, sizeof key);
    key.code = code;
    key.offset = offset;
    struct rs_trace_py_line *pl = NULL;
    HASH_FIND(hh, t->py_lines, &key, sizeof key, pl);
    if (pl && pl->line <= (uint64_t)INT32_MAX)
        out->line = (int)pl->line;
    else if (!pl && pc) /* no table: no range, line 0 */
        out->line = (int)rs_py_line_at(pc->lines, pc->nlines, offset);
    return true;
}

bool rs_trace_is_python(const struct rs_trace *t)
{
    return t->py.present || t->py_codes != NULL;
}

const char *rs_python_file_shown(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    if (b != path && (strcmp(b, "__init__.py") == 0 || strcmp(b, "__main__.py") == 0)) {
        b--; /* the slash */
        while (b > path && b[-1] != '/')
            b--;
    }
    return b;
}

const char *rs_frame_file_shown(const struct rs_frame *f)
{
    if (!f->file)
        return NULL;
    if (f->python)
        return rs_python_file_shown(f->file);
    const char *slash = strrchr(f->file, '/');
    return slash ? slash + 1 : f->file;
}

bool rs_python_file_is_library(const char *path)
{
    /* lib/python3.X/ holds the standard library and, in a virtual environment or a
     * pyenv, site-packages; Debian installs packages in dist-packages */
    return strncmp(path, "<frozen ", 8) == 0 || strstr(path, "/lib/python3") ||
           strstr(path, "/site-packages/") || strstr(path, "/dist-packages/");
}
