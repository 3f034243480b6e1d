"""Every example leak under one interpreter (argv[1]): the report names each ALLOC line
with the right counts, alive when the program finished, and for thread_leak.py the worker
threads that allocated, by the names Python gave them."""
import sys
from harness import *

PY = sys.argv[1]
VERSION = tuple(int(x) for x in run([PY, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
                .stdout.decode().split("."))
# Allocations per instance of a plain class at its instantiation line: 3.11 and 3.12 give
# the object and its attribute values array; 3.8-3.10 make the __dict__ later, at the first
# attribute assignment; 3.13 keeps the values inline.
PER_INSTANCE = 2 if (3, 11) <= VERSION <= (3, 12) else 1
SLACK = 10  # other blocks a line may own (a bound method, a frame...)


def at_line(section, path, line):
    """Blocks and bytes of a section's by_line entries for file:line (a list comprehension
    before 3.12 is a code object of its own on the same line)."""
    rows = [l for l in section["by_line"]
            if l.get("file") and os.path.basename(l["file"]) == os.path.basename(path) and l["line"] == line]
    return sum(l["blocks"] for l in rows), sum(l["bytes"] for l in rows)


def run_example(work, name):
    src = example(name)
    trace, _ = traced(work, [PY, src], name=name + ".rsc")
    r = report(trace, "--top", "0")
    check_eq(r["trace"]["status"], "complete", f"{name}: trace status")
    check(r["program_end"] is not None, f"{name}: the program-end point is in the trace")
    return src, r


def expect_between(value, lo, hi, what):
    check(lo <= value <= hi, f"{what}: expected {lo}..{hi}, got {value}")


def test(work):
    src, r = run_example(work, "cache_leak.py")
    [line] = lines_of(src, "# ALLOC")
    blocks, _ = at_line(r["leaked"], src, line)
    expect_between(blocks, 900 * PER_INSTANCE, 900 * PER_INSTANCE + SLACK, "cache_leak.py ALLOC line, live at exit")

    src, r = run_example(work, "cycle_gc_disabled.py")
    for line in lines_of(src, "# ALLOC"):
        blocks, _ = at_line(r["leaked"], src, line)
        # 1000 Nodes and their 1000 names (the f-string is evaluated on the same line)
        expect_between(blocks, 1000 * (PER_INSTANCE + 1), 1000 * (PER_INSTANCE + 1) + SLACK,
                       f"cycle_gc_disabled.py line {line}")

    src, r = run_example(work, "saveall_garbage.py")
    [line] = lines_of(src, "# ALLOC")
    blocks, _ = at_line(r["leaked"], src, line)
    expect_between(blocks, 150 * PER_INSTANCE, 150 * PER_INSTANCE + SLACK, "saveall_garbage.py ALLOC line")

    src, r = run_example(work, "thread_leak.py")
    [line] = lines_of(src, "# ALLOC")
    blocks, nbytes = at_line(r["leaked"], src, line)
    # 400 lists: the list, its item array and the 743 ints above the small-int cache;
    # a list taken from the interpreter's free list keeps the site of its first allocation
    expect_between(blocks, 400 * 745 - 400, 400 * 745, "thread_leak.py ALLOC line")
    names = {t["name"]: t for t in r["threads"]}
    workers = [f"worker_{i}" for i in range(4)]
    for w in workers:
        check(w in names, f"thread {w} named in the report (threads: {sorted(n for n in names if n)})")
    by_workers = sum(names[w]["leaked_blocks"] for w in workers)
    check(by_workers >= blocks, f"the ALLOC line's blocks were made by the worker threads ({by_workers} < {blocks})")
    check(names["holder"]["leaked_blocks"] >= 20000, "the holder thread's hoard is alive at exit")
    # the report filtered to the workers: the ALLOC line on top
    rw = report(example("thread_leak.py") and work.file("thread_leak.py.rsc"), "--thread", "worker", "--top", "1")
    top = rw["leaked"]["by_line"][0]
    check_eq((os.path.basename(top["file"]), top["line"]), ("thread_leak.py", line), "top line for --thread worker")


main(test)
