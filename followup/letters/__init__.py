"""Letters (R4.4) and the web survey link: the daily printed batch, mailing, paper replies.

``content`` gathers what one letter says, ``render`` turns letters into HTML and a PDF,
``address_list`` the CSV and label sheet, ``letter_batch`` builds a store's batch, ``mailing``
records printed / mailed / returned, ``reply_codes`` and ``paper_replies`` take answers by code,
``batch`` is the CLI and worker entry point.
"""
