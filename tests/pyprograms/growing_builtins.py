"""Leaks made of builtin containers only: a module-level cache of dicts, each holding a list,
filled and never emptied, with a snapshot after each round. dict and list objects are
everywhere in an interpreter; the report must say which ones grow and who holds those."""
try:
    import refscope
except ImportError:
    refscope = None

cache = {}


def remember(key):
    if key not in cache:
        cache[key] = {"key": key, "rows": [key] * 5}  # LEAK ALLOC
    return cache[key]


for r in range(5):
    for i in range(400):
        remember(f"{r}-{i}")
    if refscope:
        refscope.snapshot(f"round {r}")
