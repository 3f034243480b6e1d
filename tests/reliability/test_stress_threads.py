"""64 threads allocate 20,000 blocks each while freeing the blocks their neighbour made
(frees in other threads than the mallocs, interleaved all along): the trace verifies
exactly (every free matched, the threads' own event counts equal the events in the file,
nothing dropped), and every worker's events follow its pattern in order."""
import time
from rel import *

THREADS, PER_THREAD = 64, 20000


def test(work):
    start = time.monotonic()
    trace, p = traced(work, [program("stress_threads"), str(THREADS), str(PER_THREAD)],
                      timeout=90)
    ran = time.monotonic() - start
    check(f"{THREADS} threads, {PER_THREAD} allocations".encode() in p.stdout, "the program ran to the end")
    v = verify(trace)
    check_exact(v, "stress trace")
    check(v["replay"]["frees_matched"] >= THREADS * PER_THREAD, "every cross-thread free matched")
    check(v["events"] >= 2 * THREADS * PER_THREAD, "all events in the file")
    p = run([program("check_pattern"), trace, str(THREADS), str(PER_THREAD)], check_status=0)
    print(p.stdout.decode().strip())
    print(f"stress_threads: ran in {ran:.1f} s under refscope; verify: {v['events']} events, "
          f"{v['replay']['frees_matched']} frees matched, {v['chunks']} chunks")


main(test)
