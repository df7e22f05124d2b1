"""Every field of every action form is labelled in Chinese."""

from __future__ import annotations


def test_every_action_form_field_has_a_chinese_label() -> None:
    from hotline.domain.lifecycle import ACTION_SPECS
    from hotline.web.pages.forms import ACTION_FIELD_LABELS, FIELD_LABELS

    for spec in ACTION_SPECS:
        for name in spec.body.model_fields:
            if name == "expected_version":
                continue
            label = ACTION_FIELD_LABELS.get((spec.action.value, name)) or FIELD_LABELS.get(name)
            assert label and any("\u4e00" <= ch <= "\u9fff" for ch in label), (spec.action, name)


def test_every_citizen_form_field_has_a_chinese_label() -> None:
    from hotline.citizens.form import CitizenForm
    from hotline.web.pages.forms import CITIZEN_FIELD_LABELS

    for name in [*CitizenForm.model_fields, "photos"]:
        label = CITIZEN_FIELD_LABELS.get(name)
        assert label and any("\u4e00" <= ch <= "\u9fff" for ch in label), name
