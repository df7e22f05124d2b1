"""What the admin list of limits shows of a client address: enough to recognise, not all."""

from __future__ import annotations

from hotline.services.throttles import mask_address


def test_addresses_are_masked_to_their_network() -> None:
    assert mask_address("203.0.113.66") == "203.0.113.*"
    assert mask_address("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64"
    assert mask_address("::1") == "::/64"
    assert mask_address("unknown") == "unk***"
    assert mask_address("ab") == "ab"
