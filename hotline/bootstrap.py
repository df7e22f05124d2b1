"""Start-up: read and validate data/, connect the database, synchronise units."""

from __future__ import annotations

import logging
from pathlib import Path

from hotline.config import Settings
from hotline.deployment import Deployment

log = logging.getLogger("hotline")


class ConfigError(Exception):
    """Deployment data or settings that stop start-up; the message is one clear line."""


def load_deployment(settings: Settings, *, with_model: bool = True) -> Deployment:
    """Load units, routing rules, places, the classifier and SLA policies from data/."""
    from hotline.services.router import TicketRouter

    data_dir = Path(settings.data_dir)
    routing, sla = load_rules(data_dir)
    model = None
    if with_model:
        import os

        from classifier import ModelFileError, load_model
        from classifier.tokenize import configure as configure_tokenizer

        configure_tokenizer(data_dir)  # stop words and user dictionary of this deployment
        model_dir = Path(os.environ.get("HOTLINE_MODEL_DIR") or data_dir / "model")
        try:
            model = load_model(model_dir)
        except (ModelFileError, FileNotFoundError, ValueError, KeyError) as exc:
            raise ConfigError(f"分类模型无法读取：{model_dir}：{exc}") from exc
    deployment = Deployment(
        data_dir=data_dir,
        router=TicketRouter(routing=routing, model=model),
        model=model,
        public_base_url=settings.public_base_url,
    )
    deployment.extras["units"] = list(routing.units)
    from hotline.mail.settings import SmtpSettings

    try:
        SmtpSettings.from_env()  # a typo in SMTP_* stops start-up, not the first mail
    except ValueError as exc:
        raise ConfigError(f"邮件设置有误：{exc}") from exc
    deployment.sla = sla
    return deployment


def load_rules(data_dir: Path):  # type: ignore[no-untyped-def]
    """Units, places and routing rules, and the SLA engine, validated (ConfigError: file:line)."""
    from routing.errors import RuleError
    from routing.loader import load_routing

    if not data_dir.is_dir():
        raise ConfigError(f"数据目录不存在：{data_dir}（HOTLINE_DATA_DIR）")
    try:
        routing = load_routing(data_dir)
    except RuleError as exc:
        raise ConfigError(str(exc)) from exc
    return routing, _load_sla(data_dir)


async def reload_rules(deployment: Deployment) -> dict[str, int]:
    """Re-read units, routing rules and SLA policies from data/ with the start-up loaders and
    swap them into this process's deployment; on any error raise ConfigError and keep the
    running ones. The classifier model is kept (retraining needs a restart).

    Only this process changes: other web workers (and a separate `sweeper`) keep what they
    loaded until their restart. The units table is shared, so units are synchronised for all.
    """
    from hotline.services.router import TicketRouter
    from hotline.services.units import sync_units

    routing, sla = load_rules(Path(deployment.data_dir))
    # Units first: new rules may name a new unit, which must exist before anything routes to it.
    await sync_units(routing.units)
    deployment.router = TicketRouter(routing=routing, model=deployment.model)
    deployment.sla = sla
    deployment.extras["units"] = list(routing.units)
    return {
        "units": len(routing.units),
        "categories": len(routing.rules.categories),
        "keywords": len(routing.rules.keywords),
        "policies": len(sla.policies.rules),
    }


def _load_sla(data_dir: Path):  # type: ignore[no-untyped-def]
    """The SLA engine for ticket clocks (policies and working-day calendar)."""
    from hotline.services.sla_engine import SlaEngine, load_sla_engine

    try:
        engine: SlaEngine = load_sla_engine(data_dir)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    return engine
