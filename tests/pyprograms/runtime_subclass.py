"""Classes made while the program runs, from a base class of the program's: the first one
gives the base its dict of subclasses, which only the base holds, from its C struct. A
clean program: nothing is held from C, nothing grows."""
try:
    import refscope
except ImportError:
    refscope = None


class Handler:
    pass


def make_handler(name):
    return type(name, (Handler,), {"name": name})  # SUBCLASS


# empties the interpreter's free list of dicts: the base's dict of subclasses is then
# allocated at the line that makes the first subclass, not reused from an earlier dict
dicts = [{"n": i} for i in range(200)]
handlers = [make_handler(f"H{i}") for i in range(3)]
if refscope:
    refscope.snapshot("made")
