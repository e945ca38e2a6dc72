"""Complaints (投诉/抱怨): the closed loop of R7, until the customer is satisfied.

* :mod:`.escalation` — the pure rule: when an unacknowledged complaint moves up a level.
* :mod:`.assignment` — who is in charge at each level (advisor, service manager, general manager).
* :mod:`.opening` — a dissatisfied response opens a level-1 complaint.
* :mod:`.duty` — the scheduler's ``escalate`` duty.
* :mod:`.actions` — what staff do: acknowledge, log a contact, resolve, a manager's close.
* :mod:`.resurvey` — the re-survey after a resolution, and what its answer does.
* :mod:`.queue` — the complaints queue and a complaint's page, as the panel shows them.
"""

from __future__ import annotations

from followup.rules.complaint_levels import MAX_LEVEL, ComplaintFacts, Escalation, next_escalation

__all__ = ["MAX_LEVEL", "ComplaintFacts", "Escalation", "next_escalation"]
