"""``python -m bot.sandbox.slack --port 0``: serve the Slack stand-in until SIGTERM (see cli.py)."""

import sys

from bot.sandbox.slack.cli import main

sys.exit(main())
