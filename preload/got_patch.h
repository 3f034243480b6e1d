/* Attach mode: native calls reach refscope through the program's GOT.
 *
 * A library loaded with dlopen into a running process interposes nothing: every object's
 * calls to malloc & co were bound to libc's functions long ago. So, for each loaded object
 * (the executable, libc itself, every shared library, except refscope, the dynamic loader,
 * the vDSO and the libunwind refscope loaded), the relocations (DT_JMPREL and DT_RELA) of
 * the functions refscope interposes are looked up, and a GOT slot is redirected to
 * refscope's function when, and only when, that is what the loader would have bound had
 * refscope been preloaded:
 *   - the slot holds libc's function (the one refscope calls on), or
 *   - a PLT slot not bound yet (lazy binding: it still points into its own object), while
 *     no loaded object but libc defines the symbol.
 * Skipped: a family whose function some other object defines (jemalloc, tcmalloc, a
 * sanitizer runtime: refscope would call libc's malloc for a block of another allocator),
 * slots holding anything else (a canonical PLT address in a non-PIE executable, which
 * reaches a patched slot anyway), and data pointers (R_*_64 relocations: function tables).
 * Read-only slots (RELRO) are made writable for the one store and protected again.
 * Each patched slot's old value is kept, so detach can put it back. */
#ifndef REFSCOPE_GOT_PATCH_H
#define REFSCOPE_GOT_PATCH_H

#include "shim.h"

struct rs_got_stats {
    unsigned patched;       /* slots redirected by this pass */
    unsigned total;         /* slots redirected and not restored, all passes */
    unsigned skipped;       /* slots of interposed functions left alone (see above) */
    unsigned objects;       /* objects looked at */
    char interposed[160];   /* "malloc (libjemalloc.so.2)": families left alone */
};

/* Patches every loaded object not patched yet (idempotent: run again when the module map
 * changed). Serialized internally. */
RS_HIDDEN void rs_got_patch(struct rs_got_stats *st);
/* Whether objects were loaded or unloaded since the last rs_got_patch. Cheap. */
RS_HIDDEN bool rs_got_modules_changed(void);
/* Puts back every slot that still holds refscope's function, in objects still loaded.
 * Returns the number of slots restored. */
RS_HIDDEN unsigned rs_got_restore(void);

#endif
