"""minimize's progress bar on a terminal (prompt_toolkit's), with the loss and speed."""
from __future__ import annotations

class TerminalProgress:
    """A progress bar labelled with the current loss and the steps per second."""

    def __init__(self):
        self.bar = self.counter = None

    def start(self, steps: int) -> None:
        # imported here: a script on a terminal loads prompt_toolkit only if it trains
        from prompt_toolkit.shortcuts import ProgressBar
        from prompt_toolkit.shortcuts.progress_bar import formatters
        shown = [formatters.Label(), formatters.Text(" "), formatters.Bar(),
                 formatters.Text(" "), formatters.Progress(), formatters.Text("  "),
                 formatters.IterationsPerSecond(), formatters.Text(" steps/s  "),
                 formatters.TimeLeft()]
        self.bar = ProgressBar(title="minimize", formatters=shown)
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
            print("interrupted: keeping the weights of the last completed step")
