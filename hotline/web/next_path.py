"""Where the sign-in page sends a person afterwards: a `next` path on this site, or nothing.

A link in a mail (/tickets/N) opened while signed out goes through /login and should land on
that ticket. The value comes from the address bar, so only a same-site relative path is taken:
anything a browser could read as another host (`//evil`, `/\\evil`, `http:`, `javascript:`)
would turn the sign-in page into an open redirect.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

MAX_NEXT_CHARS = 2000


def safe_next(raw: str | None) -> str | None:
    """`raw` if it is a path on this site ("/tickets/1?tab=x"), else None."""
    if not raw or len(raw) > MAX_NEXT_CHARS:
        return None
    # Browsers treat a backslash as a slash and drop tabs and newlines: "/\\evil.example"
    # and "/\t/evil.example" both leave the site.
    if "\\" in raw or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        return None
    if not raw.startswith("/") or raw.startswith("//"):
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return None
    return raw


def login_target(path: str, query: str, *, extra: str = "") -> str:
    """/login?next=<path?query> (with `extra` parameters first, e.g. "expired=1")."""
    here = path + (f"?{query}" if query else "")
    params = [extra] if extra else []
    if safe_next(here) and path not in ("/", "/login"):
        params.append("next=" + quote(here, safe="/"))
    return "/login" + (f"?{'&'.join(params)}" if params else "")
