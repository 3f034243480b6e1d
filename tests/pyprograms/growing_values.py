"""Leaks the collector's view misses, in rounds with a snapshot after each (argv[1] picks
one):
- values: a set of request ids (strings) and a dict of latencies keyed by request number
  (ints to floats): nothing in them is tracked by the collector, nor is the dict itself;
- fills: containers that only fill up with objects that already exist (a list and a deque
  of the same few tuples, a bytearray, a BytesIO log, an array of doubles): their number
  stays the same, their size grows."""
import array
import collections
import io
import sys
from clean_common import rounds

MODE = sys.argv[1]
EVENTS = (("start",), ("stop",), ("tick",))
seen_ids = set()
latency_ms = {}
history = []
recent = collections.deque()
blob = bytearray()
log = io.BytesIO()
samples = array.array("d")


def handle(r, i):
    if MODE == "values":
        seen_ids.add("req-%d-%d" % (r, i))  # LEAK VALUES
        latency_ms[r * 1000000 + i + 1000] = i * 0.5
    else:
        history.append(EVENTS[i % 3])  # FILLS
        recent.append(EVENTS[i % 3])
        blob.extend(b"0123456789abcdef")
        log.write(b"request %8d handled\n" % i)
        samples.append(i * 0.5)


def work(r):
    for i in range(20000):
        handle(r, i)


rounds(work)
