"""Visit intake, the pure part: reading CSV/XLSX files and API objects, validating visit rows.

No database and no web framework here: the importer and the API build on these names.
"""

from __future__ import annotations

from followup.intake.cells import SERVICE_TYPES
from followup.intake.columns import CHINESE_HEADERS, FIELDS, HEADER_ALIASES, REQUIRED, normalise_header
from followup.intake.encoding import detect_encoding
from followup.intake.payload import API_FIELD_PATHS, api_visit_to_raw
from followup.intake.phones import normalise_phone
from followup.intake.records import RowError, UnusableFile, VisitRow
from followup.intake.table import Table, open_table
from followup.intake.times import parse_delivered_at
from followup.intake.validate import validate_row

__all__ = [
    "API_FIELD_PATHS",
    "CHINESE_HEADERS",
    "FIELDS",
    "HEADER_ALIASES",
    "REQUIRED",
    "SERVICE_TYPES",
    "RowError",
    "Table",
    "UnusableFile",
    "VisitRow",
    "api_visit_to_raw",
    "detect_encoding",
    "normalise_header",
    "normalise_phone",
    "open_table",
    "parse_delivered_at",
    "validate_row",
]
