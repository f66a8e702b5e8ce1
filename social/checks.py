"""System checks: a missing or malformed secret is reported by name, with a hint, never its value."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .crypto import KeyFormatError, decode_key

KEY_HINT = "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"


@register(Tags.security)
def check_secrets(app_configs, **kwargs):
    issues = []
    for name in ("ENCRYPTION_KEY", "ENCRYPTION_KEY_PREVIOUS"):
        value = getattr(settings, name, "")
        if not value:
            continue
        try:
            decode_key(value)
        except KeyFormatError as exc:
            issues.append(Error(f"{name} {exc}.", hint=KEY_HINT, id="unipulse.E001"))
    if "ENCRYPTION_KEY" in settings.USING_DEVELOPMENT_KEYS:
        issues.append(Warning("ENCRYPTION_KEY is the fixed development key.", hint=KEY_HINT, id="unipulse.W001"))
    pairs = [("FACEBOOK_APP_ID", "FACEBOOK_APP_SECRET"), ("TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET"),
             ("INSTAGRAM_APP_ID", "INSTAGRAM_APP_SECRET")]
    for public, secret in pairs:
        if bool(getattr(settings, public)) != bool(getattr(settings, secret)):
            missing = secret if getattr(settings, public) else public
            issues.append(Error(f"{missing} is not set but its pair is.", hint="Set both or neither.", id="unipulse.E002"))
    if settings.FACEBOOK_APP_SECRET and not settings.META_WEBHOOK_VERIFY_TOKEN:
        issues.append(Warning("META_WEBHOOK_VERIFY_TOKEN is not set: Meta's webhook handshake will be refused.",
                              hint="Choose a random string and enter the same in the Meta App Dashboard.", id="unipulse.W002"))
    return issues
