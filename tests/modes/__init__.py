"""Tests of the differentiation modes (diffi/modes/), one file per module where one module is their subject.
(A package, so that pytest imports its files as modes.test_…: names stay unique.)"""
