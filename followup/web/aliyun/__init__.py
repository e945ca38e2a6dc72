"""Alibaba Cloud SMS's pushes to us (CONTRACT §10): delivery receipts and customers' replies."""
