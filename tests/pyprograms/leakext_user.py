"""Passes 20 Blob objects to a C extension that leaks a reference to each, and keeps one
more in a global."""
import sys

sys.path.insert(0, sys.argv[1])
import leakext  # noqa: E402


class Blob:
    def __init__(self, i):
        self.payload = list(range(i, i + 10))


def make(i):
    blob = Blob(i)  # LEAK ALLOC
    leakext.keep(blob)


for i in range(20):
    make(i)
# One more of the kind, held by a module and not leaked: the leak suspect's chain must be a
# leaked one's (held from C), not this one's, though this one's is the shortest from a module.
kept = Blob(100)
