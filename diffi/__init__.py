"""diffi: a small math language whose programs are computation graphs, differentiated
forward, reverse, numerically and symbolically."""

__version__ = "0.1.0"

from .errors import (ArityError, DiffiError, DiffiNameError, DiffiSyntaxError,  # noqa: E402
                     DiffiTypeError, DiffiWarning, LimitError, ShapeError)
from .interpreter import DiffiFunction, Interpreter, evaluate  # noqa: E402



def load_ipython_extension(ipython) -> None:
    """`%load_ext diffi`: the %%diffi and %diffi magics (diffi/frontends/notebook.py)."""
    from .frontends.notebook import load  # lazily: only IPython loads the extension
    load(ipython)


__all__ = ["Interpreter", "evaluate", "DiffiFunction", "DiffiError", "DiffiSyntaxError",
           "DiffiNameError", "DiffiTypeError", "ArityError", "ShapeError", "LimitError",
           "DiffiWarning", "__version__"]
