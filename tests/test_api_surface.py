"""The names PyTorch code calls are where it calls them: ``distgrad.<name>`` at the top level
and ``Tensor.<name>`` as methods, for the functions added in batches (each batch's behaviour
is tested in its own file)."""

import pytest

import distgrad

TOP_LEVEL = """
    narrow movedim moveaxis swapaxes swapdims tensor_split hsplit vsplit dsplit broadcast_to
    broadcast_tensors atleast_1d atleast_2d atleast_3d hstack vstack dstack column_stack
    row_stack rot90 take_along_dim take block_diag cartesian_prod combinations
    scatter_reduce index_add index_copy index_fill masked_scatter index_put index_put_ put
    select_scatter slice_scatter diagonal_scatter
    lu lu_solve lu_unpack matrix_exp vander orgqr
    addbmm addmm addmv addmv_ addr aminmax baddbmm cdist chain_matmul copysign corrcoef
    count_nonzero cov deg2rad deg2rad_ diff float_power fmod gradient heaviside histc logit
    logit_ nan_to_num nan_to_num_ nanmean nansum nextafter rad2deg rad2deg_ renorm signbit
    std_mean tensordot var_mean logdet
""".split()

LINALG = """
    householder_product inv_ex lstsq lu lu_factor lu_factor_ex lu_solve matrix_exp solve_ex
    tensorinv tensorsolve vander
""".split()

METHODS = """
    narrow movedim moveaxis swapaxes swapdims tensor_split hsplit vsplit dsplit broadcast_to
    rot90 take_along_dim take unfold
    scatter_reduce scatter_reduce_ index_add index_add_ index_copy index_copy_ index_fill
    index_fill_ masked_scatter masked_scatter_ index_put index_put_ put put_ select_scatter
    slice_scatter diagonal_scatter
    lu lu_solve matrix_exp orgqr
    addmm addmm_ addbmm addbmm_ baddbmm baddbmm_ addmv addmv_ addr addr_ nan_to_num
    nan_to_num_ renorm renorm_ heaviside heaviside_ copysign copysign_ nextafter nextafter_
    fmod fmod_ float_power float_power_ logit logit_ deg2rad deg2rad_ rad2deg rad2deg_
    nanmean nansum histc cov corrcoef diff count_nonzero aminmax signbit logdet
""".split()


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level(name):
    assert callable(getattr(distgrad, name))


@pytest.mark.parametrize("name", LINALG)
def test_linalg(name):
    assert callable(getattr(distgrad.linalg, name))


@pytest.mark.parametrize("name", METHODS)
def test_method(name):
    assert callable(getattr(distgrad.Tensor, name))


def test_methods_pass_self_through():
    x = distgrad.arange(12.0).reshape(3, 4)
    assert x.narrow(1, 1, 2).tolist() == [[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]]
    assert x.unfold(1, 2, 2).shape == (3, 2, 2)
    assert x.moveaxis(0, 1).shape == (4, 3)
    assert x.index_fill(1, distgrad.tensor([0]), -1.0)[:, 0].tolist() == [-1.0] * 3
    z = distgrad.zeros(4)
    assert z.put_(distgrad.tensor([1, 1]), distgrad.tensor([2.0, 3.0]),
                  accumulate=True).tolist() == [0.0, 5.0, 0.0, 0.0]
    assert x.addmm(distgrad.ones(3, 2), distgrad.ones(2, 4), beta=0).tolist() == [[2.0] * 4] * 3
    assert x.fmod(5)[0].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert x.aminmax(dim=1).max.tolist() == [3.0, 7.0, 11.0]
