"""claude-key-bot: run an Anthropic organization from Slack."""
