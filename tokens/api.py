from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.response import Response

from social.models import get_account_in_workspace
from social.serializers import SocialAccountSerializer
from unipulse.throttles import enforce
from workspaces.access import current_membership
from workspaces.services import record

from .services import refresh_account_token


@extend_schema(request=None, responses=SocialAccountSerializer)
@api_view(["POST"])
def refresh_account(request, pk: int):
    """Refresh (TikTok) or re-validate (Meta) one of the workspace's accounts now."""
    account = get_account_in_workspace(current_membership(request).workspace, pk)
    enforce(request, "api-write")
    account = refresh_account_token(account.pk, force=True)
    record(account.workspace_id, request.user, "account.refreshed", account, f"Refreshed {account}.")
    return Response(SocialAccountSerializer(account).data, status=status.HTTP_200_OK)
