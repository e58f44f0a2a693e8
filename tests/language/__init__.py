"""Tests of the language layer (diffi/language/), one file per module where one module is their subject.
(A package, so that pytest imports its files as language.test_…: names stay unique.)"""
