"""The core: values, the graph and its scopes, the evaluator that records the graph,
tapes and problems (what a directive differentiates), and the built-in library.

Imports the table, the language and the foundation; never a mode, the compiler or the
directives: the interpreter hands the evaluator its directive runner and its cache of
compiled tapes.
"""
