"""Shared helpers for `make bench`: Django set-up on PostgreSQL + Redis, timing, the result table."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unipulse.settings")
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/unipulse_bench")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
    _ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reset_database() -> None:
    """A fresh bench database for a full run: the schema is this checkout's migrations, nothing left over."""
    import psycopg

    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/unipulse_bench")
    name = url.rsplit("/", 1)[-1]
    if not (name.startswith("unipulse_bench") or name.endswith("_bench")):
        raise SystemExit(f"refusing to reset {name!r}: only a unipulse_bench* or *_bench database is reset")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[-1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


@dataclass
class Row:
    benchmark: str
    metric: str
    value: float
    baseline_name: str
    baseline: float | None
    unit: str
    lower_is_better: bool = True

    @property
    def ratio(self) -> str:
        if not self.baseline:
            return "—"
        return f"{self.value / self.baseline:.3g}×"


def timed(fn, repeat: int = 3) -> float:
    """Median wall time of `fn()` in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def machine() -> str:
    cpus = os.cpu_count()
    mem = ""
    try:
        kb = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    pg = (subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.split() + ["?"] * 3)[2:3]
    return f"{platform.machine()}, {cpus} cores{mem}, Python {platform.python_version()}, PostgreSQL {pg[0]}"


def fmt(value: float) -> str:
    return f"{value:,.3g}" if value < 1000 else f"{value:,.0f}"


def table(rows: list[Row]) -> str:
    lines = [
        "| Benchmark | Metric | UniPulse | Baseline (same run) | Baseline | Ratio |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = f"{fmt(r.baseline)} {r.unit}" if r.baseline is not None else "—"
        lines.append(f"| {r.benchmark} | {r.metric} | {fmt(r.value)} {r.unit} | {r.baseline_name} | {base} | {r.ratio} |")
    return "\n".join(lines)
