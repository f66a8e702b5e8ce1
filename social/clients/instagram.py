"""Instagram professional accounts (Facebook Login path) client: small functions in the platform's vocabulary, built on meta.call().

Each function parses its answer into a small dataclass at the boundary. Sections below belong to
the app that uses them; add functions under your section only.
"""

from __future__ import annotations

from dataclasses import dataclass, field  # noqa: F401

from . import meta  # noqa: F401


# ==== accounts, OAuth, webhook subscriptions (social app) ==========================================



# ==== publishing ==================================================================================



# ==== analytics ===================================================================================



# ==== conversations ===============================================================================

