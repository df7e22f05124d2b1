"""Outgoing e-mail: an outbox table written with the change that caused it, and a sender.

The lead's services call :func:`enqueue_mail` inside their transaction; a background
worker runs :func:`run_sender` (or :func:`deliver_due` once) to deliver with retries.
"""

from hotline.mail.backlog import MailBacklog, mail_backlog
from hotline.mail.models import MailStatus, OutboxMail, enqueue_mail
from hotline.mail.sender import (
    DeliveryReport,
    deliver_due,
    requeue_failed,
    requeue_mail,
    run_sender,
)
from hotline.mail.settings import SmtpSettings

__all__ = [
    "DeliveryReport",
    "MailBacklog",
    "MailStatus",
    "OutboxMail",
    "SmtpSettings",
    "deliver_due",
    "enqueue_mail",
    "mail_backlog",
    "requeue_failed",
    "requeue_mail",
    "run_sender",
]
