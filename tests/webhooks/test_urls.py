"""SSRF: URLs to private addresses are refused unless the setting allows them."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tenure.config import Settings
from tenure.errors import InvalidInput
from tenure.webhooks.urls import UnsafeAddress, check_resolved, check_url
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_delivery import _append, _attempts, _deliveries, _drain, _subscribe

PRIVATE = [
    "http://127.0.0.1:8080/hooks",
    "http://localhost/hooks",
    "http://10.1.2.3/",
    "http://192.168.0.10/",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[::1]:9000/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
]


@pytest.mark.parametrize("url", PRIVATE)
def test_private_addresses_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_url(url, allow_private=False)
    assert refused.value.field == "url"
    assert check_url(url, allow_private=True) == url


def test_public_http_urls_pass_and_other_schemes_do_not() -> None:
    assert check_url(" https://hooks.example.com/tenure ", allow_private=False) == (
        "https://hooks.example.com/tenure"
    )
    assert check_url("http://93.184.216.34/x", allow_private=False) == "http://93.184.216.34/x"
    for url in ("file:///etc/passwd", "gopher://example.com/", "javascript:alert(1)"):
        with pytest.raises(InvalidInput, match="http:// or https://"):
            check_url(url, allow_private=True)


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery() -> None:
    with pytest.raises(UnsafeAddress):
        check_resolved("http://localhost:1/", allow_private=False)
    with pytest.raises(UnsafeAddress, match=r"127\.0\.0\.1"):
        check_resolved("http://127.0.0.1:1/", allow_private=False)
    check_resolved("http://127.0.0.1:1/", allow_private=True)


def test_the_worker_refuses_a_private_endpoint_when_the_setting_is_off(
    hook_engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    # Saved while allowed, delivered by a worker that does not allow it: a permanent failure
    _subscribe(hook_engine, receiver.url, ["order"])
    _append(hook_engine, "order")
    strict = hook_settings.model_copy(update={"webhook_allow_private_addresses": False})
    _drain(hook_engine, strict)
    (delivery,) = _deliveries(hook_engine)
    assert delivery.status == "failed"
    assert delivery.last_error is not None and delivery.last_error.startswith("refused:")
    assert _attempts(hook_engine, delivery.id) == [(None, "failed", False)]
    assert receiver.received == []
