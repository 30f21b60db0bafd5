"""Attention and Transformer layers (``distgrad.ops.attention``, ``distgrad.nn.transformer``):
values and gradients against literals recorded from PyTorch 2.13, gradcheck in float64,
state_dict keys, mask semantics and errors."""

import copy

import numpy as np
import pytest

import distgrad
from distgrad.autograd import gradcheck, gradgradcheck
from distgrad.nn import transformer as T
from distgrad.ops.attention import multi_head_attention_forward, scaled_dot_product_attention

# --------------------------------------------------------- recorded from PyTorch 2.13
# In float64 on CPU. Inputs and parameters are filled by ``_pattern`` (parameters in
# ``named_parameters`` order with ``_pattern(shape, 1.3, 0.7 * i, 0.5)``); the loss is
# <output, _pattern(shape, 0.5, 0.2)> (+ <weights, _pattern(shape, 0.3, 0.1)> for
# ``mha_self``). ``checks`` holds <grad, _pattern(shape, 0.6, 0.4)> per parameter.
RECORDED = {
    'sdpa_bool': {'out': [0.435659489, 0.567612224, 0.270007344, 0.0, 0.0, 0.0, -0.345512578,
                       -0.339402856, -0.076439819, 0.560485157, 0.464014955, 0.016387486, 0.0,
                       0.0, 0.0, -0.45296221, -0.244127512, 0.14945802],
               'gq': [-0.113067893, -0.0373812469, 0.0791559158, 0.10919088, 0.0, 0.0, 0.0,
                      0.0, -0.169410134, -0.228820774, -0.038174297, 0.194189348, -0.135838986,
                      -0.234487176, -0.0768859614, 0.164736829, 0.0, 0.0, 0.0, 0.0,
                      -0.20811841, -0.329572089, -0.0908668331, 0.247138403],
               'gk': [0.0832902116, 0.122547219, 0.104168355, 0.0367974857, -0.11757469,
                      0.0248839592, 0.155639293, 0.213195036, 0.0034175563, 0.0245569561,
                      0.0341468357, 0.027676925, -0.0223673698, -0.160721425, -0.223485682,
                      -0.181141131, 0.0532342916, -0.0112667101, -0.0704688019, -0.0965283151,
                      0.029741086, 0.0711258609, 0.0790590321, 0.0498095052, -0.369279708,
                      -0.291286659, -0.076296943, 0.174576418, -0.122872359, -0.0342986244,
                      0.0704062893, 0.141998025, 0.216398456, 0.0604055249, -0.123997068,
                      -0.250081902, 0.246012526, 0.194053898, 0.0508286896, -0.116302046],
               'gv': [0.095270054, 0.254671634, 0.351720717, -0.0247749533, -0.224871233,
                      -0.369911193, 0.0294940938, 0.0956394066, 0.138368857, 0.0646048665,
                      0.20949181, 0.303087852, -0.0242988738, -0.220550071, -0.36280292,
                      -0.278929126, -0.238769564, -0.140150885, 0.533581528, 0.50796659,
                      0.357983715, -0.378843122, -0.334716407, -0.208639442, -0.230125691,
                      -0.203321217, -0.126736617, 0.342561387, 0.326116498, 0.229826917]},
 'sdpa_gqa': {'out': [0.479425539, 0.98544973, 0.568855022, 0.634883618, 0.177924721,
                      -0.0904972608, 0.479425539, 0.98544973, 0.594921686, 0.532701556,
                      0.420633255, 0.537478733, 0.988168234, 0.734397098, 0.437486388,
                      -0.0746619624, 0.144359096, -0.32747081, 0.988168234, 0.734397098,
                      0.63082362, 0.209388148, 0.165269796, -0.011615679, 0.72288135,
                      -0.0919068502, 0.194491768, -0.382156986, -0.535408997, -0.674870033,
                      0.72288135, -0.0919068502, 0.335255602, -0.304833883, 0.0770398746,
                      0.119410995, -0.108636595, -0.846220404, -0.195327963, -0.792260829,
                      -0.331130834, -0.17698317, -0.108636595, -0.846220404, -0.611253711,
                      -0.533374886, 0.0430907699, -0.207789683],
              'gq': [0.0, 0.0, -0.0425417892, 0.200521596, 0.441114553, 0.204610872, 0.0, 0.0,
                     0.0483151892, -0.227734635, -0.189371574, -0.226409147, 0.0, 0.0,
                     0.607176677, -0.254804891, 0.292611208, -0.275884693, 0.0, 0.0,
                     -0.50874152, 0.213496059, -0.117737359, 0.563827718, 0.0, 0.0,
                     -0.536822374, -0.170977104, -0.515374187, -0.277131631, 0.0, 0.0,
                     0.382881923, 0.121947306, 0.253931916, 0.0564424845, 0.0, 0.0,
                     -0.0122681723, -0.0111783761, -0.0668599303, 0.478450606, 0.0, 0.0,
                     0.0501902752, 0.0457318136, 0.472604186, -0.193256492],
              'gk': [0.14714893, -0.122429951, -0.182792362, -0.159197555, 0.0356434322,
                     0.281627506, 0.0, 0.0, -1.0496066, -0.711177787, 0.909311248, 0.80065128,
                     0.140295353, -0.0894734934, 0.0, 0.0, 0.268608714, 0.559371664,
                     -0.316235372, -0.636780832, 0.047626658, 0.0774091683, 0.0, 0.0,
                     0.246537082, 0.426476457, 0.022848464, 0.193101145, -0.269385546,
                     -0.619577602, 0.0, 0.0],
              'gv': [-0.1129784, -0.0481651583, 0.0644059743, -0.0531184642, 0.174372674,
                     0.0841010593, 0.0, 0.0, -0.10369251, -0.171324098, 0.461282131,
                     0.370322373, -0.162443105, -0.133390117, 0.0, 0.0, -0.105931039,
                     -0.14773264, 0.735081613, 0.645070801, -0.380203053, -0.35416559, 0.0,
                     0.0, 0.0744725873, 0.257655242, 0.283111444, 0.0478752201, -0.0746665204,
                     -0.0961985236, 0.0, 0.0]},
 'mha_self': {'out': [-0.388708253, -0.867025882, -0.372355586, 0.719118698, 0.0411771942,
                      -0.371781786, -0.338180803, 0.255897514, 0.679689489, 0.372541504,
                      -0.279237357, -0.433193802, 0.914739754, -0.0498130353, -0.910047908,
                      -0.601929782, -0.107725793, -0.321779531, -0.142424036, 0.389325877,
                      -0.864586298, -0.590354384, 0.362772877, 1.13128708],
              'weights': [1.0, 0.0, 0.0, 0.605655051, 0.394344949, 0.0, 0.0, 1.0, 0.0,
                          0.403985291, 0.0, 0.596014709, 0.321111113, 0.45075751, 0.228131378,
                          0.0, 0.791642803, 0.208357197],
              'gx': [0.312952658, -0.415714222, -0.535358792, 0.129298522, -0.270078547,
                     0.376564881, 0.471539876, -0.124292152, 0.0, 0.0, 0.0, 0.0, 0.301986992,
                     -0.265050833, -0.443788566, 0.0276249892, -0.510061805, -0.446232142,
                     0.271328654, 0.591392336, 0.412468678, -0.0464525373, -0.437320676,
                     -0.187513],
              'checks': {'in_proj_weight': -3.208039791,
                         'in_proj_bias': -0.7270993016,
                         'out_proj.weight': -0.9083353672,
                         'out_proj.bias': 0.1869985451}},
 'mha_kvdim': {'out': [-0.629044423, -0.283071701, 0.380499253, 0.451057456, -0.586551724,
                       -0.209543591, 0.406904845, 0.402272267, -0.656258999, -0.38504251,
                       0.312163781, 0.488995649, -0.55094499, -0.247958013, 0.335302516,
                       0.373592919, -0.564360384, -0.339478576, 0.262960092, 0.397326218,
                       -0.605743481, -0.308605698, 0.333272105, 0.432338041],
               'gq': [-0.0649178018, 0.00875929813, 0.0696040058, 0.0284786819, 0.0407691615,
                      -0.0346883991, -0.0593273738, 0.0029483931, 0.0772234551, 0.00270382446,
                      -0.0757769153, -0.0432442966, 0.0333185428, 0.00296146824, -0.0317341643,
                      -0.0199391718, -0.0036082764, -0.030944561, -0.0129469912, 0.024017951,
                      -0.10201894, 0.0382609342, 0.12248845, 0.0272700997],
               'gk': [-0.0240730766, -0.0327043054, 0.00657634987, -0.00313916845,
                      -0.0188675998, -0.00695495322, -0.0171380258, -0.0043032215,
                      0.0148358124, -0.00188223597, 0.0042828609, 0.00417355651, 0.0116369607,
                      0.000614036158, -0.0113084528, -0.0152131204, 0.0236465931, 0.0278639923,
                      0.0127158019, -0.0020616592, -0.0138187847, -0.000464105415,
                      -0.00418563519, -0.0017751996, -0.0307054506, 0.00433611238,
                      0.0330252605, 0.0119437656, -0.0260449767, -0.0258777671],
               'gv': [-0.0100881191, -0.0897293501, -0.0211027472, 0.00112704708, 0.0252957133,
                      -0.031131268, -0.0214398531, -0.0504414138, 0.00683819383,
                      0.000311080661, -0.0327177585, -0.0674518386, 0.015616208, 0.00911069614,
                      -0.0292007366, -0.034216659, 0.0732868136, 0.0627553426, -0.0292352942,
                      -0.0111814087],
               'checks': {'q_proj_weight': -0.4081055281,
                          'k_proj_weight': 0.1625713147,
                          'v_proj_weight': -0.2298105615,
                          'in_proj_bias': 0.271918237,
                          'bias_k': -0.09803328614,
                          'bias_v': -0.3288654739,
                          'out_proj.weight': -0.1514574723,
                          'out_proj.bias': 0.1869985451}},
 'enc_layer': {'out': [-0.754773231, 0.0869651065, 0.995145891, 1.36036704, -1.35284973,
                       -1.35170434, -0.388225471, 0.981159369, -0.0960422271, 0.265429866,
                       0.436992298, 0.324179477, -1.77148727, -1.07655578, 0.434503948,
                       1.77426793, -0.118539278, -0.433884092, -0.405753179, -0.0449583093,
                       -1.40532668, -0.294077044, 1.08809615, 1.83123701],
               'gx': [0.0762111384, 0.783209989, 0.757699082, 1.14947071, 1.05482716,
                      0.261582196, -0.0600573052, -0.608686055, -0.763899239, -1.29373271,
                      -0.577369814, -0.670637468, -0.129966218, 0.458968429, 0.810515099,
                      0.964079305, 0.781870158, 0.889043384, -0.035411114, -0.0806733535,
                      -0.71948895, -0.932150782, -0.919189142, -0.826842143],
               'checks': {'self_attn.in_proj_weight': -0.311451016,
                          'self_attn.in_proj_bias': -0.3142255267,
                          'self_attn.out_proj.weight': -0.08823989545,
                          'self_attn.out_proj.bias': 0.2260802155,
                          'linear1.weight': -0.1770729899,
                          'linear1.bias': 0.1359350627,
                          'linear2.weight': 0.2515023414,
                          'linear2.bias': 0.1869985451,
                          'norm1.weight': -0.009991500646,
                          'norm1.bias': -0.05821889444,
                          'norm2.weight': -0.4915757224,
                          'norm2.bias': 0.123321722}},
 'transformer': {'out': [-0.556806615, 0.501918101, 0.210247048, 0.596220828, -0.693131784,
                         0.409148214, 0.27985151, 0.6783809, -0.501481345, 0.457923256,
                         0.192163813, 0.557701054, -0.597850045, 0.515785047, 0.230576444,
                         0.655413088],
                 'gs': [-0.00264586139, -0.0105052808, 0.0130286957, 0.00127749761,
                        0.023771051, -0.0175350316, -0.00795757076, 0.00027817167,
                        -0.0044065153, -0.00390071088, 0.00231964412, 0.00514171505,
                        0.00883729509, -0.0337254573, 0.055281537, -0.0261063841,
                        0.00231918687, 0.0131047974, -0.00659148762, -0.00671800328,
                        0.0158624565, -0.0290212746, 0.0260435043, -0.0138075965],
                 'gt': [0.268274278, -0.44185781, 0.313954996, -0.157332693, -0.409393683,
                        0.548151734, -0.307103407, 0.128327985, 0.004067976, 0.065130955,
                        -0.0746540401, 0.0242680879, 0.537336547, -0.732370937, 0.49793748,
                        -0.239277002],
                 'checks': {'encoder.layers.0.self_attn.in_proj_weight': 0.01509634906,
                            'encoder.layers.0.self_attn.in_proj_bias': -0.009769068655,
                            'encoder.layers.0.self_attn.out_proj.weight': 0.2144179236,
                            'encoder.layers.0.self_attn.out_proj.bias': -0.008954207512,
                            'encoder.layers.0.linear1.weight': 0.08175751437,
                            'encoder.layers.0.linear1.bias': -0.009160679593,
                            'encoder.layers.0.linear2.weight': 0.4420245376,
                            'encoder.layers.0.linear2.bias': -0.07560783091,
                            'encoder.layers.0.norm1.weight': 0.6236204547,
                            'encoder.layers.0.norm1.bias': 0.05829615915,
                            'encoder.layers.0.norm2.weight': 0.2808588245,
                            'encoder.layers.0.norm2.bias': -0.1114317419,
                            'encoder.norm.weight': 1.070379183,
                            'encoder.norm.bias': -0.3457971859,
                            'decoder.layers.0.self_attn.in_proj_weight': -0.1314046699,
                            'decoder.layers.0.self_attn.in_proj_bias': -0.1131274537,
                            'decoder.layers.0.self_attn.out_proj.weight': -1.257475948,
                            'decoder.layers.0.self_attn.out_proj.bias': -0.07859275725,
                            'decoder.layers.0.multihead_attn.in_proj_weight': -0.3091736589,
                            'decoder.layers.0.multihead_attn.in_proj_bias': 0.3087396602,
                            'decoder.layers.0.multihead_attn.out_proj.weight': -0.1102220101,
                            'decoder.layers.0.multihead_attn.out_proj.bias': 0.382747457,
                            'decoder.layers.0.linear1.weight': 0.05844762104,
                            'decoder.layers.0.linear1.bias': -1.589126916,
                            'decoder.layers.0.linear2.weight': -0.3382879917,
                            'decoder.layers.0.linear2.bias': 0.8402616279,
                            'decoder.layers.0.norm1.weight': -0.1688899494,
                            'decoder.layers.0.norm1.bias': 0.3876900855,
                            'decoder.layers.0.norm2.weight': -3.010674176,
                            'decoder.layers.0.norm2.bias': -0.2831123406,
                            'decoder.layers.0.norm3.weight': 4.976485176,
                            'decoder.layers.0.norm3.bias': 0.3530047655,
                            'decoder.norm.weight': 0.1390632626,
                            'decoder.norm.bias': 1.932059903}},
 'keys': {'mha': ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias'],
          'mha_kvdim_biaskv': ['q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'bias_k',
                               'bias_v', 'out_proj.weight'],
          'decoder_layer': ['self_attn.in_proj_weight', 'self_attn.in_proj_bias',
                            'self_attn.out_proj.weight', 'self_attn.out_proj.bias',
                            'multihead_attn.in_proj_weight', 'multihead_attn.in_proj_bias',
                            'multihead_attn.out_proj.weight', 'multihead_attn.out_proj.bias',
                            'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias',
                            'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias',
                            'norm3.weight', 'norm3.bias'],
          'transformer': ['encoder.layers.0.self_attn.in_proj_weight',
                          'encoder.layers.0.self_attn.in_proj_bias',
                          'encoder.layers.0.self_attn.out_proj.weight',
                          'encoder.layers.0.self_attn.out_proj.bias',
                          'encoder.layers.0.linear1.weight', 'encoder.layers.0.linear1.bias',
                          'encoder.layers.0.linear2.weight', 'encoder.layers.0.linear2.bias',
                          'encoder.layers.0.norm1.weight', 'encoder.layers.0.norm1.bias',
                          'encoder.layers.0.norm2.weight', 'encoder.layers.0.norm2.bias',
                          'encoder.norm.weight', 'encoder.norm.bias',
                          'decoder.layers.0.self_attn.in_proj_weight',
                          'decoder.layers.0.self_attn.in_proj_bias',
                          'decoder.layers.0.self_attn.out_proj.weight',
                          'decoder.layers.0.self_attn.out_proj.bias',
                          'decoder.layers.0.multihead_attn.in_proj_weight',
                          'decoder.layers.0.multihead_attn.in_proj_bias',
                          'decoder.layers.0.multihead_attn.out_proj.weight',
                          'decoder.layers.0.multihead_attn.out_proj.bias',
                          'decoder.layers.0.linear1.weight', 'decoder.layers.0.linear1.bias',
                          'decoder.layers.0.linear2.weight', 'decoder.layers.0.linear2.bias',
                          'decoder.layers.0.norm1.weight', 'decoder.layers.0.norm1.bias',
                          'decoder.layers.0.norm2.weight', 'decoder.layers.0.norm2.bias',
                          'decoder.layers.0.norm3.weight', 'decoder.layers.0.norm3.bias',
                          'decoder.norm.weight', 'decoder.norm.bias']}}


def _pattern(shape, a, b, scale=1.0):
    n = int(np.prod(shape))
    return scale * np.sin(a * np.arange(n) + b).reshape(shape)


def _t(shape, a, b, requires_grad=True):
    return distgrad.tensor(_pattern(shape, a, b), dtype=distgrad.float64,
                           requires_grad=requires_grad)


def _fill(module):
    module.double()
    for i, (_, p) in enumerate(module.named_parameters()):
        p.data.copy_(distgrad.tensor(_pattern(p.shape, 1.3, 0.7 * i, 0.5)))
    return module


def _loss(out, a=0.5, b=0.2):
    return (out * distgrad.tensor(_pattern(out.shape, a, b))).sum()


def _close(actual, expected, tol=1e-8):
    np.testing.assert_allclose(actual.detach().numpy().reshape(-1), expected, rtol=tol, atol=tol)


def _check_params(module, expected):
    got = {n: float((p.grad.numpy() * _pattern(p.shape, 0.6, 0.4)).sum())
           for n, p in module.named_parameters()}
    assert list(got) == list(expected)
    np.testing.assert_allclose(list(got.values()), list(expected.values()), rtol=1e-7,
                               atol=1e-9)


def test_sdpa_bool_mask_matches_torch():
    case = RECORDED["sdpa_bool"]
    q, k, v = _t((1, 2, 3, 4), 0.7, 0.1), _t((1, 2, 5, 4), 1.1, 0.3), _t((1, 2, 5, 3), 0.9, 0.5)
    mask = distgrad.tensor([[True, False, True, True, False], [False] * 5,
                            [True, True, False, False, True]])
    out = scaled_dot_product_attention(q, k, v, attn_mask=mask)
    _loss(out).backward()
    for t, key in ((out, "out"), (q.grad, "gq"), (k.grad, "gk"), (v.grad, "gv")):
        _close(t, case[key])


def test_sdpa_causal_gqa_scale_matches_torch():
    case = RECORDED["sdpa_gqa"]
    q, k, v = _t((2, 4, 3, 2), 0.7, 0.1), _t((2, 2, 4, 2), 1.1, 0.3), _t((2, 2, 4, 2), 0.9, 0.5)
    out = scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.8, enable_gqa=True)
    _loss(out).backward()
    for t, key in ((out, "out"), (q.grad, "gq"), (k.grad, "gk"), (v.grad, "gv")):
        _close(t, case[key])


def test_mha_self_attention_batch_first_matches_torch():
    case = RECORDED["mha_self"]
    mha = _fill(T.MultiheadAttention(4, 2, batch_first=True))
    x = _t((2, 3, 4), 0.9, 0.2)
    kpm = distgrad.tensor([[False, False, True], [False, False, False]])
    am = distgrad.tensor([[False, True, False], [False, False, False], [True, False, False]])
    out, weights = mha(x, x, x, key_padding_mask=kpm, attn_mask=am)
    (_loss(out) + _loss(weights, 0.3, 0.1)).backward()
    _close(out, case["out"])
    _close(weights, case["weights"])
    _close(x.grad, case["gx"])
    _check_params(mha, case["checks"])


def test_mha_kdim_vdim_bias_kv_zero_attn_matches_torch():
    case = RECORDED["mha_kvdim"]
    mha = _fill(T.MultiheadAttention(4, 2, kdim=3, vdim=2, add_bias_kv=True,
                                     add_zero_attn=True))
    q, k, v = _t((3, 2, 4), 0.9, 0.2), _t((5, 2, 3), 0.8, 0.1), _t((5, 2, 2), 0.4, 0.6)
    out, weights = mha(q, k, v, attn_mask=_t((4, 3, 5), 0.3, 0.3, False), need_weights=False)
    assert weights is None
    _loss(out).backward()
    for t, key in ((out, "out"), (q.grad, "gq"), (k.grad, "gk"), (v.grad, "gv")):
        _close(t, case[key])
    _check_params(mha, case["checks"])


def test_encoder_layer_norm_first_gelu_matches_torch():
    case = RECORDED["enc_layer"]
    layer = _fill(T.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0,
                                            activation="gelu", norm_first=True))
    x = _t((3, 2, 4), 0.9, 0.2)
    kpm = distgrad.tensor([[False, False, True], [False, False, False]])
    mask = T.Transformer.generate_square_subsequent_mask(3).double()
    out = layer(x, src_mask=mask, src_key_padding_mask=kpm)
    _loss(out).backward()
    _close(out, case["out"])
    _close(x.grad, case["gx"])
    _check_params(layer, case["checks"])


def test_transformer_matches_torch():
    case = RECORDED["transformer"]
    model = _fill(T.Transformer(4, 2, num_encoder_layers=1, num_decoder_layers=1,
                                dim_feedforward=6, dropout=0.0, batch_first=True))
    src, tgt = _t((2, 3, 4), 0.9, 0.2), _t((2, 2, 4), 0.7, 0.5)
    kpm = distgrad.tensor([[False, False, True], [False, False, False]])
    mask = T.Transformer.generate_square_subsequent_mask(2, dtype=distgrad.float64)
    out = model(src, tgt, tgt_mask=mask, memory_key_padding_mask=kpm)
    _loss(out).backward()
    _close(out, case["out"])
    _close(src.grad, case["gs"])
    _close(tgt.grad, case["gt"])
    _check_params(model, case["checks"])


# ------------------------------------------------------------------------- names


@pytest.mark.parametrize("name, make", [
    ("mha", lambda: T.MultiheadAttention(4, 2)),
    ("mha_kvdim_biaskv", lambda: T.MultiheadAttention(4, 2, kdim=3, vdim=2, add_bias_kv=True,
                                                      bias=False)),
    ("decoder_layer", lambda: T.TransformerDecoderLayer(4, 2, 6)),
    ("transformer", lambda: T.Transformer(4, 2, 1, 1, 6)),
])
def test_state_dict_keys_match_torch(name, make):
    assert list(make().state_dict()) == RECORDED["keys"][name]


def test_parameter_shapes_and_init():
    mha = T.MultiheadAttention(6, 3, kdim=2, vdim=5, add_bias_kv=True)
    assert mha.in_proj_weight is None and mha.head_dim == 2
    shapes = {n: tuple(p.shape) for n, p in mha.named_parameters()}
    assert shapes == {"q_proj_weight": (6, 6), "k_proj_weight": (6, 2), "v_proj_weight": (6, 5),
                      "in_proj_bias": (18,), "bias_k": (1, 1, 6), "bias_v": (1, 1, 6),
                      "out_proj.weight": (6, 6), "out_proj.bias": (6,)}
    mha = T.MultiheadAttention(8, 2)
    assert np.all(mha.in_proj_bias.detach().numpy() == 0)
    assert np.all(mha.out_proj.bias.detach().numpy() == 0)
    bound = np.sqrt(6.0 / (8 + 24))  # xavier_uniform_ on the whole (3E, E) matrix
    assert np.abs(mha.in_proj_weight.detach().numpy()).max() <= bound
    assert type(mha.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert mha.bias_k is None and "bias_k" not in dict(mha.named_parameters())


def test_encoder_layers_are_identical_deep_copies():
    layer = T.TransformerEncoderLayer(4, 2, dim_feedforward=6)
    enc = T.TransformerEncoder(layer, 3, enable_nested_tensor=False)
    assert len(enc.layers) == 3 and enc.layers[0] is not layer
    w0, w2 = enc.layers[0].linear1.weight, enc.layers[2].linear1.weight
    assert w0 is not w2 and np.array_equal(w0.detach().numpy(), w2.detach().numpy())
    assert np.array_equal(w0.detach().numpy(), layer.linear1.weight.detach().numpy())
    assert len(list(enc.parameters())) == 3 * len(list(layer.parameters()))


# ------------------------------------------------------------------------ gradcheck


def _rand(*shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return distgrad.tensor(data, requires_grad=True)


def test_gradcheck_sdpa_masks_and_gqa():
    q, k, v = _rand(2, 4, 3, 3, seed=1), _rand(2, 2, 5, 3, seed=2), _rand(2, 2, 5, 2, seed=3)
    bool_mask = distgrad.tensor(np.array([[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [1, 1, 0, 0, 1]],
                                         dtype=bool))
    float_mask = _rand(1, 4, 3, 5, seed=4)

    def f(q, k, v, m):
        with_bool = scaled_dot_product_attention(q, k, v, bool_mask, enable_gqa=True)
        with_float = scaled_dot_product_attention(q, k, v, m, scale=0.7, enable_gqa=True)
        return with_bool, with_float

    assert gradcheck(f, (q, k, v, float_mask))
    small = _rand(1, 2, 2, 2, seed=5), _rand(1, 1, 3, 2, seed=6), _rand(1, 1, 3, 2, seed=7)
    assert gradgradcheck(lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True,
                                                                      enable_gqa=True), small)


def test_gradcheck_tiny_multihead_attention():
    mha = T.MultiheadAttention(4, 2, kdim=3).double()
    q, k, v = _rand(3, 2, 4, seed=5), _rand(2, 2, 3, seed=6), _rand(2, 2, 4, seed=7)
    kpm = distgrad.tensor(np.array([[False, True], [False, False]]))
    params = tuple(mha.parameters())

    def f(q, k, v, *params):
        out, weights = mha(q, k, v, key_padding_mask=kpm)
        out2, _ = mha(q, k, v, need_weights=False, attn_mask=kpm[0:1].expand(3, 2))
        return out, weights, out2

    assert gradcheck(f, (q, k, v) + params)


def test_gradcheck_functional_packed_projection():
    w, b, ow, ob = _rand(12, 4, seed=8), _rand(12, seed=9), _rand(4, 4, seed=10), _rand(4, seed=11)
    x = _rand(3, 4, seed=12)  # unbatched self-attention: one packed projection

    def f(x, w, b, ow, ob):
        return multi_head_attention_forward(x, x, x, 4, 2, w, b, None, None, False, 0.0, ow,
                                            ob, need_weights=False)[0]

    assert gradcheck(f, (x, w, b, ow, ob))


# ------------------------------------------------------------------------ masks


def test_bool_and_float_masks_agree():
    q, k, v = _rand(2, 3, 4, seed=1), _rand(2, 5, 4, seed=2), _rand(2, 5, 4, seed=3)
    keep = np.random.default_rng(0).random((3, 5)) > 0.4
    keep[:, 0] = True
    additive = np.where(keep, 0.0, -np.inf)
    a = scaled_dot_product_attention(q, k, v, attn_mask=distgrad.tensor(keep))
    b = scaled_dot_product_attention(q, k, v, attn_mask=distgrad.tensor(additive))
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
    causal = scaled_dot_product_attention(q, k, v, is_causal=True)
    tril = scaled_dot_product_attention(q, k, v, attn_mask=distgrad.tensor(np.tril(
        np.ones((3, 5), dtype=bool))))
    np.testing.assert_allclose(causal.detach().numpy(), tril.detach().numpy(), rtol=1e-12)
    # MultiheadAttention's convention is the opposite: True = masked out.
    mha = T.MultiheadAttention(4, 2).double()
    x = _rand(3, 2, 4, seed=4)
    by_bool = mha(x, x, x, attn_mask=distgrad.tensor(~np.tril(np.ones((3, 3), dtype=bool))))[0]
    by_float = mha(x, x, x, attn_mask=T.Transformer.generate_square_subsequent_mask(3).double())[0]
    np.testing.assert_allclose(by_bool.detach().numpy(), by_float.detach().numpy(), rtol=1e-12)


def test_fully_masked_rows_as_torch():
    q, k, v = _rand(3, 4, seed=1), _rand(5, 4, seed=2), _rand(5, 4, seed=3)
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    out = scaled_dot_product_attention(q, k, v, attn_mask=distgrad.tensor(mask))
    out.sum().backward()
    assert np.all(out.detach().numpy()[1] == 0) and np.all(np.isfinite(out.detach().numpy()))
    assert np.all(q.grad.numpy()[1] == 0) and np.all(np.isfinite(k.grad.numpy()))
    # MultiheadAttention: zeros (then out_proj's bias) without weights, NaN with them.
    mha = T.MultiheadAttention(4, 2).double()
    x = _rand(3, 2, 4, seed=4)
    kpm = distgrad.tensor(np.array([[True] * 3, [False] * 3]))
    out, _ = mha(x, x, x, key_padding_mask=kpm, need_weights=False)
    assert np.all(out.detach().numpy()[:, 0] == 0)  # out_proj.bias starts at zero
    out, weights = mha(x, x, x, key_padding_mask=kpm)
    assert np.isnan(out.detach().numpy()[:, 0]).all()
    assert np.isnan(weights.detach().numpy()[0]).all()
    assert np.isfinite(out.detach().numpy()[:, 1]).all()


def test_generate_square_subsequent_mask():
    mask = T.Transformer.generate_square_subsequent_mask(3)
    assert mask.dtype == distgrad.float32
    expected = np.array([[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]], dtype=np.float32)
    np.testing.assert_array_equal(mask.numpy(), expected)


def test_unbatched_matches_batched():
    mha = T.MultiheadAttention(4, 2).double()
    q, k = _rand(3, 4, seed=1), _rand(5, 4, seed=2)
    out, w = mha(q, k, k)
    out_b, w_b = mha(q.unsqueeze(1), k.unsqueeze(1), k.unsqueeze(1))
    assert out.shape == (3, 4) and w.shape == (3, 5)
    np.testing.assert_allclose(out.detach().numpy(), out_b.detach().numpy()[:, 0], rtol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), w_b.detach().numpy()[0], rtol=1e-12)
    w_heads = mha(q, k, k, average_attn_weights=False)[1]
    assert w_heads.shape == (2, 3, 5)


def test_dropout_only_in_training():
    layer = T.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.5, batch_first=True)
    x = distgrad.randn(2, 3, 4)
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.train()
    distgrad.manual_seed(0)
    a = layer(x).detach().numpy()
    assert not np.allclose(a, layer(x).detach().numpy())
    q = distgrad.randn(2, 3, 4)
    assert np.all(scaled_dot_product_attention(q, q, q, dropout_p=1.0).numpy() == 0)


def test_custom_activation_and_deepcopy():
    layer = T.TransformerEncoderLayer(4, 2, dim_feedforward=6, activation=distgrad.tanh,
                                      dropout=0.0)
    assert layer.activation is distgrad.tanh
    assert copy.deepcopy(layer)(distgrad.randn(3, 4)).shape == (3, 4)


# ------------------------------------------------------------------------ errors


def test_errors():
    q = distgrad.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="query and key must have the same last dim"):
        scaled_dot_product_attention(q, distgrad.randn(2, 5, 3), distgrad.randn(2, 5, 3))
    with pytest.raises(RuntimeError, match="key and value must have the same sequence length"):
        scaled_dot_product_attention(q, distgrad.randn(2, 5, 4), distgrad.randn(2, 6, 4))
    with pytest.raises(RuntimeError, match="do not broadcast"):
        scaled_dot_product_attention(q, distgrad.randn(3, 5, 4), distgrad.randn(3, 5, 4))
    with pytest.raises(RuntimeError, match="must divide the number of heads in query"):
        scaled_dot_product_attention(distgrad.randn(1, 4, 3, 2), distgrad.randn(1, 3, 5, 2),
                                     distgrad.randn(1, 3, 5, 2), enable_gqa=True)
    with pytest.raises(RuntimeError, match="should not be set when is_causal=True"):
        scaled_dot_product_attention(q, q, q, attn_mask=distgrad.ones(3, 3), is_causal=True)
    with pytest.raises(RuntimeError, match="dtype bool or of the query's dtype"):
        scaled_dot_product_attention(q, q, q, attn_mask=distgrad.zeros(3, 3, dtype=distgrad.int64))
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        T.MultiheadAttention(6, 4)
    mha = T.MultiheadAttention(4, 2)
    x = distgrad.randn(3, 2, 4)
    with pytest.raises(RuntimeError, match=r"2D attn_mask is \(2, 2\), but should be \(3, 3\)"):
        mha(x, x, x, attn_mask=distgrad.zeros(2, 2))
    with pytest.raises(RuntimeError, match=r"3D attn_mask is \(2, 3, 3\), but should be"):
        mha(x, x, x, attn_mask=distgrad.zeros(2, 3, 3))
    with pytest.raises(AssertionError, match=r"key_padding_mask shape of \(2, 3\)"):
        mha(x, x, x, key_padding_mask=distgrad.zeros(2, 4, dtype=distgrad.bool))
    with pytest.raises(AssertionError, match="embedding dimension of 4, but got 5"):
        mha(distgrad.randn(3, 2, 5), x, x)
    with pytest.raises(AssertionError, match="batched 3D tensor but received 4-D"):
        mha(distgrad.randn(1, 3, 2, 4), x, x)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        T.TransformerEncoderLayer(4, 2, activation="tanh")
    model = T.Transformer(4, 2, 1, 1, 6)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(distgrad.randn(3, 2, 4), distgrad.randn(3, 1, 4))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal"):
        model(distgrad.randn(3, 2, 4), distgrad.randn(3, 2, 5))
