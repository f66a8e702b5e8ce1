from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.response import Response

from social.models import get_account_for_user
from social.serializers import SocialAccountSerializer
from unipulse.ratelimits import enforce

from .services import refresh_account_token


@extend_schema(request=None, responses=SocialAccountSerializer)
@api_view(["POST"])
def refresh_account(request, pk: int):
    """Refresh (TikTok) or re-validate (Meta) one of the caller's accounts now."""
    account = get_account_for_user(request.user, pk)
    enforce(request, "api-write")
    account = refresh_account_token(account.pk, force=True)
    return Response(SocialAccountSerializer(account).data, status=status.HTTP_200_OK)
