"""The transports by name: each adapter module has `VIEW` (how admins see its rows) and
`build(settings, deployment)` (the configured transport). A new transport is one line here."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from hotline.outbox.transport import Transport, TransportView

if TYPE_CHECKING:
    from hotline.runtime.config import Settings
    from hotline.runtime.deployment import Deployment

ADAPTERS = {
    "mail": "hotline.mail.transport",
    "sms": "hotline.sms.transport",
    "wechat": "hotline.wechat.transport",
}


def _adapter(name: str) -> ModuleType:
    # Imported on first use: the SMS adapters pull in their gateways' libraries.
    return importlib.import_module(ADAPTERS[name])


def view(name: str) -> TransportView:
    """How the admin API, page and CLI show `name`'s rows."""
    return _adapter(name).VIEW


def views() -> list[TransportView]:
    """Every transport's view, in the order the admin page shows them."""
    return [view(name) for name in ADAPTERS]


def build(name: str, settings: Settings, deployment: Deployment | None = None) -> Transport:
    """The transport `name` as the settings configure it."""
    return _adapter(name).build(settings, deployment)


def route_order() -> list[str]:
    """Transports with a path of their own first, so mail's …/{row_id}/requeue does not
    take "sms" as a row id."""
    return sorted(ADAPTERS, key=lambda name: not view(name).path)
