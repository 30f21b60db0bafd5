"""Fit a thermometer's calibration: ``t_c = w * t_u + b``, by gradient descent.

The classic warm-up: eleven readings in Celsius (``t_c``) and in unknown units (``t_u``).
The inputs are scaled (``t_un = 0.1 * t_u``) so that one learning rate suits both
parameters. The fit is written twice: first with a manual update, where each step builds
a fresh leaf tensor, then with ``optim.SGD``, where the gradients must be zeroed between
steps because ``backward()`` accumulates them.

    python examples/thermometer.py --epochs 5000 --lr 1e-2
"""

from __future__ import annotations

import argparse

import distgrad as torch
import distgrad.optim as optim

T_C = [0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0]
T_U = [35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4]


def model(t_u, w, b):
    return w * t_u + b


def loss_fn(t_p, t_c):
    squared_diffs = (t_p - t_c) ** 2
    return squared_diffs.mean()


def training_loop_manual(n_epochs, learning_rate, params, t_u, t_c, print_every):
    """Update ``params`` by hand: a new leaf each step, so no gradient ever accumulates."""
    for epoch in range(1, n_epochs + 1):
        t_p = model(t_u, *params)
        loss = loss_fn(t_p, t_c)
        loss.backward()
        params = (params - learning_rate * params.grad).detach().requires_grad_()
        if epoch % print_every == 0:
            print(f"Epoch {epoch}, Loss {float(loss):f}")
    return params, float(loss)


def training_loop_optim(n_epochs, optimizer, params, t_u, t_c, print_every):
    """Let ``optimizer`` update ``params`` in place; zero the gradients before each backward."""
    for epoch in range(1, n_epochs + 1):
        t_p = model(t_u, *params)
        loss = loss_fn(t_p, t_c)
        optimizer.zero_grad()  # backward() adds into .grad: without this, steps would mix
        loss.backward()
        optimizer.step()
        if epoch % print_every == 0:
            print(f"Epoch {epoch}, Loss {float(loss):f}")
    return params, float(loss)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5000, help="epochs of each loop")
    parser.add_argument("--lr", type=float, default=1e-2, help="learning rate")
    parser.add_argument("--print-every", type=int, default=500, help="print the loss every N "
                        "epochs")
    args = parser.parse_args(argv)

    t_c = torch.tensor(T_C)
    t_un = 0.1 * torch.tensor(T_U)

    print("== manual update: params = (params - lr * params.grad).detach().requires_grad_()")
    params = torch.tensor([1.0, 0.0], requires_grad=True)
    params, loss = training_loop_manual(args.epochs, args.lr, params, t_un, t_c,
                                        args.print_every)
    print(f"final: loss={loss:.6f} w={params[0].item():.4f} b={params[1].item():.4f}")

    print("== optim.SGD: optimizer.zero_grad(); loss.backward(); optimizer.step()")
    params = torch.tensor([1.0, 0.0], requires_grad=True)
    optimizer = optim.SGD([params], lr=args.lr)
    params, loss = training_loop_optim(args.epochs, optimizer, params, t_un, t_c,
                                       args.print_every)
    print(f"final: loss={loss:.6f} w={params[0].item():.4f} b={params[1].item():.4f}")


if __name__ == "__main__":
    main()
