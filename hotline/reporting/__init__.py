"""Reporting: rates, per-unit rates, volumes and the Excel/CSV exports (pure)."""
