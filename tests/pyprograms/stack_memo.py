"""Allocations on stacks that the shim's per-thread memos of Python frames must tell apart
(preload/python/py_frames.c): the same frames reached from Python and from C (entry frames),
generators, methods called by the interpreter, recursion deeper than REFSCOPE_STACK_DEPTH
with the cut falling on either side of an entry frame, and a second thread. Prints a
checksum of what it made, so that its output can be compared with a plain run."""
import sys
import threading

keep = []


def leaf():
    keep.append([len(keep)])


def mid(d):
    if d == 0:
        leaf()
        return
    mid(d - 1)


def caller(k, through_c):
    """A function calling fn(z), directly or through C (map), with k locals more than it
    needs: among the callers of 0-11 extra locals, some of each kind have frames of the
    same size, so that the frames above lie at the same addresses whichever way they were
    called, and the frame called is an entry frame one way and not the other."""
    src = "def call(fn, z):\n"
    if k:
        src += "    " + ", ".join(f"a{i}" for i in range(k)) + " = " + "0, " * k + "\n"
    src += "    return list(map(fn, (z,)))\n" if through_c else "    return fn(z)\n"
    ns = {}
    exec(src, ns)
    return ns["call"]


py_callers = [caller(k, False) for k in range(12)]
c_callers = [caller(k, True) for k in range(12)]


def numbers(n):
    for i in range(n):
        yield [i, str(i)]


class Box:
    def __init__(self, v):
        self.v = [v]

    def __lt__(self, other):
        keep.append((self.v[0],))
        return self.v[0] < other.v[0]


def work():
    for depth in range(2, 14):
        fn = lambda _=None, d=depth: mid(d)
        for py_caller in py_callers:
            for c_caller in c_callers:
                py_caller(fn, 0)
                c_caller(fn, 0)
    for _ in range(20):
        keep.extend(numbers(20))
        keep.extend(map(lambda i: {"i": i}, range(20)))
        sorted([Box(i) for i in range(20, 0, -1)])


work()
t = threading.Thread(target=work)
t.start()
t.join()
print(len(keep), sum(len(x) for x in keep))
