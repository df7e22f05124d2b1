"""`python main.py …`: serve, demo, users, sweeper, recompute-deadlines, migrate, rebuild-rates,
fill-places, check, outbox, sms, kb."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hotline.commands import radar as radar_command
from hotline.domain.auth import ROLES
from hotline.runtime.config import (
    Settings,
    follow_served_address,
    load_settings,
    served_url,
)

EXIT_CONFIG = 2
# Refusals the pages word for a form, as the command line says them (by error code).
CLI_WORDS = {"unit_required": "承办单位人员必须指定 --unit"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python main.py", description="12345 热线工单系统")
    sub = parser.add_subparsers(dest="command")

    def serve_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument("--workers", type=int, default=1)

    serve_args(parser)
    serve_args(sub.add_parser("serve", help="启动服务（默认命令）"))
    demo = sub.add_parser("demo", help="载入演示账号和演示工单，然后启动服务")
    serve_args(demo)
    demo.add_argument("--tickets", type=int, default=300, help="演示工单数量")
    demo.add_argument("--no-serve", action="store_true", help="只载入数据，不启动服务")

    users = sub.add_parser("users", help="账号管理").add_subparsers(dest="users_command")
    add = users.add_parser("add", help="新建账号（密码从提示符或标准输入读取）")
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--unit", help="承办单位代码（role=unit 时必填）")
    add.add_argument("--name", default="", help="显示名称")
    add.add_argument("--email", default="")
    token = users.add_parser("token", help="为账号生成新的 API 令牌")
    token.add_argument("username")
    token.add_argument("--label", default="cli")
    users.add_parser("list", help="列出账号（含有效令牌数、最近使用时间）")
    for name, text in (
        ("disable", "停用账号：其令牌和登录立即失效"),
        ("enable", "重新启用账号"),
        ("revoke-tokens", "吊销账号的全部 API 令牌"),
        ("sign-out", "全部登出：结束账号在所有设备上的页面登录"),
    ):
        users.add_parser(name, help=text).add_argument("username")

    retrain = sub.add_parser(
        "retrain", help="用本市已办结工单（加上可选的基础语料）重新训练分类模型"
    )
    retrain.add_argument("--data", help="基础语料 CSV/XLSX（可选，如历史工单导出）")
    retrain.add_argument("--label-col", help="基础语料的标签列")
    retrain.add_argument("--text-col", action="append", help="基础语料的文本列，可重复")
    retrain.add_argument("--out", help="模型输出目录（默认 HOTLINE_MODEL_DIR 或 data/model）")
    retrain.add_argument("--folds", type=int, default=0, help="交叉验证折数（0 = 不做）")

    sub.add_parser("sweeper", help="单独运行时限巡检、邮件发送和定期脱敏")
    sub.add_parser("anonymise", help="对办结超过 RETENTION_DAYS 天的工单做个人信息脱敏")
    sub.add_parser("recompute-deadlines", help="节假日文件更新后重新计算暂定时限")
    sub.add_parser("check", help="检查配置和数据库（包括未执行的迁移）后退出")
    sub.add_parser("migrate", help="执行未执行的数据库迁移（升级数据库结构）")
    sub.add_parser("rebuild-rates", help="按事件日志重新生成考核指标明细（升级或规则变更后）")
    history = sub.add_parser(
        "import-history",
        help="从原平台导出的 xlsx/csv 导入历史工单（已办结；可重复执行，不会重复导入）",
    )
    history.add_argument("file", help="导出文件（.xlsx 或 .csv）")
    history.add_argument("--map", help="列对应表（TOML），原平台的列名与网上民声导出不同时使用")
    history.add_argument("--dry-run", action="store_true", help="只检查并统计，不写入数据库")
    radar_command.add_parser(sub)
    sub.add_parser("fill-places", help="为没有区县的旧工单按内容和地址补填区县、街道（可重复执行）")
    kb = sub.add_parser("kb", help="知识库").add_subparsers(dest="kb_command")
    kb_in = kb.add_parser("import", help="从 xlsx/csv 导入知识库条目（有编号的行修改该条目）")
    kb_in.add_argument("file", help="文件（.xlsx 或 .csv，列名见 kb export 导出的文件）")
    kb_out = kb.add_parser("export", help="把知识库全部条目导出为 xlsx/csv")
    kb_out.add_argument("file", help="输出文件（.xlsx 或 .csv）")
    index = sub.add_parser("search-index", help="全文检索索引").add_subparsers(dest="index_command")
    index.add_parser("rebuild", help="按工单和事件日志重新生成全文检索索引（显示进度）")

    outbox = sub.add_parser("outbox", help="邮件发件箱").add_subparsers(dest="outbox_command")
    requeue = outbox.add_parser("requeue", help="把发送失败的邮件重新排队")
    requeue.add_argument("--failed", action="store_true", help="全部发送失败的邮件")
    requeue.add_argument("id", nargs="?", type=int, help="单封邮件的编号")
    outbox.add_parser("status", help="待发送、发送失败的邮件数和最早一封的等待时间")

    sms = sub.add_parser("sms", help="短信发件箱").add_subparsers(dest="sms_command")
    sms.add_parser("send", help="立即发送到期的短信（一轮），打印结果")
    listing = sms.add_parser("list", help="列出短信（手机号已脱敏）")
    listing.add_argument("--status", choices=["pending", "sent", "failed"], help="只看某一状态")
    listing.add_argument("--limit", type=int, default=20, help="最多列出几条（默认 20）")
    sms_requeue = sms.add_parser("requeue", help="把发送失败的短信重新排队")
    sms_requeue.add_argument("--failed", action="store_true", help="全部发送失败的短信")
    sms_requeue.add_argument("id", nargs="?", type=int, help="单条短信的编号")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; configuration errors print one line and exit 2."""
    args = _parser().parse_args(argv)
    command = args.command or "serve"
    # One-shot admin commands print their own result; start-up news (data directory, model)
    # is for the server, the sweeper and `check`.
    quiet = command in (
        "users", "retrain", "recompute-deadlines", "outbox", "sms", "migrate", "radar", "kb"
    )
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from hotline.domain.errors import HotlineError
    from hotline.runtime.config import ConfigError
    from hotline.runtime.db import DatabaseError

    try:
        if command in ("serve", "demo"):
            follow_served_address(os.environ, args.host, args.port)
        settings = load_settings()
        if command in ("serve", "demo"):
            serving = not (command == "demo" and args.no_serve)
            if serving and (keyless := workers_need_a_key(settings, args.workers)):
                print(keyless, file=sys.stderr)
                return EXIT_CONFIG
            if serving and (busy := port_in_use(args.host, args.port)):
                if command == "demo":
                    busy += (
                        "\n（演示数据和密码均未改动；只想重新生成演示账号密码："
                        "python main.py demo --no-serve）"
                    )
                print(busy, file=sys.stderr)
                return 1
            if command == "demo":
                site = served_url(args.host, args.port)
                _run(settings, lambda d: _demo(d, args.tickets, site))
                if args.no_serve:
                    return 0
            else:
                _run(settings, lambda d: _noop())
            return _serve(settings, args.host, args.port, args.workers)
        if command == "users":
            return _users(settings, args)
        if command == "retrain":
            return _retrain(settings, args)
        if command == "sweeper":
            _run(settings, lambda d: _sweeper_forever(settings, d), with_model=False)
            return 0
        if command == "anonymise":
            _run(settings, lambda d: _anonymise(settings), with_model=False)
            return 0
        if command == "recompute-deadlines":
            _run(settings, _recompute, with_model=False)
            return 0
        if command == "outbox":
            return _outbox(settings, args)
        if command == "sms":
            from hotline.sms.cli import sms_command

            return sms_command(settings, args, _run)
        if command == "check":
            _run(settings, lambda d: _noop())
            print("配置和数据库检查通过（数据库结构是最新的）")
            return 0
        if command == "migrate":
            return _migrate(settings)
        if command == "rebuild-rates":
            _run(settings, lambda d: _rebuild_rates(), with_model=False)
            return 0
        if command == "import-history":
            return _run(settings, lambda d: _import_history(d, args))
        if command == "radar":
            return _run(settings, lambda d: radar_command.run(d, args), with_model=False)
        if command == "fill-places":
            _run(settings, _fill_places, with_model=False)
            return 0
        if command == "kb":
            from hotline.commands.kb import kb_command

            return kb_command(settings, args, _run)
        if command == "search-index":
            if args.index_command != "rebuild":
                print("用法：python main.py search-index rebuild", file=sys.stderr)
                return EXIT_CONFIG
            _run(settings, lambda d: _rebuild_search_index(), with_model=False)
            return 0
    except (ConfigError, DatabaseError) as exc:
        print(f"启动失败：{exc}", file=sys.stderr)
        return EXIT_CONFIG
    except HotlineError as exc:
        # The service words its refusals for the pages; on the command line, name the flag.
        message = CLI_WORDS.get(exc.code, exc.message)
        print(f"错误：{message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _run(
    settings: Settings,
    job: Callable[[Any], Awaitable[Any]],
    *,
    with_model: bool = True,
) -> Any:
    """Load data/, open the database (creating tables, syncing units), run `job`, close."""
    from hotline.runtime.db import close_database, open_database
    from hotline.services.units import sync_units
    from hotline.startup.bootstrap import announce, load_deployment

    deployment = load_deployment(settings, with_model=with_model)

    async def go() -> Any:
        ctx = await open_database(settings.database_url)
        try:
            await sync_units(list(deployment.units))
            announce(settings, deployment)
            return await job(deployment)
        finally:
            await close_database(ctx)

    return asyncio.run(go())


def _migrate(settings: Settings) -> int:
    """Apply pending migrations (adopting a database made before migrations existed)."""
    from hotline.runtime import schema
    from hotline.runtime.db import close_database, open_database
    from hotline.services.rate_rows import rates_need_rebuild

    async def go() -> schema.MigrationReport:
        ctx = await open_database(settings.database_url, create_schema=False)
        try:
            report = await schema.migrate(ctx.db())
            # The release that added the rate rows leaves them empty (a migration must not
            # run today's rule code); fill them here, where every upgrade passes anyway.
            if await rates_need_rebuild():
                print("考核指标明细为空而事件日志中已有派单：正在按事件日志生成……", flush=True)
                await _rebuild_rates()
            return report
        finally:
            await close_database(ctx)

    report = asyncio.run(go())
    if report.adopted:
        print(
            f"数据库由旧版本建立、没有迁移记录：{', '.join(report.adopted)} "
            "的结构已经存在，记为已执行"
        )
    for name in report.applied:
        print(f"已执行迁移 {name}")
    if not report.applied and not report.adopted:
        print("数据库结构已是最新，没有需要执行的迁移")
    elif not report.applied:
        print("数据库结构已是最新")
    return 0


async def _noop() -> None:
    return None


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    import uvicorn

    print(
        f"12345 热线工单系统：http://{host}:{port}/  （数据库 {settings.database_url}）", flush=True
    )
    from hotline.runtime.logs import uvicorn_log_config

    uvicorn.run(
        "hotline.web.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        log_config=uvicorn_log_config(),
        **uvicorn_proxy_options(settings),
    )
    return 0


def uvicorn_proxy_options(settings: Settings) -> dict[str, Any]:
    """Believe X-Forwarded-For only from FORWARDED_ALLOW_IPS (uvicorn trusts 127.0.0.1 else).

    Otherwise anyone reaching the port could name their own client address and step around
    the per-address limit on guessing query codes.
    """
    if not settings.forwarded_allow_ips:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}


async def _demo(deployment: Any, count: int, site: str) -> None:
    from hotline.commands.demo import load_demo
    from hotline.domain.models import Ticket

    accounts = await load_demo(deployment=deployment, tickets=count)
    existed = [a.username for a in accounts if not a.created]
    if existed:
        print(f"\n{len(existed)} 个演示账号已存在，下面列出的已重置密码。")
    print(
        "\n演示账号（密码每次运行 demo 时重新生成，旧密码随即失效；"
        "待办 = 等本方处理的未办结工单）："
    )
    for a in accounts:
        todo = "" if a.open_tickets is None else f"待办 {a.open_tickets} 张"
        name, todo = _pad(a.name, 26), _pad(todo, 12)
        print(f"  {a.username:<14} {a.role:<10} {name} {todo} 密码：{a.password}")
    print(f"\n员工登录：{site}/login")
    print(f"市民入口：{site}/submit（网上反映）  {site}/track（进度查询，无需登录）")
    # A replied ticket shows the whole public page: steps, the unit's reply and the rating form.
    sample = await Ticket.filter(status="replied", confidential=False).order_by("id").first()
    if sample is not None:
        print(f"  试查一张已回复的演示工单：工单号 {sample.number}  查询码 {sample.query_code}")
    print()


def _pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    from unicodedata import east_asian_width

    used = sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def workers_need_a_key(settings: Settings, workers: int) -> str | None:
    """A Chinese sentence when several workers would each make up their own signing key.

    A sign-in or a citizen's form served by one worker would then be refused by the next.
    """
    if workers > 1 and settings.secret_key is None:
        return (
            f"启动失败：--workers {workers} 需要设置 SECRET_KEY（各工作进程共用的签名密钥），"
            "否则登录状态和市民表单会在进程之间失效。"
            "例如：export SECRET_KEY=$(openssl rand -hex 32)"
        )
    return None


def port_in_use(host: str, port: int) -> str | None:
    """A Chinese sentence when `host:port` cannot be listened on (e.g. a server runs there)."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            # As uvicorn does, so a port left in TIME_WAIT by a stopped server counts as free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError:
        shown = f"[{host}]" if ":" in host else host
        return (
            f"端口 {port} 已被占用：服务可能已在运行，请打开 http://{shown}:{port} "
            "或用 --port 指定其他端口"
        )
    return None


def _users(settings: Settings, args: argparse.Namespace) -> int:
    from hotline.domain.timefmt import utcnow
    from hotline.services import users

    if args.users_command == "add":
        password = _read_password()

        async def add(_: Any) -> None:
            user = await users.create_user(
                username=args.username,
                role=args.role,
                password=password,
                now=utcnow(),
                unit_code=args.unit,
                display_name=args.name,
                email=args.email,
            )
            print(f"已创建账号 {user.username}（{user.role}）")

        _run(settings, add, with_model=False)
    elif args.users_command == "token":

        async def token(_: Any) -> None:
            print(
                await users.issue_token(
                    username=args.username,
                    now=utcnow(),
                    label=args.label,
                    ttl_days=settings.token_ttl_days,
                )
            )

        _run(settings, token, with_model=False)
    elif args.users_command == "list":

        async def show(_: Any) -> None:
            from hotline.domain.timefmt import local_text

            now = utcnow()
            tokens = await users.token_summaries(now=now, ttl_days=settings.token_ttl_days)
            for user in await users.list_users():
                unit = user.unit.code if user.unit else ""
                state = "" if user.active else "（停用）"
                summary = tokens.get(user.id)
                if summary is None:
                    token_text = "无有效令牌"
                else:
                    used = summary.last_used_at
                    used_text = f"最近使用 {local_text(used)}" if used else "从未使用"
                    until = summary.expires_at
                    until_text = f"，最晚 {local_text(until)} 到期" if until else ""
                    token_text = f"有效令牌 {summary.valid} 个，{used_text}{until_text}"
                print(
                    f"{user.username:<16} {user.role:<10} {unit:<8} "
                    f"{user.display_name}{state}  {token_text}"
                )

        _run(settings, show, with_model=False)
    elif args.users_command == "disable":

        async def disable(_: Any) -> None:
            if await users.disable_user(username=args.username, now=utcnow()):
                print(f"已停用账号 {args.username}：其 API 令牌和登录立即失效")
            else:
                print(f"账号 {args.username} 已是停用状态")

        _run(settings, disable, with_model=False)
    elif args.users_command == "enable":

        async def enable(_: Any) -> None:
            if await users.enable_user(username=args.username):
                print(f"已启用账号 {args.username}（此前吊销的令牌仍然无效）")
            else:
                print(f"账号 {args.username} 已是启用状态")

        _run(settings, enable, with_model=False)
    elif args.users_command == "revoke-tokens":

        async def revoke(_: Any) -> None:
            count = await users.revoke_tokens(username=args.username)
            print(
                f"已吊销账号 {args.username} 的 {count} 个 API 令牌"
                if count
                else f"账号 {args.username} 没有未吊销的 API 令牌"
            )

        _run(settings, revoke, with_model=False)
    elif args.users_command == "sign-out":

        async def sign_out(_: Any) -> None:
            count = await users.sign_out_everywhere(username=args.username, now=utcnow())
            print(
                f"已结束账号 {args.username} 的 {count} 个页面登录，需重新登录"
                if count
                else f"账号 {args.username} 当前没有页面登录"
            )

        _run(settings, sign_out, with_model=False)
    else:
        print(
            "用法：python main.py users {add,token,list,disable,enable,revoke-tokens,sign-out}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("密码：")
        if first != getpass.getpass("再次输入密码："):
            raise SystemExit("两次输入的密码不一致")
        return first
    return sys.stdin.readline().rstrip("\n")


def _retrain(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from classifier.train import DataError, read_table
    from hotline.services.retrain import retrain_from_tickets

    texts: list[str] = []
    labels: list[str] = []
    try:
        if args.data:
            if not args.label_col or not args.text_col:
                raise DataError("给出 --data 时必须同时给出 --label-col 和 --text-col")
            texts, labels = read_table(args.data, args.label_col, args.text_col)
        out = Path(args.out) if args.out else settings.model_dir

        async def go(_: Any) -> Any:
            return await retrain_from_tickets(
                out=out, base_texts=texts, base_labels=labels, folds=args.folds, progress=True
            )

        result = _run(settings, go, with_model=False)
    except DataError as exc:
        print(f"无法训练：{exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"已用 {result.base_rows} 条基础语料和 {result.ticket_rows} 条已办结工单训练，"
        f"模型保存到 {out}"
    )
    if result.cv:
        print(
            f"{args.folds} 折交叉验证：准确率 {result.cv['accuracy']:.4f}，"
            f"宏平均 F1 {result.cv['macro_f1']:.4f}"
        )
    print("重启服务后生效。")
    return 0


async def _sweeper_forever(settings: Settings, deployment: Any) -> None:
    from hotline.startup.workers import follow_rules, start_background

    stop = asyncio.Event()
    tasks = start_background(settings=settings, deployment=deployment, stop=stop)
    tasks.append(asyncio.create_task(follow_rules(deployment, stop=stop), name="rules-follower"))
    await asyncio.gather(*tasks)


async def _anonymise(settings: Settings) -> None:
    from hotline.domain.timefmt import utcnow
    from hotline.services.retention import anonymise_due

    days = settings.retention_days
    count = await anonymise_due(now=utcnow(), retention_days=days, upload_dir=settings.upload_dir)
    if count:
        print(f"已对 {count} 张办结超过 {days} 天的工单做个人信息脱敏")
    else:
        print(f"没有需要脱敏的工单（办结超过 {days} 天的工单均已脱敏）")


async def _rebuild_rates() -> None:
    from hotline.services.rate_rows import rebuild_rates

    shown = [-1]

    def progress(done: int, total: int) -> None:
        # One line per tenth: a long rebuild shows it is moving, a short one stays quiet.
        tenth = done * 10 // max(total, 1)
        if tenth > shown[0]:
            shown[0] = tenth
            print(f"重新生成考核指标明细：已处理 {done}/{total} 个工单编号区间", flush=True)

    assignments, callbacks = await rebuild_rates(progress=progress)
    print(f"已按事件日志重新生成考核指标明细：派单/改派 {assignments} 条，回访 {callbacks} 条")
    from hotline.services.volume_daily import rebuild_atomic

    rows = await rebuild_atomic()
    print(f"已按工单重新生成每日受理量汇总：{rows} 行")


async def _import_history(deployment: Any, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from hotline.channels.history_file import DEFAULT_COLUMNS, ColumnMap, MapError, load_map
    from hotline.services.history_import import HistoryFileError, import_history

    path = Path(args.file)
    channels = tuple(deployment.words().channels)
    try:
        mapping = (
            load_map(Path(args.map), channels=channels)
            if args.map
            else ColumnMap(columns=dict(DEFAULT_COLUMNS))
        )
        with tqdm(desc="导入历史工单", unit="行", file=sys.stderr, disable=None) as bar:
            report = await import_history(
                path,
                mapping=mapping,
                deployment=deployment,
                dry_run=args.dry_run,
                progress=lambda rows: bar.update(rows - bar.n),
            )
    except (MapError, HistoryFileError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    for problem in report.problems:
        print(f"第 {problem.line} 行未导入：{problem.reason}", file=sys.stderr)
    verb = "可导入" if args.dry_run else "已导入"
    print(
        f"共 {report.rows} 行：{verb} {report.imported} 张，此前已导入 {report.already} 张，"
        f"无法导入 {len(report.problems)} 行" + ("（试运行，未写入数据库）" if args.dry_run else "")
    )
    return 0


async def _fill_places(deployment: Any) -> None:
    from hotline.services.ticket_places import fill_places

    if deployment.router is None:
        print("未配置路由规则（data/routing.toml），无法判断地点", file=sys.stderr)
        return

    def progress(seen: int, filled: int) -> None:
        print(f"\r已读 {seen} 张，补填 {filled} 张", end="", file=sys.stderr, flush=True)

    seen, filled = await fill_places(deployment.router.routing, progress=progress)
    if seen:
        print(file=sys.stderr)
    print(f"已补填 {filled} 张工单的区县和街道（共检查 {seen} 张没有区县的工单）")


async def _rebuild_search_index() -> None:
    import time

    from hotline.services.ticket_search import rebuild_index

    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        share = done * 100 // total if total else 100
        print(f"\r全文检索索引：{done}/{total} 张工单（{share}%）", end="", file=sys.stderr)

    count = await rebuild_index(progress=progress)
    print(file=sys.stderr)
    print(f"已重新生成全文检索索引：{count} 张工单，用时 {time.monotonic() - started:.1f} 秒")


async def _recompute(deployment: Any) -> None:
    from hotline.services.sla_engine import recompute_provisional

    done, still = await recompute_provisional(deployment.sla)
    print(f"已重新计算 {done} 个暂定时限，其中 {still} 个仍为暂定（缺少节假日安排）")


def _outbox(settings: Settings, args: argparse.Namespace) -> int:
    from hotline.outbox.cli import print_status, requeue_command

    if args.outbox_command == "requeue" and args.failed != (args.id is not None):

        async def requeue(_: Any) -> bool:
            return await requeue_command("mail", every=args.failed, row_id=args.id)

        return 0 if _run(settings, requeue, with_model=False) else 1
    if args.outbox_command == "status":
        _run(settings, lambda _: print_status("mail"), with_model=False)
        return 0
    print("用法：python main.py outbox requeue --failed | requeue ID | status", file=sys.stderr)
    return EXIT_CONFIG
