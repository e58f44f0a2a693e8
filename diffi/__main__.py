"""`python -m diffi`: the same as the `diffi` command."""
import sys

from .cli import main

sys.exit(main())
