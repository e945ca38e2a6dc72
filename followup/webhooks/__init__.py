"""Outgoing webhooks (Standard Webhooks): the outbox, signing and delivery."""
