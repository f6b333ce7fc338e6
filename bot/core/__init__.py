"""What every layer may use and nothing of the bot underneath: errors, clock, periods, formatting."""
