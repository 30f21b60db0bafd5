"""Forward-mode AD: every op of the gradcheck table, pushed forward with dual tensors, against
central differences along the same tangent direction; and ``func.jvp`` against reverse mode."""

import numpy as np
import pytest
from test_ops_gradcheck import CASES, NN_CASES

import distgrad as dg
from distgrad import func
from distgrad.autograd import forward_ad

EPS = 1e-6
CORE_CASES = [c for c in CASES if c not in NN_CASES]  # the core op families all have rules


def _inputs_and_tangents(case):
    inputs, rng = case.make_inputs()
    tangents = [rng.standard_normal(x.shape) if isinstance(x, dg.Tensor) and x.requires_grad
                else None for x in inputs]
    return [x.detach() if isinstance(x, dg.Tensor) else x for x in inputs], tangents


def _outputs(result):
    outs = result if isinstance(result, tuple) else (result,)
    return [o for o in outs if isinstance(o, dg.Tensor) and o.dtype == dg.float64]


def _numerical_directional(case, inputs, tangents):
    def shifted(sign):
        args = [dg.tensor(x.numpy() + sign * EPS * t) if t is not None else x
                for x, t in zip(inputs, tangents)]
        return [o.numpy().copy() for o in _outputs(case.fn(*args))]
    return [(p - m) / (2 * EPS) for p, m in zip(shifted(+1), shifted(-1))]


@pytest.mark.parametrize("c", CORE_CASES, ids=[c.name for c in CORE_CASES])
def test_forward_mode_matches_finite_differences(c):
    inputs, tangents = _inputs_and_tangents(c)
    expected = _numerical_directional(c, inputs, tangents)
    with forward_ad.dual_level():
        args = [forward_ad.make_dual(x, t) if t is not None else x
                for x, t in zip(inputs, tangents)]
        outs = _outputs(c.fn(*args))
        got = [forward_ad.unpack_dual(o).tangent for o in outs]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g is not None, "the output carries no tangent"
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-4, atol=1e-6)


def test_forward_mode_records_no_graph_and_clears_tangents():
    x = dg.tensor([0.5, 1.5], dtype=dg.float64)
    with forward_ad.dual_level():
        d = forward_ad.make_dual(x, dg.ones(2, dtype=dg.float64))
        y = d.exp() * d
        assert y.grad_fn is None
        np.testing.assert_allclose(forward_ad.unpack_dual(y).tangent.numpy(),
                                   np.exp([0.5, 1.5]) * (1 + np.array([0.5, 1.5])))
    assert forward_ad.unpack_dual(y).tangent is None
    assert forward_ad.unpack_dual(d).tangent is None


def test_make_dual_errors():
    x = dg.ones(3, dtype=dg.float64)
    with pytest.raises(RuntimeError, match="dual_level"):
        forward_ad.make_dual(x, dg.ones(3))
    with forward_ad.dual_level(), pytest.raises(RuntimeError, match=r"shape \[3\]"):
        forward_ad.make_dual(x, dg.ones(2))


def test_func_jvp_is_forward_mode_and_agrees_with_vjp():
    rng = np.random.default_rng(0)
    x = dg.tensor(rng.standard_normal(4))
    w = dg.tensor(rng.standard_normal((3, 4)))
    t = dg.tensor(rng.standard_normal(4))

    def f(v):
        return (w @ v).tanh().softmax(0)

    out, jvp_out = func.jvp(f, (x,), (t,))
    _, vjp_fn = func.vjp(f, x)
    # <u, J t> == <J^T u, t> for every u: compare on the basis vectors.
    jacobian_t = np.array([float((vjp_fn(dg.tensor(np.eye(3)[i]))[0] * t).sum())
                           for i in range(3)])
    np.testing.assert_allclose(jvp_out.numpy(), jacobian_t, rtol=1e-10)
    np.testing.assert_allclose(out.numpy(), f(x).numpy())
