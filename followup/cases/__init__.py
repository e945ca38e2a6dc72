"""Follow-up cases: their lifecycle, staff actions and the read models the panel and API show."""
