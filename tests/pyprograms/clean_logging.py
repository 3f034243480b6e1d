"""A clean program: logging with handlers, formatters, many named loggers, exceptions
logged with tracebacks, to an in-memory stream that is emptied each round."""
import io
import logging
from clean_common import rounds

stream = io.StringIO()
handler = logging.StreamHandler(stream)
handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
root = logging.getLogger()
root.addHandler(handler)
root.setLevel(logging.DEBUG)


def work(r):
    for i in range(600):
        log = logging.getLogger(f"app.component{i % 25}")
        log.debug("request %d of round %d", i, r)
        if i % 50 == 0:
            try:
                raise ValueError(f"bad value {i}")
            except ValueError:
                log.exception("failed")
        log.info("done %s", {"i": i})
    stream.seek(0)
    stream.truncate()


rounds(work)
