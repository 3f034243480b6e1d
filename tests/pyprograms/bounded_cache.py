"""Two caches filled by every round: an lru_cache with a maxsize (it evicts when full, so
what it holds cannot grow without bound, though this short run only fills it up) and one
without (maxsize=None: it keeps every result, a leak)."""
import functools

from clean_common import rounds


class Parsed:
    def __init__(self, key):
        self.key = key


class Rendered:
    def __init__(self, key):
        self.key = key


@functools.lru_cache(maxsize=2000)
def parse(key):
    return Parsed(key)  # BOUNDED


@functools.lru_cache(maxsize=None)
def render(key):
    return Rendered(key)  # UNBOUNDED


def work(r):
    for i in range(150):
        parse((r, i))
        render((r, i))


rounds(work)
