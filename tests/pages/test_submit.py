"""The citizen web form over ASGI: a ticket with photos, checks that keep what was typed,
robots and floods refused, one ticket per form, and the photos served back only with the
query code (or to staff who may see the ticket)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import struct
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pillow_heif
import pytest
from PIL import Image, PngImagePlugin

from hotline.domain.models import Ticket, TicketClock
from hotline.domain.timefmt import utcnow
from hotline.runtime.config import load_settings
from hotline.runtime.deployment import Deployment
from hotline.services.units import sync_units
from hotline.services.users import create_user
from hotline.web import formtoken
from hotline.web.app import create_app
from tests.pages.conftest import PASSWORD, csrf_of

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
NUMBER = re.compile(r'id="number">([0-9-]+)<')
CODE = re.compile(r'id="code">([A-Z0-9]+)<')
# Bytes that pass the JPEG magic check but are no picture.
FAKE_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 300
CONTENT = "小区门口的路灯坏了一个多月，晚上很黑，老人出门容易摔倒，希望尽快修好。"


def exif_bytes() -> bytes:
    """EXIF as a phone writes it: GPS (the citizen's home), camera, time, Orientation 6."""
    exif = Image.Exif()
    exif[0x0110] = "iPhone 15 Pro"  # Model
    exif[0x0132] = "2026:11:20 21:15:03"  # DateTime
    exif[0x0112] = 6  # Orientation: the pixels must be turned 90° clockwise to be upright
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (28.0, 8.0, 51.0), 3: "E", 4: (112.0, 56.0, 2.0)})
    return exif.tobytes()


def jpeg(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real 40×20 JPEG carrying GPS EXIF and a comment."""
    out = io.BytesIO()
    Image.new("RGB", (40, 20), color).save(
        out, "JPEG", exif=exif_bytes(), comment=b"Zhang San home"
    )
    return out.getvalue()


def heic() -> bytes:
    """A real 40×20 HEIC with the same EXIF (pillow-heif's libheif encodes here)."""
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (30, 30, 200)).save(out, "HEIF", exif=exif_bytes())
    return out.getvalue()


def png_with_text() -> bytes:
    """A real PNG with a tEXt chunk (Latin-1) and an iTXt chunk (Chinese) naming its author."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Zhang San")
    info.add_text("Location", "枫林小区 3 栋")
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 200, 0)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def no_metadata(data: bytes) -> bool:
    """No EXIF, XMP, ICC, comment or text chunk left in an image's bytes."""
    image = Image.open(io.BytesIO(data))
    markers = (b"Exif", b"http://ns.adobe.com/xap", b"ICC_PROFILE", b"tEXt", b"iTXt", b"zTXt")
    return (
        not image.getexif()
        and not any(m in data for m in markers)
        and not set(image.info) - {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi"}
    )


def png() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    raw = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


class Citizen:
    """A browser-like client on the form, with the clock of its form tokens wound back."""

    def __init__(self, app: Any, address: str = "10.1.1.1") -> None:
        transport = httpx.ASGITransport(app=app, client=(address, 5555))
        self.http = httpx.AsyncClient(transport=transport, base_url="http://test")
        self.secret = app.state.session_settings.secret

    async def token(self, age: float = 10) -> str:
        """A served form's token, as if the form had been open `age` seconds."""
        page = await self.http.get("/submit")
        assert page.status_code == 200
        assert TOKEN.search(page.text)
        return formtoken.issue(self.secret, time.time() - age)

    async def post(
        self,
        token: str | None = None,
        files: list[tuple[str, bytes]] | None = None,
        **fields: Any,
    ) -> httpx.Response:
        data = {
            "kind": "投诉",
            "content": CONTENT,
            "place": "含浦街道",
            "address": "枫林小区东门",
            "name": "李女士",
            "phone": "13912345678",
            "sms": "on",
            **fields,
        }
        data["form_token"] = token or await self.token()
        parts = [("photos", (name, body, "application/octet-stream")) for name, body in files or []]
        return await self.http.post("/submit", data=data, files=parts or None)


@pytest.fixture
async def app(db: Any, deployment: Deployment, tmp_path: Path) -> AsyncIterator[Any]:
    """The app with photos under a temporary UPLOAD_DIR and 1 MB per photo."""
    await sync_units(deployment.extras["units"])
    settings = dataclasses.replace(
        load_settings(), upload_dir=tmp_path / "uploads", photo_max_bytes=1024 * 1024
    )
    application = create_app(settings, deployment=deployment, manage_db=False, background=False)
    await create_user(username="op", role="operator", password=PASSWORD, now=utcnow())
    await create_user(username="zjj", role="unit", password=PASSWORD, now=utcnow(), unit_code="ZJJ")
    yield application


def files_in(app: Any) -> list[Path]:
    root = app.state.settings.upload_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def receipt(r: httpx.Response) -> tuple[str, str]:
    number, code = NUMBER.search(r.text), CODE.search(r.text)
    assert number and code, r.text[:2000]
    return number.group(1), code.group(1)


async def staff(app: Any, username: str) -> httpx.AsyncClient:
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    page = await c.get("/login")
    r = await c.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert r.status_code == 303
    return c


async def test_the_empty_form_is_chinese_mobile_and_carries_a_signed_token(app: Any) -> None:
    r = await Citizen(app).http.get("/submit")
    assert r.status_code == 200 and 'lang="zh-CN"' in r.text
    assert 'name="viewport"' in r.text and "/static/citizen.css" in r.text
    for label in ("诉求类型", "具体情况", "所在区县 / 街道", "手机号", "照片（可不传）"):
        assert label in r.text
    assert 'enctype="multipart/form-data"' in r.text
    assert '<optgroup label="A3区">' in r.text and ">A3区 含浦街道</option>" in r.text
    assert 'name="sms" checked' in r.text  # SMS notices on unless the citizen says no
    assert 'name="website"' in r.text and 'tabindex="-1"' in r.text
    assert "<script>" not in r.text and "/static/submit.js" in r.text
    assert r.headers["cache-control"] == "no-store"


async def test_a_submission_with_photos_becomes_a_routed_web_ticket(app: Any) -> None:
    citizen = Citizen(app)
    r = await citizen.post(
        files=[("张三家楼下.JPG", jpeg()), ("C:\\手机\\路灯.png", png()), ("夜里.heic", heic())]
    )
    assert r.status_code == 200, r.text[:3000]
    assert r.headers["cache-control"] == "no-store"
    number, code = receipt(r)
    assert "承诺答复时间" in r.text and "前" in r.text
    assert f"/track?number={number}&amp;code={code}" in r.text
    ticket = await Ticket.get(number=number)
    assert ticket.channel == "web" and ticket.kind == "投诉"
    assert ticket.street == "含浦街道" and ticket.district == "A3区"
    assert ticket.address.startswith("A3区含浦街道") and "枫林小区东门" in ticket.address
    assert ticket.complainant_phone == "13912345678" and not ticket.sms_opt_out
    assert ticket.routing.get("lead_unit")  # the router proposed a unit
    # the photo metadata contract the tracking page reads; HEIC is stored as JPEG, and no
    # name the citizen chose ("张三家楼下") reaches the handling unit
    stored = ticket.attachments
    assert [a["content_type"] for a in stored] == ["image/jpeg", "image/png", "image/jpeg"]
    assert [a["name"] for a in stored] == ["照片1.jpg", "照片2.png", "照片3.jpg"]
    on_disk = {p.name: p.read_bytes() for p in files_in(app)}
    assert len(on_disk) == 3
    for a in stored:
        assert set(a) == {"name", "content_type", "size", "url", "photo"}
        assert re.fullmatch(r"[0-9a-f]{64}\.(jpg|png)", a["photo"])
        body = on_disk[a["photo"]]
        # the name, the size and the hash are those of the cleaned bytes
        assert a["size"] == len(body) and a["url"] == ""
        assert a["photo"].split(".")[0] == hashlib.sha256(body).hexdigest()
        assert no_metadata(body)
    photo, _, converted = (Image.open(io.BytesIO(on_disk[a["photo"]])) for a in stored)
    # Orientation 6 was applied to the pixels before the tag went: 40×20 stands upright
    assert photo.size == (20, 40) and converted.size == (20, 40)
    assert photo.format == converted.format == "JPEG"
    events = await ticket.events.all()
    assert events[0].actor_name == "网上投诉" and events[0].payload["channel"] == "web"


async def test_png_text_chunks_are_dropped(app: Any) -> None:
    original = png_with_text()
    assert b"tEXt" in original and b"iTXt" in original
    number, _ = receipt(await Citizen(app).post(files=[("a.png", original)]))
    [body] = [p.read_bytes() for p in files_in(app)]
    assert no_metadata(body) and b"Zhang San" not in body and b"Author" not in body
    assert Image.open(io.BytesIO(body)).getpixel((0, 0)) == (0, 200, 0)
    assert (await Ticket.get(number=number)).attachments[0]["name"] == "照片1.png"


async def test_a_confident_ticket_is_dispatched_with_clocks_and_shown_to_operators(
    app: Any,
) -> None:
    r = await Citizen(app).post(
        kind="投诉",
        content="公司拖欠工资三个月，老板一直不发，多次讨要没有结果，请劳动部门帮忙处理。",
        place="A3区",
        address="",
    )
    number, _ = receipt(r)
    ticket = await Ticket.get(number=number)
    clocks = await TicketClock.filter(ticket_id=ticket.id)
    if ticket.status == "dispatched":
        assert {c.kind for c in clocks} >= {"receipt", "feedback"}
        assert "预计" not in r.text  # the promise is the running feedback clock
    else:  # the router wanted a person to look: the promise is an estimate from the policy
        assert ticket.needs_review and "预计" in r.text
    op = await staff(app, "op")
    page = await op.get(f"/tickets/{number}")
    assert page.status_code == 200 and "网站" in page.text  # 来源 = the web channel
    listed = await op.get(f"/tickets?q={number}")
    assert f"/tickets/{number}" in listed.text


async def test_photos_are_checked_by_their_bytes_count_and_size(app: Any) -> None:
    citizen = Citizen(app)
    r = await citizen.post(files=[("photo.jpg", b"just some text, not a photo at all")])
    assert r.status_code == 422
    assert "「photo.jpg」不是 JPEG、PNG 或 HEIC 格式的照片" in r.text
    r = await citizen.post(files=[(f"{i}.jpg", jpeg()) for i in range(6)])
    assert r.status_code == 422 and "最多上传 5 张照片，您选择了 6 张" in r.text
    big = b"\xff\xd8\xff" + b"\x00" * (1024 * 1024)
    r = await citizen.post(files=[("big.jpg", big)])
    assert r.status_code == 422 and "「big.jpg」超过 1 MB" in r.text
    # the whole body over its bound: refused before it is read, in Chinese, not a 500
    r = await citizen.post(files=[(f"{i}.jpg", big) for i in range(6)])
    assert r.status_code == 413 and "提交的内容过大" in r.text
    assert await Ticket.all().count() == 0
    assert files_in(app) == []
    # an empty file input (no photo chosen) is no photo
    r = await citizen.post(files=[("", b"")])
    assert r.status_code == 200
    assert (await Ticket.first()).attachments == []


async def test_photos_that_do_not_decode_or_are_too_large_are_refused(app: Any) -> None:
    citizen = Citizen(app)
    truncated = jpeg()[:300]
    for name, body in [("假.jpg", FAKE_JPEG), ("断.jpg", truncated)]:
        r = await citizen.post(files=[("好.jpg", jpeg()), (name, body)])
        assert r.status_code == 422
        assert f"「{name}」：照片无法识别，请换一张。" in r.text
    # a decompression bomb: 8 KB of PNG that would decode to 64 million pixels
    bomb = io.BytesIO()
    Image.new("1", (8000, 8000)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < 1024 * 1024
    r = await citizen.post(files=[("大.png", bomb.getvalue())])
    assert r.status_code == 422 and "「大.png」：照片像素过大" in r.text and "万像素" in r.text
    assert await Ticket.all().count() == 0
    assert files_in(app) == []
    # a refused photo does not count against the 5 submissions a phone may make a day
    for _ in range(3):
        assert (await citizen.post(files=[("断.jpg", truncated)])).status_code == 422
    assert (await citizen.post(files=[("好.jpg", jpeg())])).status_code == 200


async def test_checks_keep_what_was_typed_and_speak_beside_the_fields(app: Any) -> None:
    citizen = Citizen(app)
    r = await citizen.post(
        kind="咨询", content="太短", phone="12345", email="不是邮箱", name="王<b>先生</b>"
    )
    assert r.status_code == 422
    assert "还不能提交：请按红字提示修改 具体情况、手机号、电子邮箱。" in r.text
    assert re.search(r'id="e-content">太短：至少 10 个字，请补充<', r.text)
    assert re.search(r'id="e-phone">请填写 11 位手机号', r.text)
    assert re.search(r'id="e-email">电子邮箱格式不正确', r.text)
    # the rule across fields is shown with the fields' own messages, beside the phone
    r2 = await citizen.post(kind="咨询", content="太短", phone="", email="")
    assert re.search(r'id="e-phone">咨询需要答复您', r2.text) and 'id="e-content"' in r2.text
    assert 'value="12345"' in r.text and "王&lt;b&gt;先生&lt;/b&gt;" in r.text
    assert '<option value="咨询" selected>' in r.text and ">太短</textarea>" in r.text
    # 咨询 needs a way to answer; 投诉 may be anonymous
    r = await citizen.post(kind="求助", phone="", email="", name="")
    assert r.status_code == 422 and re.search(r'id="e-phone">求助需要答复您', r.text)
    r = await citizen.post(kind="", files=[("a.jpg", jpeg())])
    assert re.search(r'id="e-kind">请选择诉求类型<', r.text)
    assert "照片未保存" in r.text and files_in(app) == []
    r = await citizen.post(place="火星区")
    assert re.search(r'id="e-place">请从列表中选择', r.text)
    assert await Ticket.all().count() == 0
    r = await citizen.post(kind="举报", phone="", name="", sms="", no_contact="on")
    number, _ = receipt(r)
    ticket = await Ticket.get(number=number)
    assert ticket.anonymous and ticket.no_contact and ticket.sms_opt_out and ticket.confidential


async def test_robots_are_refused_and_nothing_is_created(app: Any) -> None:
    citizen = Citizen(app)
    r = await citizen.post(website="http://spam.example")
    assert r.status_code == 400 and "提交未成功" in r.text and "spam.example" not in r.text
    r = await citizen.post(token=await citizen.token(age=1))
    assert r.status_code == 429 and "提交过快：请稍等 2 秒后再提交" in r.text
    assert CONTENT in r.text  # what was typed is kept
    r = await citizen.post(token="forged.token")
    assert r.status_code == 400 and "表单已失效" in r.text
    r = await citizen.post(token=await citizen.token(age=2 * 86400))
    assert r.status_code == 400 and "已过期" in r.text
    r = await citizen.post(content="x" * 2001)
    assert r.status_code == 422 and "最多 2000 个字" in r.text
    # no staff session can be borrowed: the session's CSRF token is not a form token
    page = await citizen.http.get("/login")
    r = await citizen.post(token=csrf_of(page.text))
    assert r.status_code == 400
    assert await Ticket.all().count() == 0


async def test_rate_limits_per_address_and_per_phone(app: Any) -> None:
    one = Citizen(app, "10.9.9.9")
    for i in range(5):
        r = await one.post(phone=f"1390000000{i}")
        assert r.status_code == 200, i
    # the phone: 5 a day, whatever the address
    for i in range(5):
        assert (await Citizen(app, f"10.8.0.{i}").post(phone="13700000000")).status_code == 200
    r = await Citizen(app, "10.8.1.1").post(phone="13700000000")
    assert r.status_code == 429 and "提交次数过多" in r.text and int(r.headers["Retry-After"]) > 0
    assert CONTENT in r.text
    # the address: 10 an hour, whatever the phone
    for i in range(5):
        assert (await one.post(phone=f"1391111111{i}")).status_code == 200
    r = await one.post(phone="13922222222")
    assert r.status_code == 429
    # a refused form (typo) costs nothing: another address still has its full allowance
    two = Citizen(app, "10.7.7.7")
    for _ in range(12):
        assert (await two.post(content="短")).status_code == 422
    assert (await two.post(phone="13933333333")).status_code == 200
    assert await Ticket.all().count() == 16


async def test_the_same_form_posted_twice_is_one_ticket(app: Any) -> None:
    citizen = Citizen(app)
    token = await citizen.token()
    first = await citizen.post(token=token, files=[("a.jpg", jpeg())])
    again = await citizen.post(token=token, files=[("a.jpg", jpeg())])
    assert receipt(first) == receipt(again)
    assert await Ticket.all().count() == 1
    assert len(files_in(app)) == 1
    # a new form is a new ticket
    assert receipt(await citizen.post()) != receipt(first)


async def test_a_used_form_sent_with_another_matter_keeps_it(app: Any) -> None:
    """A duplicated tab or a restored page: the second matter is not swallowed by the first."""
    citizen = Citizen(app)
    token = await citizen.token()
    first = await citizen.post(token=token)
    other = "另一件事：小区门口的下水道井盖缺失，晚上很危险。"
    r = await citizen.post(token=token, content=other)
    assert r.status_code == 409 and "这张表单已经提交过一次" in r.text
    assert other in r.text  # what was typed is still there
    assert await Ticket.all().count() == 1
    fresh = TOKEN.search(r.text)
    assert fresh and fresh.group(1) != token  # a new form, to send the new matter with
    second = await citizen.post(token=await citizen.token(), content=other)
    assert receipt(second) != receipt(first)
    assert await Ticket.filter(content=other).count() == 1


async def test_photos_are_served_with_the_code_or_to_staff_who_may_see(app: Any) -> None:
    citizen = Citizen(app)
    r = await citizen.post(files=[("张三拍的.png", png()), ("张三家.heic", heic())])
    number, code = receipt(r)
    on_disk = {p.name: p.read_bytes() for p in files_in(app)}
    stored = (await Ticket.get(number=number)).attachments
    c = citizen.http
    ok = await c.get(f"/track/{number}/photos/0?code={code}")
    assert ok.status_code == 200 and ok.content == on_disk[stored[0]["photo"]]
    assert ok.headers["content-type"] == "image/png"
    assert ok.headers["x-content-type-options"] == "nosniff"
    assert ok.headers["cache-control"] == "no-store"  # shared phones and PCs keep nothing
    assert ok.headers["content-disposition"] == "inline; filename*=UTF-8''%E7%85%A7%E7%89%871.png"
    # the HEIC came back as a JPEG: shown inline, without its EXIF
    converted = await c.get(f"/track/{number}/photos/1?code={code.lower()}")
    assert converted.status_code == 200 and converted.headers["content-type"] == "image/jpeg"
    assert converted.headers["content-disposition"].startswith("inline;")
    assert no_metadata(converted.content)
    wrong = await c.get(f"/track/{number}/photos/0?code=ZZZZZZ")
    missing = await c.get(f"/track/20990101-00001/photos/0?code={code}")
    no_photo = await c.get(f"/track/{number}/photos/2?code={code}")
    no_code = await c.get(f"/track/{number}/photos/0")
    bad_number = await c.get(f"/track/not-a-number/photos/0?code={code}")
    for answer in (wrong, missing, no_photo, no_code, bad_number):
        assert answer.status_code == 404
        # the citizen's layout and words: nothing about units or staff
        assert "没有找到这张照片。请核对工单号和查询码后，从进度查询页打开。" in answer.text
        assert "承办单位" not in answer.text and 'href="/track"' in answer.text
        assert answer.headers["cache-control"] == "no-store"
    assert wrong.text == missing.text == no_photo.text
    assert (await c.get(f"/track/{number}/photos/..%2F..%2Fetc?code={code}")).status_code == 404
    # staff: the centre sees it; a unit that does not hold the ticket gets the same 404
    op = await staff(app, "op")
    r = await op.get(f"/tickets/{number}/photos/0")
    assert r.status_code == 200 and r.content == ok.content
    assert r.headers["cache-control"] == "no-store"
    page = await op.get(f"/tickets/{number}")
    assert f'<img src="/tickets/{number}/photos/0"' in page.text
    assert f'<img src="/tickets/{number}/photos/1"' in page.text and "HEIC" not in page.text
    assert "张三" not in page.text and 'alt="照片2.jpg"' in page.text
    unit = await staff(app, "zjj")
    ticket = await Ticket.get(number=number)
    held = ticket.lead_unit_id is not None and (await ticket.lead_unit).code == "ZJJ"
    assert (await unit.get(f"/tickets/{number}/photos/0")).status_code == (200 if held else 404)
    anonymous = await c.get(f"/tickets/{number}/photos/0")
    assert anonymous.status_code == 303  # to the sign-in page


async def test_api_clients_cannot_name_a_stored_photo(app: Any) -> None:
    from hotline.services.users import issue_token

    token = await issue_token(username="op", now=utcnow())
    body = {
        "kind": "投诉",
        "title": "路灯坏了",
        "content": CONTENT,
        "attachments": [{"name": "x.jpg", "photo": "../../../etc/passwd"}],
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        r = await c.post("/api/v1/tickets", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422 and "attachments.0.photo" in r.text


async def test_guessing_codes_through_photo_urls_is_limited(app: Any) -> None:
    citizen = Citizen(app)
    number, code = receipt(await citizen.post(files=[("a.jpg", jpeg())]))
    statuses = [
        (await citizen.http.get(f"/track/{number}/photos/0?code=WRONG{i}")).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [404] * 10 and statuses[10] == 429


async def test_a_failed_creation_leaves_no_photo_behind(app: Any, monkeypatch: Any) -> None:
    from hotline.services import tickets

    async def broken(**_: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(tickets, "_create", broken)
    citizen = Citizen(app)
    r = await citizen.post(files=[("a.jpg", jpeg()), ("b.png", png())])
    assert r.status_code == 500
    assert files_in(app) == []
    assert [p for p in app.state.settings.upload_dir.rglob(".upload-*")] == []


async def test_a_failed_creation_keeps_a_photo_a_committed_ticket_now_names(
    app: Any, monkeypatch: Any
) -> None:
    """A concurrent submission committed the same photo while ours failed: its file stays."""
    from hotline.citizens import photo_clean
    from hotline.services import tickets

    other, _ = receipt(await Citizen(app, "10.9.9.9").post())  # a ticket without photos
    shared = photo_clean.clean(jpeg())
    name = f"{hashlib.sha256(shared.data).hexdigest()}.jpg"
    photo = {"name": "照片1.jpg", "content_type": "image/jpeg", "size": 1, "url": ""}

    async def broken(**_: Any) -> Any:
        # meanwhile the other submission's ticket commits, naming the very same file
        await Ticket.filter(number=other).update(attachments=[{**photo, "photo": name}])
        raise RuntimeError("database went away")

    monkeypatch.setattr(tickets, "_create", broken)
    r = await Citizen(app).post(files=[("a.jpg", jpeg()), ("b.png", png())])
    assert r.status_code == 500
    assert [p.name for p in files_in(app)] == [name]  # the PNG only we used is gone


async def test_a_quick_empty_submit_lists_the_missing_fields_not_the_speed(app: Any) -> None:
    """Clicking 提交 at once on an empty form: what is missing matters, not how fast it was."""
    citizen = Citizen(app)
    r = await citizen.post(
        token=await citizen.token(age=1),
        kind="", content="", place="", address="", name="", phone="",
    )  # fmt: skip
    assert r.status_code == 422 and "提交过快" not in r.text
    assert "还不能提交：请填写 诉求类型、具体情况、事发地点。" in r.text
    assert re.search(r'id="e-kind">请选择诉求类型<', r.text)
    assert re.search(r'id="e-content">请填写具体情况（至少 10 个字）<', r.text)
    assert re.search(r'id="e-address">求助、投诉、举报需要事发地点', r.text)
    assert await Ticket.all().count() == 0


async def test_one_submission_reports_every_missing_field_and_keeps_the_rest(app: Any) -> None:
    """A 投诉 without content nor place, with a bad phone: all three at once, typing kept."""
    citizen = Citizen(app)
    r = await citizen.post(content="", place="", address="", phone="123", name="张三")
    assert r.status_code == 422
    assert "还不能提交：请填写 具体情况、事发地点；请按红字提示修改 手机号。" in r.text
    assert re.search(r'id="e-content">请填写具体情况', r.text)
    assert re.search(r'id="e-address">请选择所在区县/街道，或填写事发地址', r.text)
    assert re.search(r'id="e-phone">请填写 11 位手机号', r.text)
    assert '<option value="投诉" selected>' in r.text and 'value="张三"' in r.text
    # a 建议 needs no place: only the content is asked for
    r = await citizen.post(kind="建议", content="", place="", address="")
    assert "还不能提交：请填写 具体情况。" in r.text and 'id="e-address"' not in r.text
    assert await Ticket.all().count() == 0


async def test_the_place_is_marked_required_and_says_for_which_kinds(app: Any) -> None:
    page = (await Citizen(app).http.get("/submit")).text
    legend = re.search(r"<legend>事发地点(.*?)</legend>", page, re.S)
    assert legend and 'class="req"' in legend.group(1)
    assert "求助、投诉、举报必须填写" in page
