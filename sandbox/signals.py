"""Mark every SocialAccount connected while the sandbox serves the platforms as a sandbox account.

The OAuth callback (social.oauth) is production code and does not know about the sandbox; the
account it saves comes from the sandbox exactly when that platform's base URL points here.
"""

from django.conf import settings
from django.db.models.signals import pre_save
from django.dispatch import receiver

from social.models import Platform, SocialAccount

from . import is_sandbox_url


def is_platform_sandboxed(platform: str) -> bool:
    url = settings.TIKTOK_API_URL if platform == Platform.TIKTOK else settings.META_GRAPH_URL
    return is_sandbox_url(url)


@receiver(pre_save, sender=SocialAccount, dispatch_uid="sandbox-mark-accounts")
def mark_sandbox_account(sender, instance: SocialAccount, **kwargs) -> None:
    if instance.pk is None and not instance.is_sandbox and is_platform_sandboxed(instance.platform):
        instance.is_sandbox = True
