"""The citizen form's pure parts: photo types from bytes, safe names, the contact rule, the
ticket a form becomes, the place picker and the signed form token."""

from __future__ import annotations

import struct

import pytest
from pydantic import ValidationError
from starlette.datastructures import Secret

from hotline.citizens.form import CitizenForm, title_of, to_ticket
from hotline.citizens.photos import HEIC, JPEG, PNG, neutral_name, sniff
from hotline.citizens.places import picker
from hotline.web import formtoken
from routing.places import Place
from routing.units import Unit


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00" * 32


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe1rest", JPEG),
        (b"\x89PNG\r\n\x1a\nrest", PNG),
        (ftyp(b"heic", b"mif1", b"heic"), HEIC),
        (ftyp(b"mif1", b"heic"), HEIC),
        (ftyp(b"msf1"), HEIC),
        (ftyp(b"isom", b"iso2", b"hevc"), HEIC),  # only a compatible brand says HEIF
        (ftyp(b"isom", b"iso2", b"avc1"), None),  # an MP4 video
        (ftyp(b"avif", b"avis"), None),
        (b"GIF89a......", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"\xff\xd8", None),
        (b"", None),
        (b"\x00\x00\x01\x00ftypheic" + b"\x00" * 8, None),  # box size beyond the data
    ],
)
def test_photo_type_comes_from_the_bytes(data: bytes, expected: object) -> None:
    assert sniff(data) == expected


def test_photos_are_shown_by_a_neutral_name_never_the_citizens() -> None:
    # the citizen's own file name ("张三家楼下.jpg") could identify a 举报 reporter
    assert neutral_name(1, JPEG) == "照片1.jpg"
    assert neutral_name(2, PNG) == "照片2.png"


def form(**fields: object) -> CitizenForm:
    data = {"kind": "投诉", "content": "小区门口路灯坏了一个多月，晚上很黑。", "address": "枫林路"}
    return CitizenForm.model_validate({**data, **fields})


def test_questions_and_requests_for_help_need_a_way_to_answer() -> None:
    for kind in ("咨询", "求助"):
        with pytest.raises(ValidationError, match="需要答复您"):
            form(kind=kind)
        assert form(kind=kind, email="a@example.com").email == "a@example.com"
    for kind in ("投诉", "举报", "建议", "表扬"):
        assert form(kind=kind).phone == ""


def test_phone_numbers_are_checked_and_normalised() -> None:
    assert form(phone="+86 139 1234 5678").phone == "13912345678"
    assert form(phone="0731-88889999").phone == "0731-88889999"
    for bad in ("12345", "23912345678", "abc"):
        with pytest.raises(ValidationError, match="11 位手机号"):
            form(phone=bad)


def test_only_a_report_may_ask_not_to_be_contacted() -> None:
    assert form(kind="举报", no_contact=True).no_contact
    assert not form(kind="投诉", no_contact=True).no_contact


def test_the_ticket_a_form_becomes() -> None:
    data = to_ticket(
        form(content="路灯坏了。晚上很黑，请修理。", sms=True, phone="13912345678"),
        district="A3区",
        street="含浦街道",
        attachments=[],
    )
    assert data.channel == "web" and data.title == "路灯坏了"
    assert data.location.address == "A3区含浦街道 枫林路"
    assert (data.location.district, data.location.street) == ("A3区", "含浦街道")
    assert not data.complainant.anonymous and not data.complainant.sms_opt_out
    anonymous = to_ticket(form(), district="", street="", attachments=[])
    assert anonymous.complainant.anonymous and anonymous.complainant.sms_opt_out
    assert title_of(form(title="  路灯  ")) == "路灯"


def test_the_picker_groups_streets_under_their_district() -> None:
    units = [
        Unit("A1", "A1区", "district", "", ""),
        Unit("S1", "东街道", "street", "A1", ""),
    ]
    places = [
        Place("A1区", (), "A1", "district"),
        Place("东街道", (), "S1", "street"),  # its own unit, under A1
        Place("西镇", (), "A1", "town"),  # handled by the district itself
        Place("某小区", (), "S1", "compound"),  # not offered: type it in the address
    ]
    p = picker(places, units)
    assert [(g.district, g.streets) for g in p.groups] == [("A1区", ("东街道", "西镇"))]
    assert p.resolve("西镇") == ("A1区", "西镇") and p.resolve("A1区") == ("A1区", "")
    assert p.resolve("某小区") is None


def test_form_tokens_are_signed_timed_and_not_session_cookies() -> None:
    from hotline.web.session import sign

    secret = Secret("k")
    token = formtoken.verify(secret, formtoken.issue(secret, 1000.0))
    assert token is not None and len(token.key) >= 20
    assert token.too_fast(1002) and not token.too_fast(1003)
    assert token.expired(1000 + 86401) and token.expired(900) and not token.expired(2000)
    assert formtoken.verify(Secret("other"), formtoken.issue(secret, 1000.0)) is None
    assert formtoken.verify(secret, sign({"csrf": "x", "seen": 1}, secret)) is None
    assert formtoken.verify(secret, None) is None
