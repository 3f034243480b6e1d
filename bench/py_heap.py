"""Benchmark workload: N live objects (instances holding a list and a dict, and leaves
reached from a module-level list); then either one refscope snapshot (argv[2] =
refscope) or objgraph's most_common_types + show_growth + find_backref_chain on the same
heap, timed (argv[2] = objgraph: prints the seconds)."""
import gc
import io
import sys
import time


class Leaf:
    __slots__ = ("n", "tag")

    def __init__(self, n):
        self.n = n
        self.tag = None


class Node:
    def __init__(self, i):
        self.items = [Leaf(i), Leaf(i + 1)]
        self.meta = {"i": i}


n = int(sys.argv[1])
# each Node brings 4 gc-tracked objects (the Node, its list, its dict, and 2 Leaf)
keep = [Node(i) for i in range(n // 5)]
gc.collect()
if sys.argv[2] == "refscope":
    import refscope
    refscope.snapshot("heap")
else:
    sys.path.append("/usr/lib/python3/dist-packages")
    import objgraph
    start = time.perf_counter()
    objgraph.most_common_types(limit=10)  # returns the list, prints nothing
    objgraph.show_growth(limit=10, file=io.StringIO())
    objgraph.find_backref_chain(keep[len(keep) // 2].items[0], objgraph.is_proper_module)
    print(time.perf_counter() - start)
