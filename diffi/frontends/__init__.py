"""The front ends: the `diffi` command (scripts, -c, piped input), the REPL session and
its `:` commands, help topics, completion as you type, the Pygments lexer, and
minimize's progress on a terminal.

They sit on top: they import the interpreter and anything below it, and nothing
imports them. prompt_toolkit loads only for the REPL (repl.py) and for a progress bar
(progress.py), never for a script.
"""
