"""The webhook receiver of the admin panel and its live activity stream."""
