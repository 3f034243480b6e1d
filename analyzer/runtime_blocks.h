/* Blocks the C runtime keeps for the life of the process and frees only in
 * __libc_freeres, which valgrind runs before its leak check and a normal exit does not:
 * thread DTVs and other allocations of the dynamic loader, stdio buffers, locale and
 * character set data, time zone data, atexit records. They are no leak of the program's,
 * so the report shows them apart ("kept by the C runtime") and out of the leak totals.
 *
 * A stack is the runtime's when, after refscope's and the allocator's own frames,
 *   1. its innermost native frame is in the dynamic loader (a module named ld-*.so*,
 *      ld64.so*, ld.so*: ld-linux-x86-64.so.2 on x86-64), or
 *   2. one of its innermost native frames that are in glibc modules (libc, the loader,
 *      libpthread, libdl; up to the first frame of another module: further out is code
 *      glibc called back, like a library constructor run by _dl_init or a thread's start
 *      routine, whose allocations are the program's) is one of these functions (version
 *      suffixes like @@GLIBC_2.34 and compiler suffixes like .part.0 ignored):
 *        _IO_file_doallocate                       stdio buffers
 *        _nl_*, setlocale                          locale data, gettext domains
 *        __gconv_*, __wcsmbs_load_conv             character set conversion modules
 *        tzset*, __tz*, localtime, localtime_r     time zone data
 *        __new_exitfn, __cxa_atexit, on_exit       atexit records
 *        _dl_*, pthread_create, allocate_stack     loader data, thread stacks and DTVs
 *      The exported names among them (setlocale, localtime, __cxa_atexit, pthread_create,
 *      _IO_file_doallocate, __gconv_open...) are in libc's dynamic symbol table, so this
 *      works without glibc's debug info; with it, the internal names match too. */
#ifndef REFSCOPE_RUNTIME_BLOCKS_H
#define REFSCOPE_RUNTIME_BLOCKS_H

#include "symbolize.h"

#include <stdbool.h>

/* `native`: the stack's native frames (RS_VIEW_NATIVE_ONLY, no depth limit). When the
 * stack is the runtime's, returns true and sets *why to a short reason (static or pointing
 * into the frames: valid while they are). */
bool rs_runtime_stack(const struct rs_frames *native, const char **why);

/* The module is the dynamic loader (by its file name). */
bool rs_runtime_is_loader(const char *module_basename);

#endif
