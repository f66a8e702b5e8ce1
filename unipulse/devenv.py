"""`make run`'s development .env: written once with generated keys, so every later command reads the same.

Plain standard library (it runs before Django is installed or configured). Keys already in the file are
never replaced: tokens encrypted with ENCRYPTION_KEY stay readable across restarts. PORT is the port
`make run` serves on, so a command started later (`manage.py createsuperuser`, `sync_analytics`) builds
the same PUBLIC_BASE_URL as the server.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

HEADER = ("# Written by `make run` for local development (never for production: see .env.example).\n"
          "# Keys are generated once and kept; delete this file to start over with new ones.\n")


def ensure(path: Path, port: str) -> list[str]:
    """Create or complete the file; returns the names it set."""
    lines = path.read_text().splitlines() if path.exists() else HEADER.rstrip("\n").splitlines()
    present = {line.split("=", 1)[0].strip() for line in lines if "=" in line and not line.lstrip().startswith("#")}
    wanted = {"DEBUG": "true", "SECRET_KEY": secrets.token_urlsafe(50), "ENCRYPTION_KEY": secrets.token_urlsafe(32)}
    added = [name for name in wanted if name not in present]
    lines += [f"{name}={wanted[name]}" for name in added]
    lines = [line for line in lines if not line.startswith("PORT=")] + [f"PORT={port}"]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return added


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
    added = ensure(path, os.environ.get("PORT", "8000"))
    if added:
        print(f"Wrote {', '.join(added)} to {path} (development only).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
