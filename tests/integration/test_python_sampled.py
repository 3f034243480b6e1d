"""REFSCOPE_SAMPLE on Python (argv[1] is the interpreter): tests/pyprograms/sampled_leak.py
under Poisson sampling by bytes and traced in full. The program behaves the same; the sampled
report says it sampled, recorded far fewer events than allocations, lost none, matched every
free of a sampled block (the churned line leaks nothing), estimates the small leak's line
within its statistical error and gives the big one (always sampled) as the full trace does.
The Python allocator hooks decide most sampled allocations and frees before calling the
allocator below them (preload/python/py_hooks.c): this is the check that they still count
down, sample and match frees as the recording path does."""
import sys
from harness import *

PY = sys.argv[1]
PROG = os.path.join(SOURCE, "tests", "pyprograms", "sampled_leak.py")
MEAN = 16384


def line_stats(r, marker):
    line = line_of(PROG, marker)
    for entry in r["leaked"]["by_line"]:
        if os.path.basename(entry.get("file") or "") == os.path.basename(PROG) and entry["line"] == line:
            return entry
    return None


def test(work):
    plain = run([PY, PROG])
    check_eq(plain.returncode, 0, "plain run")
    sampled, p = traced(work, [PY, PROG], name="sampled.rsc", env=dict(os.environ, REFSCOPE_SAMPLE=str(MEAN)))
    check_eq(p.stdout, plain.stdout, "program output, sampled")
    full, p = traced(work, [PY, PROG], name="full.rsc")
    check_eq(p.stdout, plain.stdout, "program output, full")
    s = report(sampled, "--top", "0")
    f = report(full, "--top", "0")
    check_eq(s["events"]["sampled"], True, "events.sampled")
    check_eq(f["events"]["sampled"], False, "events.sampled in full")
    check_eq(s["events"]["lost"], 0, "events lost")
    check_eq(s["events"]["frees_unknown"], 0, "frees of blocks never seen allocated")
    check(s["events"]["in_file"] * 10 < f["events"]["in_file"],
          f"{s['events']['in_file']} events sampled against {f['events']['in_file']} in full")
    # 20,000 bytearrays of 1,000 bytes: about 1,300 samples, one standard deviation under 3 %
    small_s, small_f = line_stats(s, "# SMALL LEAK"), line_stats(f, "# SMALL LEAK")
    check(small_s is not None and small_f is not None, "the small leak's line in both reports")
    if small_s and small_f:
        check(abs(small_s["bytes"] - small_f["bytes"]) <= 0.15 * small_f["bytes"],
              f"small leak bytes: {small_s['bytes']} estimated, {small_f['bytes']} in full")
    # 1 MB buffers are always sampled and stand for themselves; their objects' headers are
    # estimated (a few kB either way)
    big_s, big_f = line_stats(s, "# BIG LEAK"), line_stats(f, "# BIG LEAK")
    check(big_s is not None and big_f is not None, "the big leak's line in both reports")
    if big_s and big_f:
        check(big_f["bytes"] >= 8 << 20 and abs(big_s["bytes"] - big_f["bytes"]) <= 0.01 * big_f["bytes"],
              f"big leak bytes: {big_s['bytes']} sampled, {big_f['bytes']} in full")
    # The churned line made about 60 MB in 200,000 dicts, lists and strings, all freed but
    # what the interpreter's free lists keep (a few blocks in full); a sampled free left
    # unmatched would leave about 16 kB of estimate per sample, thousands of them.
    for r, mode, most in ((s, "sampled", 256 << 10), (f, "full", 4 << 10)):
        churned = line_stats(r, "# CHURN")
        check(churned is None or churned["bytes"] <= most,
              f"the churned line leaks next to nothing ({mode}): {churned}")


main(test)
