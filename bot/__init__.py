"""Community Sharing Bot: municipalities, project holders and volunteers sharing needs and offers."""

import os

# Opt in to python-telegram-bot's coming behaviour now (durations as datetime.timedelta, e.g.
# RetryAfter.retry_after), as its deprecation notice suggests: our code handles both forms.
os.environ.setdefault("PTB_TIMEDELTA", "1")
