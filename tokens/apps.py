from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"

    def ready(self) -> None:
        from social.clients import http

        from .services import ensure_fresh, renew_rejected_token

        # Every platform call refreshes a near-expiry token first, and renews a token TikTok refuses
        # as invalid or expired before failing, through the same locked path.
        http.set_token_refresher(ensure_fresh, renew_rejected_token)
