"""`python -m diffi`: the same as the `diffi` command."""
from .cli import entry

entry()
