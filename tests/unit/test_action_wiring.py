"""Every part an action declaration names exists: its database step and its mail."""

from __future__ import annotations

from hotline.lifecycle import ACTION_SPECS, Mail, Step
from hotline.services.notify import MAILERS
from hotline.services.steps import STEPS


def test_every_declared_step_and_mail_has_an_implementation() -> None:
    assert set(STEPS) == set(Step)
    assert set(MAILERS) == set(Mail)
    used_steps = {spec.step for spec in ACTION_SPECS if spec.step}
    used_mail = {spec.mail for spec in ACTION_SPECS if spec.mail}
    assert used_steps == set(Step), "a step no action uses is dead code"
    assert used_mail == set(Mail), "a mail no action causes is dead code"
