"""Team management: offboarding a leaver (members, roles and the leaver sweep build on it)."""
