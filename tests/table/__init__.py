"""Tests of the primitive table (diffi/table/), one file per module where one module is their subject.
(A package, so that pytest imports its files as table.test_…: names stay unique.)"""
