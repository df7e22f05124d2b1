"""Outgoing e-mail: rows for the outbox (hotline.mail.outbox), their texts
(hotline.mail.templates) and the SMTP transport that delivers them (hotline.mail.transport).

Services call :func:`enqueue_mail` inside their transaction; the outbox's sender
(hotline.outbox.sender) delivers with retries.
"""
