"""Passes 20 Blob objects to a C extension that leaks a reference to each, keeps one more
in a global, one in a C object without GC support (a Holder) and one in a tracked C object
whose tp_traverse does not show it (a Hider), both in globals; prints the addresses of
those two."""
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
# And one held by a C field of an object the collector does not track: reachable from the
# module through the Holder, so not leaked.
held = Blob(200)
holder = leakext.Holder(held)
print("held blob at", hex(id(held)))
del held
hidden = Blob(300)
hider = leakext.Hider(hidden)
print("hidden blob at", hex(id(hidden)))
del hidden
