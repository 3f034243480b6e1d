/* Reading CPython objects during a snapshot without running any Python code: type names,
 * sizes (what __sizeof__ would say), short labels, str contents. GIL held, heap quiet. */
#ifndef REFSCOPE_PY_OBJECTS_H
#define REFSCOPE_PY_OBJECTS_H

#include "py_api.h"

/* PyTypeObject fields, the same from 3.8 to 3.13 (default builds). */
#define TP_NAME 24
#define TP_BASICSIZE 32
#define TP_ITEMSIZE 40
#define TP_FLAGS 168
#define TP_TRAVERSE 184
#define TP_BASE 256
#define TP_DICT 264
#define TP_DICTOFFSET 288
#define TP_IS_GC 328
#define TP_BASES 336
#define TP_MRO 344
#define TP_SUBCLASSES 360
#define TP_DEL 376
#define TP_FINALIZE 392
#define TP_MEMBERS 240

#define TPFLAG_MANAGED_DICT (1ul << 4)
#define TPFLAG_INLINE_VALUES (1ul << 2) /* 3.13 */
#define TPFLAG_MANAGED_WEAKREF (1ul << 3)
#define TPFLAG_HEAPTYPE (1ul << 9)
#define TPFLAG_HAVE_GC (1ul << 14)
#define TPFLAG_LONG_SUBCLASS (1ul << 24)
#define TPFLAG_LIST_SUBCLASS (1ul << 25)
#define TPFLAG_TUPLE_SUBCLASS (1ul << 26)
#define TPFLAG_BYTES_SUBCLASS (1ul << 27)
#define TPFLAG_UNICODE_SUBCLASS (1ul << 28)
#define TPFLAG_DICT_SUBCLASS (1ul << 29)
#define TPFLAG_BASE_EXC_SUBCLASS (1ul << 30)
#define TPFLAG_TYPE_SUBCLASS (1ul << 31)

#define OB_SIZE(o) (*(ssize_t *)((char *)(o) + 16))

static inline char *rs_type_of(const void *o)
{
    return *(char **)((const char *)o + 8);
}

static inline unsigned long rs_type_flags(const char *type)
{
    return *(const unsigned long *)(type + TP_FLAGS);
}

static inline void *rs_field(const void *o, unsigned off)
{
    return *(void **)((const char *)o + off);
}

/* PyObject_IS_GC: the type says GC and, for types with tp_is_gc (type objects), the object
 * agrees. Static type objects have no GC header: traversing one aborts the interpreter. */
RS_HIDDEN bool rs_obj_is_gc(const void *o);
/* Bytes below the object where its allocation begins (GC header, managed dict/weakref). */
RS_HIDDEN unsigned rs_obj_preheader(const void *o);
/* What the object's __sizeof__ says, its buffers included (a list's items, a set's or a
 * dict's table, a bytearray's bytes, a deque's blocks, an array's items, a BytesIO's
 * buffer). */
RS_HIDDEN uint64_t rs_obj_size(const void *o);
/* Types not exported by the C API that the snapshot reads (sizes with buffers in them, the
 * lru_cache), known by name when a snapshot first meets them (types are not freed while
 * their objects live). */
RS_HIDDEN void rs_obj_note_type(const void *type, const char *name);
/* The block holding a container's items when they take RS_ITEMS_BLOCK_MIN bytes or more (a
 * list's or an array's items, a bytearray's bytes, a dict's keys, a set's table, a deque's
 * last block, a BytesIO's bytes object), else NULL. */
#define RS_ITEMS_BLOCK_MIN 4096
RS_HIDDEN const void *rs_obj_items_block(const void *o);
/* A functools.lru_cache with a maxsize (not None, not 0). */
RS_HIDDEN bool rs_obj_bounded_cache(const void *o);
/* A list, tuple, dict, set, frozenset or deque, or a subclass of one. */
RS_HIDDEN bool rs_type_is_container(const void *type);
RS_HIDDEN bool rs_obj_immortal(const void *o);
RS_HIDDEN uint64_t rs_obj_refcnt(const void *o);

/* UTF-8 of a str object (at most `max` bytes, cut at a character boundary), without
 * allocating. Returns the length written, or -1 if `o` is not a ready str. */
RS_HIDDEN int rs_str_utf8(const void *o, char *out, size_t max);
/* `module.qualname` of a type. */
RS_HIDDEN void rs_type_name(const void *type, char *out, size_t max);
/* A short label: module name, function/class qualname, "N items", a str's first 40
 * bytes... Returns its length (0: none). */
RS_HIDDEN size_t rs_obj_label(const void *o, char *out, size_t max);
/* Text for a dict key used as an edge label (a str's text, an int's digits...). */
RS_HIDDEN size_t rs_key_text(const void *key, char *out, size_t max);

#endif
