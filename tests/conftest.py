"""Settings for the whole suite.

Property tests draw the same examples on every run (derandomize): the suite is a gate,
and a gate that fails at random for a new example teaches nothing in CI. Long random
searches belong to bench/ (bench/fuzz.py, bench/formulas.py), where a new failure is a
report, not a red build.
"""
from hypothesis import settings

settings.register_profile("suite", derandomize=True, database=None)
settings.load_profile("suite")
