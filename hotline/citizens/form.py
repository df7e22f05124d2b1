"""The citizen web form's rules: its fields, limits, who must leave a way to reply, and the
ticket it becomes. Pure: no web, no database, no clock.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from hotline.domain.schemas import Attachment, Complainant, Kind, Location, Strict, TicketCreate
from hotline.domain.vocabulary import KIND_SPECS, kind_choices
from hotline.privacy.rules import may_ask_no_contact

# Which kinds need a way to answer, and a place: declared with the kinds (KindSpec).
NEEDS_CONTACT = frozenset(k.word for k in KIND_SPECS if k.needs_contact)
NEEDS_PLACE = frozenset(k.word for k in KIND_SPECS if k.needs_place)
NEEDS_PLACE_WORDS = "、".join(k.word for k in KIND_SPECS if k.needs_place)  # 求助、投诉、举报
KIND_CHOICES = kind_choices()
MAX_TITLE = 50
MAX_CONTENT = 2000
MIN_CONTENT = 10
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
LANDLINE = re.compile(r"^0[1-9][0-9]{1,2}-?[0-9]{7,8}$")


class CitizenForm(Strict):
    """What a citizen types into /submit (checked here, then turned into a TicketCreate)."""

    kind: Kind
    title: str = Field(default="", max_length=MAX_TITLE)
    content: str = Field(min_length=MIN_CONTENT, max_length=MAX_CONTENT)
    place: str = Field(default="", max_length=64)
    address: str = Field(default="", max_length=200)
    name: str = Field(default="", max_length=32)
    phone: str = Field(default="", max_length=20)
    email: str = Field(default="", max_length=100)
    sms: bool = False
    no_contact: bool = False

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        digits = re.sub(r"[\s()]", "", value)
        if digits.startswith("+86"):
            digits = digits[3:]
        if digits and not (MOBILE.match(digits) or LANDLINE.match(digits)):
            raise ValueError("请填写 11 位手机号，或带区号的固定电话（如 0731-12345678）")
        return digits

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        # The same rule as the API's Complainant, with the citizen's wording.
        try:
            Complainant(email=value)
        except ValueError:
            raise ValueError("电子邮箱格式不正确，例如 name@example.com") from None
        return value

    @model_validator(mode="after")
    def _contact_and_place(self) -> CitizenForm:
        for message in rule_errors(self.model_dump()).values():
            raise ValueError(message)
        if self.no_contact and not may_ask_no_contact(self.kind):
            self.no_contact = False  # only a report may ask not to be contacted
        return self


def rule_errors(values: dict[str, Any]) -> dict[str, str]:
    """The rules that span fields, per field they are shown beside.

    Also run on the raw form, so the page shows them together with every field's own
    message (pydantic skips a model validator once a field has failed).
    """
    kind = str(values.get("kind") or "")
    errors = {}
    if kind in NEEDS_CONTACT and not (values.get("phone") or values.get("email")):
        errors["phone"] = f"{kind}需要答复您：请留下手机号或电子邮箱（至少一项）"
    no_place = not (values.get("place") or str(values.get("address") or "").strip())
    if kind in NEEDS_PLACE and no_place:
        errors["address"] = "请选择所在区县/街道，或填写事发地址，以便转给属地办理"
    elif not kind and no_place:
        # The kind is not chosen yet: say now what most kinds will ask on the next try.
        errors["address"] = f"{NEEDS_PLACE_WORDS}需要事发地点：请选择所在区县/街道，或填写事发地址"
    return errors


def title_of(form: CitizenForm) -> str:
    """The title typed, else the start of the content (a ticket needs one; phones type little)."""
    if len(form.title.strip()) >= 2:
        return form.title.strip()
    first = re.split(r"[。！？!?\n]", form.content.strip(), maxsplit=1)[0].strip()
    text = first if len(first) >= 2 else form.content.strip()
    return text[:30] + ("…" if len(text) > 30 else "")


def to_ticket(
    form: CitizenForm,
    *,
    district: str,
    street: str,
    attachments: list[Attachment],
) -> TicketCreate:
    """The ticket a valid form becomes (channel web; place names lead the address for routing)."""
    where = "".join(p for p in (district, street) if p and p not in form.address)
    address = f"{where} {form.address}".strip() if form.address else where
    return TicketCreate(
        channel="web",
        kind=form.kind,
        title=title_of(form),
        content=form.content,
        location=Location(address=address[:300], district=district, street=street),
        complainant=Complainant(
            name=form.name,
            phone=form.phone,
            email=form.email,
            anonymous=not (form.name or form.phone or form.email),
            sms_opt_out=not form.sms or form.no_contact,
            no_contact=form.no_contact,
        ),
        attachments=attachments,
    )


def form_values(form: Any) -> dict[str, Any]:
    """A posted form as the dict CitizenForm validates (checkboxes: ticked or not)."""
    data: dict[str, Any] = {}
    for name in CitizenForm.model_fields:
        value = form.get(name)
        data[name] = value if isinstance(value, str) else ""  # a file posted as text: nothing
    for box in ("sms", "no_contact"):
        data[box] = form.get(box) in ("on", "1", "true")
    return data
