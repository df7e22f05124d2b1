"""The one error type services raise; the web layer turns it into JSON."""

from __future__ import annotations


class HotlineError(Exception):
    """A refused request: HTTP status, a machine code and a message a person can act on."""

    def __init__(
        self, message: str, *, status: int, code: str, fields: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.fields = fields


def not_found(what: str = "工单") -> HotlineError:
    """The same answer for 'missing' and 'not yours', so existence does not leak."""
    return HotlineError(f"{what}不存在", status=404, code="not_found")
