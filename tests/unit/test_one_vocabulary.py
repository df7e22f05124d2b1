"""One place per word and per rule: no module of hotline/ keeps its own list of kinds,
urgencies, channels, roles or statuses (or their labels), compares raw 举报 or action names,
or translates pydantic's errors itself.

The checks read the source (ast), so a second list fails here the day it is written.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.channels.open311 import KIND_KEYS
from hotline.citizens.form import KIND_CHOICES, NEEDS_CONTACT, NEEDS_PLACE
from hotline.domain.lifecycle import ACTION_SPECS, RATE_EFFECTS, Action
from hotline.domain.vocabulary import (
    CHANNELS,
    KIND_SPECS,
    KINDS,
    OUTCOME_LABELS,
    RESULT_LABELS,
    ROLE_LABELS,
    STAFF_ROLES,
    STATUS_LABELS,
    URGENCIES,
    Role,
    Status,
    load_vocabulary,
)
from hotline.privacy.rules import is_confidential, may_ask_no_contact
from hotline.reporting.unit_rates import DISPATCH_ACTIONS, PAYLOAD_ACTIONS, RATE_ACTIONS

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = ROOT / "hotline"
VOCAB = load_vocabulary(ROOT / "data")
# The vocabulary itself; migrations freeze old schemas; the demo's sample data picks its mix.
EXEMPT = {"hotline/domain/vocabulary.py", "hotline/commands/demo.py"}

# (what, words, how many of them in one literal make a list of them)
WORD_GROUPS = [
    ("kinds", set(KINDS), 3),
    ("urgencies", set(URGENCIES), 2),
    ("channel codes", set(CHANNELS), 3),
    ("channel labels", set(VOCAB.channels.values()), 2),
    ("roles", {r.value for r in Role}, 3),
    ("role labels", set(ROLE_LABELS.values()), 2),
    # Three status words are also figure names (dispatched, disputed, replied).
    ("statuses", {s.value for s in Status}, 4),
    ("status labels", set(STATUS_LABELS.values()), 2),
    ("results", set(RESULT_LABELS), 2),
    ("result labels", set(RESULT_LABELS.values()), 2),
    ("outcome labels", set(OUTCOME_LABELS.values()), 2),
    # Properties of actions are fields of ActionSpec; a list of action names is a second table.
    ("actions", {a.value for a in Action}, 2),
]


def _modules(*also_exempt: str) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(HOTLINE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("hotline/migrations/") or rel in EXEMPT or rel in also_exempt:
            continue
        yield rel, ast.parse(path.read_text(encoding="utf-8"))


def _strings(nodes: list[ast.expr | None]) -> set[str]:
    return {n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)}


# Tables that name kinds for another purpose, ordered by that purpose: the WeChat guesser
# tries 举报 first and 咨询 only on explicit words (checked against KINDS below).
KEYWORD_TABLES = {("hotline/channels/wechat.py", "_KIND_WORDS")}


def _literal_groups(rel: str, tree: ast.Module) -> Iterator[tuple[int, set[str]]]:
    """The string constants of each list, tuple, set, dict side and comparison; a list of
    pairs counts its pairs' strings too (("phone", "电话"), ("web", "网站"), …)."""
    skip = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name) and (rel, target.id) in KEYWORD_TABLES
    }
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if id(node) in skip:
            continue
        todo.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            yield node.lineno, _strings(list(node.elts))
            pairs = [e for e in node.elts if isinstance(e, ast.Tuple)]
            for i in range(2):
                yield node.lineno, _strings([p.elts[i] for p in pairs if len(p.elts) > i])
        elif isinstance(node, ast.Dict):
            yield node.lineno, _strings(list(node.keys))
            yield node.lineno, _strings(list(node.values))
        elif isinstance(node, ast.Compare):
            yield node.lineno, _strings([node.left, *node.comparators])


def test_no_module_keeps_its_own_list_of_vocabulary_words() -> None:
    found = [
        f"{rel}:{line} lists {what}: {sorted(hit)}"
        for rel, tree in _modules()
        for line, words in _literal_groups(rel, tree)
        for what, vocab, n in WORD_GROUPS
        if len(hit := words & vocab) >= n
    ]
    assert found == [], "use hotline.domain.vocabulary instead:\n" + "\n".join(found)


def _compared_strings(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for s in _strings([node.left, *node.comparators]):
                yield node.lineno, s
            for c in node.comparators:
                if isinstance(c, ast.List | ast.Tuple | ast.Set):
                    for s in _strings(list(c.elts)):
                        yield node.lineno, s


def test_no_module_compares_raw_kind_or_action_words() -> None:
    """举报 is a KindSpec property (privacy.rules), actions are the action table's."""
    words = set(KINDS) | {a.value for a in Action}
    # "reply" and "close" are also the names of mail and SMS templates, compared as such.
    words -= {"reply", "close"}
    found = [
        f"{rel}:{line} compares {word!r}"
        for rel, tree in _modules()
        if rel != "hotline/domain/lifecycle.py"
        for line, word in _compared_strings(tree)
        if word in words
    ]
    assert found == [], "\n".join(found)


def test_one_translator_of_pydantic_errors() -> None:
    """Only hotline/domain/field_errors.py reads pydantic's error types."""
    types = {"greater_than", "greater_than_equal", "string_too_short", "missing"}
    found = [
        f"{rel}:{node.lineno}"
        for rel, tree in _modules()
        if rel != "hotline/domain/field_errors.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in types
    ]
    assert found == [], "\n".join(found)


def test_account_actions_are_named_in_one_module() -> None:
    """The admin API and page take their account actions from hotline.services.account_actions."""
    from hotline.services.account_actions import ACCOUNT_ACTIONS

    found = [
        f"{rel}:{node.lineno} names {node.value!r}"
        for rel, tree in _modules()
        if rel.startswith("hotline/web/")
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in ACCOUNT_ACTIONS
    ]
    assert found == [], "\n".join(found)


def test_every_kind_rule_reads_the_kind_table() -> None:
    from hotline.channels.wechat import _KIND_WORDS

    assert {kind for kind, _ in _KIND_WORDS} <= set(KINDS)
    assert tuple(KIND_KEYS.values()) == KINDS
    assert [k for k, _ in KIND_CHOICES] == list(KINDS)
    assert NEEDS_CONTACT == {k.word for k in KIND_SPECS if k.needs_contact}
    assert NEEDS_PLACE == {k.word for k in KIND_SPECS if k.needs_place}
    for kind in KINDS:
        assert is_confidential(kind=kind, confidential=True)
        assert is_confidential(kind=kind, confidential=False) == (kind == "举报")
        assert may_ask_no_contact(kind) == (kind == "举报")


def test_account_roles_are_the_vocabulary_roles() -> None:
    from hotline.domain.auth import ROLES
    from hotline.web.pages.admin import ROLE_CHOICES

    assert ROLES == tuple(r.value for r in STAFF_ROLES)
    assert ROLE_CHOICES == [(r.value, ROLE_LABELS[r]) for r in STAFF_ROLES]


def test_the_rates_read_the_action_table() -> None:
    assert RATE_ACTIONS == {s.action.value for s in ACTION_SPECS if s.affects_rates}
    assert DISPATCH_ACTIONS == {Action.DISPATCH.value, Action.REDISPATCH.value}
    assert PAYLOAD_ACTIONS == DISPATCH_ACTIONS | {Action.CALLBACK.value}
    assert set(RATE_EFFECTS) == RATE_ACTIONS


@pytest.mark.parametrize("what", ["kinds", "urgencies"])
def test_the_shipped_file_has_the_codes_words(what: str) -> None:
    assert set(getattr(VOCAB, what)) == set({"kinds": KINDS, "urgencies": URGENCIES}[what])
    assert set(VOCAB.channels) == set(CHANNELS)
