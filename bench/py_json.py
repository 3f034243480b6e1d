"""Benchmark workload: json dumps/loads of a large nested document (argv[1] scales it down)."""
import json
import sys

scale = int(sys.argv[1]) if len(sys.argv) > 1 else 1
doc = {"users": [{"id": i, "name": f"user{i}", "tags": ["a", "b", str(i % 7)],
                  "profile": {"age": i % 90, "score": i * 0.5, "active": i % 3 == 0,
                              "history": [{"t": j, "v": j * i % 13} for j in range(5)]}}
                 for i in range(40000 // scale)]}
for _ in range(3):
    text = json.dumps(doc)
    back = json.loads(text)
print(len(text), len(back["users"]))
