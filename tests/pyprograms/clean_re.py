"""A clean program: compiles and matches many regular expressions (more than re's cache
holds, so the cache evicts), with the module-level helpers and compiled patterns."""
import re
from clean_common import rounds

WORD = re.compile(r"\b(\w+)@(\w+)\.com\b")


def work(r):
    hits = 0
    text = " ".join(f"user{i}@host{i % 13}.com" for i in range(300))
    for i in range(700):
        # distinct patterns: re's cache fills and evicts
        if re.search(rf"user{i}@host\d+\.com", text):
            hits += 1
    hits += len(WORD.findall(text))
    hits += len(re.sub(r"(\d+)", lambda m: str(int(m.group(1)) + 1), text))
    parts = re.split(r"[@.\s]+", text)
    return hits + len(parts)


rounds(work)
