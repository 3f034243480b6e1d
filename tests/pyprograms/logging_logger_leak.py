"""A leak through logging: a logger per request id. logging.getLogger keeps every logger it
made, by design, so a program that names loggers after something unbounded grows without
end; a default suppression of logging's own objects must not hide it."""
import logging

import refscope


def handle(request_id):
    log = logging.getLogger(f"svc.request.{request_id}")
    log.debug("handled")


def serve(first, n):
    for i in range(first, first + n):
        handle(i)


serve(0, 100)
refscope.snapshot("warm-up")
for r in range(1, 5):
    serve(r * 1000, 300)
    refscope.snapshot(f"round {r}")
