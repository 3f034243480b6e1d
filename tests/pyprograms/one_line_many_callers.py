"""One allocation line reached from many callers, interleaved: directly from two
functions, through recursion of changing depth (shallow, and around and beyond the depth
at which refscope cuts a stack), from a generator, and as a callback called from C. Each
caller's objects must be counted under its own stack: a stack that differs from the last
only below its top frame, even in where a caller's own caller stands, must never be taken
for it; two stacks that differ only below the cut are one."""
import sys

keep = []
# Recursion depths of deep(): about refscope's default cut (64 frames), and beyond it.
DEEP = [int(d) for d in sys.argv[2].split(",")] if len(sys.argv) > 2 else [60, 61, 62, 70, 71]


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


def deep(depth):
    if depth == 0:
        make()  # CALL deep bottom
    else:
        deep(depth - 1)  # CALL deep deeper


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
        if i % 4 == 1:
            deep(DEEP[i % len(DEEP)])
        if i % 10 == 0:
            list(map(lambda _: make(), [0]))  # CALL from C
        if i % 3 == 0:
            via_a()  # the same caller, another line


run(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
print(len(keep))
