"""``distgrad.autograd.functional`` against literals recorded from PyTorch 2.13: values,
the tuple structure of the results, create_graph, strict mode and the forward-mode strategy."""

from __future__ import annotations

import numpy as np
import pytest

import distgrad as dg
from distgrad.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp


def t(a, requires_grad=False):
    return dg.tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)


def close(x, expected):
    if isinstance(expected, tuple):
        assert isinstance(x, tuple) and len(x) == len(expected)
        for a, b in zip(x, expected):
            close(a, b)
        return
    assert not isinstance(x, tuple)
    np.testing.assert_allclose(x.detach().numpy(), np.array(expected), atol=1e-9, rtol=1e-9)


X = [0.5, -1.0, 2.0]
Y = [1.5, 0.25]
V = ([1.0, 0.0, -1.0], [0.5, 2.0])


def f(a):
    return (a ** 2).sin()


def g(a, b):
    return a[:2] * b, (a.sum() * b).exp()


def h(a, b):
    return (a.sin() * a.sum()).sum() + (b ** 3).sum() * a[0]


JAC_F = [[0.9689124217, 0.0, 0.0], [0.0, -1.0806046117, 0.0], [0.0, 0.0, -2.6145744835]]
JAC_G = (([[1.5, 0.0, 0.0], [0.0, 0.25, 0.0]], [[0.5, 0.0], [0.0, -1.0]]),
         ([[14.2316037545, 14.2316037545, 14.2316037545],
           [0.3637478537, 0.3637478537, 0.3637478537]],
          [[14.2316037545, 0.0], [0.0, 2.1824871219]]))
HESS_XX = [[1.0360268159, 1.4178848678, 0.4614357253],
           [1.4178848678, 2.3428110889, 0.1241554693],
           [0.4614357253, 0.1241554693, -2.1962398133]]
HESS_H = ((HESS_XX, [[6.75, 0.1875], [0.0, 0.0], [0.0, 0.0]]),
          ([[6.75, 0.0, 0.0], [0.1875, 0.0, 0.0]], [[4.5, 0.0], [0.0, 0.75]]))
HVP_H = ([4.3245910905, 1.2937293984, 2.6576755387], [9.0, 1.6875])


def test_jacobian_structures():
    close(jacobian(f, t(X)), JAC_F)
    close(jacobian(g, (t(X), t(Y))), JAC_G)
    close(jacobian(lambda a: g(a, t(Y)), t(X)), (JAC_G[0][0], JAC_G[1][0]))
    close(jacobian(lambda b: g(t(X), b)[1], (t(Y),)), (JAC_G[1][1],))
    jac = jacobian(lambda a: a.sum(), t(np.ones((2, 3))))
    assert jac.shape == (2, 3)


def test_jacobian_forward_mode():
    close(jacobian(f, t(X), strategy="forward-mode", vectorize=True), JAC_F)
    close(jacobian(g, (t(X), t(Y)), strategy="forward-mode", vectorize=True), JAC_G)
    with pytest.raises(NotImplementedError, match="vectorize=True"):
        jacobian(f, t(X), strategy="forward-mode")
    with pytest.raises(ValueError, match="strategy"):
        jacobian(f, t(X), strategy="sideways")


def test_hessian():
    close(hessian(h, (t(X), t(Y))), HESS_H)
    close(hessian(lambda a: h(a, t(Y)), t(X)), HESS_XX)
    with pytest.raises(RuntimeError, match="single element"):
        hessian(f, t(X))


def test_products():
    out, grads = vjp(g, (t(X), t(Y)), (t([1.0, -2.0]), t([0.5, 0.5])))
    close(grads, ([8.7976758041, 6.7976758041, 7.2976758041], [7.6158018773, 3.091243561]))
    assert isinstance(out, tuple) and len(out) == 2
    out, tangents = jvp(g, (t(X), t(Y)), (t(V[0]), t(V[1])))
    close(tangents, ([1.75, -2.0], [7.1158018773, 4.3649742439]))
    value, product = vhp(h, (t(X), t(Y)), (t(V[0]), t(V[1])))
    close(value, 2.5161904709)
    close(product, HVP_H)
    close(hvp(h, (t(X), t(Y)), (t(V[0]), t(V[1])))[1], HVP_H)
    # A single tensor in, a single tensor out; v may be omitted for one-element outputs.
    _, grad = vjp(lambda a: (a ** 2).sum(), t(X))
    close(grad, [1.0, -2.0, 4.0])
    _, tangent = jvp(lambda a: a.exp(), t(0.5))
    close(tangent, np.exp(0.5))


def test_create_graph():
    x = t(X, True)
    for result in (jacobian(f, x), vjp(f, x, t(X))[1], hessian(lambda a: h(a, t(Y)), x)):
        assert not result.requires_grad
    jac = jacobian(lambda a: (a.exp() * a).sum(), x, create_graph=True)
    assert jac.requires_grad
    (second,) = dg.autograd.grad(jac.sum(), x)
    xs = np.array(X)
    close(second, np.exp(xs) * (xs + 2))   # d/dx of (x + 1) e^x
    assert hvp(lambda a: (a ** 3).sum(), x, t(X), create_graph=True)[1].requires_grad


def test_strict_and_errors():
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is "
                                           "independent of input 1"):
        jacobian(lambda a, b: a * 2, (t(X), t(Y)), strict=True)
    close(jacobian(lambda a, b: a * 2, (t(X), t(Y)))[1], np.zeros((3, 2)))
    with pytest.raises(RuntimeError, match="v can only be None"):
        vjp(f, t(X))
    with pytest.raises(RuntimeError, match="invalid size"):
        jvp(f, t(X), (t(Y),))
    with pytest.raises(TypeError, match="Tensor"):
        jacobian(f, [1.0, 2.0])
