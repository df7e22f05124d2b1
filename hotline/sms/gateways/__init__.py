"""SMS gateway adapters, one module each, chosen by SMS_GATEWAY."""

from __future__ import annotations

from hotline.runtime.sms_settings import SmsSettings
from hotline.sms.gateways.base import SmsGateway, SmsMessage, SmsSendError
from hotline.sms.templates import SmsTemplates

__all__ = ["SmsGateway", "SmsMessage", "SmsSendError", "gateway_for"]


def gateway_for(settings: SmsSettings, templates: SmsTemplates | None = None) -> SmsGateway:
    """The adapter SMS_GATEWAY names; the Alibaba SDK is imported only when it is chosen."""
    if settings.gateway == "aliyun":
        from hotline.sms.gateways.aliyun import AliyunGateway

        return AliyunGateway(settings, templates)
    if settings.gateway == "http":
        from hotline.sms.gateways.http import HttpGateway

        return HttpGateway(settings)
    from hotline.sms.gateways.log import LogGateway

    return LogGateway()
