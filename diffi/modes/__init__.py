"""The differentiation modes: forward (tangents and Taylor series), reverse (adjoints),
numeric (finite differences) and symbolic (derivatives as formulas).

Each sweeps a tape of the core with the rules of the table; they import the core, the
table and the foundation, never the compiler or the directives that choose them.
"""
