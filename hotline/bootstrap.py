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
    from routing.errors import RuleError
    from routing.loader import load_routing

    data_dir = Path(settings.data_dir)
    if not data_dir.is_dir():
        raise ConfigError(f"数据目录不存在：{data_dir}（HOTLINE_DATA_DIR）")
    try:
        routing = load_routing(data_dir)
    except RuleError as exc:
        raise ConfigError(str(exc)) from exc
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
    deployment.sla = _load_sla(data_dir)
    return deployment


def _load_sla(data_dir: Path):  # type: ignore[no-untyped-def]
    """The SLA engine for ticket clocks (policies and working-day calendar)."""
    from hotline.services.sla_engine import SlaEngine, load_sla_engine

    try:
        engine: SlaEngine = load_sla_engine(data_dir)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    return engine
