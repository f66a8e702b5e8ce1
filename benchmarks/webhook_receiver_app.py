"""The benchmark's webhook receiver: a bare WSGI app under gunicorn that notes each delivery's arrival.

One line per request, appended to RECEIVER_LOG (O_APPEND writes under PIPE_BUF are whole lines, whatever
the worker): `<UniPulse-Delivery or "-"> <UniPulse-Event-Id or "-"> <unix time>`.
"""

from __future__ import annotations

import os
import time

_LOG = os.open(os.environ["RECEIVER_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)


def application(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    line = (f"{environ.get('HTTP_UNIPULSE_DELIVERY', '-')} {environ.get('HTTP_UNIPULSE_EVENT_ID', '-')} "
            f"{time.time():.6f}\n")
    os.write(_LOG, line.encode())
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
