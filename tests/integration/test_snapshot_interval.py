"""Periodic snapshots of a heap whose snapshot takes longer than the interval: the program
still gets most of its time (REFSCOPE_SNAPSHOT_INTERVAL counts from the end of a snapshot
and stretches to four pauses), as growth's list of snapshots shows."""
import sys
from harness import *

PY = sys.argv[1]
# Half a million objects kept alive, then about a second of work: each snapshot of this
# heap holds the program far longer than the 10 ms interval asked for.
PROGRAM = r"""
import time
keep = [{"i": i} for i in range(250000)]
deadline = time.monotonic() + 1.5
n = 0
while time.monotonic() < deadline:
    n += len([j for j in range(1000)])
print(n > 0)
"""


def test(work):
    env = dict(os.environ, REFSCOPE_SNAPSHOT_INTERVAL="0.01")
    trace, p = traced(work, [PY, "-c", PROGRAM], env=env)
    check_eq(p.stdout.decode().strip(), "True", "the program's output")
    g = json.loads(analyzer(["growth", trace, "--json"]).stdout)
    periodic = [s for s in g["snapshots"] if s["trigger"] == "interval"]
    check(len(periodic) >= 2, f"periodic snapshots taken: {len(periodic)}")
    pauses = [s["pause_ns"] for s in periodic]
    check(max(pauses) > 10 * 1000 * 1000,
          f"a snapshot holds the program longer than the interval (pauses {pauses})")
    # After each snapshot the program runs four times its pause (the interval, 10 ms, is
    # shorter) before the next; three allows for the poll thread's 10 ms wake-ups.
    for a, b in zip(periodic, periodic[1:]):
        ran = b["time_ns"] - (a["time_ns"] + a["pause_ns"])
        check(ran >= 3 * a["pause_ns"],
              f"snapshot {b['id']} came {ran / 1e6:.0f} ms after snapshot {a['id']} ended, "
              f"which held the program {a['pause_ns'] / 1e6:.0f} ms")
    span = periodic[-1]["time_ns"] + pauses[-1] - periodic[0]["time_ns"]
    print(f"{len(periodic)} periodic snapshots, pauses {min(pauses) / 1e6:.0f}-"
          f"{max(pauses) / 1e6:.0f} ms, {sum(pauses) / span:.0%} of {span / 1e9:.2f} s")


main(test)
