/* C++ symbol names as people read them: "std::vector<int>::_M_realloc_insert(...)" for
 * "_ZNSt6vectorIiSaIiEE17_M_realloc_insert...". */
#ifndef REFSCOPE_DEMANGLE_H
#define REFSCOPE_DEMANGLE_H

/* The demangled name (malloc'd), or NULL when `name` is not a mangled C++ name or no
 * demangler is available. Thread-safe. */
char *rs_demangle(const char *name);

#endif
