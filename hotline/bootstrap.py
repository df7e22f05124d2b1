"""Start-up: read and validate data/, connect the database, synchronise units."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from hotline.config import ConfigError, Settings
from hotline.deployment import Deployment

if TYPE_CHECKING:
    from hotline.services.sla_engine import SlaEngine
    from hotline.vocabulary import Vocabulary

log = logging.getLogger("hotline")

__all__ = ["ConfigError", "announce", "load_deployment"]


def load_deployment(settings: Settings, *, with_model: bool = True) -> Deployment:
    """Load the vocabulary, units, routing rules, places, classifier and SLA policies."""
    from hotline.mail.models import use_msgid_domain
    from hotline.services.router import TicketRouter
    from hotline.vocabulary import check_model_labels, load_vocabulary
    from routing.errors import RuleError
    from routing.loader import load_routing

    data_dir = Path(settings.data_dir)
    if not data_dir.is_dir():
        raise ConfigError(f"数据目录不存在：{data_dir}（HOTLINE_DATA_DIR）")
    try:
        vocabulary = load_vocabulary(data_dir)
        routing = load_routing(
            data_dir,
            categories=vocabulary.categories,
            kinds=vocabulary.kinds,
            required_categories=vocabulary.model_categories,
        )
        model_dir = settings.model_dir
        if with_model or (model_dir / "model.json").is_file():
            check_model_labels(vocabulary, model_dir)
    except RuleError as exc:
        raise ConfigError(str(exc)) from exc
    model = None
    if with_model:
        from classifier import ModelFileError, load_model

        try:
            model = load_model(model_dir)
        except (ModelFileError, FileNotFoundError, ValueError, KeyError) as exc:
            raise ConfigError(f"分类模型无法读取：{model_dir}：{exc}") from exc
        _log_classifier_speed()
        _warn_tokenizer_files(data_dir)
    use_msgid_domain(settings.smtp.msgid_domain)
    return Deployment(
        data_dir=data_dir,
        router=TicketRouter(routing=routing, model=model),
        model=model,
        sla=_load_sla(data_dir, vocabulary),
        vocabulary=vocabulary,
        units=routing.units,
        public_base_url=settings.public_base_url,
        extras={"units": list(routing.units)},
    )


def announce(settings: Settings, deployment: Deployment) -> None:
    """Log where the data came from, once start-up has succeeded.

    Not during loading: a start-up that fails says one line and nothing else.
    """
    log.info("数据目录：%s（来自%s）", deployment.data_dir.resolve(), settings.data_dir_origin)
    if deployment.model is not None:
        log.info("分类模型目录：%s", settings.model_dir.resolve())


def _log_classifier_speed() -> None:
    """Say at start-up when the classifier runs without its C extensions (6-8x slower)."""
    from classifier import fastcut
    from classifier.features import c_scorer_enabled

    if fastcut.ACCELERATED and c_scorer_enabled():
        return
    if fastcut.FORCED_PURE:
        log.info("分类器按 HOTLINE_PURE_PYTHON 设置不用 C 扩展（结果相同，较慢）")
        return
    # Operators should learn this from the log, not from slow intake: the build failed.
    log.warning(
        "分类器的 C 扩展未编译（结果相同，但每条工单慢 6–8 倍）：请安装 C 编译器后重新运行 "
        "pip install -e . 并查看编译输出"
    )


def _warn_tokenizer_files(data_dir: Path) -> None:
    """Say so when the tokeniser reads its word lists from somewhere else than data_dir."""
    from classifier import tokenize

    for path in (tokenize.STOPWORDS_PATH, tokenize.USERDICT_PATH):
        ours = data_dir / path.name
        if path.resolve() != ours.resolve() and ours.is_file():
            # classifier/ finds its word lists beside its source; an installed package or a
            # HOTLINE_DATA_DIR elsewhere means it may not see the deployment's files.
            log.warning(
                "分类器读取的 %s 是 %s（%s），而不是数据目录中的 %s",
                path.name,
                path,
                "存在" if path.is_file() else "不存在",
                ours,
            )


def _load_sla(data_dir: Path, vocabulary: Vocabulary) -> SlaEngine:
    """The SLA engine: policies checked against the vocabulary, and the working-day calendar."""
    from hotline.services.sla_engine import SlaEngine
    from sla.calendar import load_calendar
    from sla.policy import load_policies

    try:
        return SlaEngine(
            calendar=load_calendar(data_dir),
            policies=load_policies(
                data_dir / "sla.toml",
                kinds=vocabulary.kinds,
                categories=vocabulary.categories,
                urgencies=vocabulary.urgencies,
            ),
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
