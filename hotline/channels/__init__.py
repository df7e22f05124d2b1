"""Intake channels: the protocols citizens reach the hotline through (pure, no I/O)."""
