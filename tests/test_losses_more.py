"""The losses and distances of ``distgrad.nn.losses_more``: values and gradients against
literals recorded from PyTorch 2.13 (float64), gradcheck, the module forms, and errors."""

import warnings

import numpy as np
import pytest

import distgrad
import distgrad.nn as nn
import distgrad.nn.functional as F
from distgrad.autograd import gradcheck

# Inputs: literal 3x4 arrays; X[0, 0] - Y[0, 0] == 1 (smooth_l1/huber boundary), X[1, 1] == Y[1, 1].
X = [[1.5, -0.3, 0.8, -1.2], [0.4, 0.7, -0.9, 2.1], [-0.6, 1.3, 0.2, -0.1]]
Y = [[0.5, 0.2, -0.4, -1.0], [1.1, 0.7, 0.3, 0.6], [0.9, -0.8, 0.5, 0.4]]
Z = [[-0.2, 0.9, 1.4, 0.3], [0.8, -1.5, 0.1, 1.0], [0.3, 0.6, -1.1, 0.7]]
POS = [[0.5, 1.2, 0.3, 2.0], [0.9, 0.1, 1.7, 0.6], [1.4, 0.8, 0.2, 1.1]]
PROB = [[0.0, 0.3, 0.5, 0.2], [0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1]]
SIGN = [[1.0, -1.0, -1.0, 1.0], [-1.0, 1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0]]
ROW_SIGN = [1.0, -1.0, -1.0]
BITS = [[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0]]
W = [[0.3, -1.1, 0.6, 2.0], [1.2, 0.4, -0.7, 0.9], [-0.5, 0.8, 1.6, -0.2]]


def _cases(F, tensor):
    """name -> (fn of the differentiable inputs, their literal values)."""
    c = lambda v: tensor(v, dtype=None)  # noqa: E731  (a constant)
    logp = [[-1.2, -0.8, -1.6, -2.0], [-1.4, -1.3, -1.5, -1.2], [-0.5, -2.2, -2.4, -2.1]]
    return {
        "smooth_l1": (lambda a, b: F.smooth_l1_loss(a, b), [X, Y]),
        "smooth_l1_beta_none": (lambda a, b: F.smooth_l1_loss(a, b, reduction="none", beta=0.5),
                                [X, Y]),
        "smooth_l1_beta0_sum": (lambda a, b: F.smooth_l1_loss(a, b, reduction="sum", beta=0.0),
                                [X, Y]),
        "huber": (lambda a, b: F.huber_loss(a, b, delta=0.7), [X, Y]),
        "huber_weight": (lambda a, b, w: F.huber_loss(a, b, weight=w), [X, Y, POS]),
        "kl_batchmean": (lambda a, b: F.kl_div(a, b, reduction="batchmean"), [logp, PROB]),
        "kl_log_target_sum": (lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True),
                              [logp, Z]),
        "margin_ranking": (lambda a, b: F.margin_ranking_loss(a, b, c(ROW_SIGN), margin=0.3),
                           [X[0][:3], Y[0][:3]]),
        "soft_margin": (lambda a: F.soft_margin_loss(a, c(SIGN)), [X]),
        "cosine_embedding": (lambda a, b: F.cosine_embedding_loss(a, b, c(ROW_SIGN), margin=0.2),
                             [X, Y]),
        "cosine_embedding_none": (lambda a, b: F.cosine_embedding_loss(
            a, b, c(ROW_SIGN), margin=-0.5, reduction="none"), [X, Y]),
        "triplet": (lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=1.5), [X, Y, Z]),
        "triplet_swap_p1": (lambda a, p, n: F.triplet_margin_loss(
            a, p, n, p=1, swap=True, reduction="none"), [X, Y, Z]),
        "poisson": (lambda a, b: F.poisson_nll_loss(a, b), [X, POS]),
        "poisson_rate_full": (lambda a, b: F.poisson_nll_loss(a, b, log_input=False, full=True,
                                                              reduction="sum"), [POS, Z]),
        "gaussian": (lambda a, b, v: F.gaussian_nll_loss(a, b, v), [X, Y, POS]),
        "gaussian_row_var_full": (lambda a, b, v: F.gaussian_nll_loss(
            a, b, v, full=True, reduction="sum"), [X, Y, [0.5, 1.5, 0.8]]),
        "gaussian_clamped": (lambda a, b, v: F.gaussian_nll_loss(a, b, v, eps=0.4), [X, Y, POS]),
        "multilabel_soft_margin": (lambda a: F.multilabel_soft_margin_loss(a, c(BITS)), [X]),
        "multilabel_weight_none": (lambda a, w: F.multilabel_soft_margin_loss(
            a, c(BITS), weight=w, reduction="none"), [X, POS[0]]),
        "hinge_embedding": (lambda a: F.hinge_embedding_loss(a, c(SIGN), margin=0.5), [X]),
        "normalize": (lambda a: (F.normalize(a) * c(W)).sum(), [X]),
        "normalize_p1_dim0": (lambda a: (F.normalize(a, p=1, dim=0) * c(W)).sum(), [X]),
        "cosine_similarity": (lambda a, b: F.cosine_similarity(a, b), [X, Y]),
        "cosine_similarity_broadcast": (lambda a, b: F.cosine_similarity(a, b, dim=-1),
                                        [X, Y[:1]]),
        "pairwise_distance": (lambda a, b: F.pairwise_distance(a, b), [X, Y]),
        "pairwise_distance_p3_keepdim": (lambda a, b: F.pairwise_distance(a, b, p=3,
                                                                          keepdim=True), [X, Y]),
    }

# Recorded from torch 2.13: the value, then the gradient of each input (of ``sum(value)``).
# NAN marks torch's nan target gradients at 0 * log(0): distgrad's are finite there.
NAN = float("nan")
EXPECTED = {'smooth_l1': (0.505,
                          [[[0.083333333333, -0.041666666667, 0.083333333333, -0.016666666667],
                            [-0.058333333333, 0.0, -0.083333333333, 0.083333333333],
                            [-0.083333333333, 0.083333333333, -0.025, -0.041666666667]],
                           [[-0.083333333333, 0.041666666667, -0.083333333333, 0.016666666667],
                            [0.058333333333, 0.0, 0.083333333333, -0.083333333333],
                            [0.083333333333, -0.083333333333, 0.025, 0.041666666667]]]),
            'smooth_l1_beta_none': ([[0.75, 0.25, 0.95, 0.04], [0.45, 0.0, 0.95, 1.25],
                                     [1.25, 1.85, 0.09, 0.25]],
                                    [[[1.0, -1.0, 1.0, -0.4], [-1.0, 0.0, -1.0, 1.0],
                                      [-1.0, 1.0, -0.6, -1.0]],
                                     [[-1.0, 1.0, -1.0, 0.4], [1.0, 0.0, 1.0, -1.0],
                                      [1.0, -1.0, 0.6, 1.0]]]),
            'smooth_l1_beta0_sum': (10.7,
                                    [[[1.0, -1.0, 1.0, -1.0], [-1.0, 0.0, -1.0, 1.0],
                                      [-1.0, 1.0, -1.0, -1.0]],
                                     [[-1.0, 1.0, -1.0, 1.0], [1.0, -0.0, 1.0, -1.0],
                                      [1.0, -1.0, 1.0, 1.0]]]),
            'huber': (0.42,
                      [[[0.058333333333, -0.041666666667, 0.058333333333, -0.016666666667],
                        [-0.058333333333, 0.0, -0.058333333333, 0.058333333333],
                        [-0.058333333333, 0.058333333333, -0.025, -0.041666666667]],
                       [[-0.058333333333, 0.041666666667, -0.058333333333, 0.016666666667],
                        [0.058333333333, 0.0, 0.058333333333, -0.058333333333],
                        [0.058333333333, -0.058333333333, 0.025, 0.041666666667]]]),
            'huber_weight': (0.45725,
                             [[[0.041666666667, -0.05, 0.025, -0.033333333333],
                               [-0.0525, 0.0, -0.141666666667, 0.05],
                               [-0.116666666667, 0.066666666667, -0.005, -0.045833333333]],
                              [[-0.041666666667, 0.05, -0.025, 0.033333333333],
                               [0.0525, 0.0, 0.141666666667, -0.05],
                               [0.116666666667, -0.066666666667, 0.005, 0.045833333333]],
                              [[0.041666666667, 0.010416666667, 0.058333333333, 0.001666666667],
                               [0.020416666667, 0.0, 0.058333333333, 0.083333333333],
                               [0.083333333333, 0.133333333333, 0.00375, 0.010416666667]]]),
            'kl_batchmean': (0.151201545387,
                             [[[-0.0, -0.1, -0.166666666667, -0.066666666667],
                               [-0.083333333333, -0.083333333333, -0.083333333333,
                                -0.083333333333],
                               [-0.233333333333, -0.033333333333, -0.033333333333,
                                -0.033333333333]],
                              [[NAN, 0.198675731891, 0.63561760648, 0.463520695855],
                               [0.337901879627, 0.304568546293, 0.37123521296, 0.27123521296],
                               [0.38110835202, 0.299138302335, 0.365804969002, 0.265804969002]]]),
            'kl_log_target_sum': (45.123448379067,
                                  [[[-0.818730753078, -2.459603111157, -4.055199966845,
                                     -1.349858807576],
                                    [-2.225540928492, -0.223130160148, -1.105170918076,
                                     -2.718281828459],
                                    [-1.349858807576, -1.822118800391, -0.332871083698,
                                     -2.01375270747]],
                                   [[1.637461506156, 6.640928400124, 16.220799867379,
                                     4.454534065001],
                                    [7.121730971176, 0.178504128119, 2.873444386997,
                                     8.698501851069],
                                    [2.429745853637, 6.924051441484, 0.765603492506,
                                     7.652260288388]]]),
            'margin_ranking': (0.5, [[-0.0, 0.0, 0.333333333333], [0.0, -0.0, -0.333333333333]]),
            'soft_margin': (0.907004857392,
                            [[[-0.015202126984, 0.035463123599, 0.057497873427, -0.064043731958],
                              [0.049890638343, -0.027651018986, -0.059245791885, 0.074241931567],
                              [-0.053804692185, -0.017847084746, 0.045819499776, 0.03958506771]]]),
            'cosine_embedding': (0.240099383059,
                                 [[[0.004319458864, -0.040364598348, 0.090083059339,
                                    0.075545846059],
                                   [0.09093651305, 0.044197479097, 0.055770345233,
                                    -0.008152157085],
                                   [0.0, 0.0, 0.0, 0.0]],
                                  [[-0.126220648597, 0.068013860287, -0.162361524957,
                                    0.015437057742],
                                   [-0.054639451832, 0.007026319285, -0.109584395808,
                                    0.146767153764],
                                   [0.0, 0.0, 0.0, 0.0]]]),
            'cosine_embedding_none': ([0.37983890677, 1.040459242406, 0.0],
                                      [[[0.012958376591, -0.121093795044, 0.270249178017,
                                         0.226637538178],
                                        [0.272809539151, 0.132592437292, 0.1673110357,
                                         -0.024456471255],
                                        [0.0, 0.0, 0.0, 0.0]],
                                       [[-0.37866194579, 0.204041580861, -0.487084574872,
                                         0.046311173226],
                                        [-0.163918355497, 0.021078957856, -0.328753187423,
                                         0.440301461292],
                                        [0.0, 0.0, 0.0, 0.0]]]),
            'triplet': (1.205913168322,
                        [[[-0.013361299439, 0.050966833796, 0.318009934564, 0.14944904346],
                          [-0.064471120803, -0.27310749413, -0.071506587301, 0.108004289809],
                          [-0.031523139559, 0.142106860902, -0.265237493686, 0.076969560453]],
                         [[-0.201742601784, 0.100870998279, -0.242091081793, 0.040348278266],
                          [0.11412691176, -1.63039e-07, 0.195646250901, -0.244558180464],
                          [0.188982115916, -0.264575264654, 0.037796322393, 0.062993954647]],
                         [[0.215103901224, -0.151837832074, -0.075918852771, -0.189797321726],
                          [-0.049655790956, 0.273107657168, -0.1241396636, 0.136553890654],
                          [-0.157458976357, 0.122468403752, 0.227441171293, -0.1399635151]]]),
            'triplet_swap_p1': ([0.0, 1.299998, 1.699998],
                                [[[0.0, -0.0, 0.0, -0.0], [-1.0, 1.0, -1.0, 1.0],
                                  [0.0, 0.0, -2.0, 0.0]],
                                 [[-0.0, 0.0, 0.0, 0.0], [0.0, -2.0, 0.0, 0.0],
                                  [1.0, -1.0, 1.0, 1.0]],
                                 [[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, -1.0],
                                  [-1.0, 1.0, 1.0, -1.0]]]),
            'poisson': (2.304325657396,
                        [[[0.331807422528, -0.038265148277, 0.160461744041, -0.141567149007],
                          [0.049318724803, 0.159479392289, -0.107785861688, 0.630514159381],
                          [-0.070932363659, 0.239108055635, 0.085116896513, -0.016263548497]],
                         [[-0.125, 0.025, -0.066666666667, 0.1],
                          [-0.033333333333, -0.058333333333, 0.075, -0.175],
                          [0.05, -0.108333333333, -0.016666666667, 0.008333333333]]]),
            'poisson_rate_full': (7.417154030586,
                                  [[[1.399999992, 0.25000000625, -3.666666511111, 0.85000000075],
                                    [0.111111120988, 15.9999985, 0.941176470934, -0.666666638889],
                                    [0.785714287245, 0.250000009375, 6.499999725, 0.363636369421]],
                                   [[NAN, -0.182321565127, 1.897587864757, -0.69314718556],
                                    [0.105360504547, NAN, -0.530628256945, 0.510825607099],
                                    [-0.336472243764, 0.223143538814, NAN, -0.095310188895]]]),
            'gaussian': (0.63150662123,
                         [[[0.166666666667, -0.034722222222, 0.333333333333, -0.008333333333],
                           [-0.064814814815, 0.0, -0.058823529412, 0.208333333333],
                           [-0.089285714286, 0.21875, -0.125, -0.037878787879]],
                          [[-0.166666666667, 0.034722222222, -0.333333333333, 0.008333333333],
                           [0.064814814815, -0.0, 0.058823529412, -0.208333333333],
                           [0.089285714286, -0.21875, 0.125, 0.037878787879]],
                          [[-0.083333333333, 0.027488425926, -0.527777777778, 0.020416666667],
                           [0.021090534979, 0.416666666667, 0.003748558247, -0.190972222222],
                           [-0.018069727891, -0.235026041667, 0.114583333333, 0.029269972452]]]),
            'gaussian_row_var_full': (18.503944484257,
                                      [[[2.0, -1.0, 2.4, -0.4], [-0.466666666667, 0.0, -0.8, 1.0],
                                        [-1.875, 2.625, -0.375, -0.625]],
                                       [[-2.0, 1.0, -2.4, 0.4], [0.466666666667, -0.0, 0.8, -1.0],
                                        [1.875, -2.625, 0.375, 0.625]],
                                       [-1.46, 0.404444444444, -2.96875]]),
            'gaussian_clamped': (0.670761771818,
                                 [[[0.166666666667, -0.034722222222, 0.25, -0.008333333333],
                                   [-0.064814814815, 0.0, -0.058823529412, 0.208333333333],
                                   [-0.089285714286, 0.21875, -0.0625, -0.037878787879]],
                                  [[-0.166666666667, 0.034722222222, -0.25, 0.008333333333],
                                   [0.064814814815, -0.0, 0.058823529412, -0.208333333333],
                                   [0.089285714286, -0.21875, 0.0625, 0.037878787879]],
                                  [[-0.083333333333, 0.027488425926, -0.270833333333,
                                    0.020416666667],
                                   [0.021090534979, 0.104166666667, 0.003748558247,
                                    -0.190972222222],
                                   [-0.018069727891, -0.235026041667, 0.080729166667,
                                    0.029269972452]]]),
            'multilabel_soft_margin': (0.607004857392,
                                       [[[-0.015202126984, 0.035463123599, -0.025835459906,
                                          0.019289601375],
                                         [0.049890638343, 0.055682314347, -0.059245791885,
                                          -0.009091401766],
                                         [-0.053804692185, -0.017847084746, -0.037513833557,
                                          0.03958506771]]]),
            'multilabel_weight_none': ([0.350957016704, 0.59592902341, 0.569047275201],
                                       [[[-0.022803190476, 0.127667244957, -0.023251913915,
                                          0.11573760825],
                                         [0.074835957514, 0.20045633165, -0.053321212697,
                                          -0.054548410598],
                                         [-0.080707038278, -0.064249505087, -0.033762450202,
                                          0.237510406261]],
                                        [0.537979120217, 0.474637436797, 0.552598352515,
                                         0.255799662648]]),
            'hinge_embedding': (0.216666666667,
                                [[[0.083333333333, -0.083333333333, 0.0, 0.083333333333],
                                  [-0.083333333333, 0.083333333333, 0.083333333333, 0.0],
                                  [0.083333333333, 0.083333333333, -0.083333333333,
                                   -0.083333333333]]]),
            'normalize': (1.970868319556,
                          [[[0.326714465216, -0.560020446964, 0.38353437221, 0.804087774734],
                            [0.403040816392, 0.003656336785, -0.081353493469, -0.112854241157],
                            [-0.013801311187, -0.165615734242, 0.993694405453, -0.082807867121]]]),
            'normalize_p1_dim0': (1.817905236236,
                                  [[[-0.0768, -0.166351606805, -0.080332409972, 0.545847750865],
                                    [0.2832, -0.137996219282, 0.027700831025, 0.307093425606],
                                    [-0.0032, 0.035916824197, 0.445983379501, -0.101211072664]]]),
            'cosine_similarity': ([0.620161093231, 0.540459242406, -0.769090538244],
                                  [[[-0.012958376591, 0.121093795044, -0.270249178017,
                                     -0.226637538178],
                                    [0.272809539151, 0.132592437292, 0.1673110357,
                                     -0.024456471255],
                                    [0.235642401755, 0.071319172719, 0.326237026561,
                                     0.165768887942]],
                                   [[0.37866194579, -0.204041580861, 0.487084574872,
                                     -0.046311173226],
                                    [-0.163918355497, 0.021078957855, -0.328753187423,
                                     0.440301461292],
                                    [0.068552212662, 0.326983173093, 0.307940891798,
                                     0.11479775295]]]),
            'cosine_similarity_broadcast': ([0.620161093231, -0.479871529147, -0.011461365101],
                                            [[[-0.012958376591, 0.121093795044, -0.270249178017,
                                               -0.226637538178],
                                              [0.204082622824, 0.125777959818, -0.210681002332,
                                               -0.171090725286],
                                              [0.283259451787, 0.121708781789, -0.228135743443,
                                               -0.573614034352]],
                                             [[0.341352279886, 0.848652969671, 0.157669276961,
                                               0.277339023093]]]),
            'pairwise_distance': ([1.652272072028, 2.044504634381, 2.645751235472],
                                  [[[0.605227805353, -0.302612994836, 0.726273245378,
                                     -0.121044834798],
                                    [-0.342380735279, 4.89116e-07, -0.586938752704,
                                     0.733674541391],
                                    [-0.566946347748, 0.793725793962, -0.113388967178,
                                     -0.18898186394]],
                                   [[-0.605227805353, 0.302612994836, -0.726273245378,
                                     0.121044834798],
                                    [0.342380735279, -4.89116e-07, 0.586938752704,
                                     -0.733674541391],
                                    [0.566946347748, -0.793725793962, 0.113388967178,
                                     0.18898186394]]]),
            'pairwise_distance_p3_keepdim': ([[1.419622734203], [1.75937832727], [2.338483290394]],
                                             [[[0.496197963288, -0.124048746527, 0.714524828961,
                                                -0.019847680357],
                                               [-0.158298341033, 0.0, -0.465203841748,
                                                0.726883183378],
                                               [-0.411446523415, 0.806437029177, -0.016457773161,
                                                -0.045716158469]],
                                              [[-0.496197963288, 0.124048746527, -0.714524828961,
                                                0.019847680357],
                                               [0.158298341033, -0.0, 0.465203841748,
                                                -0.726883183378],
                                               [0.411446523415, -0.806437029177, 0.016457773161,
                                                0.045716158469]]])}


def _tensor(values, dtype=None):
    return distgrad.tensor(values, dtype=distgrad.float64)


CASES = _cases(F, _tensor)


@pytest.mark.parametrize("name", list(CASES))
def test_value_and_grad_match_torch(name):
    fn, args = CASES[name]
    inputs = [distgrad.tensor(a, dtype=distgrad.float64, requires_grad=True) for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(*inputs)
    value, grads = EXPECTED[name]
    np.testing.assert_allclose(out.detach().numpy(), value, rtol=1e-9, atol=1e-10)
    out.backward(None if out.ndim == 0 else distgrad.ones_like(out))
    for t, g in zip(inputs, grads):
        g = np.asarray(g)
        torch_nan = np.isnan(g)
        assert np.isfinite(t.grad.numpy()[torch_nan]).all()
        np.testing.assert_allclose(t.grad.numpy()[~torch_nan], g[~torch_nan], rtol=1e-9,
                                   atol=1e-10)


# gaussian_clamped: the clamp of var passes the gradient through, as torch's does, so it is
# not the derivative where var < eps.
@pytest.mark.parametrize("name", [n for n in CASES if n != "gaussian_clamped"])
def test_gradcheck(name):
    fn, args = CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    # Smooth points: the literals sit on kinks on purpose (|d| == beta, d == 0).
    inputs = [distgrad.tensor(np.asarray(a) + rng.uniform(0.01, 0.05, np.shape(a)),
                              dtype=distgrad.float64, requires_grad=True) for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(fn, inputs)


def test_float32_stays_float32():
    x = distgrad.tensor(X, requires_grad=True)
    y = distgrad.tensor(Y)
    for loss in (F.smooth_l1_loss(x, y), F.huber_loss(x, y), F.soft_margin_loss(x, y),
                 F.pairwise_distance(x, y), F.cosine_similarity(x, y), F.normalize(x),
                 F.gaussian_nll_loss(x, y, 1.0), F.poisson_nll_loss(x, y)):
        assert loss.dtype == distgrad.float32


# ------------------------------------------------------------------------ module forms


def _inputs():
    x = distgrad.tensor(X, dtype=distgrad.float64, requires_grad=True)
    y = distgrad.tensor(Y, dtype=distgrad.float64)
    z = distgrad.tensor(Z, dtype=distgrad.float64)
    return x, y, z


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_modules_match_functional(reduction):
    x, y, z = _inputs()
    sign, rows = distgrad.tensor(SIGN), distgrad.tensor(ROW_SIGN)
    pos = distgrad.tensor(POS, dtype=distgrad.float64)
    bits = distgrad.tensor(BITS)
    pairs = [
        (nn.SmoothL1Loss(reduction=reduction, beta=0.5)(x, y),
         F.smooth_l1_loss(x, y, reduction=reduction, beta=0.5)),
        (nn.HuberLoss(reduction=reduction, delta=0.7)(x, y),
         F.huber_loss(x, y, reduction=reduction, delta=0.7)),
        (nn.KLDivLoss(reduction=reduction, log_target=True)(x, y),
         F.kl_div(x, y, reduction=reduction, log_target=True)),
        (nn.PoissonNLLLoss(full=True, reduction=reduction)(x, pos),
         F.poisson_nll_loss(x, pos, full=True, reduction=reduction)),
        (nn.GaussianNLLLoss(full=True, reduction=reduction)(x, y, pos),
         F.gaussian_nll_loss(x, y, pos, full=True, reduction=reduction)),
        (nn.MarginRankingLoss(0.2, reduction=reduction)(x, y, sign),
         F.margin_ranking_loss(x, y, sign, 0.2, reduction=reduction)),
        (nn.SoftMarginLoss(reduction=reduction)(x, sign),
         F.soft_margin_loss(x, sign, reduction=reduction)),
        (nn.MultiLabelSoftMarginLoss(pos[0], reduction=reduction)(x, bits),
         F.multilabel_soft_margin_loss(x, bits, pos[0], reduction=reduction)),
        (nn.CosineEmbeddingLoss(0.1, reduction=reduction)(x, y, rows),
         F.cosine_embedding_loss(x, y, rows, 0.1, reduction=reduction)),
        (nn.TripletMarginLoss(0.5, p=1.5, swap=True, reduction=reduction)(x, y, z),
         F.triplet_margin_loss(x, y, z, 0.5, 1.5, swap=True, reduction=reduction)),
        (nn.HingeEmbeddingLoss(0.3, reduction=reduction)(x, sign),
         F.hinge_embedding_loss(x, sign, 0.3, reduction=reduction)),
    ]
    for module_out, functional_out in pairs:
        np.testing.assert_array_equal(module_out.detach().numpy(),
                                      functional_out.detach().numpy())


def test_distance_modules():
    x, y, _ = _inputs()
    np.testing.assert_array_equal(nn.CosineSimilarity(dim=0, eps=1e-6)(x, y).detach().numpy(),
                                  F.cosine_similarity(x, y, 0, 1e-6).detach().numpy())
    out = nn.PairwiseDistance(p=1.0, keepdim=True)(x, y)
    assert out.shape == (3, 1)
    np.testing.assert_allclose(out.detach().numpy()[:, 0],
                               np.abs(np.array(X) - np.array(Y) + 1e-6).sum(1))
    assert repr(nn.CosineSimilarity()) == "CosineSimilarity()"


def test_kl_div_batchmean_module_and_mean_warning():
    logp = distgrad.tensor(X).log_softmax(1)
    target = distgrad.tensor(PROB)
    batchmean = nn.KLDivLoss(reduction="batchmean")(logp, target)
    total = F.kl_div(logp, target, reduction="sum")
    np.testing.assert_allclose(float(batchmean), float(total) / 3, rtol=1e-6)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(logp, target)


A_GRAD_AT_ZERO = 1000057735026.919


def test_zero_vectors_give_finite_gradients():
    a = distgrad.zeros(2, 3, dtype=distgrad.float64, requires_grad=True)
    b = distgrad.ones(2, 3, dtype=distgrad.float64, requires_grad=True)
    (F.cosine_similarity(a, b).sum() + F.normalize(a).sum() + F.pairwise_distance(a, a).sum()
     ).backward()
    # torch 2.13 gives these: the clamped norms make large but finite gradients.
    np.testing.assert_allclose(a.grad.numpy(), np.full((2, 3), A_GRAD_AT_ZERO), rtol=1e-9)
    np.testing.assert_array_equal(b.grad.numpy(), np.zeros((2, 3)))
    np.testing.assert_allclose(F.cosine_similarity(a, b).detach().numpy(), [0.0, 0.0])


def test_legacy_size_average_warns_and_sums():
    x, y, _ = _inputs()
    with pytest.warns(UserWarning, match="reduction='sum'"):
        out = F.smooth_l1_loss(x, y, size_average=False)
    np.testing.assert_allclose(float(out), float(F.smooth_l1_loss(x, y, reduction="sum")))


def test_target_size_mismatch_warns():
    x, y, _ = _inputs()
    with pytest.warns(UserWarning, match="different to the input size"):
        F.smooth_l1_loss(x, y[0])


# ------------------------------------------------------------------------------ errors


def test_errors_name_the_problem():
    x, y, z = _inputs()
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.huber_loss(x, y, reduction="avg")
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.SmoothL1Loss(reduction="batchmean")
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, y, beta=-1.0)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(x, y, delta=0.0)
    with pytest.raises(ValueError, match="same size"):
        F.huber_loss(x, y, weight=distgrad.ones(4))
    with pytest.raises(RuntimeError, match="same dimension"):
        F.margin_ranking_loss(x, y, distgrad.ones(3))
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(x, y, z, margin=0.0)
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        nn.TripletMarginLoss(margin=-1.0)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_loss(x, y, z[0])
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        F.cosine_embedding_loss(x, y, distgrad.ones(3, 1))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input"):
        F.cosine_embedding_loss(x[0], y[0], distgrad.ones(3))
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(x, y, -1.0)
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(x, y, -distgrad.ones(3, 4))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, y, distgrad.ones(2, 2))


# --------------------------------------------------------------------- pad_sequence


def test_pad_sequence_layouts_and_grad():
    from distgrad.nn.utils.rnn import pad_sequence

    a = distgrad.tensor([0.1, 0.2, 0.3], requires_grad=True)
    b = distgrad.tensor([1.0, 2.0], requires_grad=True)
    np.testing.assert_allclose(pad_sequence([a, b]).detach().numpy(),
                               [[0.1, 1.0], [0.2, 2.0], [0.3, 0.0]])
    out = pad_sequence([a, b], batch_first=True, padding_value=-1.0, padding_side="left")
    np.testing.assert_allclose(out.detach().numpy(), [[0.1, 0.2, 0.3], [-1.0, 1.0, 2.0]])
    (out * distgrad.arange(6.0).reshape(2, 3)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 1.0, 2.0])   # torch 2.13
    np.testing.assert_allclose(b.grad.numpy(), [4.0, 5.0])
    assert pad_sequence([distgrad.ones(2, 5), distgrad.ones(1, 5)]).shape == (2, 2, 5)
    assert pad_sequence(distgrad.ones(3, 2, 4)).shape == (2, 3, 4)
    assert nn.utils.rnn.pad_sequence is pad_sequence


def test_pad_sequence_errors():
    from distgrad.nn.utils.rnn import pad_sequence

    with pytest.raises(RuntimeError, match="empty list"):
        pad_sequence([])
    with pytest.raises(RuntimeError, match="sequence 1 has shape"):
        pad_sequence([distgrad.ones(3), distgrad.ones(2, 2)])
    with pytest.raises(RuntimeError, match="padding_side"):
        pad_sequence([distgrad.ones(3)], padding_side="top")


def test_nn_utils_package_keeps_its_exports():
    for name in ("clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
                 "get_total_norm", "parameters_to_vector", "vector_to_parameters"):
        assert callable(getattr(nn.utils, name))
    model = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(vec * 0, model.parameters())
    assert float(model.weight.abs().sum()) == 0.0
