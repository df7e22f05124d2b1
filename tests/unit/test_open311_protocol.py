"""The Open311 mapping without I/O: filters, the POST form, records, keys and XML."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from defusedxml.ElementTree import fromstring
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.channels import open311 as proto
from hotline.channels import open311_format as fmt
from hotline.channels import open311_input as sent
from hotline.domain.timefmt import SHANGHAI

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
KINDS = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
FORM = {
    "service_code": "城乡建设",
    "description": "路灯坏了一个多月。晚上很黑，请尽快维修。",
    "lat": "28.2",
    "long": "112.9",
}


def test_default_window_is_the_last_ninety_days() -> None:
    q = sent.parse_query({}, now=NOW)
    assert (q.start, q.end) == (NOW - timedelta(days=90), NOW)
    q = sent.parse_query({"start_date": "2026-11-01"}, now=NOW)
    assert q.start == datetime(2026, 11, 1, tzinfo=SHANGHAI)  # no offset: Beijing time
    assert q.end == q.start + timedelta(days=90)
    q = sent.parse_query({"end_date": "2026-11-01T00:00:00Z", "status": "open,closed"}, now=NOW)
    assert q.end == datetime(2026, 11, 1, tzinfo=UTC) and q.statuses == ("open", "closed")


@pytest.mark.parametrize(
    "params",
    [{"end_date": "0001-01-01"}, {"start_date": "9999-12-31"}, {"start_date": "1969-12-31"}],
)
def test_dates_at_the_calendars_ends_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(proto.Open311Error, match="超出范围"):
        sent.parse_query(params, now=NOW)


def test_ids_override_every_other_filter() -> None:
    q = sent.parse_query(
        {"service_request_id": "20261122-00001, 20261122-00002", "status": "lost"}, now=NOW
    )
    assert q == sent.Query(ids=("20261122-00001", "20261122-00002"))
    with pytest.raises(proto.Open311Error, match="最多 100 个"):
        sent.parse_query({"service_request_id": ",".join(["20261122-00001"] * 101)}, now=NOW)


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"service_request_id": "1" * 21}, "不是本系统的服务请求编号"),
        ({"service_request_id": "20261122-00001,20261122-" + "1" * 12}, "形如 20261122-00001"),
        ({"service_request_id": "a"}, "不是本系统的服务请求编号"),
        ({"service_code": "城" * 33}, "最多 32 个字符"),
        ({"service_code": "城乡建设," + "x" * 33}, "services.json"),
    ],
)
def test_values_beyond_our_field_sizes_are_a_400(params: dict[str, str], says: str) -> None:
    with pytest.raises(proto.Open311Error, match=says) as refused:
        sent.parse_query(params, now=NOW)
    assert refused.value.status == 400


def test_post_form_maps_to_our_fields() -> None:
    new = sent.parse_new_request(
        {**FORM, "first_name": "小明", "last_name": "王", "attribute[kind]": "complaint"},
        services=["城乡建设"],
        kinds=KINDS,
    )
    assert (new.kind, new.name, new.title) == ("投诉", "王小明", "路灯坏了一个多月")
    assert (new.latitude, new.longitude, new.address) == (28.2, 112.9, "")
    latin = sent.parse_new_request(
        {**FORM, "first_name": "Ada", "last_name": "Lovelace"}, services=["城乡建设"], kinds=KINDS
    )
    assert (latin.kind, latin.name) == ("求助", "Ada Lovelace")


@pytest.mark.parametrize("value", ["nan", "inf", "-91", "1e999"])
def test_coordinates_outside_the_globe_are_refused(value: str) -> None:
    with pytest.raises(proto.Open311Error, match="lat"):
        sent.parse_new_request({**FORM, "lat": value}, services=["城乡建设"], kinds=KINDS)


def test_keys_are_matched_by_value_only() -> None:
    keys = (("a", "x" * 16), ("b", "y" * 16))
    assert sent.client_of("y" * 16, keys) == "b"
    assert sent.client_of("y" * 15, keys) is None and sent.client_of("", keys) is None


def test_a_phone_tickets_record_shows_no_personal_data() -> None:
    seen = proto.Seen(
        number="20261129-00001",
        channel="phone",
        category="城乡建设",
        status="replied",
        status_label="已回复待回访",
        closed=False,
        title="张三反映楼上漏水",
        content="张三，电话13812345678，住3栋502室",
        complainant_name="张三",
        address="幸福小区3栋502室",
        district="岳麓区",
        street="望月湖街道",
        latitude=28.1,
        longitude=112.9,
        media_url="https://img.example.com/x.jpg",
        agency="岳麓区住建局",
        reply="已联系张三（13812345678），已修好。",
        created_at="2026-11-29T10:00:00+08:00",
        updated_at="2026-11-29T11:00:00+08:00",
        expected_at=None,
        provisional=False,
    )
    record = proto.record(seen)
    text = str(record)
    assert "张三" not in text and "13812345678" not in text and "502" not in text
    assert record["address"] == "岳麓区 望月湖街道" and record["lat"] is None
    assert record["media_url"] is None and record["status"] == "open"
    assert record["status_notes"].startswith("已回复待回访。最新答复：已联系【来电人】")
    ours = proto.record(dataclasses.replace(seen, channel="open311"))
    assert ours["lat"] == 28.1 and ours["media_url"] == "https://img.example.com/x.jpg"
    assert "13812345678" not in str(ours) and "【手机号】" in str(ours["description"])
    assert ours["address"] == "幸福小区【门牌】"


def test_xml_is_escaped_and_lists_use_the_specs_item_names() -> None:
    body = fmt.to_xml("service_requests", [{"description": "<b>&</b>\x01", "lat": None}])
    root = fromstring(body)
    assert root.findtext("request/description") == "<b>&</b>"
    assert root.findtext("request/lat") == ""
    body, media_type = fmt.errors("xml", 403, ["无效的 api_key"])
    assert media_type == "text/xml; charset=utf-8"
    assert fromstring(body).findtext("error/description") == "无效的 api_key"
    assert fmt.errors("json", 400, ["x"]) == (b'[{"code":400,"description":"x"}]', fmt.JSON_TYPE)


FIELDS = st.sampled_from(
    [
        "service_code",
        "description",
        "lat",
        "long",
        "address_string",
        "attribute[kind]",
        "first_name",
        "last_name",
        "phone",
        "email",
        "media_url",
        "address_id",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(FIELDS, st.text(max_size=50)), st.dictionaries(FIELDS, st.text()))
def test_any_form_is_a_request_or_a_400(base: dict[str, str], noise: dict[str, str]) -> None:
    form = {**FORM, **base, **noise}
    try:
        sent.parse_new_request(form, services=["城乡建设"], kinds=KINDS)
    except proto.Open311Error as exc:
        assert exc.status == 400 and exc.description


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["start_date", "end_date", "status", "service_code", "service_request_id"]),
        st.text(max_size=40),
    )
)
def test_any_query_is_parsed_or_a_400(params: dict[str, str]) -> None:
    try:
        q = sent.parse_query(params, now=NOW)
    except proto.Open311Error as exc:
        assert exc.status == 400
    else:
        assert q.ids or (q.start is not None and q.end is not None and q.start <= q.end)
