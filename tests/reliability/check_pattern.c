/* check_pattern TRACE THREADS PER_THREAD: checks a trace of stress_threads event by event.
 *
 * For every worker thread "stress-K": its allocations of the pattern's sizes are exactly
 * STRESS_SIZE(K, 0 .. PER_THREAD-1), in that order (nothing lost, duplicated or
 * reordered); and its frees include, in order, the addresses thread K + 1 allocated, in
 * the order it allocated them (every cross-thread free is there, in its place).
 * Prints what it checked; exit 0 when everything holds, 1 otherwise. */
#include "trace_reader.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRESS_SIZE(k, i) (5001 + (uint64_t)(((k) * 131 + (i)) % 509) * 2)
#define SIZE_MIN 5001
#define SIZE_MAX_ (5001 + 508 * 2)

static int failures;

#define FAIL(...)                             \
    do {                                      \
        if (failures++ < 20) {                \
            fprintf(stderr, "check_pattern: "); \
            fprintf(stderr, __VA_ARGS__);     \
            fputc('\n', stderr);              \
        }                                     \
    } while (0)

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: check_pattern TRACE THREADS PER_THREAD\n");
        return 2;
    }
    int nthreads = atoi(argv[2]);
    long per = atol(argv[3]);
    struct rs_trace *t;
    struct rs_read_error err;
    if (rs_trace_read_file(argv[1], &t, &err) != RS_READ_OK) {
        fprintf(stderr, "check_pattern: %s\n", err.message);
        return 1;
    }
    const struct rs_trace_thread **worker = calloc((size_t)nthreads, sizeof *worker);
    uint64_t **addrs = calloc((size_t)nthreads, sizeof *addrs);
    if (!worker || !addrs)
        return 1;
    struct rs_trace_thread *th, *tmp;
    HASH_ITER(hh, t->threads, th, tmp) {
        int k;
        char extra;
        if (th->name.s && sscanf(th->name.s, "stress-%d%c", &k, &extra) == 1 && k >= 0 &&
            k < nthreads) {
            if (worker[k])
                FAIL("two threads named stress-%d", k);
            worker[k] = th;
        }
    }
    uint64_t checked = 0;
    for (int k = 0; k < nthreads; k++) {
        if (!worker[k]) {
            FAIL("no thread named stress-%d in the trace", k);
            continue;
        }
        addrs[k] = calloc((size_t)per, sizeof **addrs);
        if (!addrs[k])
            return 1;
        long i = 0;
        const struct rs_trace_thread *w = worker[k];
        for (size_t e = 0; e < w->nevents; e++) {
            const struct rs_trace_event *ev = &w->events[e];
            uint64_t size = rs_ev_size(w, ev);
            if (rs_ev_type(ev) != RS_EVENT_ALLOC || size < SIZE_MIN || size > SIZE_MAX_ ||
                !(size & 1))
                continue;
            if (i >= per) {
                FAIL("stress-%d: more than %ld pattern allocations", k, per);
                break;
            }
            if (size != STRESS_SIZE(k, i)) {
                FAIL("stress-%d: allocation %ld has size %" PRIu64 ", expected %" PRIu64
                     " (an event lost, duplicated or out of order)",
                     k, i, size, STRESS_SIZE(k, i));
                break;
            }
            addrs[k][i++] = ev->addr;
            checked++;
        }
        if (i != per)
            FAIL("stress-%d: %ld pattern allocations, expected %ld", k, i, per);
    }
    for (int k = 0; k < nthreads; k++) {
        int from = (k + 1) % nthreads;
        if (!worker[k] || !addrs[from])
            continue;
        long want = 0;
        uint64_t other = 0;
        const struct rs_trace_thread *w = worker[k];
        for (size_t e = 0; e < w->nevents && want < per; e++) {
            const struct rs_trace_event *ev = &w->events[e];
            if (rs_ev_type(ev) != RS_EVENT_FREE)
                continue;
            if (ev->addr == addrs[from][want]) {
                want++;
                checked++;
            } else {
                other++;
            }
        }
        if (want != per)
            FAIL("stress-%d: frees %ld of the %ld blocks stress-%d handed over, in order "
                 "(%" PRIu64 " other frees)", k, want, per, from, other);
    }
    /* Pages the signal handlers map (stress_threads HANDLER=mmap): one-page anonymous
     * mappings, which nothing else in the program makes. */
    uint64_t page_maps = 0;
    HASH_ITER(hh, t->threads, th, tmp) {
        for (size_t e = 0; e < th->nevents; e++) {
            const struct rs_trace_event *ev = &th->events[e];
            if (rs_ev_type(ev) == RS_EVENT_ALLOC && rs_ev_kind(ev) == RS_ALLOC_MMAP &&
                rs_ev_size(th, ev) == 4096)
                page_maps++;
        }
    }
    printf("check_pattern: %d threads, %" PRIu64 " pattern events checked in order: %s; "
           "page mappings %" PRIu64 "\n",
           nthreads, checked, failures ? "FAILED" : "ok", page_maps);
    for (int k = 0; k < nthreads; k++)
        free(addrs[k]);
    free(addrs);
    free(worker);
    rs_trace_free(t);
    return failures ? 1 : 0;
}
