"""Two threads hand batches of blocks to each other; each frees what it gets and allocates
the next batch at once, so one thread's freed addresses come back in the other's
allocations. One side pauses now and then (its ring is parked: only one thread records) and
a third thread comes and goes. refscope reads the clock once for many events of a thread
that records alone; a time taken too early would put an allocation before the free of the
same address: the trace must verify exactly and the report find no leak."""
from rel import *

ROUNDS, BATCH = 60, 50


def test(work):
    trace, p = traced(work, [program("handoff_pauses"), str(ROUNDS)], timeout=60)
    check(f"handoff: {ROUNDS} rounds of {BATCH} blocks".encode() in p.stdout, "the program ran to the end")
    v = verify(trace)
    check_exact(v, "handoff trace")
    # the array, the first batch, a batch per round and side, the lone thread's 20,000
    made = 1 + BATCH + 2 * ROUNDS * BATCH + 20000
    check(v["replay"]["frees_matched"] >= made, f"every free matched ({v['replay']['frees_matched']} of {made})")
    r = report(trace)
    check_eq(r["leaked"]["blocks"], 0, "blocks leaked at exit")
    print(f"handoff_pauses: {v['events']} events, {v['replay']['frees_matched']} frees matched")


main(test)
