from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from unipulse.converters import ID_REGEX
from unipulse.ratelimits import WriteRateLimitMixin

from . import services
from .models import SocialAccount
from .serializers import SocialAccountSerializer


class SocialAccountViewSet(
    WriteRateLimitMixin,
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """The caller's connected accounts. Another user's account is a 404."""

    lookup_value_regex = ID_REGEX

    serializer_class = SocialAccountSerializer
    queryset = SocialAccount.objects.none()

    def get_queryset(self):
        return services.get_accounts_for_user(self.request.user)

    def destroy(self, request, *args, **kwargs):
        """Disconnect: revoke where the platform allows it, wipe tokens, keep the row as disconnected."""
        account = services.disconnect_account(self.get_object())
        return Response(self.get_serializer(account).data, status=status.HTTP_200_OK)
