"""Shared by the clean_*.py programs: snapshots between rounds when running under refscope
(`--no-snapshots`: only the one refscope takes at exit). Each clean program does a warm-up
round, a snapshot, then several rounds of the same work with a snapshot after each: a
program that does not leak shows no growth from the first snapshot to the last."""
import gc
import sys

try:
    import refscope
except ImportError:
    refscope = None

SNAPSHOTS = "--no-snapshots" not in sys.argv


def snapshot(label):
    if refscope and SNAPSHOTS:
        refscope.snapshot(label)


def rounds(work, n=4):
    work(0)
    snapshot("warm-up")
    for r in range(1, n + 1):
        work(r)
        snapshot(f"round {r}")
