"""refscope check on every Python example leak under one interpreter (argv[1]): each fails
with the rule its EXPECT block implies, a reason naming the type, the site and the chain
of references, and passes again against a baseline holding the same leak. The JUnit XML
is well formed with a test case per rule; the Markdown summary names the failed rule."""
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from check_util import *

PY = sys.argv[1]
RULES = ["leaked-bytes", "growth", "leaked-references", "uncollectable", "cyclic-garbage"]


def example_check(work, name, *extra):
    src = example(name)
    out = {k: work.file(f"{name}.{k}") for k in ("junit.xml", "md")}
    trace, result, p = run_check(work, [PY, src], name, status=1,
                                 check_args=["--junit", out["junit.xml"], "--markdown", out["md"],
                                             *extra])
    return src, trace, result, p.stdout.decode(errors="replace"), out


def reason_line(stdout, rule_name):
    lines = [l for l in stdout.splitlines() if l.startswith(f"FAIL {rule_name}: ")]
    check_eq(len(lines), 1, f"one 'FAIL {rule_name}:' line in the summary:\n{stdout}")
    return lines[0]


def check_junit(path, result):
    root = ET.parse(path).getroot()  # well formed, or this raises
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    check_eq(len(suites), 1, "one testsuite in the JUnit XML")
    cases = suites[0].findall("testcase")
    check_eq([c.get("name") for c in cases], RULES, "a test case per rule, by name")
    failed_cases = sorted(c.get("name") for c in cases if c.find("failure") is not None)
    check_eq(failed_cases, failed(result), "test cases with a <failure> are the failed rules")
    check_eq(int(suites[0].get("failures")), len(failed(result)), "testsuite failures=")
    check_eq(int(suites[0].get("tests")), len(RULES), "testsuite tests=")
    for c in cases:
        f = c.find("failure")
        if f is not None:
            check_eq(f.get("message"), rule(result, c.get("name"))["reason"],
                     f"failure message of {c.get('name')} is the rule's reason")
            check(f.text and rule(result, c.get("name"))["reason"] in f.text,
                  "the failure's text starts with the reason")


def check_markdown(path, result):
    text = open(path, encoding="utf-8").read()
    check(text.startswith("## refscope check:") and "FAIL" in text, f"Markdown title:\n{text[:300]}")
    for name in failed(result):
        check(f"### \u274c {name}" in text, f"Markdown has a section for the failed rule {name}")
        check(f"| {name} |" in text and "**fail**" in text, f"Markdown table row of {name}")
    return text


def cache_leak(work):
    src, trace, result, stdout, out = example_check(work, "cache_leak.py")
    [alloc] = lines_of(src, "# ALLOC")
    check_eq(failed(result), ["growth"], "cache_leak: the rules that fail")
    g = rule(result, "growth")
    check_eq((result["window"]["from"]["label"], result["window"]["to"]["label"]),
             ("start", "exit"), "growth from the first snapshot to the last")
    f = finding(g, "type:__main__.Connection")
    check_eq((f["from"], f["to"], f["value"], f["excess"]), (0, 900, 900, 900),
             "Connection objects: 0 -> 900")
    check(site_is(f, "cache_leak.py", alloc), f"Connection's site is the ALLOC line: {f['site']}")
    check(re.fullmatch(r"module __main__ -> dict\[_cache\] -> list\[\d+\] -> __main__\.Connection",
                       f["chain"] or ""), f"Connection's chain: {f['chain']!r}")
    check_eq(f["root"], {"kind": "module", "name": "__main__"}, "the chain's root")
    check_eq([s["type"] for s in f["steps"]],
             ["builtins.module", "builtins.dict", "builtins.list", "__main__.Connection"], "chain steps")
    s = finding(g, f"site:cache_leak.py:{alloc} handle")
    check_eq(s["value"], 900, "900 objects more at the ALLOC line")
    line = reason_line(stdout, "growth")
    for part in ("__main__.Connection grew by 900 objects (0 -> 900, limit 100)",
                 f"allocated at cache_leak.py:{alloc} handle",
                 "held by module __main__ -> dict[_cache] -> list["):
        check(part in line, f"the growth reason says {part!r}:\n{line}")
    check_junit(out["junit.xml"], result)
    check_markdown(out["md"], result)

    # A baseline holding the same leak passes; the JSON written is the baseline.
    base = work.file("cache_leak.py.json")
    again, p = check_json(trace, "--baseline", base, status=0)
    check_eq(again["verdict"], "pass", "cache_leak against its own baseline")
    f = finding(rule(again, "growth"), "type:__main__.Connection")
    check_eq((f["baseline"], f["excess"]), (900, 0), "Connection: in the baseline, nothing more")
    # The same program leaking more (5 rounds instead of 3) fails against it.
    os.mkdir(work.file("bigger"))
    bigger = work.file(os.path.join("bigger", "cache_leak.py"))
    with open(src, encoding="utf-8") as fi, open(bigger, "w", encoding="utf-8") as fo:
        fo.write(fi.read().replace("for r in range(3):", "for r in range(5):"))
    _, more, p = run_check(work, [PY, bigger], "cache_leak_bigger", status=1,
                           check_args=["--baseline", base])
    check_eq(failed(more), ["growth"], "the bigger leak fails growth against the baseline")
    f = finding(rule(more, "growth"), "type:__main__.Connection")
    check_eq((f["value"], f["baseline"], f["excess"]), (1500, 900, 600), "1500 against 900")
    line = reason_line(p.stdout.decode(errors="replace"), "growth")
    check("600 more than the baseline's 900" in line, f"the reason says how much bigger:\n{line}")
    return base


def cycle_gc_disabled(work):
    src, trace, result, stdout, out = example_check(work, "cycle_gc_disabled.py")
    allocs = lines_of(src, "# ALLOC")
    check_eq(failed(result), ["cyclic-garbage"], "cycle_gc_disabled: the rules that fail")
    r = rule(result, "cyclic-garbage")
    nodes = [f for f in r["findings"] if "__main__.Node*2" in f["key"]]
    check_eq(len(nodes), 1, f"one cycle kind of two Nodes: {[f['key'] for f in r['findings']]}")
    f = nodes[0]
    check_eq(f["count"], 1000, "1000 cycles")
    check(f["value"] >= 2000, f"at least 2000 objects in them: {f['value']}")
    check(any(site_is(f, "cycle_gc_disabled.py", l) for l in allocs), f"site: {f['site']}")
    line = reason_line(stdout, "cyclic-garbage")
    check("of cyclic garbage not collected (limit 1,000)" in line and "1000 cycles of" in line
          and "__main__.Node*2" in line and "no chain from a root" in line,
          f"the cyclic-garbage reason:\n{line}")
    check_junit(out["junit.xml"], result)
    check_markdown(out["md"], result)


def saveall_garbage(work):
    src, trace, result, stdout, out = example_check(work, "saveall_garbage.py")
    [alloc] = lines_of(src, "# ALLOC")
    check("uncollectable" in failed(result), f"saveall_garbage fails uncollectable: {failed(result)}")
    r = rule(result, "uncollectable")
    res = [f for f in r["findings"] if "__main__.Resource*3" in f["key"]]
    check_eq(len(res), 1, f"one kind of cycle of three Resources: {[f['key'] for f in r['findings']]}")
    f = res[0]
    check_eq(f["count"], 50, "50 uncollectable cycles")
    check(f["value"] >= 150, f"at least 150 objects: {f['value']}")
    check(site_is(f, "saveall_garbage.py", alloc), f"site: {f['site']}")
    check(re.fullmatch(r"module gc -> dict\[garbage\] -> list\[\d+\] -> .*", f["chain"] or ""),
          f"held by gc.garbage: {f['chain']!r}")
    line = reason_line(stdout, "uncollectable")
    # 3.8-3.10: each Resource's __dict__ is in the cycle too
    check("in uncollectable cycles, held by gc.garbage (limit 0)" in line and
          re.search(r"50 cycles of [36] objects", line) and "with __del__" in line and
          "held by module gc -> dict[garbage]" in line, f"the uncollectable reason:\n{line}")
    check_junit(out["junit.xml"], result)
    check_markdown(out["md"], result)


def thread_leak(work, cache_baseline):
    src, trace, result, stdout, out = example_check(work, "thread_leak.py")
    [alloc] = lines_of(src, "# ALLOC")
    check("growth" in failed(result), f"thread_leak fails growth: {failed(result)}")
    g = rule(result, "growth")
    check_eq(result["window"]["kind"], "since-start", "one snapshot: growth since the start")
    f = finding(g, "type:builtins.list")
    # 400 worker lists; a few may come from CPython's list free list with an older site
    check(300 <= f["value"] <= 450 and f["from"] == 0, f"lists gained: {f['value']}")
    check(re.fullmatch(r"module __main__ -> dict\[global_data\] -> list\[\d+\] -> list",
                       f["chain"] or ""), f"the lists' chain: {f['chain']!r}")
    at_alloc = [x for x in g["findings"] if x["key"].startswith("site:") and site_is(x, "thread_leak.py", alloc)]
    check(at_alloc, "the ALLOC line is a growing site")
    line = reason_line(stdout, "growth")
    check("list grew by" in line and "held by module __main__ -> dict[global_data] -> list[" in line,
          f"the growth reason:\n{line}")
    check_junit(out["junit.xml"], result)
    check_markdown(out["md"], result)
    # a baseline of another program's leaks does not excuse this one
    again, p = check_json(trace, "--baseline", cache_baseline, status=1)
    check("growth" in failed(again), "thread_leak against cache_leak's baseline still fails")
    # nor with its own baseline... which it passes
    own = work.file("thread_leak.py.json")
    again, p = check_json(trace, "--baseline", own, status=0)
    check_eq(again["verdict"], "pass", "thread_leak against its own baseline")


def test(work):
    base = cache_leak(work)
    cycle_gc_disabled(work)
    saveall_garbage(work)
    thread_leak(work, base)


main(test)
