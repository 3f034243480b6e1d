# A program whose names try to inject HTML into `refscope html`'s page: a class named
# X<script>alert(1)</script> whose objects grow across snapshots (a leak suspect), held in a
# dict under keys like <img src=x onerror=alert(..)> (edge labels of its backref chain),
# big strs starting with markup (str labels, on the chain of their allocation site),
# allocated by a function whose code object is renamed <img src=x onerror=alert(6)> (the
# allocation site, frames of the flame graph), a thread and snapshot labels with markup.
# The page must show all of them as text.
import threading

try:
    import refscope
except ImportError:
    refscope = None

Evil = type("X<script>alert(1)</script>", (), {})
hold = {}
labels = []


def make():
    return Evil()  # ALLOC


make.__code__ = make.__code__.replace(co_name="<img src=x onerror=alert(6)>",
                                      co_qualname="<img src=x onerror=alert(6)>")


def snap(label):
    if refscope:
        refscope.snapshot(label)


def fill(r):
    for i in range(100):
        hold[f"<img src=x onerror=alert({r * 1000 + i})>"] = make()
        labels.append(f"<img src=x onerror=alert(4)></script><script>alert(7)</script>{i}" + " " * 3000)  # LABEL


snap("<img src=x onerror=alert(2)>")
for r in range(3):
    t = threading.Thread(target=fill, args=(r,), name="<svg onload=alert(5)>")
    t.start()
    t.join()
    snap(f"round {r} <script>alert(3)</script>")
