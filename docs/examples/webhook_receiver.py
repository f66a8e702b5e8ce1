"""A small UniPulse webhook receiver (standard library only): verify, deduplicate, answer 2xx fast.

    UNIPULSE_WEBHOOK_SECRET=whsec_... python docs/examples/webhook_receiver.py 8080

Register `https://<your host>/unipulse` (behind your TLS proxy) with POST /api/v1/webhook-endpoints/.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300  # refuse a signature older than 5 minutes (a replay)


def verify(signature_header: str, body: bytes, secret: str, now: float | None = None) -> bool:
    """True when one of the header's v1 signatures is HMAC-SHA256(secret, "<t>.<body>") and t is recent."""
    items = [item.split("=", 1) for item in signature_header.split(",") if "=" in item]
    timestamps = [value for key, value in items if key == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    timestamp = int(timestamps[0])
    if abs((now or time.time()) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, value) for key, value in items if key == "v1")


class Receiver(BaseHTTPRequestHandler):
    secret = os.environ.get("UNIPULSE_WEBHOOK_SECRET", "")
    seen: set[str] = set()  # delivery ids already handled (use your database in production)

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not verify(self.headers.get("UniPulse-Signature", ""), body, self.secret):
            return self._answer(400, b"bad signature")
        delivery = self.headers.get("UniPulse-Delivery", "")
        if delivery not in self.seen:  # at least once: the same delivery may come twice
            self.seen.add(delivery)
            event = json.loads(body)
            print(event["type"], event["id"], json.dumps(event["data"]["object"])[:200], flush=True)
        self._answer(200, b"ok")

    def _answer(self, status: int, text: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1]) if len(sys.argv) > 1 else 8080), Receiver).serve_forever()  # noqa: S104 - a receiver the platform must reach
