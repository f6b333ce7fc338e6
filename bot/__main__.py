"""`python -m bot …` is `claude-key-bot …` (how `run` starts its worker processes)."""

from bot.cli import main

raise SystemExit(main())
