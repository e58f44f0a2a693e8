"""Time per training step of the Iris MLP: diffi's minimize against hand-written NumPy.

The network of examples/iris_mlp.dfi: inputs petal length and width plus a bias column
(D = 3), M = 16 sigmoid hidden units, C = 3 softmax outputs, mean cross-entropy,
gradient descent with rate 0.1. The NumPy reference computes the forward pass and the
hand-derived gradients dV = Z'(Ŷ−Y)/N, dW = X'((Ŷ−Y)V' ⊙ Z ⊙ (1−Z))/N.
Prints both per-step times, their ratio (target <= 1.5) and the peak memory of each
(target: diffi <= 2x NumPy), each measured in a fresh process.
Run: python bench/training.py [--steps 1000]
"""
from __future__ import annotations

import argparse
import json
import resource
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


def run_diffi(steps: int) -> dict:
    import diffi
    it = diffi.Interpreter()
    it.base_dir = str(ROOT)
    it.run(SETUP)
    it.run("minimize L(W, V) wrt W, V using gd(rate = 0.1, steps = 5)")  # warm up
    start = time.perf_counter()
    it.run(f"minimize L(W, V) wrt W, V using gd(rate = 0.1, steps = {steps})")
    seconds = time.perf_counter() - start
    return {"per_step": seconds / steps, "loss": float(it.losses[-1])}


def run_numpy(steps: int) -> dict:
    import numpy as np
    data = np.loadtxt(ROOT / "examples/data/iris.csv", delimiter=",", skiprows=1)
    X = np.hstack([data[:, 2:4], np.ones((150, 1))])
    Y = np.eye(3)[data[:, 4].astype(int)]
    rng = np.random.Generator(np.random.PCG64(0))
    W, V = rng.standard_normal((3, 16)) * 0.01, rng.standard_normal((16, 3)) * 0.01
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

    for _ in range(5):
        W, V, loss = step(W, V)
    start = time.perf_counter()
    for _ in range(steps):
        W, V, loss = step(W, V)
    return {"per_step": (time.perf_counter() - start) / steps, "loss": float(loss)}


def child(which: str, steps: int) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = (run_diffi if which == "diffi" else run_numpy)(steps)
    result["peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["growth_kib"] = result["peak_kib"] - before
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--child", choices=["diffi", "numpy"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.steps)
        return
    results = {}
    for which in ("numpy", "diffi"):
        done = subprocess.run([sys.executable, __file__, "--child", which, "--steps",
                               str(args.steps)], capture_output=True, text=True, check=True)
        results[which] = json.loads(done.stdout.strip().splitlines()[-1])
    n, d = results["numpy"], results["diffi"]
    print(f"per step: NumPy {n['per_step'] * 1e6:.0f} µs, diffi {d['per_step'] * 1e6:.0f} µs, "
          f"ratio {d['per_step'] / n['per_step']:.2f} (target <= 1.5)")
    print(f"final loss: NumPy {n['loss']:.6f}, diffi {d['loss']:.6f}")
    print(f"peak memory (max RSS): NumPy {n['peak_kib'] / 1024:.0f} MiB, diffi "
          f"{d['peak_kib'] / 1024:.0f} MiB, ratio {d['peak_kib'] / n['peak_kib']:.2f} "
          f"(target <= 2)")


if __name__ == "__main__":
    main()
