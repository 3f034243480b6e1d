"""Leaks for REFSCOPE_SAMPLE (tests/integration/test_python_sampled.py): many small objects
kept from one line, a few large ones kept from another by a worker thread, and many objects
made and dropped on a third by both threads. Prints what it kept, the same traced or not."""
import threading

SMALL, SMALL_SIZE = 20000, 1000
BIG, BIG_SIZE = 8, 1 << 20
CHURN = 100000

kept = []
# a list of its own: one list grown by both threads has its array on the line that grew it
# last, which changes from run to run
kept_big = []


def keep_small():
    for _ in range(SMALL):
        kept.append(bytearray(SMALL_SIZE))  # SMALL LEAK


def keep_big():
    for _ in range(BIG):
        kept_big.append(bytearray(BIG_SIZE))  # BIG LEAK


def churn():
    for i in range(CHURN):
        {"n": i, "s": str(i), "l": [i, i + 1]}  # CHURN


worker = threading.Thread(target=lambda: (keep_big(), churn()))
worker.start()
keep_small()
churn()
worker.join()
print(len(kept), len(kept_big), sum(len(b) for b in kept + kept_big))
