"""The layers of hotline/ hold: `lint-imports` keeps every contract in pyproject.toml, and the
layers contract places every package of hotline/, so a new one has to say where it stands."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
LAYERS = "hotline/ in layers"


def _contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["contracts"]


def _layered_packages() -> set[str]:
    (layers,) = [c for c in _contracts() if c["name"].startswith(LAYERS)]
    return {m.strip() for layer in layers["layers"] for m in layer.replace(":", "|").split("|")}


def test_every_package_of_hotline_has_a_layer() -> None:
    packages = {
        f"hotline.{p.parent.name}"
        for p in (ROOT / "hotline").glob("*/__init__.py")
        if p.parent.name != "migrations"  # a contract of its own: it imports nothing of ours
    }
    assert packages == _layered_packages()


def test_the_contracts_name_what_the_layers_promise() -> None:
    by_name = {c["name"]: c for c in _contracts()}
    web = next(c for n, c in by_name.items() if n.startswith("the web layer runs no query"))
    assert {"tortoise", "hotline.domain.models"} <= set(web["forbidden_modules"])
    services = next(c for n, c in by_name.items() if n.startswith("services import nothing"))
    assert services["forbidden_modules"] == ["hotline.web"]
    migrations = next(c for n, c in by_name.items() if n.startswith("migrations import"))
    assert set(migrations["forbidden_modules"]) == _layered_packages()
    assert any(
        c["type"] == "acyclic_siblings" and "hotline.runtime" in c["ancestors"]
        for c in _contracts()
    )


def test_lint_imports_keeps_every_contract(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in out
