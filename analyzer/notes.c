#include "notes.h"

#include "trace_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

void rs_notes_free(struct rs_notes *notes)
{
    for (size_t i = 0; i < notes->n; i++)
        free(notes->items[i].text);
    free(notes->items);
    notes->items = NULL;
    notes->n = notes->cap = 0;
}
