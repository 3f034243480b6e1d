"""Object-graph snapshots of every example under one interpreter (argv[1]): each EXPECT
block holds - growth between snapshots, backref chains with their labels and roots, cycles
classified as garbage or uncollectable, allocation sites - and every graph file renders."""
import json
import sys
from harness import *

PY = sys.argv[1]


def refscope_json(*args):
    p = analyzer(list(args) + ["--json"])
    return json.loads(p.stdout)


def site_line(node):
    site = node.get("site") or {}
    return (os.path.basename(site.get("file") or ""), site.get("line"))


def check_graph_files(work, trace, *query):
    """The chain as DOT (parsed back by Graphviz), SVG and PNG."""
    for ext in ("dot", "svg", "png"):
        out = work.file(f"{query[0]}{len(os.listdir(work.path))}.{ext}")
        analyzer([*query[:1], trace, *query[1:], "-o", out])
        data = open(out, "rb").read()
        check(len(data) > 100, f"{out} is not empty")
        if ext == "dot":
            run(["dot", "-Tcanon", out], check_status=0)
        elif ext == "svg":
            check(b"<svg" in data, f"{out} is SVG")
        else:
            check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{out} is PNG")


def cache_leak(work):
    src = example("cache_leak.py")
    [alloc] = lines_of(src, "# ALLOC")
    trace, _ = traced(work, [PY, src], name="cache.rsc")
    # 0 in the first snapshot, 300 more in each later one
    counts = None
    for a, b in ((1, 2), (2, 3), (3, 4)):
        g = refscope_json("growth", trace, "--from", str(a), "--to", str(b))
        conn = [t for t in g["types"] if t["name"] == "__main__.Connection"]
        check(conn, f"growth {a}->{b} lists __main__.Connection")
        check_eq(conn[0]["count_change"], 300, f"Connection growth from snapshot {a} to {b}")
        counts = conn[0]["counts"]
        sites = [s for s in g["sites"] if site_line(s) == ("cache_leak.py", alloc)]
        check(sites, f"growth {a}->{b} names the ALLOC line as a growing site")
    check_eq(counts[:4], [0, 300, 600, 900], "Connection count per snapshot")
    check(any(s["name"] == "__main__.Connection" for s in g["suspects"]), "Connection flagged as growing steadily")
    # 900 alive at exit
    t = refscope_json("types", trace, "--top", "0")
    conn = [x for x in t["types"] if x["name"] == "__main__.Connection"]
    check_eq(conn[0]["count"] if conn else 0, 900, "Connections alive at exit")
    # the chain: module __main__ --[__dict__]--> dict --[_cache]--> list --[i]--> Connection
    b = refscope_json("backrefs", trace, "--type", "__main__.Connection")
    check(b["found"], "a chain from a root to a Connection")
    chain = b["chain"]
    check_eq([n["type"] for n in chain], ["builtins.module", "builtins.dict", "builtins.list", "__main__.Connection"],
             "chain types")
    check_eq(chain[0]["label"], "__main__", "the root is module __main__")
    check_eq(chain[2]["edge"]["text"], "_cache", "the global's name labels the edge into the list")
    check_eq(chain[3]["edge"]["kind"], "index", "the list holds the Connection at an index")
    check_eq(site_line(chain[3]), ("cache_leak.py", alloc), "the Connection's allocation site")
    check_graph_files(work, trace, "backrefs", "--type", "__main__.Connection")
    r = report(trace)
    suspects = [s for s in r["leak_suspects"] if s.get("type") == "__main__.Connection"]
    check(suspects, "report lists Connection among leak suspects")
    # the report's chain, labels read for its objects alone: the same as backrefs'
    check_eq([(n["type"], n["label"]) for n in suspects[0]["chain"]],
             [(n["type"], n["label"]) for n in chain], "the suspect's chain and its labels")


def cycle_gc_disabled(work):
    src = example("cycle_gc_disabled.py")
    allocs = set(lines_of(src, "# ALLOC"))
    trace, _ = traced(work, [PY, src], name="cycle.rsc")
    c = refscope_json("cycles", trace)
    garbage = [g for g in c["groups"] if g["class"] == "garbage" and
               any(t["name"] == "__main__.Node" for t in g["types"])]
    check_eq(len(garbage), 1, "one group of Node cycles classified as cyclic garbage")
    g = garbage[0]
    nodes = [t["count"] for t in g["types"] if t["name"] == "__main__.Node"][0]
    # 2 Nodes per cycle (before 3.11 their instance dicts are members of the cycle too)
    check_eq((g["cycles"], nodes), (1000, 2000), "1000 cycles of 2 Nodes")
    for line in allocs:
        at = sum(s["count"] for s in g["type_sites"]
                 if s["name"] == "__main__.Node" and site_line(s) == ("cycle_gc_disabled.py", line))
        check_eq(at, 1000, f"Nodes allocated at ALLOC line {line}")
    check_eq(c["summary"]["uncollectable"]["cycles"], 0, "nothing uncollectable")
    b = refscope_json("backrefs", trace, "--type", "__main__.Node")
    check(not b["found"], "no Node is reachable from a root")


def saveall_garbage(work):
    src = example("saveall_garbage.py")
    [alloc] = lines_of(src, "# ALLOC")
    trace, _ = traced(work, [PY, src], name="saveall.rsc")
    c = refscope_json("cycles", trace)
    unc = [g for g in c["groups"] if g["class"] == "uncollectable" and
           any(t["name"] == "__main__.Resource" for t in g["types"])]
    check_eq(len(unc), 1, "one group of Resource cycles classified as uncollectable")
    resources = [t["count"] for t in unc[0]["types"] if t["name"] == "__main__.Resource"][0]
    check_eq((unc[0]["cycles"], resources), (50, 150), "50 cycles of 3 Resources")
    check(unc[0]["finalizer"], "the cycle's objects have a finaliser (__del__)")
    at = sum(s["count"] for s in unc[0]["type_sites"]
             if s["name"] == "__main__.Resource" and site_line(s) == ("saveall_garbage.py", alloc))
    check_eq(at, 150, "Resources allocated at the ALLOC line")
    check_graph_files(work, trace, "cycles")


def thread_leak(work):
    src = example("thread_leak.py")
    [alloc] = lines_of(src, "# ALLOC")
    hoard = line_of(src, "hoard = [")
    trace, _ = traced(work, [PY, src], name="thread.rsc")
    # the worker lists: reachable from the global global_data
    b = refscope_json("backrefs", trace, "--site", f"thread_leak.py:{alloc}")
    check(b["found"], "a chain to the ALLOC line's lists")
    chain = b["chain"]
    check_eq((chain[0]["type"], chain[0]["label"]), ("builtins.module", "__main__"), "worker lists' root")
    check("global_data" in [n["edge"]["text"] for n in chain[1:] if n["edge"]], "edge labelled global_data")
    # the daemon thread's hoard: the chain ends at that thread's frame, not at a module
    b = refscope_json("backrefs", trace, "--site", f"thread_leak.py:{hoard}")
    check(b["found"], "a chain to the hoard")
    check_eq(b["root"]["kind"], "thread", "the hoard's root is a thread's frame")
    check_eq(b["root"]["name"], "holder", "the thread is the daemon thread holder")
    check_eq(b["chain"][1]["edge"]["text"], "hoard", "the frame's local hoard")
    check_eq(b["chain"][1]["label"], "20000 items", "hoard holds 20000 bytes objects")
    t = refscope_json("types", trace, "--top", "0")
    lists = [x for x in t["types"] if x["name"] == "builtins.list"][0]["count"]
    check(lists >= 401, f"the 400 worker lists and the hoard are alive at exit ({lists} lists)")


def test(work):
    cache_leak(work)
    cycle_gc_disabled(work)
    saveall_garbage(work)
    thread_leak(work)


main(test)
