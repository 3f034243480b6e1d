"""Programs killed with SIGKILL at random moments (native: 4 threads allocating and
freeing; Python: growing lists, with snapshots every 0.1 s so that kills land inside
snapshots too). Every trace is readable up to its last complete chunk: the report works
and says the trace is partial or incomplete, and verify finds it consistent up to the cut
(an unfinished snapshot is ignored, not an error). The seed is printed; REFSCOPE_KILL_SEED
repeats a run."""
import random
import signal
import time
from rel import *

PY = ("import time\nkeep=[]\nclass Node:\n    def __init__(s, i): s.i = i; s.d = {'k': i}\n"
      "i = 0\nwhile True:\n    keep.append(Node(i)); keep.append(bytearray(64)); i += 1\n"
      "    if len(keep) > 200000: keep.clear()\n")


def kill_after(work, name, cmd, delay, env=None):
    out = work.file(name)
    p = subprocess.Popen([REFSCOPE, "run", "-q", "-o", out, "--", *cmd], env=env,
                         stdout=subprocess.DEVNULL)
    time.sleep(delay)
    children = run(["pgrep", "-P", str(p.pid)]).stdout.split()
    check(children, f"{name}: the traced program is running")
    os.kill(int(children[0]), signal.SIGKILL)
    p.wait(timeout=30)
    check_eq(p.returncode, -signal.SIGKILL, f"{name}: refscope run dies of the same signal")
    return out


def test(work):
    seed = int(os.environ.get("REFSCOPE_KILL_SEED") or random.randrange(1 << 30))
    rnd = random.Random(seed)
    print(f"seed {seed}")
    runs = [("native", [program("crash"), "forever", "20000"], None) for _ in range(5)]
    snap_env = dict(os.environ, REFSCOPE_SNAPSHOT_INTERVAL="0.1")
    runs += [("python", ["/usr/bin/python3", "-c", PY], snap_env) for _ in range(3)]
    total_events = 0
    for i, (kind, cmd, env) in enumerate(runs):
        delay = rnd.uniform(0.2, 2.0)
        trace = kill_after(work, f"kill-{i}-{kind}.rsc", cmd, delay, env)
        r = report(trace)
        check(r["trace"]["status"] in ("partial", "incomplete"),
              f"run {i} ({kind}, killed after {delay:.2f} s): status {r['trace']['status']}")
        v = verify(trace)
        check(v["status"] in ("partial", "incomplete"), f"run {i}: verify status")
        check_eq(v["replay"]["frees_of_freed"], 0, f"run {i}: frees of freed blocks")
        check_eq(v["replay"]["replaced_live"], 0, f"run {i}: allocations over live blocks")
        if kind == "python" and v["snapshots"]["complete"]:
            # the snapshot commands work on the last complete snapshot
            analyzer(["types", trace, "--top", "3"])
        total_events += v["events"]
        print(f"run {i}: {kind} killed after {delay:.2f} s: {v['status']}, {v['chunks']} chunks, "
              f"{v['events']} events, {v['snapshots']['complete']}/{v['snapshots']['total']} "
              f"snapshots complete; consistent up to the cut")
    print(f"{len(runs)} kills, {total_events} events verified")


main(test)
