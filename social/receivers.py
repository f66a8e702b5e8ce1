"""social's reactions to other apps' events, connected in SocialConfig.ready()."""

from __future__ import annotations

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from workspaces.models import Workspace

from .models import AccountStatus, SocialAccount
from .services import disconnect_account


@receiver(pre_delete, sender=Workspace)
def disconnect_workspace_accounts(sender, instance: Workspace, **kwargs) -> None:
    """A deleted workspace first disconnects its accounts (revoking where the platform allows and no
    other workspace still uses the grant), so no token outlives the workspace that held it."""
    for account in SocialAccount.objects.filter(workspace=instance).exclude(status=AccountStatus.DISCONNECTED):
        disconnect_account(account, announce=False)
