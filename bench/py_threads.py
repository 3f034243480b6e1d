"""Benchmark workload: a ThreadPoolExecutor with N workers doing allocation-heavy work."""
import sys
from concurrent.futures import ThreadPoolExecutor

workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
scale = int(sys.argv[2]) if len(sys.argv) > 2 else 1


def task(n):
    out = []
    for i in range(n):
        out.append({"k": i, "v": [i, str(i)]})
        if len(out) > 100:
            out.clear()
    return len(out)


with ThreadPoolExecutor(max_workers=workers) as pool:
    print(sum(pool.map(task, [20000 // scale] * 40)))
