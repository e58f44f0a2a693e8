"""diffi: a small math language whose programs are computation graphs, differentiated
forward, reverse, numerically and symbolically."""

__version__ = "0.1.0"

from .errors import (ArityError, DiffiError, DiffiNameError, DiffiSyntaxError,  # noqa: E402
                     DiffiTypeError, DiffiWarning, LimitError, ShapeError)
from .interpreter import DiffiFunction, Interpreter, evaluate  # noqa: E402

__all__ = ["Interpreter", "evaluate", "DiffiFunction", "DiffiError", "DiffiSyntaxError",
           "DiffiNameError", "DiffiTypeError", "ArityError", "ShapeError", "LimitError",
           "DiffiWarning", "__version__"]
