"""PyTorch's own autograd tutorials, ported by changing the import, with their known answers.

From "Autograd: automatic differentiation" (the 60-minute blitz), "A gentle introduction to
torch.autograd", "Automatic differentiation with torch.autograd", "Learning PyTorch with
examples" (the polynomial fit of sin(x)) and the torch.func jvp/vjp/grad docs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import distgrad as torch
from distgrad import func


def values(t):
    return t.detach().numpy()


# ------------------------------------------------------------ the 60-minute blitz


def test_blitz_mean_of_y_squared():
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    assert type(y.grad_fn).__name__ == "AddBackward0"
    z = y * y * 3
    out = z.mean()
    assert type(z.grad_fn).__name__ == "MulBackward0"
    assert type(out.grad_fn).__name__ == "MeanBackward0"
    assert out.item() == 27.0
    out.backward()
    np.testing.assert_allclose(values(x.grad), np.full((2, 2), 4.5))


def test_blitz_requires_grad_():
    a = torch.randn(2, 2)
    a = (a * 3) / (a - 1)
    assert a.requires_grad is False
    a.requires_grad_(True)
    assert a.requires_grad is True
    b = (a * a).sum()
    assert type(b.grad_fn).__name__ == "SumBackward0"


def test_blitz_vector_jacobian_product():
    torch.manual_seed(0)
    x = torch.randn(3, requires_grad=True)
    y = x * 2
    doublings = 1
    while y.data.norm() < 1000:
        y = y * 2
        doublings += 1
    v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
    y.backward(v)
    np.testing.assert_allclose(values(x.grad), values(v) * 2.0 ** doublings, rtol=1e-6)


def test_blitz_no_grad_and_detach():
    x = torch.randn(3, requires_grad=True)
    assert x.requires_grad
    assert (x ** 2).requires_grad
    with torch.no_grad():
        assert not (x ** 2).requires_grad
    y = x.detach()
    assert not y.requires_grad
    assert x.eq(y).all()


def test_control_flow_builds_the_graph_that_ran():
    def f(x):
        y = x * 2
        steps = 0
        while y.abs().sum() < 100:
            y = y * 3
            steps += 1
        if y.sum() > 0:
            out = y.sum()
        else:
            out = -y.sum()
        return out, steps

    x = torch.tensor([0.5, 1.0], requires_grad=True)
    out, steps = f(x)
    out.backward()
    np.testing.assert_allclose(values(x.grad), [2 * 3.0 ** steps] * 2)

    x = torch.tensor([-0.5, -1.0], requires_grad=True)
    out, steps = f(x)
    out.backward()
    np.testing.assert_allclose(values(x.grad), [-2 * 3.0 ** steps] * 2)


# ----------------------------------------------- "A gentle introduction to autograd"


def test_gentle_introduction_q():
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    b = torch.tensor([6.0, 4.0], requires_grad=True)
    Q = 3 * a ** 3 - b ** 2
    external_grad = torch.tensor([1.0, 1.0])
    Q.backward(gradient=external_grad)
    assert (9 * a ** 2 == a.grad).all()
    assert (-2 * b == b.grad).all()


def test_gentle_introduction_frozen_parameters():
    x = torch.rand(5, 5)
    y = torch.rand(5, 5)
    z = torch.rand((5, 5), requires_grad=True)
    a = x + y
    assert not a.requires_grad
    b = x + z
    assert b.requires_grad


# --------------------------------------- "Automatic differentiation with torch.autograd"


def test_autograd_tutorial_single_layer():
    torch.manual_seed(0)
    x = torch.ones(5)
    y = torch.zeros(3)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    # binary_cross_entropy_with_logits(z, y), written out: mean(softplus(z) - z*y)
    loss = (torch.clamp(z, min=0) - z * y + torch.log(1 + torch.exp(-z.abs()))).mean()
    assert type(z.grad_fn).__name__ == "AddBackward0"
    loss.backward()
    p = 1 / (1 + np.exp(-values(z)))
    np.testing.assert_allclose(values(b.grad), (p - values(y)) / 3, rtol=1e-5)
    np.testing.assert_allclose(values(w.grad), np.outer(values(x), (p - values(y)) / 3),
                               rtol=1e-5)
    assert z.requires_grad
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    assert not z.requires_grad
    z = torch.matmul(x, w) + b
    assert not z.detach().requires_grad


def test_autograd_tutorial_jacobian_products():
    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(torch.ones_like(out), retain_graph=True)
    first = 2 * (np.eye(4, 5) + 1)
    np.testing.assert_allclose(values(inp.grad), first)  # [[4, 2, 2, 2, 2], [2, 4, ...]]
    out.backward(torch.ones_like(out), retain_graph=True)
    np.testing.assert_allclose(values(inp.grad), 2 * first)
    inp.grad.zero_()
    out.backward(torch.ones_like(out), retain_graph=True)
    np.testing.assert_allclose(values(inp.grad), first)


# ----------------------------------------------- "Learning PyTorch with examples"


def test_polynomial_fit_of_sin_with_autograd():
    torch.manual_seed(0)
    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a = torch.randn((), dtype=dtype, requires_grad=True)
    b = torch.randn((), dtype=dtype, requires_grad=True)
    c = torch.randn((), dtype=dtype, requires_grad=True)
    d = torch.randn((), dtype=dtype, requires_grad=True)
    assert a.shape == ()

    learning_rate = 1e-6
    losses = []
    for _ in range(2000):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None

    assert all(t.is_leaf and t.requires_grad for t in (a, b, c, d))
    assert losses[-1] < 20 < losses[0]  # the tutorial ends near 9
    assert losses[-1] <= min(losses[:100])
    # The fit approaches sin(x) ~ x - x^3/6 on [-pi, pi]: b > 0 and d < 0.
    assert b.item() > 0.5 and d.item() < 0


class LegendrePolynomial3(torch.autograd.Function):
    """P3(x) = (5x^3 - 3x) / 2, from "PyTorch: Defining new autograd Functions"."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def test_polynomial_fit_with_a_custom_function():
    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, dtype=dtype, requires_grad=True)

    learning_rate = 5e-6
    losses = []
    for _ in range(2000):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad = None

    assert losses[-1] < 20 < losses[0]  # the tutorial ends near 9
    assert losses[-1] < losses[len(losses) // 2] < losses[0]


def test_custom_function_gradient_matches_finite_differences():
    x = torch.tensor([-1.2, 0.1, 0.8], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(LegendrePolynomial3.apply, (x,))


# ------------------------------------------------------------- torch.func transforms


def f_elementwise(x):
    return torch.sin(x) * x ** 2


def f_elementwise_derivative(x):
    return np.cos(x) * x ** 2 + 2 * x * np.sin(x)


A = np.array([[1.0, -2.0, 0.5], [0.3, 0.0, 2.0]])


def f_mixing(x):
    """R^3 -> R^2 with a dense Jacobian: A tanh(x) + sum(x) * x[:2]."""
    return torch.tensor(A) @ torch.tanh(x) + x.sum() * x[:2]


def f_mixing_jacobian(x):
    jac = A * (1 - np.tanh(x) ** 2)
    jac += np.outer(x[:2], np.ones(3))
    jac[:, :2] += x.sum() * np.eye(2)
    return jac


X0 = np.array([0.3, -1.1, 0.7])


class TestFunc:
    def test_jvp_of_sin_is_cos(self):
        x, v = torch.tensor(X0), torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64)
        out, tangent = func.jvp(torch.sin, (x,), (v,))
        np.testing.assert_allclose(values(out), np.sin(X0))
        np.testing.assert_allclose(values(tangent), np.cos(X0) * values(v))

    def test_jvp_and_vjp_match_hand_derivatives(self):
        x = torch.tensor(X0)
        v = np.array([0.5, -1.0, 2.0])
        _, jv = func.jvp(f_elementwise, (x,), (torch.tensor(v),))
        np.testing.assert_allclose(values(jv), f_elementwise_derivative(X0) * v)
        out, vjp_fn = func.vjp(f_elementwise, x)
        np.testing.assert_allclose(values(out), np.sin(X0) * X0 ** 2)
        (vj,) = vjp_fn(torch.tensor(v))
        np.testing.assert_allclose(values(vj), f_elementwise_derivative(X0) * v)

    def test_forward_and_reverse_agree_on_a_dense_jacobian(self):
        x = torch.tensor(X0)
        jac = f_mixing_jacobian(X0)
        rng = np.random.default_rng(0)
        for _ in range(3):
            v, u = rng.standard_normal(3), rng.standard_normal(2)
            _, jv = func.jvp(f_mixing, (x,), (torch.tensor(v),))
            _, vjp_fn = func.vjp(f_mixing, x)
            (ju,) = vjp_fn(torch.tensor(u))
            np.testing.assert_allclose(values(jv), jac @ v)
            np.testing.assert_allclose(values(ju), jac.T @ u)
            assert float(u @ values(jv)) == pytest.approx(float(values(ju) @ v))

    def test_jvp_of_several_inputs(self):
        x, y = torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([0.5, -0.5],
                                                                          dtype=torch.float64)
        tx, ty = torch.tensor([1.0, 0.0], dtype=torch.float64), torch.tensor([0.0, 1.0],
                                                                            dtype=torch.float64)
        out, tangent = func.jvp(lambda a, b: a * b + b.exp(), (x, y), (tx, ty))
        xv, yv = values(x), values(y)
        np.testing.assert_allclose(values(out), xv * yv + np.exp(yv))
        expected = yv * values(tx) + (xv + np.exp(yv)) * values(ty)
        np.testing.assert_allclose(values(tangent), expected)

    def test_grad_of_grad_of_sin(self):
        x = torch.tensor(0.7, dtype=torch.float64)
        assert func.grad(torch.sin)(x).item() == pytest.approx(math.cos(0.7))
        assert func.grad(func.grad(torch.sin))(x).item() == pytest.approx(-math.sin(0.7))
        third = func.grad(func.grad(func.grad(torch.sin)))(x).item()
        assert third == pytest.approx(-math.cos(0.7))

    def test_grad_matches_vjp_and_leaves_inputs_alone(self):
        x = torch.tensor(X0)
        g = func.grad(lambda t: f_mixing(t).sum())(x)
        np.testing.assert_allclose(values(g), f_mixing_jacobian(X0).sum(0))
        assert not x.requires_grad and x.grad is None

    def test_grad_argnums(self):
        def loss(w, b, x):
            return ((x @ w + b) ** 2).sum()

        w = torch.tensor([[1.0], [2.0]], dtype=torch.float64)
        b = torch.tensor([0.5], dtype=torch.float64)
        x = torch.tensor([[1.0, -1.0], [2.0, 0.5]], dtype=torch.float64)
        gw, gb = func.grad(loss, argnums=(0, 1))(w, b, x)
        r = values(x) @ values(w) + values(b)
        np.testing.assert_allclose(values(gw), values(x).T @ (2 * r))
        np.testing.assert_allclose(values(gb), (2 * r).sum(0))
