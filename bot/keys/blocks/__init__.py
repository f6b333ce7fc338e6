"""Block Kit for key hygiene: pure functions from `bot.keys.model` values to blocks and fallback text.

Everything a user or the Console named (key names, workspace names, emails, reasons) is escaped here. Messages
stay within Slack's 50 blocks; long lists are cut with a count of what is not shown.
"""
