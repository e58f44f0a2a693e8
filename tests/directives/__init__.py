"""Tests of the directives (diffi/directives/), one file per module where one module is their subject.
(A package, so that pytest imports its files as directives.test_…: names stay unique.)"""
