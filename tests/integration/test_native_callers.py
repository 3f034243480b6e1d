"""A native line that leaks, reached in turn from callers at the same stack depth, from a
second line of one caller and through recursion of changing depth: the leak report counts
each caller's blocks under that caller's own stack, exactly. The shim gives a stack whose
frames all met the last walk's the last walk's id without interning it again; this is the
program that would show one caller taken for another."""
from collections import Counter
from harness import *

ROUNDS = 3000
SRC = os.path.join(SOURCE, "tests", "programs", "interleaved_callers.c")


def caller_key(stack):
    """The frames below leak_one() in the program's own file, as (function, line)."""
    return tuple((f.get("function"), f.get("line")) for f in stack["frames"][1:]
                 if os.path.basename(f.get("file") or "") == os.path.basename(SRC))


def test(work):
    at = lambda marker: line_of(SRC, marker)
    trace, p = traced(work, [program("interleaved_callers"), str(ROUNDS)])
    main_at = lambda what: ("main", at(f"/* ROUND {what} */"))
    expected = Counter()
    for i in range(ROUNDS):
        expected[(("via_a", at("/* CALL a */")), main_at("a"))] += 1
        if i % 2 == 0:
            expected[(("via_b", at("/* CALL b */")), main_at("b"))] += 1
        if i % 3 == 0:
            depth = i % 4
            expected[(("recurse", at("/* CALL bottom */")),) + (("recurse", at("/* CALL deeper */")),) * depth +
                     (main_at("recurse"),)] += 1
        if i % 5 == 0:
            expected[(("via_a", at("/* CALL a */")), main_at("a again"))] += 1
    check_eq(p.stdout.decode().strip(), f"{sum(expected.values())} blocks", "program output")
    r = report(trace, "--top", "10000", "--stack-depth", "0")
    got = Counter()
    for s in find_stacks(r["leaked"], function="leak_one", file="interleaved_callers.c", line=at("/* LEAK */")):
        got[caller_key(s)] += s["blocks"]
    check_eq(dict(got), dict(expected), "leaked blocks by caller")


main(test)
