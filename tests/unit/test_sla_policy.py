"""SLA policies: the shipped rules, first-match precedence, and precise errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.domain.vocabulary import load_vocabulary
from sla.clock import ClockKind
from sla.limits import Limit, Unit, parse_limit
from sla.policy import PolicyError, PolicySet, load_policies, match_policy

REPO = Path(__file__).resolve().parents[2]
_V = load_vocabulary(REPO / "data")
# What hotline/startup/bootstrap.py passes: the shipped vocabulary, as plain strings.
VOCAB = {"kinds": _V.kinds, "categories": _V.categories, "urgencies": _V.urgencies}


@pytest.fixture(scope="module")
def shipped() -> PolicySet:
    return load_policies(REPO / "data" / "sla.toml", **VOCAB)


def test_shipped_file_loads_with_office_hours(shipped: PolicySet) -> None:
    assert shipped.default.feedback == Limit(7, Unit.DAYS)
    assert shipped.default.receipt == Limit(24, Unit.HOURS)
    assert [str(p) for p in shipped.office_hours.periods[0]] == ["08:30:00", "12:00:00"]
    assert str(shipped.office_hours.tz) == "Asia/Shanghai"
    assert all(p.source for p in (*shipped.rules, shipped.default))


def test_emergency_two_hours_and_wins_over_everything(shipped: PolicySet) -> None:
    p = match_policy(shipped, kind="投诉", category="商贸旅游", urgency="紧急", topics=["停水"])
    assert p.feedback == parse_limit("2h") and not p.pause_allowed and not p.extension_allowed
    assert p.receipt == parse_limit("1h")


def test_utilities_24_hours_by_keyword(shipped: PolicySet) -> None:
    p = match_policy(
        shipped, kind="求助", category="城乡建设", urgency="一般", topics=["小区停水三天"]
    )
    assert (
        p.name == "水电气热" and p.feedback == parse_limit("24h") and p.receipt == parse_limit("2h")
    )
    assert (
        match_policy(shipped, kind="投诉", category=None, topics=["", "暖气不热"]).name
        == "水电气热"
    )
    # Asking when heating starts is not an outage.
    assert (
        match_policy(shipped, kind="咨询", category="城乡建设", topics=["供暖时间"])
        is shipped.default
    )


def test_consumer_complaint_has_mediation_clock(shipped: PolicySet) -> None:
    p = match_policy(shipped, kind="投诉", category="商贸旅游", urgency="一般")
    assert p.mediation == parse_limit("45wd")
    assert p.mediation_failed_notice == parse_limit("7wd")
    assert p.feedback == parse_limit("7wd")
    assert p.limit_for(ClockKind.MEDIATION) == parse_limit("45wd")
    assert shipped.default.limit_for("mediation") is None


def test_market_violation_report_15_plus_15_once(shipped: PolicySet) -> None:
    p = match_policy(shipped, kind="举报", category="商贸旅游", urgency="一般")
    assert p.feedback == parse_limit("15wd") and p.extension == parse_limit("15wd")
    assert p.max_extensions == 1 and p.extension_allowed


def test_petitions_and_complex_and_default(shipped: PolicySet) -> None:
    simple = match_policy(shipped, kind="求助", category="劳动和社会保障", topics=["信访"])
    assert simple.feedback == parse_limit("10wd")
    hard = match_policy(
        shipped, kind="求助", category="劳动和社会保障", urgency="复杂", topics=["信访"]
    )
    assert hard.feedback == parse_limit("60d") and hard.extension == parse_limit("30d")
    complex_ = match_policy(shipped, kind="建议", category="交通运输", urgency="复杂")
    assert complex_.feedback == parse_limit("15d")
    general = shipped.match(kind="表扬", category="教育文体")
    assert general is shipped.default and general.feedback == parse_limit("7d")


def test_unknown_kind_or_urgency_at_match_time(shipped: PolicySet) -> None:
    with pytest.raises(ValueError, match="未知诉求类型"):
        match_policy(shipped, kind="抱怨", category=None, urgency="一般")
    with pytest.raises(ValueError, match="未知紧急程度"):
        match_policy(shipped, kind="投诉", category=None, urgency="特急")


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sla.toml"
    path.write_text(body, encoding="utf-8")
    return path


DEFAULT = '\n[default]\nreceipt = "24h"\nfeedback = "7d"\n'


def test_first_match_wins(tmp_path: Path) -> None:
    ps = load_policies(
        write(
            tmp_path,
            """
[[policy]]
name = "A"
kinds = ["投诉"]
receipt = "1h"
feedback = "1d"

[[policy]]
name = "B"
kinds = ["投诉"]
categories = ["环境保护"]
receipt = "2h"
feedback = "2d"
"""
            + DEFAULT,
        )
    )
    assert ps.match(kind="投诉", category="环境保护").name == "A"
    assert ps.match(kind="举报", category="环境保护").name == "默认"
    assert [r.index for r in ps.rules] == [0, 1]
    assert ps.default.extension is None and ps.default.max_extensions == 0
    assert ps.rules[0].warn_ratio == 0.75 and ps.rules[0].pause_allowed


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '[[policy]]\nname = "A"\nkinds = ["投诉"]\nreceipt = "1h"\nfeedback = "24x"\n'
            + DEFAULT,
            r"sla\.toml:5: policy\[0\]（A）\.feedback: 无效时限 '24x'",
        ),
        (
            '[[policy]]\nname = "A"\nkinds = ["投诉"]\nreceipt = "1h"\nfeedback = "1d"\n'
            'colour = "red"\n' + DEFAULT,
            r"sla\.toml:6: policy\[0\]（A）\.colour: 未知字段",
        ),
        (
            '[[policy]]\nname = "A"\nkinds = ["投诉"]\nreceipt = "1h"\nfeedback = "1d"\n',
            r"sla\.toml: 缺少 \[default\]",
        ),
        (
            '[[policy]]\nname = "A"\nkinds = ["投诉"]\nreceipt = "1h"\nfeedback = "1d"\n\n'
            '[[policy]]\nname = "B"\nkinds = ["抱怨"]\nreceipt = "1h"\nfeedback = "1d"\n' + DEFAULT,
            r"sla\.toml:9: policy\[1\]（B）\.kinds: 未知取值 '抱怨'",
        ),
        (
            '[[policy]]\nname = "A"\ncategories = ["城建"]\nreceipt = "1h"\nfeedback = "1d"\n'
            + DEFAULT,
            r"sla\.toml:3: policy\[0\]（A）\.categories: 未知取值 '城建'",
        ),
        (
            '[[policy]]\nname = "A"\nurgencies = ["特急"]\nreceipt = "1h"\nfeedback = "1d"\n'
            + DEFAULT,
            r"policy\[0\]（A）\.urgencies: 未知取值 '特急'",
        ),
        (
            '[[policy]]\nname = "A"\nkinds = ["投诉"]\nfeedback = "1d"\n' + DEFAULT,
            r"sla\.toml:1: policy\[0\]（A）\.receipt: 缺少 receipt",
        ),
        (
            '[[policy]]\nkinds = ["投诉"]\nreceipt = "1h"\nfeedback = "1d"\n' + DEFAULT,
            r"sla\.toml:1: policy\[0\]\.name: 缺少 name",
        ),
        (
            '[[policy]]\nname = "A"\nreceipt = "1h"\nfeedback = "1d"\n' + DEFAULT,
            r"policy\[0\]（A）: 规则没有任何匹配条件",
        ),
        (
            '[default]\nreceipt = "24h"\nfeedback = "7d"\nkinds = ["投诉"]\n',
            r"sla\.toml:4: default（默认）\.kinds: 未知字段；默认策略不能带匹配条件",
        ),
        (
            '[default]\nreceipt = "24h"\nfeedback = "7d"\nmediation_failed_notice = "7wd"\n',
            r"default（默认）\.mediation_failed_notice: 只有设有 mediation",
        ),
        (
            # a field no clock reads is refused, not silently ignored
            '[default]\nreceipt = "24h"\nfeedback = "7d"\nescalate_after = "3d"\n',
            r"sla\.toml:4: default（默认）\.escalate_after: 未知字段",
        ),
        (
            '[default]\nreceipt = "24h"\nfeedback = "7d"\nmax_extensions = 2\n',
            r"sla\.toml:4: default（默认）\.max_extensions: 允许延期时须同时给出 extension",
        ),
        (
            '[default]\nreceipt = "24h"\nfeedback = "7d"\nwarn_ratio = 1.5\n',
            r"sla\.toml:4: default（默认）\.warn_ratio: 应为 \(0, 1\]",
        ),
        (
            '[default]\nreceipt = "24h"\nfeedback = "7d"\npause = "yes"\n',
            r"default（默认）\.pause: 应为 true 或 false",
        ),
        (
            '[settings]\noffice_hours = ["8:30-25:00"]\n' + DEFAULT,
            r"sla\.toml:2: settings\.office_hours: 无效办公时段",
        ),
        (
            '[settings]\ntimezone = "Asia/Peking"\n' + DEFAULT,
            r"sla\.toml:2: settings\.timezone: 未知时区",
        ),
        (
            '[settings]\nzone = "Asia/Shanghai"\n' + DEFAULT,
            r"sla\.toml:2: settings\.zone: 未知字段",
        ),
        ('[defaults]\nreceipt = "24h"\n', r"sla\.toml:1: defaults: 未知字段"),
        ('[default\nreceipt = "24h"\n', r"sla\.toml: TOML 语法错误.*line 1"),
    ],
)
def test_invalid_policy_files(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(PolicyError, match=expected):
        load_policies(write(tmp_path, body), **VOCAB)


def test_without_a_vocabulary_words_are_not_checked(tmp_path: Path) -> None:
    body = '[[policy]]\nname = "A"\nkinds = ["抱怨"]\nreceipt = "1h"\nfeedback = "1d"\n'
    ps = load_policies(write(tmp_path, body + DEFAULT))
    assert ps.match(kind="抱怨", category=None).name == "A"
    with pytest.raises(PolicyError, match=r"kinds: 未知取值 '抱怨'"):
        load_policies(write(tmp_path, body + DEFAULT), kinds=["投诉"])


def test_every_accepted_policy_field_reaches_the_policy(tmp_path: Path) -> None:
    """A field the parser accepts but no Policy attribute carries would be read by nobody."""
    from sla import policy as P

    carried = {f.name for f in P.Policy.__dataclass_fields__.values()}
    aliases = {"pause": "pause_allowed"}
    for field in P._VALUE_FIELDS | P._MATCH_FIELDS:
        assert aliases.get(field, field) in carried, field


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="无法读取文件"):
        load_policies(tmp_path / "absent.toml")


def test_the_centres_decision_limit_and_reviewed_kinds(tmp_path: Path) -> None:
    body = '[settings]\ndecision = "1wd"\nreview_kinds = ["投诉", "举报"]\n'
    ps = load_policies(write(tmp_path, body + DEFAULT), **VOCAB)
    assert ps.review_kinds == frozenset({"投诉", "举报"})
    assert str(ps.default.limit_for(ClockKind.DECISION)) == "1wd"
    assert ps.default.limit_for(ClockKind.SUPERVISION) is None  # set per 督办
    with pytest.raises(PolicyError, match=r"sla\.toml:2: settings\.review_kinds: 未知取值 '抱怨'"):
        load_policies(write(tmp_path, '[settings]\nreview_kinds = ["抱怨"]\n' + DEFAULT), **VOCAB)
    with pytest.raises(PolicyError, match=r"sla\.toml:2: settings\.decision"):
        load_policies(write(tmp_path, '[settings]\ndecision = "一天"\n' + DEFAULT), **VOCAB)


def test_the_shipped_file_has_a_decision_limit(shipped: PolicySet) -> None:
    assert str(shipped.default.limit_for(ClockKind.DECISION)) == "1wd"
