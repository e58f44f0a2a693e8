"""The language: diffi's syntax trees, and the parser that makes them from source text.

Imports only the foundation (diffi.errors); everything above reads programs through it.
"""
