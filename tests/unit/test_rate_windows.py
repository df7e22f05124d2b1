"""Rate-limit windows (pure): fixed windows, their end, and keys that stay short."""

from __future__ import annotations

from hotline.services.counters import window


def test_a_window_is_named_by_scope_client_and_index_and_ends_on_its_boundary() -> None:
    w = window("addr", "203.0.113.5", 60, 1_800_000_015.5)
    assert w.key == "addr:203.0.113.5:60:30000000" and w.ends == 1_800_000_060
    assert window("addr", "203.0.113.5", 60, 1_800_000_059.9) == w
    assert window("addr", "203.0.113.5", 60, 1_800_000_060.0).key.endswith(":30000001")


def test_odd_or_long_identifiers_become_a_short_digest() -> None:
    long = window("number", "9" * 5000, 3600, 0.0)
    spaced = window("number", "2026 0101", 3600, 0.0)
    chinese = window("number", "工单", 3600, 0.0)
    for w in (long, spaced, chinese):
        assert len(w.key) <= 160 and w.key.startswith("number:#")
    assert long.key != window("number", "9" * 4999, 3600, 0.0).key
