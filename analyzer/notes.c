#include "notes.h"

#include "trace_model.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rs_notes_add(struct rs_notes *notes, enum rs_note_level level, const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (r < 0)
        return; /* a note lost to memory pressure is not worth failing the report */
    if (!rs_grow((void **)&notes->items, &notes->cap, notes->n, sizeof *notes->items)) {
        free(text);
        return;
    }
    notes->items[notes->n].level = level;
    notes->items[notes->n].text = text;
    notes->n++;
}

void rs_notes_merge_front(struct rs_notes *into, struct rs_notes *from)
{
    if (!from->n)
        return;
    struct rs_note *all = malloc((from->n + into->n) * sizeof *all);
    if (!all) { /* keep into's as they are: a note lost is not worth failing the report */
        rs_notes_free(from);
        return;
    }
    size_t cap = from->n + into->n, n = from->n;
    memcpy(all, from->items, from->n * sizeof *all);
    for (size_t i = 0; i < into->n; i++) {
        bool repeated = false;
        for (size_t k = 0; k < from->n && !repeated; k++)
            repeated = strcmp(into->items[i].text, from->items[k].text) == 0;
        if (repeated)
            free(into->items[i].text);
        else
            all[n++] = into->items[i];
    }
    free(into->items);
    free(from->items);
    into->items = all;
    into->n = n;
    into->cap = cap;
    from->items = NULL;
    from->n = from->cap = 0;
}

void rs_notes_free(struct rs_notes *notes)
{
    for (size_t i = 0; i < notes->n; i++)
        free(notes->items[i].text);
    free(notes->items);
    notes->items = NULL;
    notes->n = notes->cap = 0;
}
