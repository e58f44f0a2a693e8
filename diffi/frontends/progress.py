"""minimize's progress in the command: a bar on a terminal (prompt_toolkit's, with the
loss and speed), a line every tenth of the run otherwise. (The Python API's default,
no report, is diffi.directives.training.SilentProgress.)

Light to import: a script that does not train loads neither prompt_toolkit nor the
training code just to have its progress object ready.
"""
from __future__ import annotations

import os
import signal

INTERRUPTED = "interrupted: keeping the weights of the last completed step"


class LineProgress:
    """A line every tenth of the run when the output is not a terminal (no timings, so
    that a script's output is the same on every run)."""

    def __init__(self, write):
        self.write = write
        self.steps = 0

    def start(self, steps: int) -> None:
        self.steps = steps

    def update(self, step: int, loss: float) -> None:
        if step * 10 // self.steps > (step - 1) * 10 // self.steps:  # each tenth, once
            self.write(f"step {step}/{self.steps}  loss {loss:.6g}")

    def finish(self, interrupted: bool) -> None:
        if interrupted:
            self.write(INTERRUPTED)


def _interrupt_the_process() -> None:
    os.kill(os.getpid(), signal.SIGINT)


class TerminalProgress:
    """A progress bar labelled with the current loss and the steps per second."""

    def __init__(self, stream):
        self.stream = stream  # the terminal it draws on (stderr: stdout holds results)
        self.bar = self.counter = None

    def start(self, steps: int) -> None:
        # imported here: a script on a terminal loads prompt_toolkit only if it trains
        from prompt_toolkit.input import create_input
        from prompt_toolkit.output import create_output
        from prompt_toolkit.shortcuts import ProgressBar
        from prompt_toolkit.shortcuts.progress_bar import formatters
        shown = [formatters.Label(), formatters.Text(" "), formatters.Bar(),
                 formatters.Text(" "), formatters.Progress(), formatters.Text("  "),
                 formatters.IterationsPerSecond(), formatters.Text(" steps/s  "),
                 formatters.TimeLeft()]
        # keys (Ctrl-C) come from the same terminal, as a pager reads them: stdin may be
        # a file or closed
        # Ctrl-C read by the bar becomes a SIGINT for the process, as prompt_toolkit does
        # itself only when the bar is made on the main thread (a call runs on its own)
        self.bar = ProgressBar(title="minimize", formatters=shown,
                               output=create_output(stdout=self.stream),
                               input=create_input(stdin=self.stream),
                               cancel_callback=_interrupt_the_process)
        self.bar.__enter__()
        self.counter = self.bar(label="loss …", total=steps)

    def update(self, step: int, loss: float) -> None:
        self.counter.label = f"loss {loss:.6g}"
        self.counter.item_completed()

    def finish(self, interrupted: bool) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
        if interrupted:
            print(INTERRUPTED, file=self.stream)
