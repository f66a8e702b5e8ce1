"""Which receiver URLs are accepted: https on public addresses only (development settings aside)."""

from __future__ import annotations

import pytest

from events.urlsafety import UnsafeURL, check


@pytest.fixture
def dns(monkeypatch):
    answers: dict[str, list[str]] = {}
    monkeypatch.setattr("events.urlsafety.resolve", lambda host, port: answers[host])
    return answers


def test_a_public_https_url_is_accepted_with_its_parts(dns):
    dns["hooks.example.com"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    target = check("https://hooks.example.com/in/unipulse?k=1")
    assert (target.scheme, target.host, target.port, target.path) == ("https", "hooks.example.com", 443,
                                                                      "/in/unipulse?k=1")
    assert target.address in dns["hooks.example.com"]


@pytest.mark.parametrize(("address", "why"), [
    ("127.0.0.1", "a loopback address"),
    ("::1", "a loopback address"),
    ("::ffff:127.0.0.1", "a loopback address"),
    ("10.1.2.3", "a private or reserved address"),
    ("192.168.0.10", "a private or reserved address"),
    ("172.16.5.4", "a private or reserved address"),
    ("100.64.0.1", "a private or reserved address"),  # carrier-grade NAT
    ("169.254.169.254", "a link-local address (cloud metadata lives there)"),
    ("fe80::1", "a link-local address (cloud metadata lives there)"),
    ("fd00::1", "a private or reserved address"),
    ("0.0.0.0", "a private or reserved address"),
    ("224.0.0.1", "a private or reserved address"),
])
def test_a_name_resolving_to_an_internal_address_is_refused(dns, address, why):
    dns["internal.example.com"] = ["93.184.215.14", address]  # one bad answer is enough
    with pytest.raises(UnsafeURL) as refused:
        check("https://internal.example.com/")
    assert str(refused.value) == f"resolves to {why} ({address}); webhooks go to public addresses only"


def test_an_ip_literal_is_checked_without_dns(dns):
    with pytest.raises(UnsafeURL, match="link-local"):
        check("https://169.254.169.254/latest/meta-data/")
    with pytest.raises(UnsafeURL, match="loopback"):
        check("https://[::1]:8443/")


@pytest.mark.parametrize(("url", "message"), [
    ("http://hooks.example.com/", "must use https (plain http is allowed only with WEBHOOK_ALLOW_HTTP, for development)"),
    ("ftp://hooks.example.com/", "must start with https://"),
    ("hooks.example.com/in", "must start with https://"),
    ("https://user:pw@hooks.example.com/", "must not contain a user name or password"),
    ("https:///in", "has no host"),
    ("https://hooks.example.com:99999/", "is not a valid URL"),
])
def test_malformed_or_plain_urls_are_refused_with_a_reason(dns, url, message):
    dns["hooks.example.com"] = ["93.184.215.14"]
    with pytest.raises(UnsafeURL) as refused:
        check(url)
    assert str(refused.value) == message


def test_development_settings_allow_http_and_loopback(dns, settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    target = check("http://127.0.0.1:9000/hooks")
    assert (target.scheme, target.address, target.port) == ("http", "127.0.0.1", 9000)


def test_a_name_that_does_not_resolve_is_refused(settings):
    with pytest.raises(UnsafeURL, match="does not resolve"):
        check("https://nothing-here.invalid/")


def test_the_settings_refuse_the_development_switches_in_production():
    import os
    import subprocess
    import sys

    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "x" * 50, "ENCRYPTION_KEY": "A" * 43,
           "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true", "DJANGO_SETTINGS_MODULE": "unipulse.settings",
           "ALLOWED_HOSTS": "example.com"}
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert ("UniPulse cannot start: WEBHOOK_ALLOW_PRIVATE_ADDRESSES is on while DEBUG is off; production webhooks go "
            "to https on public addresses only.") in done.stderr
