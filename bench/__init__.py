"""Benchmarks for followup (issue #9). Run with ``make bench``; never part of ``make test``.

Each section is a module with ``run(ctx) -> list[Row]``; ``python -m bench`` runs them, prints a
table, and writes ``bench/results.json`` and ``bench/RESULTS.md`` with the machine they ran on.
"""
