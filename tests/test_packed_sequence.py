"""Packed sequences (``distgrad.nn.utils.rnn``) and the recurrent layers on packed input,
against values recorded from PyTorch 2.13.

The RNN cases build their input, initial state, weights and loss weights from
``numpy.random.default_rng(case index)`` in a fixed order (the same in the script that ran
PyTorch, in float64): ``x`` (padded), parameters in registration order from U(-0.8, 0.8),
then ``h0`` (and ``c0``) if the case passes one, then the weights of the loss
``sum(out.data * w_out) + sum(h_n * w_h) [+ sum(c_n * w_c)]``.
"""

import numpy as np
import pytest

import distgrad
from distgrad import nn
from distgrad.autograd import forward_ad, gradcheck, gradgradcheck
from distgrad.func import jvp
from distgrad.nn.utils.rnn import (
    PackedSequence,
    invert_permutation,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

IN, HID = 2, 2

# name, mode, module kwargs, lengths, enforce_sorted, whether an initial state is passed
CASES = [
    ("lstm_unsorted_hx", "LSTM", {}, [2, 4, 1, 3], False, True),
    ("gru_bidir_batch_first", "GRU", {"bidirectional": True, "batch_first": True}, [3, 1, 2],
     False, False),
    ("rnn_tanh_2layers_sorted_hx", "RNN", {"num_layers": 2}, [3, 2, 2], True, True),
    ("rnn_relu_bidir_2layers", "RNN",
     {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}, [1, 3, 2], False, False),
    ("lstm_bidir_2layers_batch_first_hx", "LSTM",
     {"num_layers": 2, "bidirectional": True, "batch_first": True}, [2, 3, 3, 1], False, True),
    ("lstm_proj_bidir", "LSTM", {"proj_size": 1, "bidirectional": True}, [2, 3, 1], False,
     True),
    ("gru_2layers_hx", "GRU", {"num_layers": 2}, [1, 2, 3], False, True),
]

EXPECTED = {
    "lstm_unsorted_hx": {
        "batch_sizes": [4, 3, 2, 1], "sorted_indices": [1, 3, 0, 2],
        "out": [
            -0.3317595045, 0.5078328347, 0.03166868563, -0.3352272465, 0.2272261321,
            0.02604878627, -0.3380111114, 0.6854167007, -0.02003921752, 0.4867293603,
            -0.02831973726, 0.035005317, 0.1187842881, 0.1441191007, -0.02596038022, 0.1426291107,
            -0.08726524367, -0.004160335361, 0.05415775208, 0.1801087006],
        "h_n": [
            0.1187842881, 0.1441191007, 0.05415775208, 0.1801087006, -0.3380111114, 0.6854167007,
            -0.08726524367, -0.004160335361],
        "c_n": [
            0.2185334215, 0.2329110764, 0.09022103059, 0.2674161041, -0.4145916123, 1.656324603,
            -0.1128141902, -0.005687482948],
        "grads": {
            "x": [
                -0.244411126, -0.01454165313, -0.1438042813, 0.02380263855, -0.07337059781,
                0.01543746571, 0.02198373473, -0.02932150945, -0.1805963079, 0.3141369163,
                -0.1799914595, 0.2917514596, 0, 0, 0.01772478894, 0.09858006678, 0, 0,
                -0.05354233193, 0.2077733129, 0, 0, -0.07152148515, 0.1268265986, 0, 0,
                -0.0422531118, -0.005111033618, 0, 0, 0, 0],
            "h0": [
                0.3530151966, 0.2475675255, -0.1155018277, 0.2184979237, -0.3426447312,
                -0.2001991251, 0.0114613945, 0.3213989587],
            "c0": [
                -0.0358947345, -0.4901006614, 0.1027414508, -0.1586538444, -0.2535387927,
                0.3312858836, 0.1182174716, -0.426924762],
            "weight_ih_l0": [
                -0.003292538617, 0.05189167987, 0.0507545159, 0.06201936651, -0.1491020211,
                -0.01809543382, -0.03941357524, 0.1516022198, 0.0534703217, -1.170493204,
                1.698874527, 1.993043365, -0.01456669877, -0.0188767905, 0.0588095849,
                0.1611365762],
            "weight_hh_l0": [
                -0.05636417182, -0.1443718666, -3.958823908e-05, 0.4593856628, 0.004281987607,
                -0.02661967229, -0.09833094812, -0.9973038872, -0.08742409836, -0.585347194,
                0.06538267852, -0.5752924246, 0.002366512489, -0.09309306861, -0.04576427587,
                -0.6543134655],
            "bias_ih_l0": [
                0.05868165518, 0.1422238401, 0.04234460768, -0.3013711934, -0.9003963592,
                -2.774756229, -0.1921734054, 0.5100448009],
            "bias_hh_l0": [
                0.05868165518, 0.1422238401, 0.04234460768, -0.3013711934, -0.9003963592,
                -2.774756229, -0.1921734054, 0.5100448009],
        },
    },
    "gru_bidir_batch_first": {
        "batch_sizes": [3, 2, 1], "sorted_indices": [0, 2, 1],
        "out": [
            -0.07101129584, 0.2088198882, 0.261894063, -0.5658954253, -0.07023376846,
            0.3838191782, 0.2549403464, -0.6970162061, -0.0862579877, 0.3737520303, 0.1382201832,
            -0.6150239717, 0.07584862, -0.02194049871, 0.1094653632, -0.1201200786, -0.1370071985,
            0.5879467727, 0.1424803105, -0.6139922669, 0.007736381539, 0.09201432293,
            0.1267831874, -0.2632375438],
        "h_n": [
            0.007736381539, 0.09201432293, -0.0862579877, 0.3737520303, -0.1370071985,
            0.5879467727, 0.261894063, -0.5658954253, 0.1382201832, -0.6150239717, 0.2549403464,
            -0.6970162061],
        "grads": {
            "x": [
                0.2714490112, -0.2950391749, 0.6850995756, -0.5553411417, 0.2670319772,
                -0.1741850274, 0.1323362713, 0.5346236196, 0, 0, 0, 0, 0.2356752944,
                -0.5491093199, 0.4743945577, -1.040324645, 0, 0],
            "weight_ih_l0": [
                -0.03809438173, 0.1033927951, 0.007616782238, 0.006410008864, -0.008727034001,
                0.2260983296, -0.3589336017, 0.5237670679, 0.3163166971, -0.5838283325,
                0.03624344752, 0.07513842275],
            "weight_hh_l0": [
                0.007651737986, -0.02932069891, 0.003083740767, -0.01639002866, 0.006589402556,
                -0.003326070824, -0.005673973225, 0.06976294721, -0.02068017488, 0.07717803486,
                0.01245921453, -0.06256521568],
            "bias_ih_l0": [
                -0.1704454685, -0.09872014036, 0.06687548017, 0.6549433522, 1.22443246,
                -0.7504400544],
            "bias_hh_l0": [
                -0.1704454685, -0.09872014036, 0.06687548017, 0.6549433522, 0.4816018891,
                -0.4107597589],
            "weight_ih_l0_reverse": [
                -0.01352883754, 0.02671104099, -0.007523472657, 0.04979640007, -0.3781428128,
                0.007879900181, -0.01372305849, 0.2399615076, 1.413263248, -0.9876211781,
                0.4137781154, -0.3474245925],
            "weight_hh_l0_reverse": [
                -0.004275012671, 0.01743837517, -0.02686647558, 0.07591724837, 0.006465543263,
                -0.05738833823, 0.007648643316, -0.03051863052, -0.01124455598, 0.1811176398,
                0.1027361205, -0.2203469726],
            "bias_ih_l0_reverse": [
                0.01189441112, -0.2366876477, 0.2160861314, 0.07431243688, -1.076817789,
                2.500214469],
            "bias_hh_l0_reverse": [
                0.01189441112, -0.2366876477, 0.2160861314, 0.07431243688, -0.8060311454,
                1.128680515],
        },
    },
    "rnn_tanh_2layers_sorted_hx": {
        "batch_sizes": [3, 3, 1], "sorted_indices": None,
        "out": [
            0.5303641319, -0.4216948033, 0.933315157, 0.3398025357, 0.9186369403, 0.1566238746,
            0.9195723486, -0.4444331353, 0.8207785255, 0.07411016554, 0.9307982243, -0.1994958855,
            0.9341764499, -0.3134048679],
        "h_n": [
            -0.7640957197, -0.2603489892, 0.1509292117, -0.2286789551, -0.8002210485,
            -0.1839977473, 0.9341764499, -0.3134048679, 0.8207785255, 0.07411016554, 0.9307982243,
            -0.1994958855],
        "grads": {
            "x": [
                0.01659683063, -0.06094045138, -0.4632198099, -0.3358425219, 0.1538838639,
                0.07947935226, 0.2753403201, -0.03898351349, -0.5281969619, -1.04011267,
                0.01105177565, 0.1810140776, 0.4144387015, -0.1022076044, 0, 0, 0, 0],
            "h0": [
                0.1163651291, -0.04997475097, 0.05098602704, 1.249318372, 0.03503561362,
                -0.4173217787, 0.03510283953, 0.1017512633, 0.08311395574, 0.03068100718,
                -0.03247750236, -0.122778497],
            "weight_ih_l0": [
                -0.4070274059, -3.157092269, -0.151073519, -3.752074651],
            "weight_hh_l0": [
                0.9269196366, 1.238469651, 2.402652069, 2.779585798],
            "bias_ih_l0": [
                2.585969549, -1.332056402],
            "bias_hh_l0": [
                2.585969549, -1.332056402],
            "weight_ih_l1": [
                0.07686452119, 0.1708753154, 4.13820744, 0.3669789719],
            "weight_hh_l1": [
                -0.1651512547, -0.4429047984, -3.378191423, 1.24130595],
            "bias_ih_l1": [
                -0.01220218781, -2.439084429],
            "bias_hh_l1": [
                -0.01220218781, -2.439084429],
        },
    },
    "rnn_relu_bidir_2layers": {
        "batch_sizes": [3, 2, 1], "sorted_indices": [1, 2, 0],
        "out": [
            0.5576671986, 0.2871827951, 0, 2.455332747, 1.117217359, 0, 0, 2.127422034,
            0.649597245, 1.099249099, 0, 2.941195478, 3.143560749, 0, 0, 1.426499904,
            0.7661604644, 0.1447034097, 0, 1.98529742, 1.386473257, 0.05355844163, 0, 2.326125704],
        "h_n": [
            0.6909647773, 0, 0, 1.855779018, 0, 0.4528078431, 2.145659088, 0, 1.470063683,
            0.07367254325, 0.6148195655, 0, 0.649597245, 1.099249099, 1.386473257, 0.05355844163,
            0.7661604644, 0.1447034097, 0, 2.941195478, 0, 2.455332747, 0, 2.127422034],
        "grads": {
            "x": [
                -0.5905319804, -0.7567988142, 0.6270483535, -0.8342251585, 0.2689751954,
                -0.8889083662, 0, 0, -0.3422775526, 1.36314497, -0.1078663439, 1.044841844, 0, 0,
                -0.3824947681, 0.9114674899, 0, 0],
            "weight_ih_l0": [
                -1.756482808, 2.199490242, -1.390640974, 2.823674641],
            "weight_hh_l0": [
                0, 0, 0, 2.963092919],
            "bias_ih_l0": [
                -0.8606332265, 0.4507323757],
            "bias_hh_l0": [
                -0.8606332265, 0.4507323757],
            "weight_ih_l0_reverse": [
                3.332456194, -3.570263998, -1.077365768, 3.849826691],
            "weight_hh_l0_reverse": [
                0.8004457024, -0.03485623563, 1.501614265, -0.3988369537],
            "bias_ih_l0_reverse": [
                0.5543376641, 0.8337006454],
            "bias_hh_l0_reverse": [
                0.5543376641, 0.8337006454],
            "weight_ih_l1": [
                -0.8117630816, 9.620470869, -0.5261643822, 2.269415231, 1.317299521, 2.898145939,
                6.701010411, 0.04996176837],
            "weight_hh_l1": [
                8.683783939, 0.4630941682, 4.669315338, 0],
            "bias_ih_l1": [
                1.41783134, 3.638466308],
            "bias_hh_l1": [
                1.41783134, 3.638466308],
            "weight_ih_l1_reverse": [
                0, 0, 0, 0, 0.1001575705, -6.994309168, -4.585328428, -1.839730909],
            "weight_hh_l1_reverse": [
                0, 0, 0, -4.113461635],
            "bias_ih_l1_reverse": [
                0, -4.207648966],
            "bias_hh_l1_reverse": [
                0, -4.207648966],
        },
    },
    "lstm_bidir_2layers_batch_first_hx": {
        "batch_sizes": [4, 3, 2], "sorted_indices": [1, 2, 0, 3],
        "out": [
            0.5344003412, 0.2250951411, -0.1498709325, 0.2165362335, 0.4268633046, -0.08108506442,
            -0.1703223533, 0.2200610847, 0.2635927305, 0.172787913, -0.2039817903, 0.5232468678,
            0.109127894, -0.08933777688, 0.04270951053, 0.1994394848, 0.5408964752, 0.1082672518,
            -0.1351846193, 0.1225332274, 0.4261350735, -0.07898400873, -0.1699844221,
            0.1675622766, 0.4131635433, 0.08360775032, -0.1429939549, 0.8474511921, 0.6035719129,
            0.02875058327, -0.1167131494, -0.1352644023, 0.4610509341, -0.02825608124,
            -0.2137334768, 0.05172364874],
        "h_n": [
            0.1846391515, 0.1452280792, 0.3001309735, 0.144952031, -0.008031624715, 0.1918968881,
            0.1423639514, 0.1550346979, -0.3205226741, -0.393390151, -0.2515962281,
            -0.04466581751, -0.4067809222, -0.3511426928, -0.203495174, -0.2735160388,
            0.4131635433, 0.08360775032, 0.6035719129, 0.02875058327, 0.4610509341,
            -0.02825608124, 0.109127894, -0.08933777688, -0.2039817903, 0.5232468678,
            -0.1498709325, 0.2165362335, -0.1703223533, 0.2200610847, 0.04270951053, 0.1994394848],
        "c_n": [
            0.3272524314, 0.8469188917, 0.4596741958, 1.079882612, -0.01191346074, 1.155408318,
            0.3116967504, 0.4465054835, -0.7422143442, -0.7507986991, -0.6280937382,
            -0.07598864149, -1.130469874, -0.6254634452, -0.9119726464, -0.4815101591,
            1.210655772, 0.2465284272, 2.109519729, 0.05950370685, 1.317337829, -0.06166011819,
            0.1906728059, -0.2163752196, -0.6809604692, 0.9359486235, -0.4057645566, 0.4329171862,
            -0.4712266268, 0.4222763609, 0.1222113235, 0.2988434472],
        "grads": {
            "x": [
                0.2345723732, -0.266474326, 0.4213213611, -0.7530453245, 0, 0, 0.08313353334,
                -0.0389052611, 0.1543370466, 0.03144767576, 0.09176943253, 0.1952048905,
                0.03420024863, -0.05283102169, -0.04188719645, -0.07748533048, -0.2122196966,
                -0.3165061387, 0.6632934048, 0.4361372252, 0, 0, 0, 0],
            "h0": [
                0.1745395298, -0.0135787951, 0.02417228759, -0.02209366112, 0.02743900211,
                0.08145865404, 0.295221266, -0.1079643454, -0.03402881823, 0.09116802422,
                0.000453844263, 0.02293248797, -0.2209745106, -0.07206560041, -1.513712141,
                -0.8877942764, 0.1156038745, -0.02177112498, 0.5539783564, 0.08794182758,
                -0.4848549318, 0.05773331349, -0.3468883974, 0.02872132416, -0.1161089417,
                -0.009552013441, 0.008777889505, -0.01314658754, 0.2922496819, 0.1145846837,
                0.5043321082, 0.0271081716],
            "c0": [
                0.04762975003, -0.4759424304, 0.1170879417, -0.0537315983, -0.03457709778,
                -0.1285281709, 0.4538551986, 0.06538773386, -0.1576314468, 0.227433795,
                0.0503714364, -0.2207851732, -0.1236475893, -0.5746049578, -1.182110487,
                -2.162630368, 0.5589292124, -0.02202907555, 0.8036995249, -0.3656511194,
                -0.1943272033, -0.4623046246, -0.1569106733, -0.3828524451, 0.04911419942,
                -0.3314882117, -0.1407819043, -0.07193094418, 0.008977361697, 0.1202028671,
                0.3403911634, -0.130884619],
            "weight_ih_l0": [
                -0.04347529503, 0.4862447439, 0.2450184424, -0.5947965935, 0.2223900172,
                -0.296133978, 0.3716643088, -0.4272563231, 1.048569861, -1.092501111,
                -0.8051244744, -0.3563455866, -0.01986962729, 0.1716949193, 0.3049094218,
                -0.3401473843],
            "weight_hh_l0": [
                0.05306378043, 0.09601769419, -0.4232244683, -0.2453041671, -0.08168214882,
                -0.004670145844, -0.1260222874, -0.2100032125, -0.1536129979, 0.01361056605,
                -0.07034017779, -0.1708130136, 0.07723180944, 0.04130439532, -0.1484142006,
                -0.03842646143],
            "bias_ih_l0": [
                0.4702130095, -0.8946293155, 0.02443885791, -0.603697746, -0.07574254637,
                -0.5934706213, 0.3973472896, -0.2090467147],
            "bias_hh_l0": [
                0.4702130095, -0.8946293155, 0.02443885791, -0.603697746, -0.07574254637,
                -0.5934706213, 0.3973472896, -0.2090467147],
            "weight_ih_l0_reverse": [
                -0.02930438788, -0.3755049702, -0.02303751597, 0.07534916797, -0.5949829568,
                -0.4932061439, 0.09505271597, -0.704608667, 0.5852195125, 0.097721297,
                2.657045066, -0.3785955963, -0.3008367404, -0.03650255989, -0.03825296365,
                -0.1912402652],
            "weight_hh_l0_reverse": [
                0.355871784, 0.1559312842, -0.2265368412, 0.09330723775, 0.1166981309,
                -0.1539682532, 0.2492975654, -0.02201933824, -0.2307226164, 0.005281821812,
                -1.322787425, -0.3932138502, 0.01447303602, -0.01122323483, 0.1181954721,
                0.01870017913],
            "bias_ih_l0_reverse": [
                0.7545300979, 0.3789574797, 0.3434343472, 0.2509311148, -0.9132389558,
                -3.534771201, 0.09179397916, 0.1217889603],
            "bias_hh_l0_reverse": [
                0.7545300979, 0.3789574797, 0.3434343472, 0.2509311148, -0.9132389558,
                -3.534771201, 0.09179397916, 0.1217889603],
            "weight_ih_l1": [
                0.2607704904, 0.1432744536, -0.06966547404, 0.2240012911, 0.07611076896,
                0.01877038376, -0.04583475473, 0.004360149416, 0.5142706566, 0.181007924,
                -0.1777639154, 0.2725905168, -0.1013243738, -0.0301963878, 0.03065932615,
                -0.07838347564, 0.05795523348, 0.02174310881, -0.007945760225, 0.02330753886,
                -1.064379364, -0.5759070718, 0.9085469382, -0.648717638, -0.1197419631,
                -0.03824140542, -0.03500045129, -0.2062617536, 0.1023513514, 0.02484846944,
                -0.05032995438, -0.03152579444],
            "weight_hh_l1": [
                0.5538365332, 0.4686540959, -0.01802073955, 0.01072706018, 0.2325231604,
                0.6854999892, -0.008544553751, -0.1184771937, 0.04159487821, 0.1549478487,
                -1.48955548, 0.3015560202, -0.1293313367, 0.09103672122, -0.179067254, -0.19933626],
            "bias_ih_l1": [
                0.9939297345, 0.2042559624, 1.602324243, -0.2833832887, 0.1947728989,
                -4.024301581, -0.2200068304, 0.2541174892],
            "bias_hh_l1": [
                0.9939297345, 0.2042559624, 1.602324243, -0.2833832887, 0.1947728989,
                -4.024301581, -0.2200068304, 0.2541174892],
            "weight_ih_l1_reverse": [
                0.1432131049, -0.01109090351, 0.006314512653, 0.1517955196, -0.1024602154,
                -0.0823433522, 0.1165305901, 0.07714296628, 0.1072440675, 0.03530041117,
                -0.03721078654, 0.03903004481, 0.009785692908, -0.0767737497, 0.1096352554,
                0.2500549062, -0.06780482526, 0.0705052007, -0.08791667837, -0.2425724014,
                -0.1021102012, -0.0988784794, 0.1528289289, 0.2675165574, 0.1759173362,
                -0.01401289876, -0.03079438143, 0.006649513866, -0.03453125466, -0.03576472284,
                0.06179831201, 0.09906725659],
            "weight_hh_l1_reverse": [
                0.03632530398, -0.1872018304, -0.2317772079, -0.1623869782, -0.06673197618,
                0.1188780172, -0.3601577284, -0.3981269659, -0.03795420533, 0.4274586292,
                -0.1627898785, -0.5177194485, 0.203760634, -0.1525997389, -0.1250648833,
                -0.08665785309],
            "bias_ih_l1_reverse": [
                0.2228744852, -0.5637161882, 0.3592147422, -0.4147918836, 0.1609732274,
                -0.6540616866, 0.1550613238, -0.1800900021],
            "bias_hh_l1_reverse": [
                0.2228744852, -0.5637161882, 0.3592147422, -0.4147918836, 0.1609732274,
                -0.6540616866, 0.1550613238, -0.1800900021],
        },
    },
    "lstm_proj_bidir": {
        "batch_sizes": [3, 2, 1], "sorted_indices": [1, 0, 2],
        "out": [
            0.03770345749, -0.2013288258, 0.2423633575, -0.0912915566, -0.03116219288,
            -0.0901523991, 0.02960092168, -0.02752095088, 0.1697350878, -0.04335866476,
            -0.01633294155, 0.08947467761],
        "h_n": [
            0.1697350878, -0.01633294155, -0.03116219288, -0.0912915566, -0.2013288258,
            -0.0901523991],
        "c_n": [
            0.4594990701, 0.64556284, -0.5276320446, 0.7695132052, -0.1505189433, -0.0500238121,
            -0.09692928988, -0.5453332255, -0.3935287604, -0.2777546317, -0.2272773623,
            -0.07781670619],
        "grads": {
            "x": [
                -0.005657395242, -0.1548276312, 0.4235730696, -0.2168485511, 0.005246370818,
                -0.1655471666, -0.07548203741, 0.004948167695, 0.1614541771, -0.151602852, 0, 0,
                0, 0, 0.3307129488, -0.2925908075, 0, 0],
            "h0": [
                0.04849022427, 0.06994812879, 0.07717195737, -0.1744403221, 0.2104796033,
                -0.1765230034],
            "c0": [
                0.3497639097, -0.1756456513, 0.05768855984, 0.4137713669, 0.390579775, 1.09094496,
                0.2172852093, -0.07367171923, 0.5398026995, 0.09836087983, -0.3624999643,
                0.6837581694],
            "weight_ih_l0": [
                0.03168347862, 0.1154988825, 0.4191597724, -0.1905673608, -0.2283896319,
                -0.3856030648, -0.08706848898, 0.1227090493, -0.08533700436, -0.2660394551,
                0.820997334, 0.7195832483, -0.01165603838, 0.03388635691, -0.01705772604,
                -0.08306155491],
            "weight_hh_l0": [
                -0.04101719641, 0.006255581025, 0.08288261478, -0.09018031231, 0.06266859633,
                -0.1698725353, 0.02092996098, -0.01755729468],
            "bias_ih_l0": [
                -0.1908987394, 0.1576216409, 0.3311272856, -0.1640435665, 0.4116628379,
                0.3851435273, -0.05019843922, 0.1352724106],
            "bias_hh_l0": [
                -0.1908987394, 0.1576216409, 0.3311272856, -0.1640435665, 0.4116628379,
                0.3851435273, -0.05019843922, 0.1352724106],
            "weight_hr_l0": [
                -0.3430548365, 1.137930723],
            "weight_ih_l0_reverse": [
                0.05499729044, -0.6165767499, -0.4613838016, -0.2919443022, 0.2681450312,
                0.3136838264, 0.08270556133, -0.195452666, -0.490738458, 0.1447020309,
                0.623315077, 1.384889502, 0.04530374644, -0.04355907105, 0.06504268068,
                0.1171197698],
            "weight_hh_l0_reverse": [
                -0.08811383217, 0.3281531178, -0.1571159486, -0.02998191038, 1.397138985,
                -0.7066288328, -0.02662540321, -0.01483782484],
            "bias_ih_l0_reverse": [
                -0.1751724563, -0.1356414493, 0.2204917347, 0.2546241845, 1.787688478,
                0.3642650218, 0.0744705768, -0.05103043408],
            "bias_hh_l0_reverse": [
                -0.1751724563, -0.1356414493, 0.2204917347, 0.2546241845, 1.787688478,
                0.3642650218, 0.0744705768, -0.05103043408],
            "weight_hr_l0_reverse": [
                0.2466469565, -0.08064148516],
        },
    },
    "gru_2layers_hx": {
        "batch_sizes": [3, 2, 1], "sorted_indices": [2, 1, 0],
        "out": [
            -0.1235262159, 0.6941565105, -0.1537585486, 0.3114785695, -0.3173028272, 0.1031608715,
            -0.02175557938, 0.7517701468, -0.009000771449, 0.4990925789, -0.01818101333,
            0.8196468664],
        "h_n": [
            -0.5853267944, -0.01632599007, 0.5394712459, 0.4439893098, -0.09495010306,
            0.1423316041, -0.3173028272, 0.1031608715, -0.009000771449, 0.4990925789,
            -0.01818101333, 0.8196468664],
        "grads": {
            "x": [
                -0.6054142981, -0.1702536804, 0.02007769142, -0.03869276609, -0.1333951176,
                -0.04978102069, 0, 0, -0.1371903493, -0.07463346612, -0.1680732102, 0.05398162411,
                0, 0, 0, 0, 0.07591155804, -0.06910727499],
            "h0": [
                0.2148089264, 1.149287092, 0.04662221284, -0.4223775216, 0.004767765069,
                0.01895748487, -0.4198051481, -0.7454254263, -0.1535925111, 0.8247579435,
                0.1567967542, -0.2498784707],
            "weight_ih_l0": [
                -0.008569613754, -0.03143710813, 0.04367723549, 0.1085923562, -0.1041161024,
                -0.1552510679, -0.0743872571, -0.2645529858, 1.389432911, 2.039284025,
                0.1827854376, 0.8452509542],
            "weight_hh_l0": [
                -0.05621875884, 0.01042047266, 0.006120149458, -0.02743806363, 0.5135211956,
                0.033959491, -0.3241513593, -0.4498478559, -0.1658835236, 0.6166257523,
                -0.3482258177, -0.4485324179],
            "bias_ih_l0": [
                -0.03873320396, 0.03475972941, -0.04841813566, -0.4627051506, 1.991500069,
                -0.3273323303],
            "bias_hh_l0": [
                -0.03873320396, 0.03475972941, -0.04841813566, -0.4627051506, 0.8452915412,
                -0.2519551345],
            "weight_ih_l1": [
                0.004686859626, 0.02716991592, 0.08056160284, -0.02110517432, 0.1850737131,
                0.4023043371, -0.6972529883, 0.005008959654, -0.1728214577, -0.5988536711,
                0.5806086598, -0.1440898655],
            "weight_hh_l1": [
                -0.07498665604, -0.08695860131, -0.01951735018, -0.05273663742, -0.8658891581,
                -0.6482784051, -0.9366843931, -1.580045475, 0.5885134991, 0.3027039192,
                0.3354024267, 0.3100310981],
            "bias_ih_l1": [
                0.1286747132, -0.2177831389, 1.081667365, 1.235251818, -2.189932564, -1.537168112],
            "bias_hh_l1": [
                0.1286747132, -0.2177831389, 1.081667365, 1.235251818, -1.102111697, -1.05189767],
        },
    },
}


def _run_case(index, dtype=distgrad.float64):
    """Run case ``index`` of :data:`CASES`; return the packed output, ``h_n``, ``c_n`` (or
    None) and the gradients of the loss, by name."""
    _, mode, kwargs, lengths, enforce_sorted, with_hx = CASES[index]
    rng = np.random.default_rng(index)
    batch_first = kwargs.get("batch_first", False)
    steps, batch = max(lengths), len(lengths)
    x_np = rng.standard_normal((batch, steps, IN) if batch_first else (steps, batch, IN))
    module = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN": nn.RNN}[mode](IN, HID, dtype=dtype,
                                                                  **kwargs)
    with distgrad.no_grad():
        for p in module.parameters():
            p.copy_(distgrad.tensor(rng.uniform(-0.8, 0.8, p.shape), dtype=dtype))
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    leaves = {"x": distgrad.tensor(x_np, dtype=dtype, requires_grad=True)}
    hx = None
    if with_hx:
        size = kwargs.get("proj_size") or HID
        leaves["h0"] = distgrad.tensor(rng.standard_normal((layers, batch, size)), dtype=dtype,
                                       requires_grad=True)
        hx = leaves["h0"]
        if mode == "LSTM":
            leaves["c0"] = distgrad.tensor(rng.standard_normal((layers, batch, HID)),
                                           dtype=dtype, requires_grad=True)
            hx = (leaves["h0"], leaves["c0"])
    packed = pack_padded_sequence(leaves["x"], lengths, batch_first=batch_first,
                                  enforce_sorted=enforce_sorted)
    out, h_n = module(packed, hx)
    h_n, c_n = h_n if mode == "LSTM" else (h_n, None)

    def weights(shape):
        return distgrad.tensor(rng.standard_normal(shape), dtype=dtype)

    loss = (out.data * weights(out.data.shape)).sum() + (h_n * weights(h_n.shape)).sum()
    if c_n is not None:
        loss = loss + (c_n * weights(c_n.shape)).sum()
    leaves.update(module.named_parameters())
    grads = distgrad.autograd.grad(loss, list(leaves.values()))
    return packed, out, h_n, c_n, dict(zip(leaves, grads))


def _close(actual, expected, tol):
    actual = actual.detach().numpy().ravel()
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_rnn_on_packed_input_matches_pytorch(index):
    name, mode = CASES[index][:2]
    expected = EXPECTED[name]
    packed, out, h_n, c_n, grads = _run_case(index)
    assert isinstance(out, PackedSequence)
    assert out.batch_sizes.tolist() == expected["batch_sizes"]
    assert out.batch_sizes is packed.batch_sizes
    assert out.sorted_indices is packed.sorted_indices
    assert out.unsorted_indices is packed.unsorted_indices
    sorted_indices = out.sorted_indices
    assert (expected["sorted_indices"] is None if sorted_indices is None
            else sorted_indices.tolist() == expected["sorted_indices"])
    _close(out.data, expected["out"], 1e-9)
    _close(h_n, expected["h_n"], 1e-9)
    if mode == "LSTM":
        _close(c_n, expected["c_n"], 1e-9)
    assert set(grads) == set(expected["grads"])
    for key, grad in grads.items():
        _close(grad, expected["grads"][key], 1e-9)


def test_rnn_on_packed_input_float32():
    _, out, h_n, c_n, grads = _run_case(4, dtype=distgrad.float32)
    expected = EXPECTED[CASES[4][0]]
    assert out.data.dtype == distgrad.float32
    _close(out.data, expected["out"], 1e-5)
    _close(h_n, expected["h_n"], 1e-5)
    _close(c_n, expected["c_n"], 1e-5)
    for key, grad in grads.items():
        _close(grad, expected["grads"][key], 1e-5)


def test_packed_output_ends_where_each_sequence_ends():
    # h_n of a unidirectional layer is the output at each sequence's own last step.
    lengths = [2, 4, 1, 3]
    x = distgrad.randn(4, 4, 3)
    gru = nn.GRU(3, 5)
    out, h_n = gru(pack_padded_sequence(x, lengths, enforce_sorted=False))
    padded, got_lengths = pad_packed_sequence(out)
    assert got_lengths.tolist() == lengths
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(h_n[0, b].detach().numpy(), padded[n - 1, b].detach().numpy())
        assert not padded[n:, b].detach().numpy().any()
        alone, h_alone = gru(x[:n, b:b + 1])
        np.testing.assert_allclose(padded[:n, b].detach().numpy(),
                                   alone[:, 0].detach().numpy(), rtol=1e-5, atol=1e-6)


def test_dropout_between_layers_on_packed_data():
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    packed = pack_sequence([distgrad.randn(3, 3), distgrad.randn(2, 3)])
    lstm.eval()
    first, second = lstm(packed)[0].data, lstm(packed)[0].data
    np.testing.assert_array_equal(first.detach().numpy(), second.detach().numpy())
    lstm.train()
    distgrad.manual_seed(0)
    trained = lstm(packed)[0].data
    assert trained.shape == (5, 4)
    assert not np.allclose(trained.detach().numpy(), first.detach().numpy())


# ------------------------------------------------------------------ packing and padding


def test_pack_padded_sequence_unsorted_example():
    # PyTorch's docstring example.
    seq = distgrad.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 6]])
    packed = pack_padded_sequence(seq, [2, 1, 3], batch_first=True, enforce_sorted=False)
    assert packed.data.tolist() == [4, 1, 3, 5, 2, 6]
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.batch_sizes.dtype == distgrad.int64
    assert packed.sorted_indices.tolist() == [2, 0, 1]
    assert packed.unsorted_indices.tolist() == [1, 2, 0]
    padded, lengths = pad_packed_sequence(packed, batch_first=True)
    assert padded.tolist() == [[1, 2, 0], [3, 0, 0], [4, 5, 6]]
    assert lengths.tolist() == [2, 1, 3] and lengths.dtype == distgrad.int64


def test_pack_sorts_ties_stably_and_takes_tensor_lengths():
    packed = pack_padded_sequence(distgrad.zeros(4, 5), distgrad.tensor([2, 3, 2, 3, 1]),
                                  enforce_sorted=False)
    assert packed.sorted_indices.tolist() == [1, 3, 0, 2, 4]
    assert packed.batch_sizes.tolist() == [5, 4, 2]
    # Float lengths are truncated to int64, as in PyTorch.
    packed = pack_padded_sequence(distgrad.zeros(4, 3), distgrad.tensor([4.0, 2.0, 1.0]))
    assert packed.batch_sizes.tolist() == [3, 2, 1, 1]
    assert packed.sorted_indices is None and packed.unsorted_indices is None


def test_pad_packed_sequence_value_and_total_length():
    packed = pack_sequence([distgrad.tensor([1., 2., 3.]), distgrad.tensor([4., 5.]),
                            distgrad.tensor([6.])])
    assert packed.data.tolist() == [1, 4, 6, 2, 5, 3]
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    padded, lengths = pad_packed_sequence(packed, padding_value=-1.0, total_length=5)
    assert padded.tolist() == [[1, 4, 6], [2, 5, -1], [3, -1, -1], [-1, -1, -1],
                               [-1, -1, -1]]
    assert lengths.tolist() == [3, 2, 1]
    with pytest.raises(ValueError, match="Expected total_length to be at least the length of "
                                         "the longest sequence in input, but got "
                                         "total_length=2 and max sequence length being 3"):
        pad_packed_sequence(packed, total_length=2)


def test_pack_and_unpack_sequence_lists():
    seqs = [distgrad.randn(2, 3), distgrad.randn(4, 3), distgrad.randn(1, 3)]
    packed = pack_sequence(seqs, enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [3, 2, 1, 1]
    assert packed.sorted_indices.tolist() == [1, 0, 2]
    back = unpack_sequence(packed)
    assert [tuple(s.shape) for s in back] == [(2, 3), (4, 3), (1, 3)]
    for got, want in zip(back, seqs):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    padded = pad_sequence(seqs)
    for lengths in ([2, 4, 1], distgrad.tensor([2, 4, 1])):
        unpadded = unpad_sequence(padded, lengths)
        for got, want in zip(unpadded, seqs):
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert padded.shape == (4, 3, 3)  # not transposed in place
    unpadded = unpad_sequence(pad_sequence(seqs, batch_first=True), [2, 4, 1], batch_first=True)
    np.testing.assert_array_equal(unpadded[1].numpy(), seqs[1].numpy())


def test_grad_fn_names_follow_pytorch():
    x = distgrad.randn(4, 3, 2, requires_grad=True)
    packed = pack_padded_sequence(x, [4, 2, 1])
    assert type(packed.data.grad_fn).__name__ == "PackPaddedSequenceBackward0"
    assert type(pad_packed_sequence(packed)[0].grad_fn).__name__ == "CopySlices"
    unsorted = pack_padded_sequence(x, [1, 4, 2], enforce_sorted=False)
    assert type(unsorted.data.grad_fn).__name__ == "PackPaddedSequenceBackward0"
    assert type(pad_packed_sequence(unsorted)[0].grad_fn).__name__ == "IndexSelectBackward0"


def test_packing_gradient_is_zero_on_padding():
    x = distgrad.randn(4, 3, 2, requires_grad=True)
    packed = pack_padded_sequence(x, [1, 3, 2, 3], batch_first=True, enforce_sorted=False)
    (packed.data * 2).sum().backward()
    mask = np.arange(3)[None, :] < np.array([1, 3, 2, 3])[:, None]
    np.testing.assert_array_equal(x.grad.numpy(),
                                  np.broadcast_to(2.0 * mask[..., None], (4, 3, 2)))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_gradcheck_pack_pad_round_trip(batch_first, enforce_sorted):
    lengths = [4, 3, 1] if enforce_sorted else [3, 4, 1]
    shape = (3, 4, 2) if batch_first else (4, 3, 2)
    x = distgrad.randn(*shape, dtype=distgrad.float64, requires_grad=True)

    def round_trip(x):
        packed = pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
        return pad_packed_sequence(packed, batch_first, padding_value=2.5, total_length=5)[0]

    assert gradcheck(round_trip, (x,))
    assert gradgradcheck(round_trip, (x,))
    assert gradcheck(lambda x: pack_padded_sequence(x, lengths, batch_first,
                                                    enforce_sorted).data, (x,))


def test_forward_mode_through_pack_and_pad():
    x, tangent = distgrad.randn(4, 3, dtype=distgrad.float64), distgrad.randn(4, 3,
                                                                              dtype=distgrad.float64)
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(x, tangent)
        padded = pad_packed_sequence(pack_padded_sequence(dual, [2, 4, 1], enforce_sorted=False),
                                     padding_value=7.0)[0]
        primal, out_tangent = forward_ad.unpack_dual(padded)
    mask = np.arange(4)[:, None] < np.array([2, 4, 1])[None, :]
    np.testing.assert_array_equal(primal.numpy(), np.where(mask, x.numpy(), 7.0))
    np.testing.assert_array_equal(out_tangent.numpy(), np.where(mask, tangent.numpy(), 0.0))


def _lstm_on_packed(lstm, lengths):
    def run(x, h0, c0):
        out, (h_n, c_n) = lstm(pack_padded_sequence(x, lengths, enforce_sorted=False),
                               (h0, c0))
        return out.data, h_n, c_n
    return run


def test_gradcheck_lstm_on_packed_input():
    distgrad.manual_seed(0)
    lstm = nn.LSTM(2, 3, bidirectional=True, dtype=distgrad.float64)
    x = distgrad.randn(4, 3, 2, dtype=distgrad.float64, requires_grad=True)
    h0 = distgrad.randn(2, 3, 3, dtype=distgrad.float64, requires_grad=True)
    c0 = distgrad.randn(2, 3, 3, dtype=distgrad.float64, requires_grad=True)
    run = _lstm_on_packed(lstm, [2, 4, 1])
    assert gradcheck(run, (x, h0, c0))
    assert gradcheck(lambda w: run(x, h0, c0), (lstm.weight_hh_l0_reverse,))
    tiny = nn.LSTM(1, 1, dtype=distgrad.float64)
    assert gradgradcheck(_lstm_on_packed(tiny, [1, 2]),
                         tuple(distgrad.randn(*s, dtype=distgrad.float64, requires_grad=True)
                               for s in ((2, 2, 1), (1, 2, 1), (1, 2, 1))))


def test_forward_mode_lstm_on_packed_input_agrees_with_reverse_mode():
    distgrad.manual_seed(0)
    lstm = nn.LSTM(2, 3, proj_size=2, bidirectional=True, dtype=distgrad.float64)
    lstm_plain = nn.LSTM(2, 3, dtype=distgrad.float64)
    for module, size in ((lstm, 2), (lstm_plain, 3)):
        layers = 2 if module.bidirectional else 1
        primals = (distgrad.randn(4, 3, 2, dtype=distgrad.float64),
                   distgrad.randn(layers, 3, size, dtype=distgrad.float64),
                   distgrad.randn(layers, 3, 3, dtype=distgrad.float64))
        tangents = tuple(distgrad.randn(*p.shape, dtype=distgrad.float64) for p in primals)
        run = _lstm_on_packed(module, [2, 4, 1])
        _, out_tangents = jvp(run, primals, tangents)
        leaves = [p.clone().requires_grad_() for p in primals]
        outs = run(*leaves)
        cotangents = [distgrad.randn(*o.shape, dtype=distgrad.float64) for o in outs]
        grads = distgrad.autograd.grad(outs, leaves, cotangents)
        forward = sum(float((t * c).sum()) for t, c in zip(out_tangents, cotangents))
        reverse = sum(float((g * t).sum()) for g, t in zip(grads, tangents))
        assert abs(forward - reverse) < 1e-10


# ---------------------------------------------------------------------- PackedSequence


def test_packed_sequence_is_a_named_tuple_with_conversions():
    packed = pack_padded_sequence(distgrad.randn(3, 2, 4), [3, 1])
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert data is packed.data and sorted_indices is None and unsorted_indices is None
    assert packed._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert repr(packed).startswith("PackedSequence(data=tensor(")
    assert packed.to(distgrad.float32) is packed and packed.cpu() is packed
    double = packed.double()
    assert double.data.dtype == distgrad.float64 and double.batch_sizes is batch_sizes
    assert packed.long().data.dtype == distgrad.int64
    assert packed.half().data.dtype == distgrad.float16
    assert not packed.is_cuda and not packed.is_pinned()
    with pytest.raises(RuntimeError, match="no CUDA device"):
        packed.cuda()
    built = PackedSequence((data, batch_sizes), sorted_indices=distgrad.tensor([1, 0]))
    assert built.unsorted_indices.tolist() == [1, 0]
    assert invert_permutation(distgrad.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert invert_permutation(None) is None
    with pytest.raises(AssertionError, match="Expected data to be a list or tuple of length 2"):
        PackedSequence(data)


def test_nn_utils_rnn_namespace():
    for name in ("PackedSequence", "pack_padded_sequence", "pad_packed_sequence",
                 "pack_sequence", "unpack_sequence", "unpad_sequence", "pad_sequence"):
        assert getattr(nn.utils.rnn, name) is globals()[name]


# --------------------------------------------------------------------------------- errors


def test_pack_padded_sequence_errors():
    x = distgrad.randn(4, 3, 2)
    with pytest.raises(RuntimeError) as info:
        pack_padded_sequence(x, [2, 4, 1])
    assert str(info.value) == (
        "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
        "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
        "sidestep this requirement if you do not need ONNX exportability.")
    with pytest.raises(RuntimeError, match="`lengths` array must be sorted in decreasing order"):
        pack_sequence([distgrad.ones(2), distgrad.ones(3)])
    zero = ("Length of all samples has to be greater than 0, but found an element in "
            "'lengths' that is <= 0")
    with pytest.raises(RuntimeError, match=zero):
        pack_padded_sequence(x, [4, 2, 0])
    with pytest.raises(RuntimeError, match=zero):
        pack_padded_sequence(x, [4, 0, 2], enforce_sorted=False)
    with pytest.raises(RuntimeError, match="a sequence length in `lengths` is 5, but the input "
                                           "holds only 4 steps"):
        pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(RuntimeError, match=r"Expected `len\(lengths\)` to be equal to "
                                           r"batch_size, but got 2 \(batch_size=3\)"):
        pack_padded_sequence(x, [4, 2], enforce_sorted=False)
    with pytest.raises(RuntimeError, match="'lengths' argument should be a 1D CPU int64 tensor, "
                                           "but got 2D cpu Long tensor"):
        pack_padded_sequence(x, distgrad.tensor([[4, 2, 1]]))
    with pytest.raises(RuntimeError, match="Cannot pack empty tensors."):
        pack_padded_sequence(distgrad.randn(4, 0, 2), [])
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of "
                                         r"\[-1, 0\], but got 1\)"):
        pack_padded_sequence(distgrad.randn(4), [4])


def test_rnn_packed_input_errors():
    packed = pack_padded_sequence(distgrad.randn(4, 3, 2), [4, 2, 1])
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 3, 4\), got \[1, 2, 4\]"):
        nn.GRU(2, 4)(packed, distgrad.zeros(1, 2, 4))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 3, 4\), got \[2, 4\]"):
        nn.GRU(2, 4)(packed, distgrad.zeros(2, 4))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(1, 3, 4\), got "
                                           r"\[1, 2, 4\]"):
        nn.LSTM(2, 4)(packed, (distgrad.zeros(1, 3, 4), distgrad.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. "
                                           "Expected 3, got 2"):
        nn.GRU(3, 4)(packed)
    with pytest.raises(RuntimeError, match="input must have 2 dimensions, got 3"):
        nn.GRU(2, 4)(PackedSequence(distgrad.randn(7, 2, 1), packed.batch_sizes))
    with pytest.raises(ValueError, match="does not match weight dtype"):
        nn.RNN(2, 4)(packed.double())
