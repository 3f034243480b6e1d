"""Takes objgraph's view and refscope's snapshot of the same heap, one right after the
other, and writes objgraph's side to argv[1] for the test to compare."""
import gc
import json
import sys

sys.path.append("/usr/lib/python3/dist-packages")  # Debian's python3-objgraph (pure Python)
import objgraph  # noqa: E402
import refscope  # noqa: E402  (provided by refscope while the program runs under it)


class Known:
    def __init__(self, n):
        self.n = n
        self.tags = [n, n + 1]


class Holder:
    pass


registry = {"known": [Known(i) for i in range(1234)]}
holder = Holder()
holder.items = [Holder() for _ in range(17)]

gc.collect()
stats = objgraph.typestats(shortnames=False)
target = registry["known"][7]
chain = objgraph.find_backref_chain(target, objgraph.is_proper_module)
chain_types = [f"{type(o).__module__}.{type(o).__qualname__}" for o in chain]
root = chain[0].__name__
chain_len = len(chain)
del chain
refscope.snapshot("compare")
with open(sys.argv[1], "w") as f:
    json.dump({"stats": stats, "chain_len": chain_len, "chain_types": chain_types, "root": root,
               "target": hex(id(target))}, f)
