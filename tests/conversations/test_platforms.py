"""The inbox's platform registry: every platform is registered, each inbox module keeps the protocol,
and every webhook source has its route."""

import inspect

import pytest

from conversations import platforms
from conversations.models import WebhookEvent
from conversations.platforms import InboxPlatform, NoInboxError, get_inbox, inbox_platforms, meta
from conversations.services import routing
from social.models import Platform

PROTOCOL = ("poll", "reply_to_comment", "send_direct_message", "set_comment_hidden")


def test_every_platform_is_registered_under_its_own_name():
    assert set(platforms.PLATFORMS) == {choice.value for choice in Platform}
    for platform, module in platforms.PLATFORMS.items():
        assert module.__name__ == f"conversations.platforms.{platform}"


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
def test_an_inbox_platform_offers_the_whole_protocol_with_its_parameters(platform):
    module = get_inbox(platform)
    assert module.INBOX is True
    for name in PROTOCOL:
        expected = list(inspect.signature(getattr(InboxPlatform, name)).parameters)[1:]  # without self
        assert list(inspect.signature(getattr(module, name)).parameters) == expected, name


def test_only_the_platforms_with_an_inbox_api_are_polled():
    assert inbox_platforms() == ["facebook", "instagram"]


@pytest.mark.parametrize("platform", ["tiktok", "threads"])
def test_a_platform_without_an_inbox_api_is_refused_with_its_name(platform):
    with pytest.raises(NoInboxError, match=f"^{platform} has no comment or message API.$"):
        get_inbox(platform)


def test_every_webhook_source_has_a_route_and_the_routing_uses_that_table():
    assert set(platforms.WEBHOOK_ROUTES) == {choice.value for choice in WebhookEvent.Source}
    assert routing.ROUTERS is platforms.WEBHOOK_ROUTES
    assert platforms.WEBHOOK_ROUTES[WebhookEvent.Source.META_DEAUTH] is meta.route_meta_deauth


def test_each_meta_platform_reads_its_own_entries_of_a_delivery():
    for platform, module in meta.META_OBJECTS.values():
        assert platforms.PLATFORMS[platform] is module
        assert callable(module.route_change) and callable(module.route_message)
