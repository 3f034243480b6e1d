/* The module map (loaded ELF objects: path, load bias, PT_LOAD segments, build-id), written
 * so the analyzer can symbolize native stacks offline. */
#ifndef REFSCOPE_MODULES_H
#define REFSCOPE_MODULES_H

#include "shim.h"

struct rs_chunk_writer;

/* Cheap check of the loader's add/remove counters since the last emitted map. */
RS_HIDDEN void rs_modules_init(void);
RS_HIDDEN bool rs_modules_changed(void);
RS_HIDDEN void rs_modules_emit(struct rs_chunk_writer *w);
RS_HIDDEN void rs_modules_after_fork_child(void);
/* Address range of librefscope.so's own code, to cut the shim's frames off stacks. */
RS_HIDDEN void rs_modules_self_range(uintptr_t *lo, uintptr_t *hi);
/* The GNU build-id in a run of ELF notes, or of a loaded object (0: none). */
RS_HIDDEN size_t rs_build_id_in_notes(const uint8_t *notes, size_t len, const uint8_t **id);
struct dl_phdr_info;
RS_HIDDEN size_t rs_modules_build_id(const struct dl_phdr_info *info, const uint8_t **id);
/* The main program's path, read at start-up. */
RS_HIDDEN const char *rs_modules_exe_path(void);

#endif
