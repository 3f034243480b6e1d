"""16 threads allocate 20,000 blocks each and free the blocks another thread allocated:
every event is in the trace, nothing lost, every storm block matched with its free."""
from harness import *

THREADS, PER_THREAD = 16, 20000


def test(work):
    trace, p = traced(work, [program("alloc_storm")])
    check(b"320000 allocations" in p.stdout, "the program ran to the end")
    r = report(trace)
    check_eq(r["trace"]["status"], "complete", "trace status")
    check_eq(r["events"]["lost"], 0, "events lost")
    check_eq(r["events"]["frees_unknown"], 0, "frees of blocks never seen allocated")
    check_eq(r["events"]["replaced_live"], 0, "allocations over a live block (a missed free)")
    check(r["events"]["allocations"] >= THREADS * PER_THREAD, "all storm allocations recorded")
    # each worker thread made exactly its 20,000 mallocs and 20,000 frees
    workers = [t for t in r["threads"] if not t["main"] and t["events"] == 2 * PER_THREAD]
    check_eq(len(workers), THREADS, "threads with exactly 40,000 events")
    storm = find_stacks(r["leaked"], function="storm")
    check(not storm, f"storm blocks left live: {[(s['blocks'], s['bytes']) for s in storm]}")


main(test)
