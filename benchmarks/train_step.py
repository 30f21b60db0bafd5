"""Time one training step: distgrad ``nn`` + ``optim`` against a hand-written NumPy step and
(when installed) PyTorch, all on one BLAS thread.

(a) MLP 784-512-512-10, batch 128, float32: ``nn.Linear``, ``nn.CrossEntropyLoss`` and
    ``optim.SGD(momentum=0.9)``. The NumPy floor does the same maths by hand (same matmuls,
    same in-place momentum update) with no autograd; the target is distgrad/NumPy <= 1.05.
(b) A small CNN on 8x8 single-channel input, batch 64:
    conv(1->16, 3, pad 1)-relu-maxpool 2-conv(16->32, 3, pad 1)-relu-maxpool 2-flatten-
    linear(128->10), distgrad and PyTorch.
(c) An LSTM(32, 64, num_layers=2) over a (50, 16, 32) sequence (time, batch, features), a
    linear head on the last step, cross-entropy and SGD: distgrad and PyTorch, one source.

Implementations run interleaved (one timed block of steps each per round, the order reversed
every other round). Times are the median block; a ratio is the median over rounds of the
two blocks' ratio within a round, so that drifts in machine speed cancel out of it.

    python benchmarks/train_step.py                  # with /work/venv: no torch column
    /path/to/torch-venv/bin/python benchmarks/train_step.py   # adds PyTorch
    python benchmarks/train_step.py --profile        # cProfile of the distgrad MLP step
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy (and its BLAS) is imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import distgrad  # noqa: E402
import distgrad.nn as nn  # noqa: E402

try:
    import distgrad.optim as optim
except ImportError:  # optim not there yet: a hand-written in-place SGD stands in
    optim = None

try:
    import torch
except ImportError:
    torch = None

LR, MOMENTUM = 0.01, 0.9


# ----------------------------------------------------------------------------- MLP


def make_mlp_data(batch, rng):
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=batch).astype(np.int64)
    return x, y


class _PlainSGD:
    """In-place SGD with momentum on distgrad parameters, for when optim is missing."""

    def __init__(self, params, lr, momentum):
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.bufs = [None] * len(self.params)

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        for i, p in enumerate(self.params):
            g = p.grad._data
            if self.bufs[i] is None:
                self.bufs[i] = g.copy()
            else:
                self.bufs[i] *= self.momentum
                self.bufs[i] += g
            p._data -= self.lr * self.bufs[i]


def distgrad_mlp(x, y):
    distgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = (optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM) if optim is not None
           else _PlainSGD(model.parameters(), LR, MOMENTUM))
    xt, yt = distgrad.from_numpy(x), distgrad.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    weights = [p.detach().numpy().copy() for p in model.parameters()]
    return step, weights


def numpy_mlp(x, y, weights):
    """The floor: the same step written directly in NumPy."""
    w1, b1, w2, b2, w3, b3 = (w.copy() for w in weights)
    params = [w1, b1, w2, b2, w3, b3]
    bufs = [None] * 6
    rows = np.arange(len(y))

    def step():
        h1 = x @ w1.T + b1
        a1 = np.maximum(h1, 0)
        h2 = a1 @ w2.T + b2
        a2 = np.maximum(h2, 0)
        logits = a2 @ w3.T + b3
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        sums = e.sum(axis=1, keepdims=True)
        loss = -(shifted[rows, y] - np.log(sums[:, 0])).mean()
        g = e / sums
        g[rows, y] -= 1
        g /= len(y)
        gw3, gb3 = g.T @ a2, g.sum(0)
        g = (g @ w3) * (a2 > 0)
        gw2, gb2 = g.T @ a1, g.sum(0)
        g = (g @ w2) * (a1 > 0)
        gw1, gb1 = g.T @ x, g.sum(0)
        for i, grad in enumerate((gw1, gb1, gw2, gb2, gw3, gb3)):
            if bufs[i] is None:
                bufs[i] = grad.copy()
            else:
                bufs[i] *= MOMENTUM
                bufs[i] += grad
            params[i] -= LR * bufs[i]
        return loss

    return step


def torch_mlp(x, y, weights):
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 10))
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights, strict=True):
            p.copy_(torch.from_numpy(w))
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step


# ----------------------------------------------------------------------------- CNN


def distgrad_cnn(x, y):
    distgrad.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = (optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM) if optim is not None
           else _PlainSGD(model.parameters(), LR, MOMENTUM))
    xt, yt = distgrad.from_numpy(x), distgrad.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step


def torch_cnn(x, y):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(128, 10))
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step


# ---------------------------------------------------------------------------- LSTM


def lstm_step(lib, x, y):
    """(c) for ``lib`` = distgrad or torch: the same source, as ``import distgrad as torch``
    promises."""
    lib.manual_seed(0)
    lstm, head = lib.nn.LSTM(32, 64, num_layers=2), lib.nn.Linear(64, 10)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = lib.optim.SGD(params, lr=LR, momentum=MOMENTUM)
    xt, yt = lib.from_numpy(x), lib.from_numpy(y)

    def step():
        opt.zero_grad()
        output, _ = lstm(xt)
        loss = lib.nn.functional.cross_entropy(head(output[-1]), yt)
        loss.backward()
        opt.step()
        return loss

    return step


# ------------------------------------------------------------------------- timing


def interleaved(steps: dict, reps: int, block: int, warmup: int, clock) -> dict:
    """Seconds per step of each function, one timed block each per round, the order reversed
    every other round: ``{name: [seconds per step in round 0, round 1, ...]}``."""
    for fn in steps.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in steps}
    names = list(steps)
    for i in range(reps):
        for name in names if i % 2 == 0 else reversed(names):
            fn = steps[name]
            start = clock()
            for _ in range(block):
                fn()
            times[name].append((clock() - start) / block)
    return times


def paired_ratio(times: dict, name: str, base: str) -> float:
    """The median over rounds of ``name``'s time over ``base``'s in the same round: a slow
    spell of the machine hits both blocks of a round, so it cancels out of the ratio."""
    return statistics.median(t / b for t, b in zip(times[name], times[base], strict=True))


def profile_mlp(step, n: int) -> None:
    import cProfile
    import pstats

    for _ in range(5):
        step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        step()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=30, help="timed blocks per implementation")
    parser.add_argument("--block", type=int, default=5, help="steps per timed block")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--wall", action="store_true",
                        help="time with the wall clock instead of this process's CPU time "
                             "(CPU time is steadier on a shared machine)")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of the distgrad MLP step instead of timing")
    args = parser.parse_args(argv)
    use_torch = torch is not None and not args.no_torch
    if use_torch:
        torch.set_num_threads(1)
    rng = np.random.default_rng(0)

    x, y = make_mlp_data(128, rng)
    dg_step, weights = distgrad_mlp(x, y)
    if args.profile:
        profile_mlp(dg_step, 50)
        return
    steps = {"distgrad": dg_step, "numpy": numpy_mlp(x, y, weights)}
    if use_torch:
        steps["torch"] = torch_mlp(x, y, weights)
    clock = time.perf_counter if args.wall else time.process_time
    mlp = interleaved(steps, args.reps, args.block, args.warmup, clock)

    xc = rng.standard_normal((64, 1, 8, 8)).astype(np.float32)
    yc = rng.integers(0, 10, size=64).astype(np.int64)
    cnn_steps = {"distgrad": distgrad_cnn(xc, yc)}
    if use_torch:
        cnn_steps["torch"] = torch_cnn(xc, yc)
    cnn = interleaved(cnn_steps, args.reps, args.block, args.warmup, clock)

    xs = rng.standard_normal((50, 16, 32)).astype(np.float32)
    ys = rng.integers(0, 10, size=16).astype(np.int64)
    lstm_steps = {"distgrad": lstm_step(distgrad, xs, ys)}
    if use_torch:
        lstm_steps["torch"] = lstm_step(torch, xs, ys)
    lstm = interleaved(lstm_steps, max(args.reps // 3, 3), 1, 2, clock)

    print(f"one BLAS thread; {'wall' if args.wall else 'CPU'} time; median (and min) of "
          f"{args.reps} interleaved blocks of {args.block} steps; optimizer: "
          f"{'distgrad.optim.SGD' if optim else 'hand-written SGD'}")
    print(f"torch: {torch.__version__ if use_torch else 'not installed (or --no-torch)'}\n")
    print("(a) MLP 784-512-512-10, batch 128, float32, SGD(momentum=0.9)")
    print(f"    {'impl':<10}{'ms/step':>10}{'(min)':>9}{'vs numpy':>10}")
    for name, t in mlp.items():
        print(f"    {name:<10}{statistics.median(t) * 1e3:>10.3f}{min(t) * 1e3:>9.3f}"
              f"{paired_ratio(mlp, name, 'numpy'):>10.3f}")
    print(f"    distgrad / numpy = {paired_ratio(mlp, 'distgrad', 'numpy'):.3f} (target <= 1.05: "
          f"the median of the {args.reps} rounds' ratios; ratio of the medians "
          f"{statistics.median(mlp['distgrad']) / statistics.median(mlp['numpy']):.3f}, of the "
          f"minima {min(mlp['distgrad']) / min(mlp['numpy']):.3f})")
    if use_torch:
        print(f"    distgrad / torch = {paired_ratio(mlp, 'distgrad', 'torch'):.3f}")
    print("\n(b) CNN conv16-pool-conv32-pool-linear on 8x8 input, batch 64")
    print(f"    {'impl':<10}{'ms/step':>10}{'(min)':>9}")
    for name, t in cnn.items():
        print(f"    {name:<10}{statistics.median(t) * 1e3:>10.3f}{min(t) * 1e3:>9.3f}")
    if use_torch:
        print(f"    distgrad / torch = {paired_ratio(cnn, 'distgrad', 'torch'):.3f}")
    print("\n(c) LSTM(32, 64, num_layers=2) on (50, 16, 32), linear head, cross-entropy, SGD")
    print(f"    {'impl':<10}{'ms/step':>10}{'(min)':>9}")
    for name, t in lstm.items():
        print(f"    {name:<10}{statistics.median(t) * 1e3:>10.3f}{min(t) * 1e3:>9.3f}")
    if use_torch:
        print(f"    distgrad / torch = {paired_ratio(lstm, 'distgrad', 'torch'):.3f}")


if __name__ == "__main__":
    main()
