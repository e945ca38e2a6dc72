"""Kinds of campaign: each module wires the pure rules, the engine and the channels for one kind.

- :mod:`followup.campaigns.post_service`: the post-service follow-up (售后回访), RULES R1-R8:
  one case per visit, three calls in three days, then SMS, then a letter.

A second kind (maintenance reminders, R12) is a module beside it, reusing the engine, the
channels, the calendar and the opt-outs.
"""
