"""Tests of the compiler (diffi/compile/), one file per module where one module is their subject.
(A package, so that pytest imports its files as compile.test_…: names stay unique.)"""
