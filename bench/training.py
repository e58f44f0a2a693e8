"""Time per training step of the Iris MLP: diffi's minimize against hand-written NumPy.

The network of examples/iris_mlp.dfi: inputs petal length and width plus a bias column
(D = 3), M = 16 sigmoid hidden units, C = 3 softmax outputs, mean cross-entropy,
gradient descent with rate 0.1. The NumPy reference computes the forward pass and the
hand-derived gradients dV = Z'(Ŷ−Y)/N, dW = X'((Ŷ−Y)V' ⊙ Z ⊙ (1−Z))/N.

Time: both run in one process, in alternating rounds of --round steps, and each keeps
its fastest round (a noisy machine slows rounds down, never speeds them up), so the
ratio compares the two under the same conditions; the median rounds are shown too.
Memory: the peak of each run of --steps steps, each in a fresh process.
Targets (issue 16): time ratio <= 1.0 (JAX's jit, 26 µs a step on the 2-core machine
against NumPy's 34 µs, is the mark to approach), memory ratio <= 2.
Run: python bench/training.py [--steps 1000] [--rounds 9] [--round 1000] [--check]
Exit status 0 (it is a report) unless --check is given and a target is missed.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETUP = """
data = load("examples/data/iris.csv")
X = hstack(data[:, 2:4], ones(150, 1))
labels = data[:, 4]
Y = onehot(labels, 3)
seed(0)
W = randn(3, 16) * 0.01
V = randn(16, 3) * 0.01
L(W, V) = { Z = sigmoid(X @ W); U = Z @ V; -mean(sum(U*Y, 1) - logsumexp(U)) }
"""


class DiffiRun:
    """The Iris MLP in a diffi session; `train(steps)` runs minimize."""

    def __init__(self):
        import diffi
        self.it = diffi.Interpreter(files=str(ROOT))
        self.it.base_dir = str(ROOT)
        self.it.run(SETUP)
        self.train(5)  # warm up: the step is compiled here

    def train(self, steps: int) -> float:
        self.it.run(f"minimize L(W, V) wrt W, V using gd(rate = 0.1, steps = {steps})")
        return float(self.it.losses[-1])


class NumpyRun:
    """The same network, forward pass and hand-derived gradients written in NumPy."""

    def __init__(self):
        import numpy as np
        data = np.loadtxt(ROOT / "examples/data/iris.csv", delimiter=",", skiprows=1)
        self.X = np.hstack([data[:, 2:4], np.ones((150, 1))])
        self.Y = np.eye(3)[data[:, 4].astype(int)]
        rng = np.random.Generator(np.random.PCG64(0))
        self.W = rng.standard_normal((3, 16)) * 0.01
        self.V = rng.standard_normal((16, 3)) * 0.01
        self.train(5)

    def train(self, steps: int) -> float:
        step, W, V, loss = make_step(self.X, self.Y), self.W, self.V, None
        for _ in range(steps):
            W, V, loss = step(W, V)
        self.W, self.V = W, V
        return float(loss)


def make_step(X, Y):
    import numpy as np
    n = len(X)

    def step(W, V):
        Z = 1 / (1 + np.exp(-(X @ W)))
        U = Z @ V
        m = U.max(axis=1, keepdims=True)
        E = np.exp(U - m)
        P = E / E.sum(axis=1, keepdims=True)
        loss = -np.mean(np.sum(U * Y, 1) - (m[:, 0] + np.log(E.sum(axis=1))))
        G = (P - Y) / n
        dV = Z.T @ G
        dW = X.T @ ((G @ V.T) * Z * (1 - Z))
        return W - 0.1 * dW, V - 0.1 * dV, loss

    return step


def child(which: str, steps: int) -> None:
    """One run of `steps` steps in this (fresh) process: its final loss and peak memory."""
    run = DiffiRun() if which == "diffi" else NumpyRun()
    loss = run.train(steps)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"loss": loss, "peak_kib": peak}))


def per_step_times(rounds: int, size: int) -> dict:
    """Seconds per step of each round, the two runs alternating (both keep training)."""
    runs = {"numpy": NumpyRun(), "diffi": DiffiRun()}
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run.train(size)
            times[name].append((time.perf_counter() - start) / size)
    return times


TARGET_TIME, TARGET_MEMORY = 1.0, 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--round", type=int, default=1000, help="steps per timed round")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--child", choices=["diffi", "numpy"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.steps)
        return 0
    results = {}
    for which in ("numpy", "diffi"):
        done = subprocess.run([sys.executable, __file__, "--child", which, "--steps",
                               str(args.steps)], capture_output=True, text=True, check=True)
        results[which] = json.loads(done.stdout.strip().splitlines()[-1])
    n, d = results["numpy"], results["diffi"]
    times = per_step_times(args.rounds, args.round)
    fast = {k: min(v) for k, v in times.items()}
    typical = {k: statistics.median(v) for k, v in times.items()}
    print(f"per step, fastest of {args.rounds} alternating rounds of {args.round}: "
          f"NumPy {fast['numpy'] * 1e6:.0f} µs, diffi {fast['diffi'] * 1e6:.0f} µs, "
          f"ratio {fast['diffi'] / fast['numpy']:.2f} (target <= {TARGET_TIME})")
    print(f"per step, median rounds: NumPy {typical['numpy'] * 1e6:.0f} µs, diffi "
          f"{typical['diffi'] * 1e6:.0f} µs, ratio {typical['diffi'] / typical['numpy']:.2f}")
    print(f"final loss: NumPy {n['loss']:.6f}, diffi {d['loss']:.6f}")
    print(f"peak memory (max RSS): NumPy {n['peak_kib'] / 1024:.0f} MiB, diffi "
          f"{d['peak_kib'] / 1024:.0f} MiB, ratio {d['peak_kib'] / n['peak_kib']:.2f} "
          f"(target <= {TARGET_MEMORY:g})")
    ok = fast["diffi"] / fast["numpy"] <= TARGET_TIME \
        and d["peak_kib"] / n["peak_kib"] <= TARGET_MEMORY
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
