"""Channels that reach customers: one module per provider behind one Protocol."""
