"""examples/native_leak.c: the report says exactly what its EXPECT block says, and its
leak totals equal valgrind's "definitely lost" on the same binary."""
import re
from harness import *

SRC = example("native_leak.c")


def valgrind_definitely_lost(binary):
    p = run(["valgrind", "--leak-check=full", binary], timeout=300)
    m = re.search(rb"definitely lost: ([\d,]+) bytes in ([\d,]+) blocks", p.stderr)
    check(m, "valgrind printed no 'definitely lost' line:\n" + p.stderr.decode(errors="replace")[-1500:])
    return int(m.group(1).replace(b",", b"")), int(m.group(2).replace(b",", b""))


def test(work):
    binary = program("native_leak")
    trace, _ = traced(work, [binary])
    r = report(trace)
    check_eq(r["trace"]["status"], "complete", "trace status")
    check_eq(r["events"]["lost"], 0, "events lost")
    leaked = r["leaked"]

    a = find_stacks(leaked, function="leak_here", file="native_leak.c", line=line_of(SRC, "/* ALLOC A */"))
    check(len(a) == 1, f"one leaking stack at leak_here (ALLOC A), found {len(a)}: "
          f"{[stack_key(s) for s in leaked['by_stack']]}")
    check_eq((a[0]["blocks"], a[0]["bytes"]), (100, 100000), "ALLOC A blocks, bytes")

    b = find_stacks(leaked, function="leak_in_thread", file="native_leak.c", line=line_of(SRC, "/* ALLOC B */"))
    check(len(b) == 1, f"one leaking stack at leak_in_thread (ALLOC B), found {len(b)}")
    check_eq((b[0]["blocks"], b[0]["bytes"]), (4, 16384), "ALLOC B blocks, bytes")

    # nothing else allocated in this file is left: churn()'s blocks were all freed
    others = [s for s in leaked["by_stack"] if s not in a + b and
              any(os.path.basename(f.get("file") or "") == "native_leak.c" for f in s["frames"])]
    check(not others, f"other leaks from native_leak.c: {[stack_key(s) for s in others]}")

    bytes_lost, blocks_lost = valgrind_definitely_lost(binary)
    check_eq((leaked["blocks"], leaked["bytes"]), (blocks_lost, bytes_lost),
             "leaked blocks/bytes vs valgrind's definitely lost")

    text = report_text(trace)
    alloc_a = line_of(SRC, "/* ALLOC A */")
    check("leak_here" in text and f"native_leak.c:{alloc_a}" in text,
          "the text report names leak_here at the ALLOC A line")


main(test)
