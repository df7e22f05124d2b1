"""Start-up: read and validate data/, connect the database, synchronise units."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hotline.runtime.config import ConfigError, Settings
from hotline.runtime.deployment import Deployment

if TYPE_CHECKING:
    from hotline.domain.vocabulary import Vocabulary
    from hotline.reporting.assessment import AssessmentRules
    from hotline.services.sla_engine import SlaEngine
    from hotline.sms.templates import SmsTemplates

log = logging.getLogger("hotline")

__all__ = ["ConfigError", "announce", "load_deployment", "load_rules", "load_sms", "reload_rules"]


def load_rules(data_dir: Path, *, model_dir: Path | None = None) -> tuple[Any, Any, SlaEngine]:
    """The vocabulary, units/places/routing rules and SLA engine, each checked against the
    vocabulary (and the model's labels when `model_dir` holds a model); ConfigError: file:line.

    Start-up and the administrators' reload both use this, so a reload validates exactly as
    start-up does.
    """
    from hotline.domain.vocabulary import check_model_labels, load_vocabulary
    from routing.errors import RuleError
    from routing.loader import load_routing

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
        if model_dir is not None:
            check_model_labels(vocabulary, model_dir)
    except RuleError as exc:
        raise ConfigError(str(exc)) from exc
    return vocabulary, routing, _load_sla(data_dir, vocabulary)


async def reload_rules(deployment: Deployment) -> dict[str, int]:
    """Re-read units, routing rules and SLA policies from data/ with the start-up loaders and
    swap them into this process's deployment; on any error raise ConfigError and keep the
    running ones. The classifier model is kept (retraining needs a restart).

    Only this process changes; the others follow through `hotline.services.rules_version`.
    The units table is shared, so units are synchronised for all.
    """
    from hotline.services.router import TicketRouter
    from hotline.services.units import sync_units

    vocabulary, routing, sla = load_rules(Path(deployment.data_dir))
    # Units first: new rules may name a new unit, which must exist before anything routes to it.
    await sync_units(routing.units)
    deployment.router = TicketRouter(routing=routing, model=deployment.model)
    deployment.sla = sla
    deployment.vocabulary = vocabulary
    deployment.units = routing.units
    deployment.extras["units"] = list(routing.units)
    return {
        "units": len(routing.units),
        "categories": len(routing.rules.categories),
        "keywords": len(routing.rules.keywords),
        "policies": len(sla.policies.rules),
    }


def load_deployment(settings: Settings, *, with_model: bool = True) -> Deployment:
    """Load the vocabulary, units, routing rules, places, classifier and SLA policies."""
    from hotline.mail.outbox import use_msgid_domain
    from hotline.services.router import TicketRouter

    data_dir = Path(settings.data_dir)
    model_dir = settings.model_dir
    checked = model_dir if with_model or (model_dir / "model.json").is_file() else None
    vocabulary, routing, sla = load_rules(data_dir, model_dir=checked)
    model = None
    if with_model:
        from classifier import ModelFileError, load_model
        from classifier.tokenize import configure as configure_tokenizer

        configure_tokenizer(data_dir)  # stop words and user dictionary of this deployment
        try:
            model = load_model(model_dir)
        except (ModelFileError, FileNotFoundError, ValueError, KeyError) as exc:
            raise ConfigError(f"分类模型无法读取：{model_dir}：{exc}") from exc
    use_msgid_domain(settings.smtp.msgid_domain)
    sms = load_sms(data_dir, gateway=settings.sms.gateway)
    assessment = load_assessment(data_dir)
    return Deployment(
        data_dir=data_dir,
        router=TicketRouter(routing=routing, model=model),
        model=model,
        sla=sla,
        vocabulary=vocabulary,
        units=routing.units,
        public_base_url=settings.public_base_url,
        sms=sms,
        wechat_push=bool(settings.wechat_appid and settings.wechat_secret),
        assessment=assessment,
        extras={"units": list(routing.units)},
    )


def load_assessment(data_dir: Path) -> AssessmentRules:
    """The 考核 rules of data/assessment.toml, checked (ConfigError names file:line)."""
    from hotline.reporting.assessment import AssessmentError, load_assessment_rules

    try:
        return load_assessment_rules(data_dir)
    except AssessmentError as exc:
        raise ConfigError(str(exc)) from exc


def load_sms(data_dir: Path, *, gateway: str) -> SmsTemplates | None:
    """The text-message templates, checked; None (and a warning) when data/ has none."""
    from hotline.sms.templates import SmsTemplateError, load_sms_templates

    path = data_dir / "sms.toml"
    if not path.is_file():
        if gateway != "log":
            raise ConfigError(f"SMS_GATEWAY={gateway} 需要短信模板文件 {path}")
        log.warning("数据目录中没有 sms.toml：不给来电人发短信")
        return None
    try:
        templates = load_sms_templates(path)
    except SmsTemplateError as exc:
        raise ConfigError(str(exc)) from exc
    if gateway == "aliyun" and importlib.util.find_spec("alibabacloud_dysmsapi20170525") is None:
        raise ConfigError(
            "SMS_GATEWAY=aliyun 需要阿里云短信 SDK：pip install 'hotline12345[aliyun]'"
            "（即 alibabacloud-dysmsapi20170525）"
        )
    missing = templates.missing_aliyun() if gateway == "aliyun" else []
    if missing:
        raise ConfigError(
            f"{path}：SMS_GATEWAY=aliyun 需要每个模板的 aliyun_template，缺少：{'、'.join(missing)}"
        )
    return templates


def announce(settings: Settings, deployment: Deployment) -> None:
    """Log where the data came from, once start-up has succeeded.

    Not during loading: a start-up that fails says one line and nothing else.
    """
    log.info("数据目录：%s（来自%s）", deployment.data_dir.resolve(), settings.data_dir_origin)
    if deployment.model is not None:
        log.info("分类模型目录：%s", settings.model_dir.resolve())
    if deployment.sms is not None:
        quiet = "（只写入发件箱和日志，不实际发送）" if settings.sms.gateway == "log" else ""
        log.info("来电人短信网关：%s%s", settings.sms.gateway, quiet)


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
