"""`python main.py kb import FILE` and `kb export FILE`: the knowledge base as Excel / CSV."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hotline.runtime.config import Settings

IMPORTER = "命令行导入"  # who the history names for rows a file brought


def kb_command(settings: Settings, args: argparse.Namespace, run: Callable[..., Any]) -> int:
    """Run `kb import` or `kb export`; 1 when the file cannot be used."""
    if args.kb_command == "import":
        return int(run(settings, lambda d: _import(d, Path(args.file)), with_model=False))
    if args.kb_command == "export":
        return int(run(settings, lambda d: _export(Path(args.file)), with_model=False))
    print("用法：python main.py kb import 文件 | kb export 文件", file=sys.stderr)
    return 2


async def _import(deployment: Any, path: Path) -> int:
    from hotline.domain.timefmt import utcnow
    from hotline.services.knowledge_io import import_file

    report = await import_file(path, actor=IMPORTER, now=utcnow(), words=deployment.words())
    for problem in report.problems:
        print(f"第 {problem.line} 行未导入：{problem.reason}", file=sys.stderr)
    print(
        f"共 {report.rows} 行：新建 {report.created} 条，修改 {report.changed} 条，"
        f"未变 {report.unchanged} 条，无法导入 {len(report.problems)} 行"
        + ("（请按上面的行号和原因修改后重新导入这些行）" if report.problems else "")
    )
    return 0


async def _export(path: Path) -> int:
    from hotline.services.knowledge_io import export_file

    count = await export_file(path)
    print(f"已导出 {count} 条知识到 {path}")
    return 0
