"""Constants of the Admin API that a process may need without loading the SDK."""

# The SDK's own default (`anthropic.Anthropic().base_url`); ANTHROPIC_BASE_URL overrides it.
DEFAULT_BASE_URL = "https://api.anthropic.com"
