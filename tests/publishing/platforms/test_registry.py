"""The registry: every platform an account can have publishes through a module implementing the protocol."""

import inspect

import pytest

from publishing.platforms import MODULES, PublishPlatform, get_platform
from social.models import Platform

STEPS = ("reconcile", "prepare", "poll", "commit")


@pytest.mark.parametrize("platform", list(Platform))
def test_every_platform_has_a_module_implementing_the_protocol(platform):
    module = get_platform(platform)

    assert module.__name__ == f"publishing.platforms.{platform.value}"
    assert isinstance(module, PublishPlatform)
    for step in STEPS:
        assert list(inspect.signature(getattr(module, step)).parameters) == ["run"], step
    for name in ("after_publish", "follow_up_due", "follow_up"):
        assert list(inspect.signature(getattr(module, name)).parameters) == ["target"], name


def test_the_registry_names_exactly_the_account_platforms():
    assert set(MODULES) == set(Platform)


def test_a_platform_the_registry_does_not_know_is_refused():
    with pytest.raises(ValueError):
        get_platform("myspace")
