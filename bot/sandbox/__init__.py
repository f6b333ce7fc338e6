"""What the bot runs against without Slack or Anthropic: stand-ins of the Slack Web API (``slack``), the Admin
API (``anthropic``) and Socket Mode (``socket_mode``), Slack's signed requests (``signing``), the bot served on
loopback (``botserver``) and the demo (``demo``, ``claude-key-bot demo``). Tests and bench use them too; none of
it needs the test extra."""
