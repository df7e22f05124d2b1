"""Every part an action declaration names exists: its database step and its mail."""

from __future__ import annotations

from hotline.domain.lifecycle import ACTION_SPECS, Mail, Step
from hotline.services.notify import MAILERS
from hotline.services.steps import STEPS


def test_every_declared_step_and_mail_has_an_implementation() -> None:
    assert set(STEPS) == set(Step)
    assert set(MAILERS) == set(Mail)
    used_steps = {spec.step for spec in ACTION_SPECS if spec.step}
    used_mail = {spec.mail for spec in ACTION_SPECS if spec.mail}
    assert used_steps == set(Step), "a step no action uses is dead code"
    assert used_mail == set(Mail), "a mail no action causes is dead code"


def test_every_declared_text_has_a_template_and_every_template_is_sent() -> None:
    from hotline.domain.lifecycle import Sms
    from hotline.runtime.config import REPO_ROOT
    from hotline.sms.templates import load_sms_templates

    templates = load_sms_templates(REPO_ROOT / "data" / "sms.toml")
    assert set(templates.templates) == set(Sms)
    # Creation is not an action: create_ticket sends Sms.CREATED itself.
    used = {spec.sms for spec in ACTION_SPECS if spec.sms} | {Sms.CREATED}
    assert used == set(Sms), "a text no action causes is dead data"
