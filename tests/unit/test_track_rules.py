"""The tracking page's pure parts: words for every status, the promised date, who may rate,
and which posts count as coming from our own pages."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from starlette.requests import Request

from hotline.domain.lifecycle import Status
from hotline.domain.schemas import TrackOut
from hotline.services.rating import refusal
from hotline.web.pages.track import STATUS_WORDS, promised_words
from hotline.web.tracking import same_origin


def test_every_status_has_words_and_a_next_step() -> None:
    assert set(STATUS_WORDS) == set(Status)
    for headline, next_step in STATUS_WORDS.values():
        assert headline and next_step.endswith("。")


def _view(status: str, due: str | None) -> TrackOut:
    return TrackOut(
        number="20261122-00001",
        status=status,
        status_label="",
        kind="投诉",
        title="t",
        created_at="2026-11-22T10:00:00+08:00",
        promised_reply_by=due,
        promised_reply_provisional=False,
        replies=[],
        steps=[],
    )


def test_a_deadline_at_local_midnight_reads_as_the_day_before_at_24() -> None:
    # "3 working days" ends at the end of the third day, stored as the next midnight.
    assert (
        promised_words(_view("handling", "2026-10-11T00:00:00+08:00")) == "2026年10月10日 24:00 前"
    )
    assert (
        promised_words(_view("dispatched", "2026-12-07T06:47:00+08:00")) == "2026年12月7日 06:47 前"
    )
    assert (
        promised_words(_view("handling", "2026-12-06T22:47:00+00:00")) == "2026年12月7日 06:47 前"
    )
    # Once replied (or before dispatch) there is no promise left to show.
    assert promised_words(_view("replied", "2026-10-11T00:00:00+08:00")) == ""
    assert promised_words(_view("received", None)) == ""


@pytest.mark.parametrize(
    ("status", "satisfaction", "code"),
    [
        ("replied", None, None),
        ("received", None, "not_replied"),
        ("handling", None, "not_replied"),
        ("paused", None, "not_replied"),
        ("called_back", "满意", "already_rated"),
        ("called_back", None, "already_rated"),  # the centre called and did not reach them
        ("closed", "不满意", "already_rated"),
        ("closed", None, "closed"),  # answered on the spot (直接办结): nothing to rate
        ("merged", None, "merged"),
    ],
)
def test_who_may_rate_and_why_not(status: str, satisfaction: str | None, code: str) -> None:
    ticket: Any = SimpleNamespace(status=status, satisfaction=satisfaction)
    refused = refusal(ticket)
    if code is None:
        assert refused is None
    else:
        assert refused is not None and (refused.status, refused.code) == (409, code)
        assert "。" in refused.message  # a sentence saying what to do instead


def _request(**headers: str) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(
        public_base_url="https://12345.example.gov.cn"
    )))  # fmt: skip
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw, "app": app})


def test_same_origin_by_host_or_public_address() -> None:
    host = {"Host": "10.0.0.5:8000"}
    assert same_origin(_request(**host))  # curl, apps: no Origin, no Referer
    assert same_origin(_request(**host, Origin="http://10.0.0.5:8000"))
    # Behind TLS termination the scheme differs; the host is what counts.
    assert same_origin(_request(**host, Origin="https://10.0.0.5:8000"))
    assert same_origin(_request(**host, Origin="https://12345.example.gov.cn"))
    assert same_origin(_request(**host, Referer="https://12345.example.gov.cn/track?x=1"))
    assert not same_origin(_request(**host, Origin="https://evil.example"))
    assert not same_origin(_request(**host, Origin="null"))
    assert not same_origin(_request(**host, Referer="https://10.0.0.5.evil.example/"))
    # Origin wins over a same-site Referer.
    assert not same_origin(
        _request(**host, Origin="https://evil.example", Referer="http://10.0.0.5:8000/track")
    )
