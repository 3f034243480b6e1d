"""Two leaks whose references C code holds in fields, not in attribute dicts: errors kept
with their tracebacks (each keeps the frame that raised it, and the frame its request's
payload), and callbacks made with functools.partial queued and never run."""
import functools

import refscope


class RequestError(ValueError):
    pass


class Request:
    def __init__(self, n):
        self.n = n


errors = []
pending = []


def parse(n):
    payload = [n] * 50  # PAYLOAD
    raise RequestError(n)


def reply(req):
    return req.n


def work():
    for i in range(100):
        try:
            parse(i)
        except RequestError as e:
            errors.append(e)
        pending.append(functools.partial(reply, Request(i)))  # REQUEST


work()
refscope.snapshot("warm-up")
for r in range(1, 5):
    work()
    refscope.snapshot(f"round {r}")
