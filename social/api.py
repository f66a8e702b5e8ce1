from rest_framework import mixins, viewsets

from .models import SocialAccount
from .serializers import SocialAccountSerializer


class SocialAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's connected accounts. Another user's account is a 404."""

    serializer_class = SocialAccountSerializer
    queryset = SocialAccount.objects.none()

    def get_queryset(self):
        return SocialAccount.objects.for_user(self.request.user).order_by("platform", "name", "id")
