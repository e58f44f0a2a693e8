"""`python -m diffi`: the same as the `diffi` command."""
from .frontends.cli import entry

entry()
