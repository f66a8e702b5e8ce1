"""Facebook Pages client: small functions in the platform's vocabulary, built on meta.call().

Each function parses its answer into a small dataclass at the boundary. Sections below belong to
the app that uses them; add functions under your section only.
"""

from __future__ import annotations

from dataclasses import dataclass, field  # noqa: F401

from . import meta  # noqa: F401

# ==== accounts, OAuth, webhook subscriptions (social app) ==========================================

@dataclass(frozen=True)
class AppSubscription:
    app_id: str
    fields: list[str]


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps/#Creating
def subscribe_page_webhooks(account, fields: list[str]) -> bool:
    """Install this app on the Page for the given webhook fields. Idempotent; raises a PlatformError."""
    body = meta.call(account, "POST", f"{account.external_id}/subscribed_apps", endpoint="page.subscribed_apps.create",
                     data={"subscribed_fields": ",".join(fields)})
    return bool(body.get("success"))


# Ref: https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps/#Reading
def get_page_subscriptions(account) -> list[AppSubscription]:
    """Apps installed on the Page and the fields each receives (to read a subscription back)."""
    body = meta.call(account, "GET", f"{account.external_id}/subscribed_apps", endpoint="page.subscribed_apps")
    return [AppSubscription(app_id=str(item.get("id") or ""), fields=list(item.get("subscribed_fields") or []))
            for item in body.get("data", [])]



# ==== publishing ==================================================================================



# ==== analytics ===================================================================================



# ==== conversations ===============================================================================

