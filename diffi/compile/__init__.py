"""The compiler: a traced tape as straight-line Python code, for fast values and
derivatives that the table's own rules write.

writers.py holds what both writers share (and the source writer), bytecode.py the
CPython 3.11 bytecode writer, scalar.py the compiled functions of scalar tapes and the
sweeps that write them, cache.py when a function's compiled tapes are made and used,
tensor.py the NumPy code of minimize's training step. Imports the modes, the core, the
table and the foundation; never the directives. The interpreter hands the evaluator its
cache (diffi.compile loads on the first compiled call).
"""
