"""The App Home tab: your keys, requests and usage; for admins, the backlog (the one domain that reads the others)."""
