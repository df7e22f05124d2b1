"""The dispatch mail is queued as a template name and a few values, and rendered by the sender.

The intake request renders no template; what a unit receives over SMTP (aiosmtpd on
127.0.0.1) is the full mail, with the deadlines and the link, as it was before.
"""

from __future__ import annotations

from hotline.mail.transport import SmtpTransport
from hotline.outbox.delivery import deliver_due
from hotline.outbox.models import OutboxMessage
from hotline.runtime.mail_settings import SmtpSettings
from tests.api.conftest import World
from tests.mailsupport import RecordingHandler, smtp_server

BODY = {
    "kind": "投诉",
    "title": "公司拖欠工资三个月",
    "content": "本人在一家装修公司做水电工，公司拖欠我和工友三个月工资，老板一直不发，请帮忙讨薪。",
    "complainant": {"name": "张先生", "phone": "13812345678"},
    "auto_dispatch": True,
}


async def test_the_dispatch_mail_is_rendered_by_the_sender(world: World) -> None:
    r = await world.client.post("/api/v1/tickets", json=BODY, headers=world.headers["op"])
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["lead_unit"]["code"] == "RSJ"
    number = ticket["number"]
    rows = await OutboxMessage.filter(transport="mail", reason="dispatch", ticket_number=number)
    assert rows, "the lead and assisting units are told"
    for row in rows:
        # Queued small: a template name and its values; the subject is there for the admins.
        assert row.template == "dispatch" and row.body == "" and row.body_html is None
        assert row.params["ticket"]["number"] == number and row.params["unit_name"]
        assert row.subject == f"【12345热线】新工单派发：{number} {BODY['title']}"

    handler = RecordingHandler()
    with smtp_server(handler) as server:
        settings = SmtpSettings(host="127.0.0.1", port=server.port, timeout=5.0)  # type: ignore[call-arg]
        report = await deliver_due(SmtpTransport(settings), now=rows[0].next_attempt_at)
    assert sorted(report.sent) == sorted(row.id for row in rows)
    assert len(handler.received) == len(rows)
    for got in handler.received:
        message = got.message
        assert message["Subject"] == rows[0].subject
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        for part in (text, html):
            assert number in part and BODY["title"] in part
            assert "签收" in part and "反馈" in part  # the deadlines
            assert f"/tickets/{number}" in part  # the link to the ticket
        assert "13812345678" not in text and "张先生" not in text
    units = {row.params["unit_name"] for row in rows}
    assert sum(
        any(u in got.message.get_body(("plain",)).get_content() for u in units)
        for got in handler.received
    ) == len(rows)
