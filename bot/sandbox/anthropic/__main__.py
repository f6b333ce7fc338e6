"""``python -m bot.sandbox.anthropic --port 0``: serve the Admin API stand-in until SIGTERM (see cli.py)."""

import sys

from bot.sandbox.anthropic.cli import main

sys.exit(main())
