/* Minimal test harness: CHECK records a failure and goes on, so one run shows every broken
 * expectation; main returns test_result(). */
#ifndef REFSCOPE_TEST_UTIL_H
#define REFSCOPE_TEST_UTIL_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

extern int test_failures;
extern int test_checks;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        test_checks++;                                                              \
        if (!(cond)) {                                                              \
            test_failures++;                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                           \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                          \
    do {                                                                            \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                            \
        test_checks++;                                                              \
        if (a_ != b_) {                                                             \
            test_failures++;                                                        \
            fprintf(stderr, "%s:%d: %s == %s failed: %" PRIu64 " (0x%" PRIx64       \
                            ") != %" PRIu64 " (0x%" PRIx64 ")\n",                   \
                    __FILE__, __LINE__, #a, #b, a_, a_, b_, b_);                    \
        }                                                                           \
    } while (0)

#define CHECK_STR(a, b)                                                             \
    do {                                                                            \
        const char *a_ = (a), *b_ = (b);                                            \
        test_checks++;                                                              \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                    \
            test_failures++;                                                        \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__,  \
                    __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");      \
        }                                                                           \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                 \
    do {                                                                            \
        const char *h_ = (hay), *n_ = (needle);                                     \
        test_checks++;                                                              \
        if (!h_ || !strstr(h_, n_)) {                                               \
            test_failures++;                                                        \
            fprintf(stderr, "%s:%d: expected to find \"%s\" in:\n%s\n", __FILE__,    \
                    __LINE__, n_, h_ ? h_ : "(null)");                              \
        }                                                                           \
    } while (0)

static inline int test_result(const char *name)
{
    if (test_failures) {
        fprintf(stderr, "%s: %d of %d checks failed\n", name, test_failures, test_checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, test_checks);
    return 0;
}

#define TEST_GLOBALS   \
    int test_failures; \
    int test_checks

#endif
