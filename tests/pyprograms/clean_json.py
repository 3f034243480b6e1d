"""A clean program: encodes and decodes JSON documents, nothing kept between rounds."""
import json
from clean_common import rounds


def document(i):
    return {"id": i, "name": f"item {i}", "tags": [f"t{i % 7}", "x"], "price": i * 1.25,
            "nested": {"a": [1, 2, {"b": None}], "ok": i % 2 == 0}}


def work(r):
    total = 0
    for i in range(2000):
        text = json.dumps(document(i), sort_keys=True, indent=1 if i % 3 else None)
        back = json.loads(text)
        total += back["id"]
    big = json.dumps([document(i) for i in range(500)])
    assert len(json.loads(big)) == 500
    try:
        json.loads("{bad json")
    except json.JSONDecodeError:
        pass
    return total


rounds(work)
