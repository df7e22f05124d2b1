"""Deployment data loaded once at start-up: units, router, classifier, SLA rules, SMS texts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real imports load numpy and the policy files' parsers
    from classifier.model import CategoryModel
    from hotline.domain.vocabulary import Vocabulary
    from hotline.reporting.assessment import AssessmentRules
    from hotline.services.router import TicketRouter
    from hotline.services.sla_engine import SlaEngine
    from hotline.sms.templates import SmsTemplates
    from routing.units import Unit


@dataclass
class Deployment:
    """Everything read from data/ that services need, validated at start-up."""

    data_dir: Path
    router: TicketRouter | None = None
    model: CategoryModel | None = None
    sla: SlaEngine | None = None
    vocabulary: Vocabulary | None = None
    units: tuple[Unit, ...] = ()
    public_base_url: str = "http://127.0.0.1:8000"
    # The complainants' text messages (data/sms.toml); None: no text is queued.
    sms: SmsTemplates | None = None
    # Replies and closings go to WeChat reporters too (WECHAT_APPID and WECHAT_SECRET set).
    wechat_push: bool = False
    # The 考核 weights, deductions and minimum samples (data/assessment.toml).
    assessment: AssessmentRules | None = None
    # Kept for callers that read extras["units"]; new code uses `units`.
    extras: dict[str, Any] = field(default_factory=dict)

    def words(self) -> Vocabulary:
        """The vocabulary pages and figures label with (read from data_dir if start-up did not)."""
        if self.vocabulary is None:
            from hotline.domain.vocabulary import load_vocabulary

            self.vocabulary = load_vocabulary(self.data_dir)
        return self.vocabulary

    def assessment_rules(self) -> AssessmentRules:
        """The 考核 rules (read from data_dir if start-up did not)."""
        if self.assessment is None:
            from hotline.reporting.assessment import load_assessment_rules

            self.assessment = load_assessment_rules(self.data_dir)
        return self.assessment

    def propose(
        self, *, text: str, address: str, kind: str, category: str | None
    ) -> dict[str, Any]:
        """The router's proposal for a new ticket, as stored on the ticket."""
        if self.router is None:
            return {"category": category, "needs_review": True, "rule": "未配置路由规则"}
        return self.router.propose(text=text, address=address, kind=kind, category=category)

    def warm_up(self) -> None:
        """Classify one sample so the first citizen's request does not pay for lazy loading.

        The segmenter's dictionary and the model's matrices load on first use (~0.6 s);
        WeChat gives up on an answer after 5 s, so start-up pays instead.
        """
        self.propose(
            text="小区楼下油烟噪音扰民，请有关部门处理", address="", kind="投诉", category=None
        )

    def must_avoid(self, *, kind: str, text: str, codes: list[str]) -> dict[str, str]:
        """Units among `codes` a 举报 must not reach (code → why: named, or that one's line)."""
        if self.router is None:
            return {}
        return dict(self.router.routing.must_avoid(kind=kind, text=text, codes=codes))
