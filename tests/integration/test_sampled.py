"""REFSCOPE_SAMPLE: tests/programs/sampled_leak.c under Poisson sampling by bytes. The report
says it sampled, estimates the small leak and the number of allocations within their
statistical error, gives the big leak (always sampled) exactly, matches the frees of every
sampled block (freed by its own thread or by another), so nothing that was freed shows as
leaked; the same program traced in full gives the exact figures."""
from harness import *

SRC = os.path.join(os.environ["REFSCOPE_SOURCE"], "tests", "programs", "sampled_leak.c")
SMALL_LEAKS, SMALL_SIZE, BIG_LEAKS, BIG_SIZE = 8192, 1024, 16, 1 << 20
ALLOCATIONS = SMALL_LEAKS + BIG_LEAKS + 4 * 200000 + 20000
MEAN = 16384


def leaked_at(r, function, marker):
    found = find_stacks(r["leaked"], function=function, file="sampled_leak.c", line=line_of(SRC, marker))
    check(len(found) == 1, f"one leaking stack at {function}, found {len(found)}: "
          f"{[stack_key(s) for s in r['leaked']['by_stack']]}")
    return found[0]


def within(actual, expected, tolerance, what):
    check(abs(actual - expected) <= tolerance * expected,
          f"{what}: {actual}, expected {expected} within {tolerance:.0%}")


def test(work):
    binary = program("sampled_leak")
    env = dict(os.environ, REFSCOPE_SAMPLE=str(MEAN))
    trace, _ = traced(work, [binary], name="sampled.rsc", env=env)
    r = report(trace)
    check_eq(r["trace"]["status"], "complete", "trace status")
    check_eq(r["program"]["sample_bytes"], MEAN, "sample_bytes in the header")
    check_eq(r["events"]["sampled"], True, "events.sampled")
    check_eq(r["events"]["lost"], 0, "events lost")
    check_eq(r["events"]["frees_unknown"], 0, "frees of blocks never seen allocated")

    # a 1 MB block is sampled with probability 1 - e^-64 and stands for itself
    big = leaked_at(r, "leak_big", "/* BIG LEAK */")
    check_eq((big["blocks"], big["bytes"]), (BIG_LEAKS, BIG_LEAKS * BIG_SIZE), "big leak blocks, bytes")

    # about 500 of the 8192 small blocks are sampled: one standard deviation is 4.5%
    small = leaked_at(r, "leak_small", "/* SMALL LEAK */")
    within(small["bytes"], SMALL_LEAKS * SMALL_SIZE, 0.25, "small leak bytes (estimate)")
    within(small["blocks"], SMALL_LEAKS, 0.25, "small leak blocks (estimate)")
    within(r["events"]["allocations"], ALLOCATIONS, 0.10, "allocations (estimate)")
    check(r["events"]["in_file"] < ALLOCATIONS / 2,
          f"{r['events']['in_file']} events in the file: sampling recorded most allocations")

    others = [stack_key(s) for s in r["leaked"]["by_stack"] if s not in (big, small) and
              any(os.path.basename(f.get("file") or "") == "sampled_leak.c" for f in s["frames"])]
    check(not others, f"freed blocks reported as leaked: {others}")

    text = report_text(trace)
    check("sampling was on" in text and "estimates" in text,
          "the text report says its figures are estimates")

    full, _ = traced(work, [binary], name="full.rsc")
    f = report(full)
    check_eq(f["events"]["sampled"], False, "events.sampled without REFSCOPE_SAMPLE")
    check_eq(f["events"]["allocations"] >= ALLOCATIONS, True, "every allocation in the full trace")
    small = leaked_at(f, "leak_small", "/* SMALL LEAK */")
    check_eq((small["blocks"], small["bytes"]), (SMALL_LEAKS, SMALL_LEAKS * SMALL_SIZE),
             "small leak in full, blocks, bytes")


main(test)
