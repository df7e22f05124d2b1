"""Pure parts of the mailer: composing MIME, Chinese templates, settings, retry maths."""

from __future__ import annotations

import socket
import ssl
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectError,
    SMTPDataError,
    SMTPRecipientRefused,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from hotline.mail.compose import compose_message
from hotline.mail.templates import (
    Deadline,
    OverdueItem,
    TicketInfo,
    UnitOverdue,
    render_breach,
    render_digest,
    render_dispatch,
    render_warning,
)
from hotline.mail.transport import classify
from hotline.outbox.backlog import Backlog
from hotline.outbox.delivery import retry_delay
from hotline.runtime.mail_settings import SmtpSettings

SUBJECT = "【12345热线】新工单派发：GD202611220001 小区夜间施工噪音扰民"
WHEN = datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)


def _roundtrip(**overrides: object):
    fields: dict[str, object] = dict(
        mail_from="12345热线 <noreply@12345.example>",
        to=["zjj@city.example", "jd@city.example"],
        subject=SUBJECT,
        text="请及时签收。",
        html="<p>请及时签收。</p>",
        message_id="<abc.123@12345.example>",
        date=WHEN,
    )
    fields.update(overrides)
    raw = compose_message(**fields).as_bytes()  # type: ignore[arg-type]
    return raw, BytesParser(policy=policy.default).parsebytes(raw)


def test_compose_encodes_chinese_headers_and_round_trips() -> None:
    raw, parsed = _roundtrip()
    assert raw.isascii()  # RFC 2047 headers, base64 bodies: no SMTPUTF8/8BITMIME needed
    assert b"=?utf-8?" in raw
    assert parsed["Subject"] == SUBJECT
    assert parsed["From"].addresses[0].display_name == "12345热线"
    assert parsed["From"].addresses[0].addr_spec == "noreply@12345.example"
    assert [a.addr_spec for a in parsed["To"].addresses] == ["zjj@city.example", "jd@city.example"]
    assert parsed["Message-ID"] == "<abc.123@12345.example>"
    assert parsed["Date"].datetime == WHEN


def test_compose_multipart_alternative_utf8() -> None:
    _, parsed = _roundtrip()
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert plain.get_content_charset() == "utf-8" and plain.get_content().rstrip() == "请及时签收。"
    assert html.get_content_charset() == "utf-8" and "<p>请及时签收。</p>" in html.get_content()


def test_compose_text_only_when_no_html() -> None:
    _, parsed = _roundtrip(html=None)
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content().rstrip() == "请及时签收。"


def test_compose_is_deterministic_for_retries() -> None:
    assert _roundtrip()[0] == _roundtrip()[0]


TICKET = TicketInfo(
    number="GD202611220001",
    title="小区<b>夜间</b>施工 & 噪音",
    kind="投诉",
    urgency="一般",
    summary="每晚十点后仍在施工",
)


def test_dispatch_template() -> None:
    mail = render_dispatch(
        ticket=TICKET,
        unit_name="住建局",
        deadlines=[
            Deadline("签收", "2026年11月22日 12:00"),
            Deadline("反馈", "2026年11月29日 10:00"),
        ],
        link_base="https://hotline.example/",
    )
    assert mail.subject == "【12345热线】新工单派发：GD202611220001 小区<b>夜间</b>施工 & 噪音"
    assert "住建局：" in mail.text and "签收时限：2026年11月22日 12:00" in mail.text
    assert "https://hotline.example/tickets/GD202611220001" in mail.text
    assert "小区<b>夜间</b>施工 & 噪音" in mail.text  # plain text is not escaped
    assert "小区&lt;b&gt;夜间&lt;/b&gt;施工 &amp; 噪音" in mail.html  # HTML is
    assert "<b>夜间" not in mail.html
    assert 'href="https://hotline.example/tickets/GD202611220001"' in mail.html


def test_warning_and_breach_templates() -> None:
    warn = render_warning(
        ticket=TICKET,
        unit_name="某某街道",
        clock_name="调解",
        due_text="2026年11月23日 17:30",
        remaining_text="剩余 2小时",
        link_base="https://h.example",
    )
    assert warn.subject == "【12345热线】即将超时预警：GD202611220001 调解时限 2026年11月23日 17:30"
    assert "调解时限：2026年11月23日 17:30（剩余 2小时）" in warn.text
    assert "即将到期" in warn.html
    breach = render_breach(
        ticket=TICKET,
        unit_name="某某街道",
        clock_name="反馈",
        due_text="2026年11月23日 17:30",
        overdue_text="超时 1天",
        link_base="https://h.example",
    )
    assert breach.subject.startswith("【12345热线】已超时：GD202611220001 反馈时限")
    assert "已计为超时" in breach.text and "（超时 1天）" in breach.html


def test_digest_template_groups_by_unit_and_skips_empty_units() -> None:
    mail = render_digest(
        date_text="2026-11-22",
        as_of_text="2026年11月22日 08:00",
        link_base="https://h.example",
        units=[
            UnitOverdue(
                "住建局",
                [
                    OverdueItem("GD1", "路灯<坏>", "签收", "11月21日 10:00", "超时 22小时"),
                    OverdueItem("GD2", "积水", "反馈", "11月20日 10:00"),
                ],
            ),
            UnitOverdue("市场监管局", []),
            UnitOverdue("某某街道", [OverdueItem("GD3", "噪音", "调解", "11月19日 10:00")]),
        ],
    )
    assert mail.subject == "【12345热线】每日超时工单汇总（2026-11-22）：3件"
    assert "共有3件工单超时未办结，涉及2个承办单位" in mail.text
    assert "【住建局】2件" in mail.text and "【某某街道】1件" in mail.text
    assert "市场监管局" not in mail.text
    assert "路灯&lt;坏&gt;" in mail.html and "https://h.example/tickets/GD3" in mail.html
    empty = render_digest(date_text="2026-11-22", as_of_text="08:00", units=[], link_base="x")
    assert "今日无超时工单" in empty.text and empty.subject.endswith("0件")
    assert "邮件发送积压" not in empty.text + empty.html


@pytest.mark.parametrize(
    ("backlog", "shown"),
    [
        (None, None),
        (Backlog(), None),
        (Backlog(pending=2, oldest_pending_age_seconds=120), None),  # the sender's usual lag
        (
            Backlog(pending=37, oldest_pending_age_seconds=3 * 86400 + 4 * 3600 + 59),
            "邮件发送积压：37封待发送，最早一封已等待3天4小时。",
        ),
        (
            Backlog(pending=1, oldest_pending_age_seconds=2 * 3600 + 15 * 60),
            "邮件发送积压：1封待发送，最早一封已等待2小时15分。",
        ),
        (
            Backlog(pending=0, failed=2),
            "邮件发送积压：0封待发送；2封发送失败，需管理员重新排队。",
        ),
    ],
)
def test_digest_tells_supervisors_when_mail_is_waiting(
    backlog: Backlog | None, shown: str | None
) -> None:
    mail = render_digest(
        date_text="2026-11-22", as_of_text="08:00", units=[], link_base="x", backlog=backlog
    )
    if shown is None:
        assert "邮件发送积压" not in mail.text + mail.html
    else:
        assert shown in mail.text
        assert shown.removeprefix("邮件发送积压") in mail.html and "邮件发送积压" in mail.html


def test_settings_from_env_defaults_and_values() -> None:
    off = SmtpSettings.from_env({})
    assert not off.enabled and off.port == 25 and off.tls == "none"
    assert off.mail_from == "12345热线 <noreply@12345.example>"
    assert off.envelope_from == "noreply@12345.example" and off.msgid_domain == "12345.example"
    on = SmtpSettings.from_env(
        {
            "SMTP_HOST": "mail.city.example",
            "SMTP_TLS": "STARTTLS",
            "SMTP_PORT": "587",
            "SMTP_USER": "u",
            "SMTP_PASSWORD": "p",
            "SMTP_TIMEOUT": "5",
            "MAIL_FROM": "热线 <a@b.example>",
        }
    )
    assert on.enabled and on.tls == "starttls" and on.port == 587 and on.timeout == 5.0
    assert on.password == "p" and "p'" not in repr(on)  # the password stays out of logs
    assert SmtpSettings.from_env({"SMTP_TLS": "tls"}).port == 465
    with pytest.raises(ValueError, match="SMTP_TLS"):
        SmtpSettings.from_env({"SMTP_TLS": "ssl3"})
    with pytest.raises(ValueError, match="SMTP_PORT"):
        SmtpSettings.from_env({"SMTP_PORT": "twenty-five"})


@pytest.mark.parametrize(
    ("env", "tls"),
    [
        ({"SMTP_HOST": "mail.city.example"}, "starttls"),
        ({"SMTP_HOST": "10.0.0.25"}, "starttls"),
        ({"SMTP_HOST": "mail.city.example", "SMTP_TLS": "none"}, "none"),
        ({"SMTP_HOST": "mail.city.example", "SMTP_TLS": "tls"}, "tls"),
        ({"SMTP_HOST": "localhost"}, "none"),
        ({"SMTP_HOST": "127.0.0.1"}, "none"),
        ({"SMTP_HOST": "::1"}, "none"),
        ({"SMTP_HOST": "LocalHost."}, "none"),
        ({}, "none"),
    ],
)
def test_mail_to_another_machine_defaults_to_starttls(env: dict[str, str], tls: str) -> None:
    assert SmtpSettings.from_env(env).tls == tls
    if tls == "starttls":
        assert SmtpSettings.from_env(env).port == 25  # STARTTLS on the usual port


def test_retry_delay_doubles_and_caps() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    # Capped at 30 minutes: after a long outage the mail leaves within half an hour.
    assert retry_delay(5) == timedelta(minutes=16) and retry_delay(6) == timedelta(minutes=30)
    assert retry_delay(7) == timedelta(minutes=30) and retry_delay(500) == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("exc", "permanent"),
    [
        (SMTPRecipientsRefused([SMTPRecipientRefused(550, "no such user", "a@x")]), True),
        (
            SMTPRecipientsRefused(
                [SMTPRecipientRefused(550, "no", "a@x"), SMTPRecipientRefused(451, "later", "b@x")]
            ),
            False,
        ),
        (SMTPDataError(554, "content rejected"), True),
        (SMTPDataError(451, "try later"), False),
        (SMTPSenderRefused(530, "must issue STARTTLS first", "n@x"), False),
        (SMTPSenderRefused(552, "message too big", "n@x"), True),
        (SMTPAuthenticationError(535, "bad credentials"), False),
        (SMTPConnectError("refused"), False),
        (SMTPTimeoutError("timed out"), False),
        (TimeoutError(), False),
        (ConnectionRefusedError(111, "refused"), False),
        (socket.gaierror(-2, "Name or service not known"), False),
        (ConnectionResetError(104, "reset by peer"), False),
        (SMTPServerDisconnected("Connection lost"), False),
        (SMTPResponseException(421, "closing connection"), False),
        (ssl.SSLCertVerificationError("certificate verify failed"), False),
    ],
)
def test_classify(exc: Exception, permanent: bool) -> None:
    assert classify(exc).permanent is permanent


def test_classify_names_tls_even_when_wrapped() -> None:
    try:
        try:
            raise ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
        except ssl.SSLError as inner:
            raise SMTPConnectError("Error connecting to 127.0.0.1 on port 25") from inner
    except SMTPConnectError as exc:
        outcome = classify(exc)
    assert not outcome.permanent and outcome.server_level
    assert "TLS/SSL" in outcome.message
