"""Which receiver URLs UniPulse will POST to: https on a public address, checked when an endpoint is saved
and again at every delivery (the delivery then connects to exactly the address checked, so a DNS answer
that changes in between — rebinding — cannot point it at the internal network)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeURL(ValueError):
    """The URL may not receive webhooks; the message says why, for a person."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written (Host header, TLS server name)
    port: int
    path: str  # path and query
    address: str  # the checked IP address to connect to


def resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to (tests replace this)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeURL(f"the host {host} does not resolve ({error})") from None
    return sorted({info[4][0] for info in infos})


def _forbidden(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip.is_private or ip.is_reserved or ip.is_unspecified or ip.is_multicast or not ip.is_global:
        return "a private or reserved address"
    return ""


def check(url: str) -> Target:
    """The URL's parts and a safe address to connect to, or UnsafeURL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("is not a valid URL") from None
    scheme = (parts.scheme or "").lower()
    if scheme not in ("https", "http"):
        raise UnsafeURL("must start with https://")
    if scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        raise UnsafeURL("must use https (plain http is allowed only with WEBHOOK_ALLOW_HTTP, for development)")
    if parts.username or parts.password:
        raise UnsafeURL("must not contain a user name or password")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURL("has no host")
    port = port or (443 if scheme == "https" else 80)
    addresses = [host] if _is_ip(host) else resolve(host, port)
    if not addresses:
        raise UnsafeURL(f"the host {host} does not resolve")
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            why = _forbidden(address)
            if why:
                raise UnsafeURL(f"resolves to {why} ({address}); webhooks go to public addresses only")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
