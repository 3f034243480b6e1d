"""A leak through logging: a handler that keeps every record it is given. The records are
made inside logging (Logger.makeRecord), so a default suppression of logging's own objects
must not hide them."""
import logging

import refscope


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


log = logging.getLogger("svc")
log.addHandler(ListHandler())
log.setLevel(logging.INFO)


def serve(n):
    for i in range(n):
        log.info("request %d", i)


serve(50)
refscope.snapshot("warm-up")
serve(2000)
