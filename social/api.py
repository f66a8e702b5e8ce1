from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from unipulse.converters import ID_REGEX
from unipulse.throttles import WriteRateLimitMixin
from workspaces.access import workspace_of
from workspaces.services import record

from . import services
from .models import SocialAccount
from .serializers import SocialAccountSerializer


class SocialAccountViewSet(
    WriteRateLimitMixin,
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """The workspace's connected accounts. Another workspace's account is a 404."""

    lookup_value_regex = ID_REGEX

    serializer_class = SocialAccountSerializer
    queryset = SocialAccount.objects.none()

    def get_queryset(self):
        return services.get_accounts_in_workspace(workspace_of(self.request))

    def destroy(self, request, *args, **kwargs):
        """Disconnect: revoke where the platform allows it, wipe tokens, keep the row as disconnected."""
        account = services.disconnect_account(self.get_object())
        record(account.workspace_id, request.user, "account.disconnected", account, f"Disconnected {account}.")
        return Response(self.get_serializer(account).data, status=status.HTTP_200_OK)
