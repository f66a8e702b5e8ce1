from unipulse.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_urls"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
