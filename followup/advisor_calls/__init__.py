"""The service advisor's own 3-day call (服务顾问3日DC回访, R11).

Each visit (not of an excluded service type) gives its advisor a task: call the customer within
three days of delivery. :mod:`.tasks` gives and keeps the tasks at intake, :mod:`.worklist` lists
an advisor's open ones, :mod:`.recording` records a call. It is not a survey: nothing here touches
the follow-up case, its contact attempts or the survey responses (the advisor's score, R9).
"""
