"""Tests of the front ends (diffi/frontends/), one file per module where one module is their subject.
(A package, so that pytest imports its files as frontends.test_…: names stay unique.)"""
