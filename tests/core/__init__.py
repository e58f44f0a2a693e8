"""Tests of the core (diffi/core/), one file per module where one module is their subject.
(A package, so that pytest imports its files as core.test_…: names stay unique.)"""
