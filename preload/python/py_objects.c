#include "py_objects.h"

#include <stdio.h>
#include <string.h>

bool rs_obj_is_gc(const void *o)
{
    const char *type = rs_type_of(o);
    if (!(rs_type_flags(type) & TPFLAG_HAVE_GC))
        return false;
    int (*is_gc)(const void *) = rs_field(type, TP_IS_GC);
    return !is_gc || is_gc(o);
}

unsigned rs_obj_preheader(const void *o)
{
    unsigned pre = rs_obj_is_gc(o) ? 16 : 0;
    unsigned long flags = rs_type_flags(rs_type_of(o));
    if (rs_py_layout.minor == 11 && (flags & TPFLAG_MANAGED_DICT))
        pre += 16;
    else if (rs_py_layout.minor >= 12 && (flags & (TPFLAG_MANAGED_DICT | TPFLAG_MANAGED_WEAKREF)))
        pre += 16;
    return pre;
}

bool rs_obj_immortal(const void *o)
{
    return rs_py_layout.minor >= 12 && (int32_t)(*(const uint64_t *)o) < 0;
}

uint64_t rs_obj_refcnt(const void *o)
{
    int64_t rc = *(const int64_t *)o;
    if (rs_py_layout.minor >= 12)
        rc = (int64_t)(uint32_t)rc;
    return rc > 0 ? (uint64_t)rc : 0;
}

/* PyASCIIObject.state bits, the same from 3.8 to 3.13 */
#define STR_LENGTH(o) (*(ssize_t *)((char *)(o) + 16))
#define STR_STATE(o) (*(uint32_t *)((char *)(o) + 32))
#define STR_KIND(st) (((st) >> 2) & 7)
#define STR_COMPACT(st) (((st) >> 5) & 1)
#define STR_ASCII(st) (((st) >> 6) & 1)

static const void *str_data(const void *o, unsigned *kind, ssize_t *len)
{
    uint32_t st = STR_STATE(o);
    *kind = STR_KIND(st);
    *len = STR_LENGTH(o);
    if (*kind == 0 || *len < 0)
        return NULL; /* legacy, not ready (<= 3.11) */
    if (STR_COMPACT(st))
        return (const char *)o + (STR_ASCII(st) ? rs_py_layout.str_ascii_size : rs_py_layout.str_compact_size);
    return rs_field(o, rs_py_layout.str_compact_size); /* PyUnicodeObject.data.any */
}

static size_t put_utf8(char *out, size_t room, uint32_t c)
{
    char b[4];
    size_t n;
    if (c < 0x80) {
        b[0] = (char)c, n = 1;
    } else if (c < 0x800) {
        b[0] = (char)(0xc0 | (c >> 6)), b[1] = (char)(0x80 | (c & 0x3f)), n = 2;
    } else if (c < 0x10000) {
        b[0] = (char)(0xe0 | (c >> 12)), b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        b[2] = (char)(0x80 | (c & 0x3f)), n = 3;
    } else {
        b[0] = (char)(0xf0 | (c >> 18)), b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((c >> 6) & 0x3f)), b[3] = (char)(0x80 | (c & 0x3f)), n = 4;
    }
    if (n > room)
        return 0;
    memcpy(out, b, n);
    return n;
}

int rs_str_utf8(const void *o, char *out, size_t max)
{
    if (!(rs_type_flags(rs_type_of(o)) & TPFLAG_UNICODE_SUBCLASS))
        return -1;
    unsigned kind;
    ssize_t len;
    const void *data = str_data(o, &kind, &len);
    if (!data)
        return -1;
    if (STR_ASCII(STR_STATE(o))) { /* most: its bytes are already UTF-8 */
        size_t n = (size_t)len < max ? (size_t)len : max;
        memcpy(out, data, n);
        return (int)n;
    }
    size_t n = 0;
    for (ssize_t i = 0; i < len; i++) {
        uint32_t c = kind == 1 ? ((const uint8_t *)data)[i]
                   : kind == 2 ? ((const uint16_t *)data)[i]
                               : ((const uint32_t *)data)[i];
        size_t w = put_utf8(out + n, max - n, c);
        if (!w)
            break;
        n += w;
    }
    return (int)n;
}

static bool heap_type(const void *type)
{
    return rs_type_flags(type) & TPFLAG_HEAPTYPE;
}

/* A str from a dict without calling Python: PyDict_GetItemString only hashes the key. */
static int dict_str(const void *dict, const char *key, char *out, size_t max)
{
    if (!dict)
        return -1;
    PyObject *v = rs_py.PyDict_GetItemString((PyObject *)dict, key);
    if (!v) {
        rs_py.PyErr_Clear();
        return -1;
    }
    return rs_str_utf8(v, out, max);
}

void rs_type_name(const void *type, char *out, size_t max)
{
    if (heap_type(type)) {
        char mod[128], qual[256];
        int m = dict_str(rs_field(type, TP_DICT), "__module__", mod, sizeof mod - 1);
        int q = rs_str_utf8(rs_field(type, rs_py_layout.ht_qualname), qual, sizeof qual - 1);
        if (q < 0) {
            snprintf(qual, sizeof qual, "%s", (const char *)rs_field(type, TP_NAME));
            q = (int)strlen(qual);
        }
        qual[q] = 0;
        if (m > 0) {
            mod[m] = 0;
            snprintf(out, max, "%s.%s", mod, qual);
        } else {
            snprintf(out, max, "%s", qual);
        }
        return;
    }
    const char *name = rs_field(type, TP_NAME);
    if (strchr(name, '.'))
        snprintf(out, max, "%s", name);
    else
        snprintf(out, max, "builtins.%s", name);
}

static const void *deque_type, *bytesio_type, *array_type, *lru_cache_type;

bool rs_type_is_container(const void *type)
{
    if (rs_type_flags(type) & (TPFLAG_LIST_SUBCLASS | TPFLAG_TUPLE_SUBCLASS | TPFLAG_DICT_SUBCLASS))
        return true;
    for (int depth = 0; type && depth < 64; depth++, type = rs_field(type, TP_BASE)) {
        if (type == rs_py.PySet_Type || type == rs_py.PyFrozenSet_Type || type == deque_type)
            return true;
    }
    return false;
}

void rs_obj_note_type(const void *type, const char *name)
{
    if (strcmp(name, "collections.deque") == 0)
        deque_type = type;
    else if (strcmp(name, "_io.BytesIO") == 0)
        bytesio_type = type;
    else if (strcmp(name, "array.array") == 0)
        array_type = type;
    else if (strcmp(name, "functools._lru_cache_wrapper") == 0)
        lru_cache_type = type;
}

bool rs_obj_bounded_cache(const void *o)
{
    /* lru_cache_object, 3.8-3.13: its list's root link (56 bytes with the header), the
     * wrapper, typed, cache (a dict) at 72, hits, func at 88, maxsize at 96 (-1: None) */
    if (!lru_cache_type || rs_type_of(o) != lru_cache_type)
        return false;
    const void *cache = rs_field(o, 72);
    return cache && rs_type_of(cache) == (const char *)rs_py.PyDict_Type && rs_field(o, 88) &&
           *(const ssize_t *)((const char *)o + 96) > 0;
}

/* A dict's keys table (3.8-3.10: dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries,
 * then the indices and the entries), when the dict owns it; and a split dict's values. */
static uint64_t old_dict_tables(const void *o)
{
    const char *keys = rs_field(o, 32);
    if (!keys)
        return 0;
    uint64_t size = *(const uint64_t *)(keys + 8);
    uint64_t usable = size * 2 / 3;
    uint64_t ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffff ? 4 : 8;
    uint64_t bytes = rs_field(o, 40) ? usable * 8 : 0; /* ma_values */
    if (*(const ssize_t *)keys == 1)
        bytes += 40 + size * ix + usable * 24;
    return bytes;
}

uint64_t rs_obj_size(const void *o)
{
    const char *type = rs_type_of(o);
    uint64_t basic = *(const uint64_t *)(type + TP_BASICSIZE);
    uint64_t item = *(const uint64_t *)(type + TP_ITEMSIZE);
    unsigned long flags = rs_type_flags(type);
    if (flags & TPFLAG_UNICODE_SUBCLASS) {
        unsigned kind;
        ssize_t len;
        if (str_data(o, &kind, &len) && STR_COMPACT(STR_STATE(o)))
            return (STR_ASCII(STR_STATE(o)) ? rs_py_layout.str_ascii_size : rs_py_layout.str_compact_size) +
                   (uint64_t)(len + 1) * kind;
        return basic;
    }
    if ((flags & TPFLAG_LONG_SUBCLASS) && rs_py_layout.minor >= 12) {
        uint64_t tag = *(const uint64_t *)((const char *)o + 16); /* lv_tag: digits << 3 */
        return basic + (tag >> 3) * item;
    }
    if (flags & TPFLAG_LIST_SUBCLASS)
        return basic + (uint64_t)(*(const ssize_t *)((const char *)o + 32)) * 8; /* allocated */
    if (type == (const char *)rs_py.PySet_Type || type == (const char *)rs_py.PyFrozenSet_Type) {
        const char *table = rs_field(o, 40);
        ssize_t mask = *(const ssize_t *)((const char *)o + 32);
        /* a set's first 8 slots live inside the object (smalltable, at offset 64) */
        bool small = table == (const char *)o + 64 || mask <= 7;
        return basic + (small ? 0 : (uint64_t)(mask + 1) * 16);
    }
    if (flags & TPFLAG_DICT_SUBCLASS && rs_py_layout.minor < 11)
        return basic + old_dict_tables(o);
    if (type == (const char *)rs_py.PyByteArray_Type)
        return basic + (uint64_t)*(const ssize_t *)((const char *)o + 24); /* ob_alloc */
    if (type == deque_type) {
        /* blocks of 64 items and two links: (leftindex + len + 1) / 64 of them */
        ssize_t left = *(const ssize_t *)((const char *)o + 40), len = OB_SIZE(o);
        return basic + (uint64_t)((left + len + 1) / 64) * (64 * 8 + 16);
    }
    if (type == array_type) {
        /* ob_item, allocated, then ob_descr, whose int itemsize follows its typecode */
        const char *descr = rs_field(o, 40);
        uint64_t allocated = (uint64_t)*(const ssize_t *)((const char *)o + 32);
        return basic + (descr ? allocated * (uint64_t)*(const int *)(descr + 4) : 0);
    }
    if (type == bytesio_type) {
        const char *buf = rs_field(o, 16); /* a bytes object, 33 bytes and its length */
        return basic + (buf ? 33 + (uint64_t)OB_SIZE(buf) : 0);
    }
    if ((flags & TPFLAG_DICT_SUBCLASS) && rs_py_layout.minor >= 11) {
        const char *keys = rs_field(o, 32);
        if (keys && *(const ssize_t *)keys == 1) { /* not shared: the dict owns its keys */
            unsigned log2_size = (uint8_t)keys[8], log2_index = (uint8_t)keys[9], kind = (uint8_t)keys[10];
            uint64_t usable = ((uint64_t)2 << log2_size) / 3;
            return basic + 32 + ((uint64_t)1 << log2_index) + usable * (kind ? 16 : 24);
        }
        return basic;
    }
    if (item) {
        /* A type with an item size whose objects have no ob_size (generators and
         * coroutines size themselves by their frame): an implausible count is not one. */
        ssize_t n = OB_SIZE(o);
        uint64_t count = (uint64_t)(n < 0 ? -n : n);
        return count < ((uint64_t)1 << 28) ? basic + count * item : basic;
    }
    return basic;
}

const void *rs_obj_items_block(const void *o)
{
    const char *type = rs_type_of(o);
    unsigned long flags = rs_type_flags(type);
    uint64_t bytes = rs_obj_size(o) - *(const uint64_t *)(type + TP_BASICSIZE);
    if (bytes < RS_ITEMS_BLOCK_MIN)
        return NULL;
    if (flags & TPFLAG_LIST_SUBCLASS)
        return rs_field(o, 24); /* ob_item */
    if (type == (const char *)rs_py.PyByteArray_Type)
        return rs_field(o, 32); /* ob_bytes */
    if (type == array_type)
        return rs_field(o, 24); /* ob_item */
    if (type == (const char *)rs_py.PySet_Type || type == (const char *)rs_py.PyFrozenSet_Type)
        return rs_field(o, 40); /* table (not the small table: its size says so) */
    if (flags & TPFLAG_DICT_SUBCLASS)
        return rs_field(o, 32); /* ma_keys, owned (else its size has no keys) */
    if (type == deque_type)
        return rs_field(o, 32); /* rightblock: the one appends fill */
    if (type == bytesio_type)
        return rs_field(o, 16); /* buf, a bytes object: its own block */
    return NULL;
}

static size_t copy_label(char *out, size_t max, const char *s, size_t n)
{
    if (n > max)
        n = max;
    memcpy(out, s, n);
    return n;
}

/* The decimal digits of v at the end of buf (20 bytes); returns where they start. Every
 * list, tuple, dict, set and int of a snapshot is labelled with a number: snprintf was a
 * twentieth of a snapshot's time. */
static char *decimal(char *end, uint64_t v)
{
    char *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

size_t rs_obj_label(const void *o, char *out, size_t max)
{
    const char *type = rs_type_of(o);
    unsigned long flags = rs_type_flags(type);
    const struct rs_py_layout *L = &rs_py_layout;
    char tmp[256];
    int n;
    if (max > 40)
        max = 40; /* labels are short: they are for telling objects apart */
    if (flags & TPFLAG_UNICODE_SUBCLASS) {
        n = rs_str_utf8(o, out, max);
        return n > 0 ? (size_t)n : 0;
    }
    if (flags & TPFLAG_BYTES_SUBCLASS) {
        ssize_t len = OB_SIZE(o);
        return copy_label(out, max, (const char *)o + 32, len > 0 ? (size_t)len : 0);
    }
    if (type == (const char *)rs_py.PyModule_Type) {
        n = dict_str(rs_field(o, 16), "__name__", out, max);
        return n > 0 ? (size_t)n : 0;
    }
    if (flags & TPFLAG_TYPE_SUBCLASS) {
        rs_type_name(o, tmp, sizeof tmp);
        return copy_label(out, max, tmp, strlen(tmp));
    }
    if (type == (const char *)rs_py.PyFunction_Type) {
        n = rs_str_utf8(rs_field(o, L->func_qualname), out, max);
        return n > 0 ? (size_t)n : 0;
    }
    if (type == (const char *)rs_py.PyCode_Type) {
        n = rs_str_utf8(rs_field(o, L->co_name), out, max);
        return n > 0 ? (size_t)n : 0;
    }
    ssize_t items = -1;
    if (flags & (TPFLAG_LIST_SUBCLASS | TPFLAG_TUPLE_SUBCLASS))
        items = OB_SIZE(o);
    else if (flags & TPFLAG_DICT_SUBCLASS)
        items = *(const ssize_t *)((const char *)o + 16); /* ma_used */
    else if (type == (const char *)rs_py.PySet_Type || type == (const char *)rs_py.PyFrozenSet_Type)
        items = *(const ssize_t *)((const char *)o + 24); /* used */
    if (items >= 0) {
        char *end = tmp + 20, *p = decimal(end, (uint64_t)items);
        const char *unit = items == 1 ? " item" : " items";
        size_t unit_len = strlen(unit);
        memcpy(end, unit, unit_len);
        return copy_label(out, max, p, (size_t)(end - p) + unit_len);
    }
    if (flags & TPFLAG_LONG_SUBCLASS) {
        int overflow = 0;
        long long v = rs_py.PyLong_AsLongLongAndOverflow((PyObject *)o, &overflow);
        if (v == -1 && rs_py.PyErr_Occurred())
            rs_py.PyErr_Clear();
        else if (!overflow) {
            char *end = tmp + 21, *p = decimal(end, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
            if (v < 0)
                *--p = '-';
            return copy_label(out, max, p, (size_t)(end - p));
        }
    }
    return 0;
}

size_t rs_key_text(const void *key, char *out, size_t max)
{
    const char *type = rs_type_of(key);
    unsigned long flags = rs_type_flags(type);
    if (flags & (TPFLAG_UNICODE_SUBCLASS | TPFLAG_LONG_SUBCLASS | TPFLAG_BYTES_SUBCLASS)) {
        size_t n = rs_obj_label(key, out, max);
        if (n || (flags & TPFLAG_UNICODE_SUBCLASS))
            return n;
    }
    if (key == rs_py.Py_None)
        return copy_label(out, max, "None", 4);
    char tmp[200];
    rs_type_name(type, tmp, sizeof tmp);
    return copy_label(out, max, tmp, strlen(tmp));
}
