"""The JSON API (/api/v1), bearer-token protected."""
