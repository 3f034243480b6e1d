"""One allocation line reached from many callers, interleaved: directly from two
functions, through recursion of changing depth, from a generator, and as a callback
called from C. Each caller's objects must be counted under its own stack: a stack that
differs from the last only below its top frame, even in where a caller's own caller
stands, must never be taken for it."""
import sys

keep = []


class Item:
    __slots__ = ()


def make():
    keep.append(Item())  # ALLOC


def via_a():
    make()  # CALL a


def via_b():
    make()  # CALL b


def recurse(depth):
    if depth == 0:
        make()  # CALL bottom
    else:
        recurse(depth - 1)  # CALL deeper


def generator():
    while True:
        make()  # CALL generator
        yield


def run(n):
    g = generator()
    for i in range(n):
        via_a()
        if i % 2 == 0:
            via_b()
        if i % 4 == 0:
            recurse(i % 3)
        if i % 5 == 0:
            next(g)
        if i % 10 == 0:
            list(map(lambda _: make(), [0]))  # CALL from C
        if i % 3 == 0:
            via_a()  # the same caller, another line


run(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
print(len(keep))
