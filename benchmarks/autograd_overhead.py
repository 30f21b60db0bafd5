"""Autograd overhead: distgrad against a hand-written NumPy forward/backward and PyTorch.

Prints, side by side from one run (interleaved blocks of calls, process CPU time, 1 BLAS
thread; a ratio is the median over rounds of the two blocks' ratio within a round):

(a) per-op cost of forward + backward through a chain of 1000 elementwise ops
    (mul by a leaf, add a scalar, tanh, exp) on a 16-element float32 vector;
(b) one training step of an MLP 784-512-512-10 (batch 128, float32): forward,
    cross-entropy, backward and an SGD update;
(c) peak RSS of the MLP step, each framework in a fresh process.

Run: ``python benchmarks/autograd_overhead.py`` (PyTorch is compared when importable).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

CHAIN_OPS = 1000
VECTOR = 16
BATCH, SIZES = 128, (784, 512, 512, 10)


# ----------------------------------------------------------------------- (a) op chain


def chain_numpy(x0, w):
    """Forward and backward of the chain, written by hand: the tape-free floor."""
    saved = []
    x = x0
    for _ in range(CHAIN_OPS // 4):
        c = np.tanh(x * w + 1.0)
        d = np.exp(c)
        saved.append((c, d, x))
        x = d
    g = np.ones_like(x)
    gw = np.zeros_like(w)
    for c, d, prev in reversed(saved):
        g = g * d                 # exp
        g = g * (1 - c * c)       # tanh
        gw += g * prev            # mul by w (the add passes g through)
        g = g * w
    return gw


def chain_distgrad(dg, x0, w):
    x = x0
    for _ in range(CHAIN_OPS // 4):
        x = ((x * w) + 1.0).tanh().exp()
    x.sum().backward()
    grad = w.grad
    w.grad = None
    return grad


def chain_torch(torch, x0, w):
    x = x0
    for _ in range(CHAIN_OPS // 4):
        x = ((x * w) + 1.0).tanh().exp()
    x.sum().backward()
    grad = w.grad
    w.grad = None
    return grad


# ----------------------------------------------------------------------- (b) MLP step


def mlp_params(seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    return params, x, y


def mlp_step_numpy(params, x, y, lr=0.01):
    """Forward, cross-entropy, backward and SGD with exactly the needed matmuls."""
    w1, b1, w2, b2, w3, b3 = params
    h1 = np.maximum(x @ w1.T + b1, 0)
    h2 = np.maximum(h1 @ w2.T + b2, 0)
    logits = h2 @ w3.T + b3
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sums = exp.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(sums[:, 0]) - shifted[np.arange(len(y)), y]))
    g3 = exp / sums
    g3[np.arange(len(y)), y] -= 1
    g3 /= len(y)
    gw3, gb3 = g3.T @ h2, g3.sum(0)
    g2 = (g3 @ w3) * (h2 > 0)
    gw2, gb2 = g2.T @ h1, g2.sum(0)
    g1 = (g2 @ w2) * (h1 > 0)
    gw1, gb1 = g1.T @ x, g1.sum(0)
    for p, g in zip(params, (gw1, gb1, gw2, gb2, gw3, gb3)):
        p -= lr * g
    return loss


def mlp_autograd(lib, params, x, y):
    """The same step for ``lib`` = distgrad or torch: one source, as ``import distgrad as
    torch`` promises; SGD is written out on the raw tensors under ``no_grad``."""
    ws = [lib.tensor(p, requires_grad=True) for p in params]
    xt, yt = lib.from_numpy(x), lib.from_numpy(y)
    cross_entropy = lib.nn.functional.cross_entropy

    def step(lr=0.01):
        w1, b1, w2, b2, w3, b3 = ws
        h1 = (xt @ w1.T + b1).relu()
        h2 = (h1 @ w2.T + b2).relu()
        logits = h2 @ w3.T + b3
        loss = cross_entropy(logits, yt)
        loss.backward()
        with lib.no_grad():
            for p in ws:
                p -= lr * p.grad
                p.grad = None
        return float(loss.detach())
    return step


# ------------------------------------------------------------------------- harness


def _timed(fn, reps):
    # Process CPU time, over a block of calls: steadier than wall time on a shared virtual
    # machine, whose host may pause the process (the work is single-threaded).
    start = time.process_time()
    for _ in range(reps):
        fn()
    return (time.process_time() - start) / reps


def _interleaved(candidates: dict, rounds: int, reps: int) -> dict:
    """Time a block of ``reps`` calls of each candidate per round, the order reversed every
    other round; return each candidate's time per call in every round."""
    samples = {name: [] for name in candidates}
    names = list(candidates)
    for fn in candidates.values():
        fn()  # warm up
    for i in range(rounds):
        for name in names if i % 2 == 0 else reversed(names):
            samples[name].append(_timed(candidates[name], reps))
    return samples


def _ratio(samples: dict, name: str, base: str) -> float:
    """The median over rounds of ``name``'s time over ``base``'s in the same round: a slow
    spell of the machine hits both blocks of a round, so it cancels out of the ratio."""
    return float(np.median([t / b for t, b in zip(samples[name], samples[base], strict=True)]))


def _peak_rss_mib(which: str) -> float | None:
    proc = subprocess.run([sys.executable, __file__, "--rss-child", which],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    return float(proc.stdout.strip().splitlines()[-1])


def _rss_child(which: str) -> None:
    params, x, y = mlp_params()
    if which == "numpy":
        def step():
            return mlp_step_numpy(params, x, y)
    elif which == "distgrad":
        import distgrad
        step = mlp_autograd(distgrad, params, x, y)
    else:
        import torch
        torch.set_num_threads(1)
        step = mlp_autograd(torch, params, x, y)
    for _ in range(5):
        step()
    # VmHWM is this process's own peak (ru_maxrss would include the parent's before exec).
    with open("/proc/self/status") as status:
        peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    print(peak_kib / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        _rss_child(args.rss_child)
        return

    import distgrad
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None

    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(VECTOR).astype(np.float32)
    w0 = (rng.standard_normal(VECTOR) * 0.5).astype(np.float32)
    dx, dw = distgrad.from_numpy(x0), distgrad.tensor(w0, requires_grad=True)
    chains = {"numpy": lambda: chain_numpy(x0, w0),
              "distgrad": lambda: chain_distgrad(distgrad, dx, dw)}
    if torch is not None:
        tx, tw = torch.from_numpy(x0), torch.tensor(w0, requires_grad=True)
        chains["torch"] = lambda: chain_torch(torch, tx, tw)
    np.testing.assert_allclose(chain_distgrad(distgrad, dx, dw)._data, chain_numpy(x0, w0),
                               rtol=1e-4)
    chain = _interleaved(chains, args.rounds, 5)

    params, x, y = mlp_params()
    np_params = [p.copy() for p in params]
    steps = {"numpy": lambda: mlp_step_numpy(np_params, x, y)}
    steps["distgrad"] = mlp_autograd(distgrad, [p.copy() for p in params], x, y)
    if torch is not None:
        steps["torch"] = mlp_autograd(torch, [p.copy() for p in params], x, y)
    first = {name: step() for name, step in steps.items()}  # the same loss: the same maths
    for name, loss in first.items():
        assert abs(loss - first["numpy"]) < 1e-4 * abs(first["numpy"]), (name, loss, first)
    mlp = _interleaved(steps, args.rounds, 10)

    print(f"(a) chain of {CHAIN_OPS} elementwise ops on {VECTOR} float32, forward + backward")
    for name, t in chain.items():
        print(f"    {name:9s} {np.median(t) / CHAIN_OPS * 1e6:7.2f} us/op")
    print(f"    distgrad / numpy = {_ratio(chain, 'distgrad', 'numpy'):.2f}x", end="")
    if "torch" in chain:
        print(f"   distgrad / torch = {_ratio(chain, 'distgrad', 'torch'):.2f}x (target <= 0.6)")
    else:
        print()
    print(f"(b) MLP {'-'.join(map(str, SIZES))} step, batch {BATCH}, float32, 1 thread")
    for name, t in mlp.items():
        print(f"    {name:9s} {np.median(t) * 1e3:7.2f} ms/step")
    print(f"    distgrad / numpy = {_ratio(mlp, 'distgrad', 'numpy'):.3f}x (target <= 1.05)",
          end="")
    if "torch" in mlp:
        print(f"   torch / numpy = {_ratio(mlp, 'torch', 'numpy'):.3f}x")
    else:
        print()
    print("    (times: the median round; ratios: the median over rounds of the ratio within a "
          "round)")
    print("(c) peak RSS of the MLP step (fresh process each)")
    for name in ["numpy", "distgrad"] + (["torch"] if torch is not None else []):
        rss = _peak_rss_mib(name)
        print(f"    {name:9s} {rss:7.1f} MiB" if rss is not None else f"    {name:9s} failed")


if __name__ == "__main__":
    main()
