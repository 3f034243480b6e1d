/* Output of strings from the trace (terminal and JSON escaping), the JSON writer, number
 * formatting, and C++ names demangled. */
#include "test_util.h"
#include "demangle.h"
#include "escape.h"
#include "format_num.h"
#include "json_writer.h"

#include <stdlib.h>

TEST_GLOBALS;

/* Runs `fn` on a memory stream and returns what it wrote (caller frees). */
#define CAPTURE(out, stmt)                           \
    do {                                             \
        char *buf_ = NULL;                           \
        size_t len_ = 0;                             \
        FILE *f = open_memstream(&buf_, &len_);      \
        stmt;                                        \
        fclose(f);                                   \
        (out) = buf_;                                \
    } while (0)

static void check_json_string(const char *in, size_t len, const char *want)
{
    char *got;
    CAPTURE(got, rs_fput_json_string_body(f, in, len));
    CHECK_STR(got, want);
    free(got);
}

static void check_terminal(const char *in, size_t len, const char *want)
{
    char *got;
    CAPTURE(got, rs_fput_escaped(f, in, len));
    CHECK_STR(got, want);
    free(got);
    char small[256];
    rs_escape_to(small, sizeof small, in, len);
    CHECK_STR(small, want);
}

static void check_demangle(const char *name, const char *want)
{
    char *got = rs_demangle(name);
    if (!want) {
        CHECK(got == NULL);
    } else {
        CHECK(got != NULL);
        if (got)
            CHECK_STR(got, want);
    }
    free(got);
}

int main(void)
{
    /* C++ names (the C++ runtime's demangler); C names and broken ones are left alone */
    check_demangle("_Znwm", "operator new(unsigned long)");
    check_demangle("_ZNSt6vectorIiSaIiEE9push_backERKi",
                   "std::vector<int, std::allocator<int> >::push_back(int const&)");
    check_demangle("_ZZ4mainENKUlvE_clEv", "main::{lambda()#1}::operator()() const");
    check_demangle("main", NULL);
    check_demangle("_Z", NULL);
    check_demangle("_Zbogus!", NULL);
    check_demangle(NULL, NULL);

    /* JSON strings */
    check_json_string("plain", 5, "plain");
    check_json_string("a\"b\\c/d", 7, "a\\\"b\\\\c/d");
    check_json_string("\n\r\t\b\f", 5, "\\n\\r\\t\\b\\f");
    check_json_string("\x01\x1f\x7f", 3, "\\u0001\\u001f\\u007f");
    check_json_string("nul\0in", 6, "nul\\u0000in");
    check_json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
                      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    check_json_string("bad\xff\xfe!", 6, "bad\\ufffd\\ufffd!");
    check_json_string("\xc3", 1, "\\ufffd");                  /* cut sequence */
    check_json_string("\xc0\xaf", 2, "\\ufffd\\ufffd");        /* overlong '/' */
    check_json_string("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd"); /* surrogate */
    check_json_string("\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd"); /* > U+10FFFF */

    /* Terminal */
    check_terminal("main.c", 6, "main.c");
    check_terminal("a\nb\tc\r", 6, "a\\nb\\tc\\r");
    check_terminal("\x1b[31mred", 8, "\\x1B[31mred");
    check_terminal("\x7f\x00", 2, "\\x7F\\x00");
    check_terminal("\xff", 1, "\\xFF");
    check_terminal("\xc2\x9b" "2J", 4, "\\u009B2J");           /* C1 CSI */
    check_terminal("abc\xe2\x80\xae" "cba", 9, "abc\\u202Ecba"); /* bidi override */
    check_terminal("\xe2\x82\xac", 3, "\xe2\x82\xac");
    char tiny[5];
    CHECK_EQ_U64(rs_escape_to(tiny, sizeof tiny, "ab\ncd", 5), 4);
    CHECK_STR(tiny, "ab\\n");
    /* Whole escapes only, and nothing after the first piece that did not fit. */
    CHECK_EQ_U64(rs_escape_to(tiny, sizeof tiny, "abc\nd", 5), 3);
    CHECK_STR(tiny, "abc");

    /* JSON writer: nesting, commas, keys, every value kind */
    char *doc;
    CAPTURE(doc, {
        struct rs_json j;
        rs_json_init(&j, f);
        rs_json_object_begin(&j);
        rs_json_key(&j, "s");
        rs_json_string(&j, "x\"", 2);
        rs_json_key(&j, "n");
        rs_json_u64(&j, UINT64_MAX);
        rs_json_key(&j, "i");
        rs_json_i64(&j, -5);
        rs_json_key(&j, "d");
        rs_json_double(&j, 0.5);
        rs_json_key(&j, "nan");
        rs_json_double(&j, 0.0 / 0.0);
        rs_json_key(&j, "empty");
        rs_json_array_begin(&j);
        rs_json_array_end(&j);
        rs_json_key(&j, "a");
        rs_json_array_begin(&j);
        rs_json_bool(&j, true);
        rs_json_null(&j);
        rs_json_cstring(&j, NULL);
        rs_json_object_begin(&j);
        rs_json_object_end(&j);
        rs_json_array_end(&j);
        rs_json_object_end(&j);
        rs_json_finish(&j);
    });
    CHECK_STR(doc, "{\n"
                   "  \"s\": \"x\\\"\",\n"
                   "  \"n\": 18446744073709551615,\n"
                   "  \"i\": -5,\n"
                   "  \"d\": 0.5,\n"
                   "  \"nan\": null,\n"
                   "  \"empty\": [],\n"
                   "  \"a\": [\n"
                   "    true,\n"
                   "    null,\n"
                   "    null,\n"
                   "    {}\n"
                   "  ]\n"
                   "}\n");
    free(doc);

    /* Numbers */
    char b[RS_NUM_BUF];
    CHECK_STR(rs_fmt_count(b, 0), "0");
    CHECK_STR(rs_fmt_count(b, 999), "999");
    CHECK_STR(rs_fmt_count(b, 1000), "1,000");
    CHECK_STR(rs_fmt_count(b, 20108), "20,108");
    CHECK_STR(rs_fmt_count(b, 1234567), "1,234,567");
    CHECK_STR(rs_fmt_count(b, UINT64_MAX), "18,446,744,073,709,551,615");
    CHECK_STR(rs_fmt_bytes(b, 1), "1 byte");
    CHECK_STR(rs_fmt_bytes(b, 999), "999 bytes");
    CHECK_STR(rs_fmt_bytes(b, 1000), "1.0 kB");
    CHECK_STR(rs_fmt_bytes(b, 116384), "116.4 kB");
    CHECK_STR(rs_fmt_bytes(b, 999999), "1.0 MB");
    CHECK_STR(rs_fmt_bytes(b, 12300000), "12.3 MB");
    CHECK_STR(rs_fmt_bytes(b, UINT64_MAX), "18.4 EB");
    CHECK_STR(rs_fmt_duration(b, 80000000), "0.08 s");
    CHECK_STR(rs_fmt_duration(b, 51000000), "0.051 s");
    CHECK_STR(rs_fmt_duration(b, 12345000000ull), "12.3 s");
    CHECK_STR(rs_fmt_duration(b, 1500000), "1.5 ms");
    CHECK_STR(rs_fmt_duration(b, 500000), "500 us");
    CHECK_STR(rs_fmt_duration(b, 12), "12 ns");
    CHECK_STR(rs_fmt_duration(b, 0), "0 s");
    CHECK_STR(rs_fmt_duration(b, 3600000000000ull), "3600 s");

    return test_result("text");
}
