"""The differentiation directives (SPEC §4 and §6)."""
