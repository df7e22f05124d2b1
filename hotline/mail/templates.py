"""Chinese mail texts for dispatch, SLA warning, SLA breach and the daily digest (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple
from urllib.parse import quote

from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape
from markupsafe import Markup

from hotline.domain.lifecycle import Mail
from hotline.outbox.backlog import Backlog

SUBJECT_PREFIX = "【12345热线】"


class RenderedMail(NamedTuple):
    """Subject, plain-text body and HTML body of one mail."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class TicketInfo:
    """What a mail says about a ticket; never the complainant's identity (举报 is confidential)."""

    number: str
    title: str
    kind: str = ""  # 诉求类型: 咨询 / 求助 / 投诉 / 举报 / 建议 / 表扬
    urgency: str = ""  # 紧急 / 一般
    category: str = ""
    summary: str = ""


@dataclass(frozen=True)
class Deadline:
    """One SLA clock as shown to people: its name and its due time, already in Asia/Shanghai."""

    clock_name: str  # 签收 / 调解 / 反馈
    due_text: str  # e.g. "2026年11月23日 17:30"


@dataclass(frozen=True)
class OverdueItem:
    """One overdue clock of one ticket, for the digest."""

    number: str
    title: str
    clock_name: str
    due_text: str
    overdue_text: str = ""  # e.g. "超时 2天3小时"


@dataclass(frozen=True)
class UnitOverdue:
    """A unit and its overdue tickets, for the digest."""

    unit_name: str
    items: Sequence[OverdueItem] = field(default_factory=tuple)
    # Every overdue clock of the unit; `items` lists only the longest overdue of them.
    count: int | None = None

    @property
    def total(self) -> int:
        """How many overdue clocks the unit has (listed or not)."""
        return len(self.items) if self.count is None else max(self.count, len(self.items))

    @property
    def unlisted(self) -> int:
        """How many of them the mail does not list."""
        return self.total - len(self.items)


def ticket_url(link_base: str, number: str) -> str:
    """Link to a ticket's page in the web UI."""
    return f"{link_base.rstrip('/')}/tickets/{quote(number, safe='')}"


_STYLE = Markup("font-family:'PingFang SC','Microsoft YaHei',sans-serif;font-size:14px;color:#222")

# A Jinja comment spanning a line break ("{#\n#}") wraps long source lines without putting
# a space between Chinese characters in the rendered mail.
_TEMPLATES = {
    "ticket.txt": """\
工单编号：{{ ticket.number }}
标题：{{ ticket.title }}
{% if ticket.kind %}诉求类型：{{ ticket.kind }}
{% endif %}{% if ticket.urgency %}紧急程度：{{ ticket.urgency }}
{% endif %}{% if ticket.category %}诉求分类：{{ ticket.category }}
{% endif %}{% if ticket.summary %}诉求内容：{{ ticket.summary }}
{% endif %}""",
    "ticket.html": """\
<table style="border-collapse:collapse">
<tr><th align="left">工单编号</th><td>{{ ticket.number }}</td></tr>
<tr><th align="left">标题</th><td>{{ ticket.title }}</td></tr>
{% if ticket.kind %}<tr><th align="left">诉求类型</th><td>{{ ticket.kind }}</td></tr>
{% endif %}{% if ticket.urgency %}<tr><th align="left">紧急程度</th>
<td>{{ ticket.urgency }}</td></tr>
{% endif %}{% if ticket.category %}<tr><th align="left">诉求分类</th>
<td>{{ ticket.category }}</td></tr>
{% endif %}{% if ticket.summary %}<tr><th align="left">诉求内容</th>
<td>{{ ticket.summary }}</td></tr>
{% endif %}</table>""",
    "dispatch.txt": """\
{{ unit_name }}：

12345热线向贵单位派发了一件新工单，请及时签收并办理。

{% include "ticket.txt" %}
{% for d in deadlines %}{{ d.clock_name }}时限：{{ d.due_text }}
{% endfor %}
办理链接：{{ url }}

如认为不属于贵单位职责，请在签收时限内提出派单异议（退单）并说明理由。
本邮件由系统自动发送，请勿直接回复。
""",
    "dispatch.html": """\
<div style="{{ style }}">
<p>{{ unit_name }}：</p>
<p>12345热线向贵单位派发了一件新工单，请及时签收并办理。</p>
{% include "ticket.html" %}
<ul>{% for d in deadlines %}
<li>{{ d.clock_name }}时限：<strong>{{ d.due_text }}</strong></li>
{% endfor %}</ul>
<p><a href="{{ url }}">查看并办理工单</a></p>
<p>如认为不属于贵单位职责，请在签收时限内提出派单异议（退单）并说明理由。</p>
<p style="color:#888">本邮件由系统自动发送，请勿直接回复。</p>
</div>
""",
    "subdispatch.txt": """\
{{ unit_name }}：

{{ parent_name }}将一件12345工单下派给贵单位办理。请及时签收，
{#- #}办理后在系统中向{{ parent_name }}答复，由其审核后答复市民。

{% include "ticket.txt" %}
下派办理时限：{{ due_text }}

办理链接：{{ url }}

本邮件由系统自动发送，请勿直接回复。
""",
    "subdispatch.html": """\
<div style="{{ style }}">
<p>{{ unit_name }}：</p>
<p>{{ parent_name }}将一件12345工单下派给贵单位办理。请及时签收，
{#- #}办理后在系统中向{{ parent_name }}答复，由其审核后答复市民。</p>
{% include "ticket.html" %}
<p>下派办理时限：<strong>{{ due_text }}</strong></p>
<p><a href="{{ url }}">查看并办理工单</a></p>
<p style="color:#888">本邮件由系统自动发送，请勿直接回复。</p>
</div>
""",
    "warning.txt": """\
{{ unit_name }}：

以下工单的{{ clock_name }}时限即将到期，{#
#}{% if centre %}这是中心自己的时限（不计入承办单位），请尽快处理。{#
#}{% else %}请抓紧办理；确需延期的，请在到期前提交延期申请。{% endif %}

{% include "ticket.txt" %}
{{ clock_name }}时限：{{ due_text }}{% if remaining_text %}（{{ remaining_text }}）{% endif %}

办理链接：{{ url }}

本邮件由系统自动发送，请勿直接回复。
""",
    "warning.html": """\
<div style="{{ style }}">
<p>{{ unit_name }}：</p>
<p>以下工单的<strong>{{ clock_name }}</strong>时限即将到期，{#
#}{% if centre %}这是中心自己的时限（不计入承办单位），请尽快处理。{% else %}请抓紧办理；{#
#}确需延期的，请在到期前提交延期申请。{% endif %}</p>
{% include "ticket.html" %}
<p>{{ clock_name }}时限：<strong>{{ due_text }}</strong>
{%- if remaining_text %}（{{ remaining_text }}）{% endif %}</p>
<p><a href="{{ url }}">查看并办理工单</a></p>
<p style="color:#888">本邮件由系统自动发送，请勿直接回复。</p>
</div>
""",
    "breach.txt": """\
{{ unit_name }}：

以下工单的{{ clock_name }}时限已到期未完成，{#
#}{% if centre %}已计为中心超时，请立即处理。{% else %}已计为超时，请立即办理。{% endif %}

{% include "ticket.txt" %}
{{ clock_name }}时限：{{ due_text }}{% if overdue_text %}（{{ overdue_text }}）{% endif %}

办理链接：{{ url }}

本邮件由系统自动发送，请勿直接回复。
""",
    "breach.html": """\
<div style="{{ style }}">
<p>{{ unit_name }}：</p>
<p style="color:#c00">以下工单的<strong>{{ clock_name }}</strong>时限已到期未完成，{#
#}{% if centre %}已计为中心超时，请立即处理。{% else %}已计为超时，请立即办理。{% endif %}</p>
{% include "ticket.html" %}
<p>{{ clock_name }}时限：<strong>{{ due_text }}</strong>
{%- if overdue_text %}（{{ overdue_text }}）{% endif %}</p>
<p><a href="{{ url }}">查看并办理工单</a></p>
<p style="color:#888">本邮件由系统自动发送，请勿直接回复。</p>
</div>
""",
    "digest.txt": """\
截至{{ as_of_text }}，共有{{ total }}件工单超时未办结，涉及{{ units|length }}个承办单位。
{% for unit in units %}
【{{ unit.unit_name }}】{{ unit.total }}件{% if unit.unlisted %}{#
#}（以下列出超时最久的{{ unit.items|length }}件，{#
#}其余{{ unit.unlisted }}件请在工单查询中查看：{{ list_url }}）{% endif %}
{% for item in unit.items %}  - {{ item.number }} {{ item.title }}
{{- "｜" }}{{ item.clock_name }}时限 {{ item.due_text }}
{%- if item.overdue_text %}｜{{ item.overdue_text }}{% endif %}
    {{ url_for(item.number) }}
{% endfor %}{% else %}
今日无超时工单。
{% endfor %}{% if backlog and backlog.waiting %}
邮件发送积压：{{ backlog.pending }}封待发送
{%- if backlog.oldest_pending_age_seconds is not none %}，{#
#}最早一封已等待{{ backlog.oldest_text }}{% endif %}
{%- if backlog.failed %}；{{ backlog.failed }}封发送失败，需管理员重新排队{% endif %}。{#
#}以上汇总中的时限提醒可能尚未送达承办单位。
{% endif %}
本邮件由系统自动发送，请勿直接回复。
""",
    "digest.html": """\
<div style="{{ style }}">
<p>截至{{ as_of_text }}，共有<strong>{{ total }}</strong>件工单超时未办结，{#
#}涉及{{ units|length }}个承办单位。</p>
{% for unit in units %}
<h3>{{ unit.unit_name }}（{{ unit.total }}件）</h3>
{% if unit.unlisted %}<p>以下列出超时最久的{{ unit.items|length }}件，{#
#}其余{{ unit.unlisted }}件请在<a href="{{ list_url }}">工单查询</a>中查看。</p>{% endif %}
<table border="1" cellpadding="4" style="border-collapse:collapse">
<tr><th>工单编号</th><th>标题</th><th>时限</th><th>到期时间</th><th>超时</th></tr>
{% for item in unit.items %}<tr>
<td><a href="{{ url_for(item.number) }}">{{ item.number }}</a></td>
<td>{{ item.title }}</td><td>{{ item.clock_name }}</td>
<td>{{ item.due_text }}</td><td>{{ item.overdue_text }}</td>
</tr>
{% endfor %}</table>
{% else %}
<p>今日无超时工单。</p>
{% endfor %}{% if backlog and backlog.waiting %}
<p style="color:#b00"><strong>邮件发送积压</strong>：{{ backlog.pending }}封待发送{#
#}{% if backlog.oldest_pending_age_seconds is not none %}，{#
#}最早一封已等待{{ backlog.oldest_text }}{% endif %}{#
#}{% if backlog.failed %}；{{ backlog.failed }}封发送失败，需管理员重新排队{% endif %}。{#
#}以上汇总中的时限提醒可能尚未送达承办单位。</p>
{% endif %}
<p style="color:#888">本邮件由系统自动发送，请勿直接回复。</p>
</div>
""",
}

# Autoescape only the HTML templates: ticket titles come from citizens and may hold markup.
_ENV = Environment(
    loader=DictLoader(_TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def _render(name: str, subject: str, **context: Any) -> RenderedMail:
    context.setdefault("style", _STYLE)
    text = _ENV.get_template(f"{name}.txt").render(**context)
    html = _ENV.get_template(f"{name}.html").render(**context)
    return RenderedMail(" ".join(subject.split()), text, html)


def dispatch_subject(ticket: TicketInfo) -> str:
    """The dispatch mail's subject (cheap: stored when the mail is queued)."""
    return " ".join(f"{SUBJECT_PREFIX}新工单派发：{ticket.number} {ticket.title}".split())


def render_dispatch(
    *, ticket: TicketInfo, unit_name: str, deadlines: Sequence[Deadline], link_base: str
) -> RenderedMail:
    """Mail to a unit that a ticket was dispatched to it (新工单派发)."""
    return _render(
        "dispatch",
        dispatch_subject(ticket),
        ticket=ticket,
        unit_name=unit_name,
        deadlines=list(deadlines),
        url=ticket_url(link_base, ticket.number),
    )


# Mail queued on the intake path stores a template name and these few values; the sender
# renders it (hotline.mail.outbox.mail_content), so a request renders no template.
def dispatch_params(
    *, ticket: TicketInfo, unit_name: str, deadlines: Sequence[Deadline], link_base: str
) -> dict[str, Any]:
    """The JSON-able values render_dispatch needs, as stored in the outbox row."""
    return {
        "ticket": asdict(ticket),
        "unit_name": unit_name,
        "deadlines": [[d.clock_name, d.due_text] for d in deadlines],
        "link_base": link_base,
    }


def _render_dispatch_params(params: dict[str, Any]) -> RenderedMail:
    return render_dispatch(
        ticket=TicketInfo(**params["ticket"]),
        unit_name=params["unit_name"],
        deadlines=[Deadline(name, due) for name, due in params["deadlines"]],
        link_base=params["link_base"],
    )


def subdispatch_subject(ticket: TicketInfo) -> str:
    """The 下派 mail's subject."""
    return " ".join(f"{SUBJECT_PREFIX}下派工单：{ticket.number} {ticket.title}".split())


def render_subdispatch(
    *, ticket: TicketInfo, unit_name: str, parent_name: str, due_text: str, link_base: str
) -> RenderedMail:
    """Mail to a descendant that its superior passed a ticket down to it (下派)."""
    return _render(
        "subdispatch",
        subdispatch_subject(ticket),
        ticket=ticket,
        unit_name=unit_name,
        parent_name=parent_name,
        due_text=due_text,
        url=ticket_url(link_base, ticket.number),
    )


def subdispatch_params(
    *, ticket: TicketInfo, unit_name: str, parent_name: str, due_text: str, link_base: str
) -> dict[str, Any]:
    """The JSON-able values render_subdispatch needs, as stored in the outbox row."""
    return {
        "ticket": asdict(ticket),
        "unit_name": unit_name,
        "parent_name": parent_name,
        "due_text": due_text,
        "link_base": link_base,
    }


def clock_params(
    *,
    ticket: TicketInfo,
    unit_name: str,
    clock_name: str,
    due_text: str,
    link_base: str,
    centre: bool = False,
) -> dict[str, Any]:
    """The JSON-able values of a warning or breach mail, as stored in the outbox row.

    The sweeper queues thousands of these at once after a holiday; the sender renders each
    when it delivers it, so the sweep's transactions stay short.
    """
    return {
        # vars(): the flat dataclass's fields, without asdict's deep copy (thousands a sweep).
        "ticket": dict(vars(ticket)),
        "unit_name": unit_name,
        "clock_name": clock_name,
        "due_text": due_text,
        "link_base": link_base,
        # The centre's own clock (改派, 审批, 回访): nothing for a unit to ask an extension of.
        "centre": centre,
    }


def _render_subdispatch_params(params: dict[str, Any]) -> RenderedMail:
    return render_subdispatch(**{**params, "ticket": TicketInfo(**params["ticket"])})


def clock_subject(event: str, *, number: str, clock_name: str, due_text: str) -> str:
    """The subject of a warning or breach mail."""
    what = "即将超时预警" if event == "warning" else "已超时"
    return f"{SUBJECT_PREFIX}{what}：{number} {clock_name}时限 {due_text}"


def _render_clock_params(event: str) -> Any:
    def render(params: dict[str, Any]) -> RenderedMail:
        fn = render_warning if event == "warning" else render_breach
        return fn(
            ticket=TicketInfo(**params["ticket"]),
            unit_name=params["unit_name"],
            clock_name=params["clock_name"],
            due_text=params["due_text"],
            link_base=params["link_base"],
            centre=bool(params.get("centre", False)),  # rows queued before it was kept
        )

    return render


# By the Mail an action causes (its name is the stored template's), and the clock mails.
STORED_TEMPLATES = {
    Mail.DISPATCH.value: _render_dispatch_params,
    Mail.SUBDISPATCH.value: _render_subdispatch_params,
    "warning": _render_clock_params("warning"),
    "breach": _render_clock_params("breach"),
}


def render_stored(template: str, params: dict[str, Any]) -> RenderedMail:
    """Render a mail queued as a template name and its values."""
    return STORED_TEMPLATES[template](params)


def render_warning(
    *,
    ticket: TicketInfo,
    unit_name: str,
    clock_name: str,
    due_text: str,
    link_base: str,
    remaining_text: str = "",
    centre: bool = False,
) -> RenderedMail:
    """Mail to a unit that a clock is about to run out (即将超时预警)."""
    return _render(
        "warning",
        clock_subject("warning", number=ticket.number, clock_name=clock_name, due_text=due_text),
        ticket=ticket,
        unit_name=unit_name,
        clock_name=clock_name,
        due_text=due_text,
        remaining_text=remaining_text,
        centre=centre,
        url=ticket_url(link_base, ticket.number),
    )


def render_breach(
    *,
    ticket: TicketInfo,
    unit_name: str,
    clock_name: str,
    due_text: str,
    link_base: str,
    overdue_text: str = "",
    centre: bool = False,
) -> RenderedMail:
    """Mail to a unit (and its supervisors) that a clock has run out (已超时)."""
    return _render(
        "breach",
        clock_subject("breach", number=ticket.number, clock_name=clock_name, due_text=due_text),
        ticket=ticket,
        unit_name=unit_name,
        clock_name=clock_name,
        due_text=due_text,
        overdue_text=overdue_text,
        centre=centre,
        url=ticket_url(link_base, ticket.number),
    )


def render_digest(
    *,
    date_text: str,
    as_of_text: str,
    units: Sequence[UnitOverdue],
    link_base: str,
    backlog: Backlog | None = None,
) -> RenderedMail:
    """Daily summary for supervisors of overdue tickets per unit, and any mail backlog."""
    shown = [unit for unit in units if unit.items]
    total = sum(unit.total for unit in shown)
    return _render(
        "digest",
        f"{SUBJECT_PREFIX}每日超时工单汇总（{date_text}）：{total}件",
        units=shown,
        total=total,
        as_of_text=as_of_text,
        url_for=lambda number: ticket_url(link_base, number),
        list_url=f"{link_base.rstrip('/')}/tickets?overdue=1",
        backlog=backlog,
    )
