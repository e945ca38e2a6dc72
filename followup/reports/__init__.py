"""Managers' numbers (满意度考核, R8/R9), computed from the stored rows with SQL aggregates.

* :mod:`.bonus` — the pure tier rule (``bonus_tier``).
* :mod:`.months` — a calendar month of the store's local time as UTC bounds.
* :mod:`.independent` — which survey responses count for an advisor's score.
* :mod:`.advisors` — each advisor's monthly score, sample flag and bonus.
* :mod:`.details` — per-question averages, the three-day-rule rate, channel response rates, comments.
* :mod:`.trend` — twelve months at a glance.
* :mod:`.export` — CSV and XLSX of the advisor table, safe to open in a spreadsheet.
* :mod:`.charts` — server-side SVG charts (pygal, no JavaScript).
"""

from __future__ import annotations

from followup.reports.report_month import ReportError, month_bounds, parse_month
from followup.rules.bonus_tiers import bonus_tier

__all__ = ["ReportError", "bonus_tier", "month_bounds", "parse_month"]
