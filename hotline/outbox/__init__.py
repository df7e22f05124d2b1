"""The outbox: messages written in the transaction of the change that caused them.

One table (`OutboxMessage`, a `transport` column per row), one leased delivery loop with
retries, backoff and outage deferral (`delivery`), and transport adapters registered by
name (`transport`): SMTP mail (hotline.mail.transport), texts through the configured SMS
gateway (hotline.sms.transport). A new channel (WeChat replies, switch events) is one more
adapter, not a third copy of the loop.
"""
