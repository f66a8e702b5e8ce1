"""The documented event types and the README's and example's signature checks match the code."""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path

import pytest

from events.catalogue import EVENT_TYPES
from events.delivery import sign

ROOT = Path(__file__).resolve().parents[2]


def test_the_api_reference_lists_every_event_type_as_the_catalogue_says():
    doc = (ROOT / "docs" / "api-reference.md").read_text()
    block = doc.split("<!-- event-types:start -->")[1].split("<!-- event-types:end -->")[0]
    rows = dict(re.findall(r"^\| `([a-z_.]+)` \| (.+) \|$", block, flags=re.M))
    assert rows == EVENT_TYPES


def _readme_verify():
    readme = (ROOT / "README.md").read_text()
    code = readme.split("## Events to your systems")[1].split("```python")[1].split("```")[0]
    scope: dict = {}
    exec(code, scope)  # noqa: S102 - the README's own snippet, run as a reader would paste it
    return scope["verify"]


def _example_verify():
    spec = importlib.util.spec_from_file_location("receiver", ROOT / "docs" / "examples" / "webhook_receiver.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.verify


@pytest.mark.parametrize("verify", [_readme_verify(), _example_verify()], ids=["README", "example"])
def test_the_documented_verify_accepts_our_signature_and_nothing_else(verify):
    body = b'{"id":"evt_1","type":"target.published"}'
    now = int(time.time())
    assert verify(sign(body, ["whsec_a"], now), body, "whsec_a")
    assert verify(sign(body, ["whsec_new", "whsec_old"], now), body, "whsec_old")  # during a roll
    assert not verify(sign(body, ["whsec_a"], now), body, "whsec_b")
    assert not verify(sign(body, ["whsec_a"], now), body + b" ", "whsec_a")
    assert not verify(sign(body, ["whsec_a"], now - 3600), body, "whsec_a")  # an old replay
