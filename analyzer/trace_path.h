/* Paths the CLI hands to the shim (run, attach): the directory a trace goes to, and a
 * literal path made safe from the shim's REFSCOPE_OUTPUT expansion (%p, %e, %%). */
#ifndef REFSCOPE_TRACE_PATH_H
#define REFSCOPE_TRACE_PATH_H

/* The directory part of path ("." when it has none, "/" for the root); malloc'd. */
char *rs_dir_of(const char *path);
/* path with every '%' doubled, so the shim takes it literally; malloc'd. */
char *rs_escape_percent(const char *path);

#endif
