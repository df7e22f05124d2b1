"""One vocabulary (data/vocabulary.toml): every other data file and the API agree with it."""

from __future__ import annotations

import json
import re
import shutil
import typing
from dataclasses import replace
from pathlib import Path

import pytest

from hotline.domain.schemas import Channel, Kind, Urgency
from hotline.domain.vocabulary import check_model_labels, load_vocabulary
from hotline.runtime.config import load_settings
from hotline.startup.bootstrap import ConfigError, load_deployment
from routing.errors import RuleError
from routing.loader import load_routing

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
VOCAB = load_vocabulary(DATA)


def test_api_literals_are_the_vocabulary() -> None:
    """The request models' Literals are a second spelling; they must not drift."""
    assert typing.get_args(Kind) == VOCAB.kinds
    assert typing.get_args(Urgency) == VOCAB.urgencies
    assert typing.get_args(Channel) == tuple(VOCAB.channels)


def test_shipped_model_labels_are_the_model_categories() -> None:
    labels = json.loads((DATA / "model" / "model.json").read_text(encoding="utf-8"))["labels"]
    assert sorted(labels) == sorted(VOCAB.model_categories)
    check_model_labels(VOCAB, DATA / "model")  # no error


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A copy of data/ without the model's large files (its model.json is kept)."""
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy, ignore=shutil.ignore_patterns("weights.npz", "vocab.json"))
    return copy


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first `old` in the file; return its 1-based line."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def start(data: Path) -> str:
    """Start-up's one-line error for this data directory."""
    settings = replace(load_settings(), data_dir=data, model_dir=data / "model")
    with pytest.raises(ConfigError) as caught:
        load_deployment(settings, with_model=False)
    return str(caught.value)


def test_a_model_label_missing_from_the_vocabulary_names_model_json_line(data: Path) -> None:
    meta = data / "model" / "model.json"
    doc = json.loads(meta.read_text(encoding="utf-8"))
    doc["labels"] = [x if x != "交通运输" else "交通" for x in doc["labels"]]
    meta.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    line = next(
        no
        for no, text in enumerate(meta.read_text(encoding="utf-8").splitlines(), 1)
        if text.startswith('  "labels"')
    )
    message = start(data)
    assert message.startswith(f"{meta}:{line} 字段「labels」：模型输出的分类「交通」不在词表中")
    assert "vocabulary.toml:" in message and "categories.model" in message


def test_a_vocabulary_category_the_model_never_outputs_is_an_error(data: Path) -> None:
    edit(data / "vocabulary.toml", '"交通运输"]', '"交通运输", "政务服务"]')
    routing = data / "routing.toml"
    routing.write_text(
        routing.read_text(encoding="utf-8") + '\n[[category]]\nname = "政务服务"\nlead = "RXZX"\n',
        encoding="utf-8",
    )
    message = start(data)
    assert message.startswith(f"{data / 'model' / 'model.json'}:")
    assert "词表中的分类「政务服务」模型不会输出" in message


def test_routing_category_outside_the_vocabulary(data: Path) -> None:
    line = edit(data / "routing.toml", 'name = "政法"', 'name = "政法委"')
    assert start(data) == (
        f"{data / 'routing.toml'}:{line} [[category]] 第 8 条 字段「name」："
        "分类「政法委」不在 vocabulary.toml 中（允许：" + "、".join(VOCAB.categories) + "）"
    )


def test_routing_kind_outside_the_vocabulary(data: Path) -> None:
    line = edit(data / "routing.toml", 'kind = "举报"', 'kind = "检举"')
    message = start(data)
    assert message.startswith(f"{data / 'routing.toml'}:{line} [[kind]] 第 1 条 字段「kind」")
    assert "诉求类型「检举」不在 vocabulary.toml 中" in message


def test_a_model_category_without_a_routing_rule(data: Path) -> None:
    text = (data / "routing.toml").read_text(encoding="utf-8")
    text = text.replace('[[category]]\nname = "卫生计生"\nlead = "WJW"\n', "")
    (data / "routing.toml").write_text(text, encoding="utf-8")
    assert re.match(
        rf"{re.escape(str(data / 'routing.toml'))}:\d+：分类模型会输出的分类「卫生计生」"
        r"没有 \[\[category\]\] 规则",
        start(data),
    )


def test_sla_policy_words_outside_the_vocabulary(data: Path) -> None:
    line = edit(data / "sla.toml", 'urgencies = ["紧急"]', 'urgencies = ["特急"]')
    message = start(data)
    assert message.startswith(f"{data / 'sla.toml'}:{line}: policy[0]")
    assert "urgencies: 未知取值 '特急'" in message


def test_an_unread_sla_field_stops_start_up(data: Path) -> None:
    line = edit(data / "sla.toml", 'mediation = "45wd"\n', 'mediation = "45wd"\nnotice = "7wd"\n')
    message = start(data)
    assert message.startswith(f"{data / 'sla.toml'}:{line + 1}: policy[2]")
    assert ".notice: 未知字段" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'kinds = ["咨询"',
            'kinds = ["咨询", "咨询"',
            r"vocabulary\.toml:\d+ 字段「kinds」：「咨询」重复",
        ),
        ("[channels]\nphone", "[channels]\nPhone", r"\[channels\] 字段「Phone」：渠道代码只能用"),
        # The code's rules know these words and no others: the file may not add or drop one.
        (
            'kinds = ["咨询", "求助"',
            'kinds = ["咨询", "求救"',
            r"vocabulary\.toml:\d+ 字段「kinds」：多出「求救」，缺少「求助」；本系统只认 咨询",
        ),
        (
            'urgencies = ["紧急", "一般", "复杂"]',
            'urgencies = ["紧急", "一般"]',
            r"字段「urgencies」：缺少「复杂」；本系统只认 紧急、一般、复杂，请改回这些词",
        ),
        (
            'wechat = "微信公众号"',
            'weixin = "微信公众号"',
            r"\[channels\] 字段「weixin」：多出「weixin」，缺少「wechat」.*渠道名称可以改",
        ),
        ("model = [", "labels = [", r"\[categories\] 字段「labels」：未知字段"),
        ('other = ["政法"', 'other = ["交通运输"', r"分类「交通运输」同时出现在 model 和 other 中"),
    ],
)
def test_a_broken_vocabulary_file(data: Path, old: str, new: str, expected: str) -> None:
    edit(data / "vocabulary.toml", old, new)
    with pytest.raises(RuleError, match=expected):
        load_vocabulary(data)
    assert re.search(expected, start(data))


def test_routing_without_a_vocabulary_checks_no_words(data: Path) -> None:
    edit(data / "routing.toml", 'name = "政法"', 'name = "政法委"')
    assert "政法委" in load_routing(data).rules.categories
