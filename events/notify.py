"""E-mail the workspace's owners and admins when an endpoint is disabled for failing."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from workspaces.services import get_admin_emails

from .models import WebhookEndpoint


def endpoint_disabled(endpoint_id: int) -> int:
    """Send the notice; returns how many e-mails were sent (0 when nobody has an address)."""
    endpoint = WebhookEndpoint.objects.select_related("workspace").get(pk=endpoint_id)
    recipients = get_admin_emails(endpoint.workspace_id)
    if not recipients:
        return 0
    return send_mail(
        subject=f"UniPulse stopped sending webhooks to {endpoint.url}",
        message=(f"The webhook endpoint {endpoint.url} of the workspace {endpoint.workspace} did not answer with a "
                 f"2xx for {settings.WEBHOOK_DISABLE_AFTER_DAYS} days ({endpoint.disabled_reason}), so it was "
                 f"disabled. Fix the receiver, then enable the endpoint again (PATCH enabled=true) and redeliver the "
                 f"deliveries you need from its delivery log.\n\n{settings.FRONTEND_URL}"),
        from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients, fail_silently=True)
