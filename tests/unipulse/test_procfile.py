"""The Procfile's gunicorn access log never records a query string or a referer.

OAuth callbacks arrive as ?code=…&state=…, Meta's webhook handshake as ?hub.verify_token=…, and a
referer can repeat either; the access log keeps the method, path and status only.
"""

import re
import shlex
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger

from tests.servers import ACCESS_LOG_FORMAT

ROOT = Path(__file__).resolve().parents[2]
ATOM = re.compile(r"%\(([^)]+)\)s")
# gunicorn atoms that cannot carry a credential: client address, user name, time, method, path
# without the query string, protocol, status, size, user agent, duration.
SAFE_ATOMS = {"h", "l", "u", "t", "m", "U", "H", "s", "b", "B", "a", "T", "D", "M", "L", "p"}


def web_args() -> list[str]:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    return shlex.split(line.removeprefix("web:"))


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_the_web_process_logs_access_to_stdout_with_a_format_of_safe_atoms_only():
    args = web_args()
    assert args[0] == "gunicorn" and option(args, "--access-logfile") == "-"
    atoms = set(ATOM.findall(option(args, "--access-logformat")))
    assert {"m", "U", "s"} <= atoms  # path and status: what the fault suite counts
    assert atoms <= SAFE_ATOMS, atoms - SAFE_ATOMS
    assert not {"r", "q", "f"} & atoms  # request line with query, query, referer
    assert not any(a.startswith("{") for a in atoms)  # no request/response headers or environ values


def test_servers_started_by_the_tests_use_the_procfile_format():
    assert option(web_args(), "--access-logformat") == ACCESS_LOG_FORMAT


def test_a_callback_and_a_webhook_handshake_are_logged_without_their_secrets(capsys):
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", option(web_args(), "--access-logformat"))
    log = Logger(cfg)
    for path, query in [("/api/v1/auth/callback/facebook", "code=AQD-SECRET-CODE&state=STATE-SECRET"),
                        ("/api/v1/webhooks/meta", "hub.mode=subscribe&hub.verify_token=VERIFY-SECRET&hub.challenge=1")]:
        environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"{path}?{query}", "PATH_INFO": path, "QUERY_STRING": query,
                   "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.9",
                   "HTTP_REFERER": f"https://www.facebook.com/dialog?{query}", "HTTP_USER_AGENT": "Mozilla/5.0"}
        response = SimpleNamespace(status="302 Found", sent=0, headers=[("Location", "https://app.example/?x=1")])
        log.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert '"GET /api/v1/auth/callback/facebook HTTP/1.1" 302' in lines[0]
    assert '"GET /api/v1/webhooks/meta HTTP/1.1" 302' in lines[1]
    for secret in ("SECRET", "code=", "state=", "verify_token", "facebook.com/dialog"):
        assert secret not in "\n".join(lines)
