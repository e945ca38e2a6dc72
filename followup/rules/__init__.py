"""The rulebook as pure functions (RULES R1-R9, R11-R12): standard library and ``holidays`` only.

No database, no clock, no I/O: every function takes the case, its history, ``now`` and the
store's policy. ``tests/unit/test_rules_are_pure.py`` keeps it so.
"""
