"""SMS_GATEWAY=aliyun: Alibaba Cloud SMS (dysmsapi 2017-05-25 SendSms) through its SDK."""

from __future__ import annotations

import json

from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_dysmsapi20170525.models import SendSmsRequest
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ThrottlingException
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.runtime import RuntimeOptions

from hotline.domain.lifecycle import Sms
from hotline.runtime.sms_settings import SmsSettings
from hotline.sms.gateways.base import SmsMessage, SmsSendError
from hotline.sms.templates import SmsTemplates

# Codes about this one message that no retry will change (Alibaba's SendSms error codes).
PERMANENT = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.INVALID_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.SMS_CONTENT_ILLEGAL",
        "isv.TEMPLATE_PARAMS_ILLEGAL",
    }
)
# Throttling, the account's balance or state, our credentials, Alibaba's own errors: not
# this message's fault. Retried, and the round stops so the others wait with it.
GATEWAY_LEVEL = frozenset(
    {
        "Throttling.User",
        "Throttling",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.OUT_OF_SERVICE",
        "isv.ACCOUNT_ABNORMAL",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.PRODUCT_UN_SUBSCRIPT",
        "isv.PRODUCT_UNSUBSCRIBE",
        "isp.RAM_PERMISSION_DENY",
        "isp.SYSTEM_ERROR",
        "isp.GATEWAY_ERROR",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId",
        "Forbidden.RAM",
    }
)
# Per-number frequency limits (one number texted too often): that message is retried later,
# and the others go on, since the limit says nothing about them.
PER_NUMBER_LIMITS = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL"})


def classify(code: str, message: str) -> SmsSendError:
    """The error for a SendSms answer other than OK."""
    text = f"阿里云短信 {code}：{message}"
    if code in PERMANENT:
        return SmsSendError(text, permanent=True)
    if code in PER_NUMBER_LIMITS:
        return SmsSendError(text)
    # Unknown codes are retried too: a wrong guess costs a few requests, not a lost text.
    return SmsSendError(text, gateway_level=code in GATEWAY_LEVEL)


class AliyunGateway:
    """Sends each message as a SendSms call with its registered template and named fields."""

    name = "aliyun"

    def __init__(self, settings: SmsSettings, templates: SmsTemplates | None) -> None:
        protocol, host = settings.aliyun_protocol_and_host
        timeout_ms = int(settings.timeout * 1000)
        self._client = Client(
            Config(
                access_key_id=settings.aliyun_access_key_id,
                access_key_secret=settings.aliyun_access_key_secret,
                endpoint=host,
                protocol=protocol,
                connect_timeout=timeout_ms,
                read_timeout=timeout_ms,
            )
        )
        self._sign_name = settings.aliyun_sign_name
        self._templates = templates
        self._timeout_ms = timeout_ms

    def _template_code(self, template: str) -> str:
        if self._templates is None:
            raise SmsSendError("未载入短信模板（data/sms.toml）", gateway_level=True)
        try:
            code = self._templates[Sms(template)].aliyun_template
        except ValueError:
            code = ""
        if not code:
            raise SmsSendError(f"短信模板 {template} 没有 aliyun_template", gateway_level=True)
        return code

    async def send(self, message: SmsMessage) -> str:
        """One SendSms request; OK gives the BizId, any other code raises SmsSendError."""
        request = SendSmsRequest(
            phone_numbers=message.phone,
            sign_name=self._sign_name,
            template_code=self._template_code(message.template),
            template_param=json.dumps(dict(message.params), ensure_ascii=False),
        )
        runtime = RuntimeOptions(
            connect_timeout=self._timeout_ms, read_timeout=self._timeout_ms, autoretry=False
        )
        try:
            response = await self._client.send_sms_with_options_async(request, runtime)
        except AlibabaCloudException as exc:
            # HTTP 4xx/5xx from the API itself (bad credentials, signature, server error).
            error = classify(str(exc.code), str(exc.message))
            if (exc.status_code or 0) >= 500 or isinstance(exc, ThrottlingException):
                error = SmsSendError(str(error), gateway_level=True)
            raise error from exc
        except Exception as exc:  # noqa: BLE001 - network errors arrive in several SDK wrappers
            raise SmsSendError(
                f"阿里云短信接口无法访问：{type(exc).__name__}: {exc}", gateway_level=True
            ) from exc
        body = response.body
        if body is None or body.code != "OK":
            code = body.code if body is not None else "(空响应)"
            raise classify(str(code), str(body.message if body is not None else ""))
        return str(body.biz_id or body.request_id or "")

    async def close(self) -> None:
        """The SDK opens a session per request: nothing to release."""
