"""For the pytest plugin's test: one test leaks (its objects stay in a module-level list),
the others do not."""
import json
import re

import pytest

_registry = []


class Session:
    def __init__(self, n):
        self.n = n
        self.buffer = [n] * 4


@pytest.mark.refscope_leaks
def test_leaks():
    for i in range(25):
        _registry.append(Session(i))  # LEAK


@pytest.mark.refscope_leaks
def test_clean():
    sessions = [Session(i) for i in range(25)]
    text = json.dumps([s.n for s in sessions])
    assert re.match(r"\[0, 1", text)


@pytest.mark.refscope_leaks(max_objects=50)
def test_leaks_within_limit():
    for i in range(10):
        _registry.append(Session(i))


def test_unmarked_leak():
    _registry.append(Session(-1))
