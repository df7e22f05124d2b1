"""A non-editable install (`pip install .` into a fresh venv) runs from another directory.

Slow (builds a wheel, compiles the optional C extensions): one test. The new venv takes its
third-party packages from the test venv (a .pth line) so that nothing is downloaded, but
hotline/, sla/, routing/ and classifier/ come only from the built wheel.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import venv
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["hotline", "sla", "routing", "classifier", "pyproject.toml", "setup.py", "README.md"]


@pytest.mark.slow
def test_installed_package_runs_check_with_hotline_data_dir(tmp_path: Path) -> None:
    src = tmp_path / "src"  # a copy without data/: the wheel cannot pick it up by accident
    for name in SOURCES:
        origin = REPO_ROOT / name
        if not origin.exists():
            continue  # setup.py went with the C extensions
        if origin.is_dir():
            shutil.copytree(
                origin, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.so")
            )
        else:
            shutil.copy2(origin, src / name)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "deps-from-test-venv.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", encoding="utf-8"
    )
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", str(src)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    shutil.copy2(REPO_ROOT / "main.py", run_dir / "main.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "PYTHON"))}
    env["DATABASE_URL"] = f"sqlite://{tmp_path / 'h.db'}"

    def check(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [python, "main.py", "check"],
            cwd=run_dir,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=300,
        )

    where = subprocess.run(
        [python, "-c", "import hotline; print(hotline.__file__)"],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(env_dir)), where  # the installed copy, not the checkout

    missing = check()
    assert missing.returncode == 2
    assert "找不到数据目录" in missing.stderr and "HOTLINE_DATA_DIR" in missing.stderr

    ok = check(HOTLINE_DATA_DIR=str(REPO_ROOT / "data"))
    assert ok.returncode == 0, ok.stderr
    assert "配置和数据库检查通过" in ok.stdout
    assert f"数据目录：{REPO_ROOT / 'data'}（来自HOTLINE_DATA_DIR）" in ok.stderr
