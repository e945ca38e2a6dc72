"""The follow-up engine: the tick, planning, dispatch, recording outcomes, leases, provider callbacks."""
