"""The hot-issue radar's pure core: which tickets cluster, the heat, stable ids, the config."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.domain.radar import (
    ClusterMemo,
    RadarSettings,
    RadarTicket,
    find_clusters,
    heat_of,
    load_radar_config,
    same_cluster,
)

END = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
RULES = RadarSettings(groups=("出租车司机", "教师"), generic=frozenset({"问题", "希望", "解决"}))
REPO_DATA = Path(__file__).resolve().parents[2] / "data"


def t(
    number: str,
    hours_ago: float,
    *,
    place: str = "",
    area: str = "含浦街道",
    category: str = "城乡建设",
    tokens: str = "",
) -> RadarTicket:
    return RadarTicket(
        number=number,
        created_at=END - timedelta(hours=hours_ago),
        category=category,
        place=place,
        area=area,
        street=area,
        tokens=tuple(tokens.split()),
    )


def outage() -> list[RadarTicket]:
    """Five 停水 calls at 枫林小区 within two hours, plus unrelated tickets around them."""
    return [
        t("20261206-00001", 1.9, place="枫林小区", tokens="枫林 小区 停水 三天 自来水 问题"),
        t("20261206-00002", 1.5, place="枫林小区", tokens="停水 自来水 水压 希望 解决"),
        t("20261206-00003", 1.0, place="枫林小区", tokens="自来水 停水 停水"),
        t("20261206-00004", 0.5, place="枫林小区", tokens="家里 停水 自来水 没有 通知"),
        t("20261206-00005", 0.2, place="枫林小区", tokens="水压 停水 自来水"),
        # Same compound, another matter: no shared word.
        t("20261206-00006", 0.3, place="枫林小区", tokens="广场舞 噪音 扰民"),
        # Same matter, another compound.
        t("20261206-00007", 0.4, place="桃花小区", tokens="停水 自来水 水压"),
    ]


def test_the_outage_is_one_cluster_and_the_others_stay_out() -> None:
    clusters = find_clusters(outage(), end=END, baseline={}, settings=RULES)
    assert len(clusters) == 1
    c = clusters[0]
    assert c.tickets == tuple(f"20261206-0000{i}" for i in range(1, 6))
    assert c.place == "枫林小区" and c.category == "城乡建设"
    assert c.terms[0] == "停水" and "自来水" in c.terms
    assert c.title == "枫林小区·城乡建设：停水、自来水、水压"
    assert c.count == 5 and c.recent == 5
    # Generic words and pieces of the place's name are never a cluster's terms.
    assert not {"问题", "希望", "枫林", "小区"} & set(c.terms)


def test_a_burst_alerts_only_against_a_quiet_baseline() -> None:
    quiet = find_clusters(outage(), end=END, baseline={}, settings=RULES)[0]
    assert quiet.alerting(RULES)
    # The same five calls where 城乡建设 in 含浦街道 gets ~300 tickets a day: no burst.
    busy = find_clusters(
        outage(), end=END, baseline={("含浦街道", "城乡建设"): 28 * 300}, settings=RULES
    )[0]
    assert busy.growth < quiet.growth
    assert not busy.alerting(RULES)


def test_a_group_of_people_clusters_without_a_place() -> None:
    tickets = [
        t("1", 30, area="", category="交通运输", tokens="出租车 司机 份子钱 太高"),
        t("2", 20, area="", category="交通运输", tokens="出租车司机 份子钱 太高 公司"),
        t("3", 10, area="", category="交通运输", tokens="教师 份子钱 太高"),
    ]
    [c] = find_clusters(tickets, end=END, baseline={}, settings=RULES)
    assert c.place == "出租车司机" and c.tickets == ("1", "2")


def test_street_level_tickets_need_one_more_shared_term() -> None:
    tickets = [
        t("1", 3, tokens="路灯 不亮 晚上"),
        t("2", 2, tokens="路灯 不亮 维修"),
        t("3", 1, tokens="路灯 不亮 晚上 漆黑"),
    ]
    [c] = find_clusters(tickets, end=END, baseline={}, settings=RULES)
    assert c.tickets == ("1", "3") and c.place == "含浦街道"


def test_private_tickets_without_words_join_no_cluster() -> None:
    tickets = [t("1", 2, place="枫林小区", tokens=""), t("2", 1, place="枫林小区", tokens="")]
    assert find_clusters(tickets, end=END, baseline={}, settings=RULES) == []


def test_heat_grows_with_volume_and_fades_with_age() -> None:
    def heat(count: int, age_h: float) -> float:
        last = END - timedelta(hours=age_h)
        return heat_of(
            count=count,
            first_at=last - timedelta(hours=2),
            last_at=last,
            end=END,
            baseline_count=0,
            settings=RULES,
        )[0]

    assert heat(10, 0) > heat(5, 0) > heat(5, 24) > heat(5, 48)
    assert heat(5, 24) == pytest.approx(heat(5, 0) / 2, abs=1e-3)


def test_the_id_stays_while_the_cluster_grows() -> None:
    first = find_clusters(outage()[:3], end=END, baseline={}, settings=RULES)[0]
    later = find_clusters(outage(), end=END, baseline={}, settings=RULES)[0]
    assert first.id == later.id and first.tickets != later.tickets


def test_a_cluster_sharing_most_members_is_the_same() -> None:
    assert same_cluster(["a", "b", "c"], ["b", "c", "d", "e"], RULES)
    assert not same_cluster(["a", "b", "c"], ["c", "d", "e"], RULES)


WORDS = ["停水", "自来水", "水压", "噪音", "扰民", "路灯", "垃圾", "占道", "施工", "油烟"]
PLACES = ["枫林小区", "桃花小区", "", ""]


@st.composite
def windows(draw: st.DrawFn) -> list[RadarTicket]:
    n = draw(st.integers(0, 25))
    return [
        t(
            f"20261206-{i:05d}",
            draw(st.floats(0, 72)),
            place=draw(st.sampled_from(PLACES)),
            area=draw(st.sampled_from(["含浦街道", "桂花坪街道", ""])),
            category=draw(st.sampled_from(["城乡建设", "环境保护"])),
            tokens=" ".join(draw(st.lists(st.sampled_from(WORDS), max_size=5))),
        )
        for i in range(n)
    ]


@settings(max_examples=80, deadline=None)
@given(windows(), st.randoms(use_true_random=False))
def test_clusters_depend_on_the_tickets_not_their_order(
    tickets: list[RadarTicket], rnd: object
) -> None:
    shuffled = list(tickets)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a = find_clusters(tickets, end=END, baseline={}, settings=RULES)
    b = find_clusters(shuffled, end=END, baseline={}, settings=RULES)
    assert a == b
    # Every ticket is in at most one cluster; clusters are sorted by heat.
    seen = [n for c in a for n in c.tickets]
    assert len(seen) == len(set(seen))
    assert [c.heat for c in a] == sorted((c.heat for c in a), reverse=True)
    assert all(c.count == len(c.tickets) >= 2 for c in a)


@settings(max_examples=60, deadline=None)
@given(st.lists(windows(), min_size=1, max_size=4), st.integers(0, 60))
def test_a_memo_of_the_last_run_gives_what_a_fresh_run_gives(
    runs: list[list[RadarTicket]], small_df: int
) -> None:
    """The background worker clusters an overlapping window every 5 minutes with the last
    run's memo: whatever came, left or changed in between, the clusters are a fresh run's."""
    rules = RULES if small_df % 2 else replace(RULES, df_min_tickets=3, max_df=0.5)
    memo = ClusterMemo()
    for i, tickets in enumerate(runs):
        # Some tickets stay from the run before (the window overlaps), some change words.
        kept = [x for x in runs[i - 1][: small_df % 7]] if i else []
        window = {x.number: x for x in [*kept, *tickets]}.values()
        end = END + timedelta(minutes=5 * i)
        fresh = find_clusters(window, end=end, baseline={}, settings=rules)
        assert find_clusters(window, end=end, baseline={}, settings=rules, memo=memo) == fresh
    again = find_clusters(window, end=end, baseline={}, settings=rules, memo=memo)
    assert again == fresh and memo.linked_blocks == 0


def test_the_shipped_config_reads_and_a_bad_key_is_named(tmp_path: Path) -> None:
    config = load_radar_config(REPO_DATA)
    assert config.settings.alert_min_count == 5 and config.settings.alert_hours == 2
    assert "出租车司机" in config.settings.groups and "问题" in config.settings.generic
    (tmp_path / "radar.toml").write_text("[alert]\nmin_cont = 5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="min_cont"):
        load_radar_config(tmp_path)


def test_one_caller_ringing_five_times_is_no_burst() -> None:
    from dataclasses import replace

    same = [replace(x, caller="k1") for x in outage()]
    [c] = find_clusters(same, end=END, baseline={}, settings=RULES)
    assert c.count == 5 and c.callers == 1 and c.recent == 1
    assert not c.alerting(RULES)
    many = find_clusters(outage(), end=END, baseline={}, settings=RULES)[0]
    assert many.callers == 5 and many.heat > c.heat
