"""Instructions spent compiling the chain's graph to gradient code, for callgrind.

Wall-clock figures on a shared machine swing with its load; instruction counts do
not. This script traces bench/chain.py's chain and compiles its tape once inside
`functools.reduce`, so that callgrind can count that call and nothing else:

    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=functools_reduce \\
        --callgrind-out-file=/tmp/compile.out python bench/compile_instructions.py 3000
    callgrind_annotate /tmp/compile.out | grep "PROGRAM TOTALS"

Divide the total by the number of operations it prints (3,001 for the default
argument 3000: the chain's alias a0 = x and 3 per step). Without
valgrind it prints the wall time of the same call.
Run: python bench/compile_instructions.py [OPERATIONS]
"""
from __future__ import annotations

import functools
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import diffi  # noqa: E402
from chain import operations, source  # noqa: E402  (bench/ is on the path as the script's folder)
from diffi.compile.scalar import Compiled, trace  # noqa: E402
from diffi.core.tape import Tape  # noqa: E402


def main() -> None:
    steps = (int(sys.argv[1]) if len(sys.argv) > 1 else 3000) // 3
    it = diffi.Interpreter()
    it.run(source(steps))
    fn, ev = it.globals["chain"].node.value, it.evaluator
    ev.begin_statement()
    tape, reads = trace(ev, fn, (0.5,))

    def compile_gradient():
        Compiled(Tape(tape.outputs, tape.inputs), reads).value_and_grad(0.5)

    compile_gradient()  # the tables made once per process are not counted
    gc.disable()
    start = time.perf_counter()
    functools.reduce(lambda _, __: compile_gradient(), [0, 0])
    print(f"{operations(steps)} operations: graph to gradient code "
          f"{time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
