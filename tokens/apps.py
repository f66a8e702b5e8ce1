from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"

    def ready(self) -> None:
        from social.clients import http

        from .services import ensure_fresh

        # Every platform call refreshes a near-expiry token first, through the same locked path.
        http.set_token_refresher(ensure_fresh)
