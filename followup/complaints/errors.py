"""What a refused complaint action raises; the message is an English id the panel shows translated."""

from __future__ import annotations


class ComplaintError(ValueError):
    """The action is not possible in the complaint's current state; the message says why."""


class NotAllowed(ComplaintError):
    """This user may not do this (their role, or they are not the assignee or above)."""
