"""A line that allocates, reached from many callers in turn (argv[1] is the interpreter):
the leak report counts each caller's objects under that caller's own stack, exactly, with
stacks whole and cut (REFSCOPE_STACK_DEPTH). The shim finds a thread's stack from a memo
of the frames below the top one, also when the stack is cut for room; this is the program
that would show it mixing callers up."""
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


def expected_stacks(n, deep, lines):
    """{frames below make(), top down, uncut: blocks} for the program run with n and the
    depths `deep` of deep()."""
    line, run_loop = lines
    module = ("<module>", line_of(PROG, "run(int("))
    run_at = lambda what: (("run", run_loop[what]), module)
    recursion = lambda depth: ((("recurse", line["bottom"]),) +
                               (("recurse", line["deeper"]),) * depth + run_at("recurse"))
    expected = Counter({
        (("via_a", line["a"]),) + run_at("a"): n,
        (("via_a", line["a"]),) + run_at("a again"): n // 3,
        (("via_b", line["b"]),) + run_at("b"): n // 2,
        recursion(0): n // 12, recursion(1): n // 12, recursion(2): n // 12,
        (("generator", line["generator"]),) + run_at("generator"): n // 5,
        (("<lambda>", line["from C"]),) + run_at("from C"): n // 10,
    })
    for i in range(1, n, 4):
        depth = deep[i % len(deep)]
        expected[(("deep", line["deep bottom"]),) + (("deep", line["deep deeper"]),) * depth +
                 run_at("deep")] += 1
    return expected


def check_callers(work, cut, deep, lines, name):
    """Runs the program with stacks cut at `cut` frames; each caller's blocks must be
    counted under its own stack, cut there."""
    alloc = line_of(PROG, "# ALLOC")
    env = dict(os.environ, REFSCOPE_STACK_DEPTH=str(cut))
    trace, p = traced(work, [PY, PROG, str(N), ",".join(map(str, deep))], name=name, env=env)
    expected = Counter()
    for key, blocks in expected_stacks(N, deep, lines).items():
        expected[key[:cut - 1]] += blocks  # make() is the first frame
    check_eq(p.stdout.decode().strip(), str(sum(expected.values())), "program output")
    # every stack, whole: the same lines may be several stacks
    r = report(trace, "--top", "10000", "--stack-depth", "0")
    counts = Counter()
    for s in find_stacks(r["leaked"], function="make", line=alloc):
        counts[caller_key(s)] += s["blocks"]
    # Item() is one block. The same line also grows the list's array (one block of it at
    # exit) and, before 3.11, the interpreter keeps two small blocks of its own from there:
    # a few blocks more than the Items, never fewer under any caller.
    got = dict(counts)
    extra = {k: got.get(k, 0) - v for k, v in expected.items()}
    unknown = {k: v for k, v in got.items() if k not in expected}
    check(not unknown, f"cut at {cut}: stacks no caller has: {unknown}\n(expected {dict(expected)})")
    check(all(d >= 0 for d in extra.values()) and sum(extra.values()) <= 4,
          f"cut at {cut}: blocks by caller: got {got}, expected {dict(expected)} (and up to 4 more in all)")


def test(work):
    line = {what: line_of(PROG, f"# CALL {what}") for what in
            ("a", "b", "bottom", "deeper", "generator", "from C", "deep bottom", "deep deeper")}
    run_loop = {what: line_of(PROG, marker) for what, marker in
                (("a", "via_a()\n"), ("a again", "another line"), ("b", "via_b()\n"), ("recurse", "recurse(i % 3)"),
                 ("generator", "next(g)"), ("from C", "list(map("), ("deep", "deep(DEEP["))}
    # deep(d) is d + 4 frames deep: make, d + 1 deep, run, <module>. Around the default cut
    # (64 frames) the stacks end whole, without <module>, without run too, and go on
    # beyond it; a stack cut at 3 frames keeps two below make().
    cut = 64
    deep = [cut - 4, cut - 3, cut - 2, cut + 6, cut + 7]
    check_callers(work, cut, deep, (line, run_loop), "default_cut.rsc")
    check_callers(work, 3, deep, (line, run_loop), "cut_at_3.rsc")

main(test)
