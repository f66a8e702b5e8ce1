"""A real HTTP receiver on 127.0.0.1 for delivery tests (no mock: the bytes on the wire are checked)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.body = b"ok"
        self.delay = 0.0
        self.headers: dict[str, str] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": self.rfile.read(length), "client_port": self.client_address[1]})
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def local_hooks(settings):
    """Development settings that let a receiver on loopback over plain http be used."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    return settings


@pytest.fixture
def receiver(local_hooks):
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def endpoint_factory(workspace):
    from events.models import WebhookEndpoint

    def make(url: str = "https://hooks.example.com/in", event_types=("*",), ws=None, **fields):
        return WebhookEndpoint.objects.create(workspace=ws or workspace, url=url, event_types=list(event_types),
                                              secret=fields.pop("secret", "whsec_first"), **fields)

    return make
