"""Passes 20 Blob objects to a C extension that leaks a reference to each."""
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
