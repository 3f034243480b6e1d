"""C memory from Python through ctypes: a block kept for good before the warm-up snapshot
(a library's one-time set-up), and 10 blocks of 1,000 bytes leaked in every round (the
warm-up round too). `refscope check --from warm-up` counts only the rounds after it."""
import ctypes

import refscope

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]

setup = libc.malloc(4096)  # SETUP
leaked = []


def work():
    for _ in range(10):
        leaked.append(libc.malloc(1000))  # LEAK


work()
refscope.snapshot("warm-up")
for r in range(1, 5):
    work()
    refscope.snapshot(f"round {r}")
