"""A line that allocates, reached from many callers in turn (argv[1] is the interpreter):
the leak report counts each caller's objects under that caller's own stack, exactly. The
shim finds a thread's stack from a memo of the frames below the top one; this is the
program that would show it mixing callers up."""
import sys
from collections import Counter
from harness import *

PY = sys.argv[1]
N = 3000
PROG = os.path.join(SOURCE, "tests", "pyprograms", "one_line_many_callers.py")


def caller_key(stack):
    """The stack's frames below make(), as (function, line) from the top down; a lambda is
    named by its qualified name from 3.11 on."""
    return tuple((f.get("function").split(".")[-1], f.get("line")) for f in stack["frames"][1:]
                 if os.path.basename(f.get("file") or "") == os.path.basename(PROG))


def test(work):
    alloc = line_of(PROG, "# ALLOC")
    line = {what: line_of(PROG, f"# CALL {what}") for what in
            ("a", "b", "bottom", "deeper", "generator", "from C")}
    run_loop = {what: line_of(PROG, marker) for what, marker in
                (("a", "via_a()\n"), ("a again", "another line"), ("b", "via_b()\n"), ("recurse", "recurse(i % 3)"),
                 ("generator", "next(g)"), ("from C", "list(map("))}
    trace, p = traced(work, [PY, PROG, str(N)])
    check_eq(p.stdout.decode().strip(), str(N + N // 2 + N // 4 + N // 5 + N // 10 + N // 3), "program output")
    r = report(trace, "--top", "10000")  # every stack: the same lines may be several stacks
    counts = Counter()
    for s in find_stacks(r["leaked"], function="make", line=alloc):
        counts[caller_key(s)] += s["blocks"]
    module = ("<module>", line_of(PROG, "run(int("))
    run_at = lambda what: (("run", run_loop[what]), module)
    recursion = lambda depth: ((("recurse", line["bottom"]),) +
                               (("recurse", line["deeper"]),) * depth + run_at("recurse"))
    # Item() is one block. The same line also grows the list's array (one block of it at
    # exit) and, before 3.11, the interpreter keeps two small blocks of its own from there:
    # a few blocks more than the Items, never fewer under any caller.
    expected = Counter({
        (("via_a", line["a"]),) + run_at("a"): N,
        (("via_a", line["a"]),) + run_at("a again"): N // 3,
        (("via_b", line["b"]),) + run_at("b"): N // 2,
        recursion(0): N // 12, recursion(1): N // 12, recursion(2): N // 12,
        (("generator", line["generator"]),) + run_at("generator"): N // 5,
        (("<lambda>", line["from C"]),) + run_at("from C"): N // 10,
    })
    got = dict(counts)
    extra = {k: got.get(k, 0) - v for k, v in expected.items()}
    unknown = {k: v for k, v in got.items() if k not in expected}
    check(not unknown, f"stacks no caller has: {unknown}\n(expected {dict(expected)})")
    check(all(d >= 0 for d in extra.values()) and sum(extra.values()) <= 4,
          f"blocks by caller: got {got}, expected {dict(expected)} (and up to 4 more in all)")

main(test)
