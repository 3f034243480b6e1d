"""Benchmark workload: small class instances, dicts and lists created and dropped."""
import sys


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def churn(n):
    total = 0
    for i in range(n):
        p = Point(i, i + 1)
        d = {"x": p.x, "y": p.y}
        l = [p, d, i]
        total += len(l) + len(d)
    return total


if __name__ == "__main__":
    print(churn(int(sys.argv[1]) if len(sys.argv) > 1 else 1000000))
