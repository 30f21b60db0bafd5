"""Recurrent layers (``distgrad.nn.rnn``): values and gradients against literals recorded
from PyTorch 2.13, gradcheck in float64, parameter names, shapes, errors and dropout."""

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import distgrad
from distgrad import func
from distgrad.autograd import gradcheck, gradgradcheck
from distgrad.nn import rnn

# --------------------------------------------------------- recorded from PyTorch 2.13
# Each case: the module (kind, args, kwargs), the input shape ``x`` and the initial states'
# shapes (None: not passed). Parameters, input and states are filled by ``_pattern`` (see
# ``_build``), the loss is sum_k <output_k, pattern_k>; recorded in float64 on CPU: every
# output (shape, values), the gradients of the input, of the states and of the ``grad_full``
# parameters, and one checksum <grad, pattern> per parameter.
CASES = [{'name': 'lstm_2layer_bidir_state',
  'kind': 'LSTM',
  'args': (3, 2),
  'kwargs': {'num_layers': 2, 'bidirectional': True},
  'x': (3, 2, 3),
  'states': ((4, 2, 2), (4, 2, 2)),
  'outputs': [([3, 2, 4],
               [0.0843337529, 0.132070507, -0.0467640664, -0.333809238, 0.0342876549,
                0.0985674277, 0.043444265, -0.21516827, 0.101969116, 0.165562868, -0.0422930296,
                -0.271255124, 0.0695782385, 0.158500101, 0.0535789531, -0.148174176,
                0.0630895275, 0.186851224, -0.0556297043, -0.158894139, 0.0570127591,
                0.181834859, 0.0598064484, -0.0233159796]),
              ([4, 2, 2],
               [-0.0295344221, 0.101396864, 0.202393391, 0.19030311, -0.140680651, -0.444433948,
                -0.138043895, -0.0889806669, 0.0630895275, 0.186851224, 0.0570127591,
                0.181834859, -0.0467640664, -0.333809238, 0.043444265, -0.21516827]),
              ([4, 2, 2],
               [-0.0586905459, 0.612758581, 0.724244446, 0.434642251, -0.254972655,
                -0.998468509, -0.536491781, -0.113972294, 0.105643746, 0.704230373,
                0.0985503825, 0.665111194, -0.13395243, -0.54161452, 0.12328529,
                -0.350761668])],
  'grad_input': [0.105490351, 0.0765878711, -0.0645160195, 0.0969369455, 0.0160270939,
                 -0.0883624878, 0.044235128, 0.00634182903, -0.0408422643, 0.0712760045,
                 -0.0451042168, -0.0954066548, 0.0410262873, -0.436029888, -0.274301256,
                 0.0595469484, -0.0605395916, -0.091935488],
  'grad_states': [[-0.00193197228, -0.00798083654, -0.0123799457, -0.0127056562, -0.00519800754,
                   0.00359192613, -0.0436997533, -0.0298900666, -0.00971385371, 0.0138914412,
                   -0.120908198, -0.0723857946, 0.0219846169, -0.042144597, 0.0842743889,
                   -0.0233392179],
                  [0.00717002588, 0.00784610185, -0.00744474483, -0.0334622537, 0.0392943054,
                   0.0472664072, -0.284310292, -0.177576374, -0.00190764048, 0.00825371909,
                   0.163555237, 0.064508165, 0.0804279672, 0.381611997, 0.313421497,
                   0.594524448]],
  'grad_full': {'bias_ih_l0': [0.0687921417, 0.238931705, 0.109796721, 0.118858117, 1.10717504,
                               0.06100984, 0.0149864232, 0.0538426942],
                'weight_hh_l1_reverse': [0.000997395485, 0.00225563268, 0.0264098594,
                                         0.0710205388, 0.00312290093, 0.00155745405,
                                         -0.00498876366, 0.0419525757, -0.00896579644,
                                         -0.0875534692, -0.0325037097, -0.115445941,
                                         5.53099862e-05, 0.00561382116, 0.00916384975,
                                         0.0234492406]},
  'grad_checksums': {'weight_ih_l0': -1.42789815,
                     'weight_hh_l0': 0.02659084,
                     'bias_ih_l0': 1.50631584,
                     'bias_hh_l0': 1.50631584,
                     'weight_ih_l0_reverse': -1.47365543,
                     'weight_hh_l0_reverse': -0.314889052,
                     'bias_ih_l0_reverse': -0.822210475,
                     'bias_hh_l0_reverse': -0.822210475,
                     'weight_ih_l1': 0.414076082,
                     'weight_hh_l1': 0.0360656529,
                     'bias_ih_l1': -2.43182647,
                     'bias_hh_l1': -2.43182647,
                     'weight_ih_l1_reverse': -0.25294125,
                     'weight_hh_l1_reverse': 0.222234806,
                     'bias_ih_l1_reverse': 1.46625141,
                     'bias_hh_l1_reverse': 1.46625141}},
 {'name': 'lstm_proj_unbatched',
  'kind': 'LSTM',
  'args': (3, 3),
  'kwargs': {'proj_size': 2},
  'x': (4, 3),
  'states': None,
  'outputs': [([4, 2],
               [0.0226624241, -0.113376969, 0.180444775, -0.144215437, 0.166743296,
                -0.253127995, 0.212064908, -0.242112975]),
              ([1, 2], [0.212064908, -0.242112975]),
              ([1, 3], [-0.0607372997, -0.878553299, -0.23526429])],
  'grad_input': [0.0279236753, -0.0453300747, -0.0521751591, -0.0426692973, -0.0192475289,
                 0.0323719144, -0.10283217, -0.00614152038, 0.0995464714, -0.197980048,
                 -0.12224062, 0.132581602],
  'grad_states': [],
  'grad_full': {'weight_hr_l0': [-0.15728726, -1.33037078, -0.233436684, -0.243155402,
                                 -1.32141045, -0.253764469]},
  'grad_checksums': {'weight_ih_l0': -1.40383126,
                     'weight_hh_l0': 0.0694869584,
                     'bias_ih_l0': 0.777290107,
                     'bias_hh_l0': 0.777290107,
                     'weight_hr_l0': -2.57662777}},
 {'name': 'gru_batch_first',
  'kind': 'GRU',
  'args': (3, 2),
  'kwargs': {'batch_first': True},
  'x': (2, 3, 3),
  'states': None,
  'outputs': [([2, 3, 2],
               [0.220624227, 0.60852128, 0.502068547, 0.389435624, 0.0362495106, 0.672875702,
                0.563010762, 0.139385697, -0.154739085, 0.423119182, 0.330867261,
                0.555301355]),
              ([1, 2, 2], [0.0362495106, 0.672875702, 0.330867261, 0.555301355])],
  'grad_input': [0.145810001, -0.0149174542, -0.153790804, 0.194490493, 0.235368923,
                 -0.0685686702, 0.378122375, -0.390428181, -0.587000537, 0.00247114676,
                 -0.0306886102, -0.0188894813, -0.0053421312, -0.0728549505, -0.0336350966,
                 -0.0435199954, -0.0577657625, 0.0126154478],
  'grad_states': [],
  'grad_full': {'weight_hh_l0': [0.0148392941, 0.0266068404, 0.0512582375, 0.11297716,
                                 0.193495682, 0.0714782074, -0.0499256883, 0.0187977711,
                                 0.607365353, 0.604338126, 0.16866814, 0.409625378],
                'bias_hh_l0': [0.0936202347, 0.232157136, 0.0796712207, -0.221888715,
                               1.72004947, 0.901706243]},
  'grad_checksums': {'weight_ih_l0': -0.345978423,
                     'weight_hh_l0': -0.187486069,
                     'bias_ih_l0': 3.72584912,
                     'bias_hh_l0': 2.5238366}},
 {'name': 'gru_2layer_bidir_state',
  'kind': 'GRU',
  'args': (2, 2),
  'kwargs': {'num_layers': 2, 'bidirectional': True, 'bias': False},
  'x': (3, 1, 2),
  'states': ((4, 1, 2),),
  'outputs': [([3, 1, 4],
               [-0.149311837, -0.137936466, 0.017969994, 0.045075839, -0.150413231,
                -0.0495084933, -0.0667932626, -0.0149027506, -0.125263998, -0.0366974873,
                -0.0723177109, 0.0461935982]),
              ([4, 1, 2],
               [0.187100173, -0.180936322, -0.124903151, 0.14040834, -0.125263998,
                -0.0366974873, 0.017969994, 0.045075839])],
  'grad_input': [0.126785925, 0.306750493, -0.0118270957, 0.392667157, 0.0821811269,
                 0.167088019],
  'grad_states': [[-0.109308555, -0.0170585516, 0.334008502, 0.383768435, 0.53379887,
                   0.522673161, -0.00117201826, -0.338561878]],
  'grad_full': {'weight_ih_l1': [0.00225368717, -0.00355803072, 0.00178083868, 0.00135686402,
                                 -0.00397006212, 0.00560371166, -0.00313131687, 0.000923639208,
                                 0.0106595868, -0.017490527, 0.00489438393, -0.00581173208,
                                 0.0139491208, -0.0201321034, 0.0104183594, -0.00361655315,
                                 0.0156364396, -0.0161100712, -0.00704581313, -0.118308944,
                                 -0.0579674798, 0.0681053423, -0.0678871395, -0.0159978386]},
  'grad_checksums': {'weight_ih_l0': 0.280607969,
                     'weight_hh_l0': -0.0124414271,
                     'weight_ih_l0_reverse': 0.202882229,
                     'weight_hh_l0_reverse': 0.0913415108,
                     'weight_ih_l1': -0.150726439,
                     'weight_hh_l1': 0.197850988,
                     'weight_ih_l1_reverse': -0.0811035244,
                     'weight_hh_l1_reverse': 0.00407548386}},
 {'name': 'rnn_relu_2layer_unbatched_state',
  'kind': 'RNN',
  'args': (2, 3),
  'kwargs': {'num_layers': 2, 'nonlinearity': 'relu'},
  'x': (4, 2),
  'states': ((2, 3),),
  'outputs': [([4, 3],
               [0.0, 0.0, 0.0, 0.0, 0.0, 0.292152596, 0.0, 0.0, 0.297780216, 0.0, 0.0,
                0.03675609]),
              ([2, 3], [1.78596624, 0.0, 0.0, 0.0, 0.0, 0.03675609])],
  'grad_input': [-0.0250723315, 0.000248334118, 0.0, -0.103078211, 0.0, 0.239830863, 0.0,
                 0.577420482],
  'grad_states': [[0.0261314094, -0.0131485193, -0.0331658365, 0.0, 0.0, 0.0]],
  'grad_full': {'weight_hh_l0': [1.60759846, -0.0338014165, -0.0106579249, -0.0245558681,
                                 -0.0284188931, -0.0150433989, 0.0, 0.0, 0.0]},
  'grad_checksums': {'weight_ih_l0': 0.550578559,
                     'weight_hh_l0': 0.0718802344,
                     'bias_ih_l0': 0.0970556881,
                     'bias_hh_l0': 0.0970556881,
                     'weight_ih_l1': -0.540620154,
                     'weight_hh_l1': -0.0219320989,
                     'bias_ih_l1': -0.0722382221,
                     'bias_hh_l1': -0.0722382221}},
 {'name': 'rnn_tanh_bidir',
  'kind': 'RNN',
  'args': (2, 3),
  'kwargs': {'bidirectional': True},
  'x': (3, 2, 2),
  'states': None,
  'outputs': [([3, 2, 6],
               [0.815375797, 0.180547124, -0.851750846, -0.531591659, -0.878929552, 0.954010451,
                0.427261827, 0.302758181, -0.663463741, -0.190394718, -0.851103461, 0.847783351,
                0.869314388, -0.711671915, 0.183596684, -0.623937411, -0.630076824, 0.737606943,
                0.938155179, -0.524244529, -0.585558918, -0.767077602, -0.713705529, 0.91467643,
                0.577346665, 0.120688527, -0.624472747, -0.589609469, -0.572398721, 0.719280927,
                0.577226822, -0.460077399, 0.226117169, -0.647472335, -0.173874387,
                0.183158899]),
              ([2, 2, 3],
               [0.577346665, 0.120688527, -0.624472747, 0.577226822, -0.460077399, 0.226117169,
                -0.531591659, -0.878929552, 0.954010451, -0.190394718, -0.851103461,
                0.847783351])],
  'grad_input': [0.0757479796, -0.358061626, -0.214456892, 0.585757105, 0.246679877,
                 0.0485918925, -0.26550726, -0.172608169, 0.0073323692, 0.160480868,
                 0.203000491, 0.0430864797],
  'grad_states': [],
  'grad_full': {'bias_hh_l0_reverse': [-1.04263651, -0.394022549, -0.481954692]},
  'grad_checksums': {'weight_ih_l0': 4.15117119,
                     'weight_hh_l0': 0.25138925,
                     'bias_ih_l0': 1.09368614,
                     'bias_hh_l0': 1.09368614,
                     'weight_ih_l0_reverse': 3.26105428,
                     'weight_hh_l0_reverse': -0.0764333564,
                     'bias_ih_l0_reverse': -0.641421619,
                     'bias_hh_l0_reverse': -0.641421619}},
 {'name': 'lstm_cell',
  'kind': 'LSTMCell',
  'args': (3, 2),
  'kwargs': {},
  'x': (2, 3),
  'states': ((2, 2), (2, 2)),
  'outputs': [([2, 2], [0.103146178, 0.144690453, 0.242591955, 0.0105394548]),
              ([2, 2], [0.426017075, 0.341270999, 0.408706996, 0.0466989898])],
  'grad_input': [0.000735871681, -0.325664733, -0.174965741, 0.188928761, 0.133908527,
                 -0.117288013],
  'grad_states': [[-0.278499995, -0.0897616374, 0.0887914179, 0.219908399],
                  [0.439082816, 0.317259198, 0.239448625, 0.435634144]],
  'grad_full': {'weight_hh': [0.048278852, 0.00107492437, 0.0695985016, 0.0668814085,
                              0.0116393936, 0.0201664381, -0.00509408082, 0.0122308143,
                              0.225152014, 0.141832697, 0.116400897, -0.0328973762,
                              0.0123739305, -0.00293946224, 0.0104390149, 0.0101297263]},
  'grad_checksums': {'weight_ih': 0.66276135,
                     'weight_hh': 0.0625485485,
                     'bias_ih': 1.95426856,
                     'bias_hh': 1.95426856}},
 {'name': 'gru_cell_unbatched',
  'kind': 'GRUCell',
  'args': (3, 2),
  'kwargs': {},
  'x': (3,),
  'states': ((2,),),
  'outputs': [([2], [0.290371855, 0.692777015])],
  'grad_input': [0.0452112054, 0.00824984262, -0.040797559],
  'grad_states': [[0.0254835072, 0.133282336]],
  'grad_full': {'weight_hh': [0.000557650809, 0.000645378069, 0.00315427064, 0.00365048712,
                              -0.000459887367, -0.000532234896, -0.0123901108, -0.0143392704,
                              0.00908745153, 0.0105170509, 0.00829505493, 0.00959999779],
                'bias_hh': [0.00220903164, 0.012495066, -0.00182175965, -0.0490811567,
                            0.0359982764, 0.0328593423]},
  'grad_checksums': {'weight_ih': -0.100227542,
                     'weight_hh': -0.025720405,
                     'bias_ih': 0.0945758454,
                     'bias_hh': 0.0251234599}},
 {'name': 'rnn_cell_relu',
  'kind': 'RNNCell',
  'args': (3, 2),
  'kwargs': {'nonlinearity': 'relu'},
  'x': (2, 3),
  'states': None,
  'outputs': [([2, 2], [1.03560054, 0.0, 0.540064655, 0.767875002])],
  'grad_input': [0.0, 0.0480976529, 0.0257321316, -0.321742512, -0.0545336695, 0.292567126],
  'grad_states': [],
  'grad_full': {'weight_ih': [-0.625173922, -0.543704614, -0.0507704935, -0.908443996,
                              -0.740042048, -0.0115910318]},
  'grad_checksums': {'weight_ih': -1.94718856,
                     'weight_hh': 0.0,
                     'bias_ih': 0.508034633,
                     'bias_hh': 0.508034633}}]


def _pattern(shape, a, b, scale=1.0):
    n = int(np.prod(shape))
    return scale * np.sin(a * np.arange(n) + b).reshape(shape)


def _build(case, dtype):
    """The case's module, input and states, filled as when the literals were recorded."""
    module = getattr(rnn, case["kind"])(*case["args"], **case["kwargs"]).to(dtype)
    for idx, (_, p) in enumerate(module.named_parameters()):
        p.data.copy_(distgrad.tensor(_pattern(p.shape, 1.3, 0.7 * idx, 0.5)).to(dtype))
    n = int(np.prod(case["x"]))
    x = distgrad.tensor(np.cos(0.9 * np.arange(n) + 0.2).reshape(case["x"]), dtype=dtype,
                        requires_grad=True)
    states = [distgrad.tensor(_pattern(s, 0.8, 1.0 + i, 0.3), dtype=dtype, requires_grad=True)
              for i, s in enumerate(case["states"] or ())]
    return module, x, states


def _call(module, x, states):
    if not states:
        return module(x)
    if isinstance(module, (rnn.LSTM, rnn.LSTMCell)):
        return module(x, tuple(states))
    return module(x, states[0])


def _flatten(result):
    if isinstance(result, tuple):
        return [t for r in result for t in _flatten(r)]
    return [result]


@pytest.mark.parametrize("dtype, atol", [(distgrad.float64, 1e-8), (distgrad.float32, 2e-5)])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_values_and_gradients_match_torch(case, dtype, atol):
    module, x, states = _build(case, dtype)
    outputs = _flatten(_call(module, x, states))
    assert len(outputs) == len(case["outputs"])
    loss = 0
    for k, (out, (shape, values)) in enumerate(zip(outputs, case["outputs"])):
        assert out.shape == tuple(shape)
        assert out.dtype == dtype
        np.testing.assert_allclose(out.detach().numpy().ravel(), values, atol=atol, rtol=1e-5)
        loss = loss + (out * distgrad.tensor(_pattern(out.shape, 0.37, 0.1 + k), dtype=dtype)).sum()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy().ravel(), case["grad_input"], atol=atol, rtol=1e-5)
    for state, expected in zip(states, case["grad_states"]):
        np.testing.assert_allclose(state.grad.numpy().ravel(), expected, atol=atol, rtol=1e-5)
    params = dict(module.named_parameters())
    assert list(params) == list(case["grad_checksums"])
    for name, expected in case["grad_full"].items():
        np.testing.assert_allclose(params[name].grad.numpy().ravel(), expected, atol=atol,
                                   rtol=1e-5)
    for name, expected in case["grad_checksums"].items():
        grad = params[name].grad.numpy().astype(np.float64)
        checksum = float((grad * _pattern(grad.shape, 0.37, 0.1)).sum())
        assert checksum == pytest.approx(expected, abs=10 * atol, rel=1e-5), name


# ------------------------------------------------------------------------- gradcheck


def _rand64(*shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return distgrad.tensor(data, requires_grad=True)


def test_lstm_gradcheck_and_double_backward():
    distgrad.manual_seed(0)
    lstm = rnn.LSTM(2, 2, num_layers=2, bidirectional=True).double()
    x, h0, c0 = _rand64(2, 1, 2, seed=1), _rand64(4, 1, 2, seed=2), _rand64(4, 1, 2, seed=3)

    def fn(x, h0, c0, weight):
        output, (h_n, c_n) = lstm(x, (h0, c0))
        return output, h_n, c_n

    assert gradcheck(fn, (x, h0, c0, lstm.weight_hh_l1_reverse))
    small = rnn.LSTM(2, 2).double()
    assert gradgradcheck(lambda x, w: small(x)[1][1], (x[:2], small.weight_ih_l0))


def test_gru_gradcheck_and_double_backward():
    distgrad.manual_seed(0)
    gru = rnn.GRU(2, 2, num_layers=2, batch_first=True).double()
    x, h0 = _rand64(1, 3, 2, seed=4), _rand64(2, 1, 2, seed=5)
    assert gradcheck(lambda x, h0, b: gru(x, h0), (x, h0, gru.bias_hh_l1))
    small = rnn.GRU(2, 2, batch_first=True).double()
    assert gradgradcheck(lambda x, w: small(x)[0], (x[:, :2], small.weight_hh_l0))


@pytest.mark.parametrize("cls", [rnn.RNNCell, rnn.LSTMCell, rnn.GRUCell])
def test_cells_gradcheck(cls):
    distgrad.manual_seed(0)
    cell = cls(2, 3).double()
    x = _rand64(2, 2, seed=6)
    assert gradgradcheck(lambda x, w: _flatten(cell(x))[-1], (x, cell.weight_hh))


def test_forward_mode_through_lstm():
    distgrad.manual_seed(0)
    lstm = rnn.LSTM(2, 3).double()
    x = _rand64(4, 2, seed=7).detach()
    tangent = _rand64(4, 2, seed=8).detach()
    _, jvp = func.jvp(lambda x: lstm(x)[0], (x,), (tangent,))
    eps = 1e-6
    numeric = (lstm(x + eps * tangent)[0] - lstm(x - eps * tangent)[0]) / (2 * eps)
    np.testing.assert_allclose(jvp.numpy(), numeric.detach().numpy(), atol=1e-8)


def test_long_sequence_gradient_reaches_every_step():
    distgrad.manual_seed(0)
    lstm = rnn.LSTM(2, 3)
    x = distgrad.randn(200, 1, 2, requires_grad=True)
    output, _ = lstm(x)
    output[-1].sum().backward()
    assert x.grad.shape == x.shape
    assert np.all(x.grad.numpy()[-1] != 0)


# ------------------------------------------------------------- parameters and reprs


def test_parameter_names_shapes_and_order():
    lstm = rnn.LSTM(3, 4, num_layers=2, bidirectional=True)
    assert [(n, p.shape) for n, p in lstm.named_parameters()] == [
        ("weight_ih_l0", (16, 3)), ("weight_hh_l0", (16, 4)), ("bias_ih_l0", (16,)),
        ("bias_hh_l0", (16,)), ("weight_ih_l0_reverse", (16, 3)),
        ("weight_hh_l0_reverse", (16, 4)), ("bias_ih_l0_reverse", (16,)),
        ("bias_hh_l0_reverse", (16,)), ("weight_ih_l1", (16, 8)), ("weight_hh_l1", (16, 4)),
        ("bias_ih_l1", (16,)), ("bias_hh_l1", (16,)), ("weight_ih_l1_reverse", (16, 8)),
        ("weight_hh_l1_reverse", (16, 4)), ("bias_ih_l1_reverse", (16,)),
        ("bias_hh_l1_reverse", (16,))]
    assert list(rnn.GRU(3, 4, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert [(n, p.shape) for n, p in rnn.LSTM(3, 4, proj_size=2).named_parameters()] == [
        ("weight_ih_l0", (16, 3)), ("weight_hh_l0", (16, 2)), ("bias_ih_l0", (16,)),
        ("bias_hh_l0", (16,)), ("weight_hr_l0", (2, 4))]
    assert list(rnn.RNN(3, 4, 2).state_dict()) == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1",
        "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"]
    assert [(n, p.shape) for n, p in rnn.GRUCell(3, 4).named_parameters()] == [
        ("weight_ih", (12, 3)), ("weight_hh", (12, 4)), ("bias_ih", (12,)), ("bias_hh", (12,))]
    assert list(rnn.LSTMCell(3, 4, bias=False).state_dict()) == ["weight_ih", "weight_hh"]
    assert lstm._flat_weights_names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                            "bias_hh_l0"]
    assert [len(w) for w in lstm.all_weights] == [4, 4, 4, 4]
    assert lstm.all_weights[1][0] is lstm.weight_ih_l0_reverse


@pytest.mark.parametrize("module", [rnn.LSTM(5, 16, 2), rnn.GRUCell(5, 16)])
def test_default_init_is_uniform_in_one_over_sqrt_hidden(module):
    bound = 1 / 4
    values = np.concatenate([p.detach().numpy().ravel() for p in module.parameters()])
    assert values.dtype == np.float32
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.9 * bound
    assert abs(values.mean()) < 0.02


def test_state_dict_round_trip():
    a, b = rnn.GRU(3, 4, bidirectional=True), rnn.GRU(3, 4, bidirectional=True)
    b.load_state_dict(a.state_dict())
    x = distgrad.randn(5, 2, 3)
    np.testing.assert_array_equal(a(x)[0].detach().numpy(), b(x)[0].detach().numpy())


def test_reprs():
    assert repr(rnn.RNN(3, 4)) == "RNN(3, 4)"
    assert repr(rnn.RNN(3, 4, 2, nonlinearity="relu", bias=False, batch_first=True,
                        dropout=0.5, bidirectional=True)) == (
        "RNN(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5, "
        "bidirectional=True)")
    assert repr(rnn.LSTM(3, 4, proj_size=2)) == "LSTM(3, 4, proj_size=2)"
    assert repr(rnn.GRU(3, 4, bidirectional=True)) == "GRU(3, 4, bidirectional=True)"
    assert repr(rnn.RNNCell(3, 4, bias=False, nonlinearity="relu")) == (
        "RNNCell(3, 4, bias=False, nonlinearity=relu)")
    assert repr(rnn.LSTMCell(3, 4)) == "LSTMCell(3, 4)"
    assert repr(rnn.GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"


def test_positional_arguments_as_torch():
    m = rnn.RNN(3, 4, 2, "relu", False, True, 0.0, True)
    assert (m.num_layers, m.nonlinearity, m.mode, m.bias, m.batch_first, m.bidirectional) == (
        2, "relu", "RNN_RELU", False, True, True)
    m = rnn.LSTM(3, 4, 2, True, True, 0.0, True, 2)
    assert (m.batch_first, m.bidirectional, m.proj_size) == (True, True, 2)


# -------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_shapes(kind, batch_first):
    m = getattr(rnn, kind)(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first)
    x = distgrad.randn(2, 5, 3) if batch_first else distgrad.randn(5, 2, 3)
    output, state = m(x)
    assert output.shape == x.shape[:2] + (8,)
    states = state if kind == "LSTM" else (state,)
    assert all(s.shape == (4, 2, 4) for s in states)
    # Unbatched: (L, H_in) whatever batch_first says; states lose their batch dim.
    output, state = m(distgrad.randn(5, 3))
    assert output.shape == (5, 8)
    states = state if kind == "LSTM" else (state,)
    assert all(s.shape == (4, 4) for s in states)


def test_lstm_proj_size_shapes():
    m = rnn.LSTM(3, 5, num_layers=2, proj_size=2, bidirectional=True)
    h0, c0 = distgrad.zeros(4, 6, 2), distgrad.zeros(4, 6, 5)
    output, (h_n, c_n) = m(distgrad.randn(7, 6, 3), (h0, c0))
    assert (output.shape, h_n.shape, c_n.shape) == ((7, 6, 4), (4, 6, 2), (4, 6, 5))


def test_zero_state_is_the_default_and_empty_batch_works():
    distgrad.manual_seed(0)
    m = rnn.LSTM(3, 4)
    x = distgrad.randn(5, 2, 3)
    zeros = (distgrad.zeros(1, 2, 4), distgrad.zeros(1, 2, 4))
    np.testing.assert_array_equal(m(x)[0].detach().numpy(), m(x, zeros)[0].detach().numpy())
    output, (h_n, _) = m(distgrad.randn(5, 0, 3))
    assert (output.shape, h_n.shape) == ((5, 0, 4), (1, 0, 4))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_cell_steps_equal_one_layer(kind):
    """Stepping the cell with the layer's weights gives the layer's outputs."""
    distgrad.manual_seed(0)
    layer = getattr(rnn, kind)(3, 4)
    cell = getattr(rnn, kind + "Cell")(3, 4)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).data.copy_(getattr(layer, name + "_l0").data)
    x = distgrad.randn(6, 2, 3)
    output, _ = layer(x)
    state = None
    for t in range(6):
        state = cell(x[t], state)
        h = state[0] if kind == "LSTM" else state
        np.testing.assert_allclose(h.detach().numpy(), output[t].detach().numpy(), atol=1e-6)


def test_no_grad_records_nothing():
    m = rnn.GRU(3, 4)
    with distgrad.no_grad():
        output, h_n = m(distgrad.randn(5, 2, 3))
    assert not output.requires_grad and not h_n.requires_grad


# --------------------------------------------------------------------------- dropout


def test_dropout_between_layers_only_in_training():
    distgrad.manual_seed(0)
    m = rnn.LSTM(3, 8, num_layers=3, dropout=0.5)
    plain = rnn.LSTM(3, 8, num_layers=3)
    plain.load_state_dict(m.state_dict())
    x = distgrad.randn(4, 2, 3)
    a, b = m(x)[0].detach().numpy(), m(x)[0].detach().numpy()
    assert not np.allclose(a, b)
    m.eval()
    np.testing.assert_array_equal(m(x)[0].detach().numpy(), m(x)[0].detach().numpy())
    np.testing.assert_allclose(m(x)[0].detach().numpy(), plain(x)[0].detach().numpy(), atol=1e-7)
    # The last layer's output is not dropped: no exact zeros in it.
    m.train()
    assert np.all(m(x)[0].detach().numpy() != 0)


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        rnn.GRU(3, 4, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rnn.GRU(3, 4, num_layers=2, dropout=0.2)


# ---------------------------------------------------------------------------- errors


def test_wrong_input_size():
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. "
                                           "Expected 3, got 7"):
        rnn.LSTM(3, 4)(distgrad.randn(5, 2, 7))
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 expected 3"):
        rnn.GRUCell(3, 4)(distgrad.randn(2, 5))
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D instead"):
        rnn.LSTM(3, 4)(distgrad.randn(5, 2, 3, 1))
    with pytest.raises(ValueError, match="RNNCell: Expected input to be 1D or 2D, got 3D"):
        rnn.RNNCell(3, 4)(distgrad.randn(1, 2, 3))
    with pytest.raises(RuntimeError, match="sequence length to be larger than 0"):
        rnn.RNN(3, 4)(distgrad.randn(0, 2, 3))


def test_wrong_state_shape():
    x = distgrad.randn(5, 2, 3)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 2, 4\), got \[1, 2, 4\]"):
        rnn.GRU(3, 4, 2)(x, distgrad.randn(1, 2, 4))
    good, bad = distgrad.randn(2, 2, 4), distgrad.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(2, 2, 4\), got "):
        rnn.LSTM(3, 4, 2)(x, (good, bad))
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx and cx should also be "
                                           "3-D but got \\(2-D, 2-D\\) tensors"):
        rnn.LSTM(3, 4)(x, (distgrad.randn(2, 4), distgrad.randn(2, 4)))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D"):
        rnn.RNN(3, 4)(distgrad.randn(5, 3), distgrad.randn(1, 1, 4))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h_0, c_0\)"):
        rnn.LSTM(3, 4)(x, distgrad.randn(1, 2, 4))
    with pytest.raises(TypeError, match="GRU: hx must be a Tensor"):
        rnn.GRU(3, 4)(x, (distgrad.randn(1, 2, 4),))
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch "
                                           "size 3"):
        rnn.LSTMCell(3, 4)(distgrad.randn(2, 3), (distgrad.randn(3, 4), distgrad.randn(2, 4)))
    with pytest.raises(RuntimeError, match="hidden0 has inconsistent hidden_size: got 5, "
                                           "expected 4"):
        rnn.RNNCell(3, 4)(distgrad.randn(2, 3), distgrad.randn(2, 5))


def test_dtype_mismatch_names_the_fix():
    with pytest.raises(ValueError, match=r"model.to\(float64\)|model.to\(distgrad.float64\)"):
        rnn.LSTM(3, 4)(distgrad.randn(5, 2, 3, dtype=distgrad.float64))


def test_packed_sequence_is_refused_clearly():
    class PackedSequence(tuple):
        pass

    with pytest.raises(NotImplementedError, match="PackedSequence input is not supported"):
        rnn.LSTM(3, 4)(PackedSequence((distgrad.randn(5, 3), [3, 2])))


def test_constructor_errors():
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        rnn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        rnn.RNNCell(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        rnn.LSTM(3, 4, 2, dropout=1.5)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        rnn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        rnn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        rnn.LSTM(3, 0)
    with pytest.raises(TypeError, match="hidden_size should be of type int"):
        rnn.GRU(3, 4.0)


# --------------------------------------------------------------------------- example


def test_char_rnn_example_runs():
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, str(root / "examples" / "char_rnn.py"), "--steps", "3", "--hidden", "16",
         "--sample-len", "5", "--print-every", "1"],
        capture_output=True, text=True, timeout=120, env=env, cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "LSTM(32, 16, batch_first=True)" in result.stdout
    assert re.search(r"^final loss: [0-9.]+$", result.stdout, flags=re.MULTILINE)
    assert re.search(r"^sample: It was.{5}$", result.stdout, flags=re.MULTILINE)


@pytest.mark.parametrize("bias", [True, False])
def test_fused_lstm_cell_op_gradcheck(bias):
    from distgrad.ops.rnn_cells import lstm_cell
    rng = np.random.default_rng(5)

    def t(*shape):
        return distgrad.tensor(rng.standard_normal(shape), dtype=distgrad.float64,
                               requires_grad=True)
    inputs = (t(3, 8), t(3, 4), t(8, 2)) + ((t(8),) if bias else ())
    assert lstm_cell(*inputs).grad_fn.name() == "LstmCellBackward0"
    assert gradcheck(lstm_cell, inputs)
    assert gradgradcheck(lstm_cell, inputs)


@pytest.mark.parametrize("bias", [True, False])
def test_fused_gru_cell_op_gradcheck(bias):
    from distgrad.ops.rnn_cells import gru_cell
    rng = np.random.default_rng(6)

    def t(*shape):
        return distgrad.tensor(rng.standard_normal(shape), dtype=distgrad.float64,
                               requires_grad=True)
    inputs = (t(3, 6), t(3, 2), t(6, 2)) + ((t(6),) if bias else ())
    assert gru_cell(*inputs).grad_fn.name() == "GruCellBackward0"
    assert gradcheck(gru_cell, inputs)
    assert gradgradcheck(gru_cell, inputs)
