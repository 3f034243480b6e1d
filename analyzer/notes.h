/* Things the analyzer wants the report to say that are not failures (a module missing on
 * disk, a build-id mismatch). */
#ifndef REFSCOPE_NOTES_H
#define REFSCOPE_NOTES_H

#include <stddef.h>

enum rs_note_level {
    RS_NOTE_INFO = 0,
    RS_NOTE_WARNING = 1,
};

struct rs_notes {
    struct rs_note {
        enum rs_note_level level;
        char *text;
    } *items;
    size_t n, cap;
};

void rs_notes_add(struct rs_notes *notes, enum rs_note_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rs_notes_free(struct rs_notes *notes);
/* Moves the notes of `from` in front of those of `into` (from is left empty); a note of
 * `into` with the text of one moved goes: two symbolizers of one trace say the same of a
 * module. */
void rs_notes_merge_front(struct rs_notes *into, struct rs_notes *from);

#endif
