"""Text messages to complainants: templates, the SMS outbox and the gateway adapters."""
