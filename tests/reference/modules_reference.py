#!/usr/bin/env python3
"""tapegrad/tests/reference/modules_reference.py: MultiheadAttention and the transformer encoder
from Debian's PyTorch (python3-torch), float64: each case's state dict, inputs, outputs and the
gradients of sum(out * w) (+ sum(weights * w2) where attention weights are returned),
w = 1, 2, 3... / 100, with respect to the inputs and some parameters. Read by
tests/modules_reference_test.cc, which builds the same modules in C++ under the same names,
loads the state dict (so parameter names must match PyTorch's one to one) and compares.
Regenerate with:
    /usr/bin/python3 tests/reference/modules_reference.py > tests/reference/modules_reference.inc
Entries: CASE/NAME and CASE/NAME/shape; bool masks as 0/1.
"""
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
entries = []


def add(name, t):
    t = t.detach()
    entries.append((name, [float(v) for v in t.reshape(-1).tolist()]))
    entries.append((name + "/shape", [float(d) for d in t.shape]))


def weights_for(t):
    return torch.arange(1.0, t.numel() + 1).reshape(t.shape) / 100


def record(case, module, inputs, outputs, grad_of):
    for name, t in module.state_dict().items():
        add(f"{case}/state/{name}", t)
    for name, t in inputs.items():
        add(f"{case}/{name}", t.to(torch.float64))
    loss = sum((o * weights_for(o)).sum() for o in outputs.values())
    params = dict(module.named_parameters())
    targets = {n: inputs[n] if n in inputs else params[n] for n in grad_of}
    grads = torch.autograd.grad(loss, list(targets.values()))
    for name, t in outputs.items():
        add(f"{case}/out/{name}", t)
    for name, g in zip(targets, grads):
        add(f"{case}/grad/{name}", g)


def causal(n):
    return nn.Transformer.generate_square_subsequent_mask(n)


torch.manual_seed(0)
# MultiheadAttention, batch first, float attn_mask and a bool key padding mask; weights averaged.
mha = nn.MultiheadAttention(8, 2, batch_first=True)
q, k, v = (torch.randn(2, 3, 8, requires_grad=True) for _ in range(3))
kpm = torch.tensor([[False, False, True, False], [False, False, False, False]])
k4 = torch.randn(2, 4, 8, requires_grad=True)
v4 = torch.randn(2, 4, 8, requires_grad=True)
attn_mask = torch.randn(3, 4)
out, w = mha(q, k4, v4, key_padding_mask=kpm, attn_mask=attn_mask)
record("mha_batch_first", mha, {"query": q, "key": k4, "value": v4, "key_padding_mask": kpm, "attn_mask": attn_mask},
       {"output": out, "weights": w}, ["query", "key", "value", "in_proj_weight", "out_proj.weight"])

# Sequence first, self-attention, a per-head bool mask, weights per head.
mha = nn.MultiheadAttention(8, 2)
x = torch.randn(3, 2, 8, requires_grad=True)
per_head = torch.rand(4, 3, 3) > 0.6
per_head[:, :, 0] = False  # every query keeps one key
out, w = mha(x, x, x, attn_mask=per_head, average_attn_weights=False)
record("mha_per_head_bool_mask", mha, {"query": x, "attn_mask": per_head}, {"output": out, "weights": w},
       ["query", "in_proj_bias"])

# need_weights=False (the fused attention row in tapegrad), unbatched input, no bias.
mha = nn.MultiheadAttention(6, 3, bias=False)
x = torch.randn(4, 6, requires_grad=True)
out, _ = mha(x, x, x, need_weights=False, attn_mask=causal(4))
record("mha_unbatched_no_weights", mha, {"query": x, "attn_mask": causal(4)}, {"output": out}, ["query", "in_proj_weight"])

# Post-norm encoder layer (relu), batch first, causal mask and key padding.
layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
src = torch.randn(2, 5, 8, requires_grad=True)
kpm = torch.tensor([[False] * 5, [False, False, False, True, True]])
out = layer(src, src_mask=causal(5), src_key_padding_mask=kpm)
record("encoder_layer_post_relu", layer, {"src": src, "src_mask": causal(5), "src_key_padding_mask": kpm},
       {"output": out}, ["src", "self_attn.in_proj_weight", "linear1.weight", "norm1.weight"])

# A two-layer pre-norm gelu stack, sequence first, with a final norm.
layer = nn.TransformerEncoderLayer(8, 4, 12, dropout=0.0, activation="gelu", norm_first=True)
encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))
with torch.no_grad():  # layers start as copies; make them differ
    for p in encoder.layers[1].parameters():
        p.add_(torch.randn(p.shape) * 0.1)
src = torch.randn(5, 2, 8, requires_grad=True)
out = encoder(src, mask=causal(5))
record("encoder_pre_gelu_stack", encoder, {"src": src, "src_mask": causal(5)}, {"output": out},
       ["src", "layers.0.linear2.weight", "layers.1.self_attn.out_proj.weight", "norm.bias"])

# A two-layer post-norm decoder with a final norm: causal self-attention, padded memory.
layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
decoder = nn.TransformerDecoder(layer, 2, norm=nn.LayerNorm(8))
with torch.no_grad():
    for p in decoder.layers[1].parameters():
        p.add_(torch.randn(p.shape) * 0.1)
tgt, memory = torch.randn(2, 4, 8, requires_grad=True), torch.randn(2, 5, 8, requires_grad=True)
mkpm = torch.tensor([[False] * 5, [False, False, False, False, True]])
out = decoder(tgt, memory, tgt_mask=causal(4), memory_key_padding_mask=mkpm)
record("decoder_post_norm_stack", decoder, {"tgt": tgt, "memory": memory, "tgt_mask": causal(4), "memory_key_padding_mask": mkpm},
       {"output": out}, ["tgt", "memory", "layers.0.multihead_attn.in_proj_weight", "layers.1.norm3.weight", "norm.weight"])

# A pre-norm gelu decoder layer, sequence first, with a float memory mask.
layer = nn.TransformerDecoderLayer(8, 4, 12, dropout=0.0, activation="gelu", norm_first=True)
tgt, memory = torch.randn(3, 2, 8, requires_grad=True), torch.randn(4, 2, 8, requires_grad=True)
memory_mask = torch.randn(3, 4)
out = layer(tgt, memory, memory_mask=memory_mask)
record("decoder_layer_pre_gelu", layer, {"tgt": tgt, "memory": memory, "memory_mask": memory_mask}, {"output": out},
       ["tgt", "memory", "multihead_attn.out_proj.weight", "linear1.bias"])

# Recurrent layers.
def rnd(*shape):
    return torch.randn(*shape, requires_grad=True)


lstm = nn.LSTM(5, 4, num_layers=2, batch_first=True, bidirectional=True)
x, h0, c0 = rnd(2, 3, 5), rnd(4, 2, 4), rnd(4, 2, 4)
out, (h, c) = lstm(x, (h0, c0))
record("lstm_two_layers_bidirectional", lstm, {"input": x, "h0": h0, "c0": c0}, {"output": out, "h_n": h, "c_n": c},
       ["input", "h0", "c0", "weight_hh_l1_reverse", "bias_ih_l0"])

lstm = nn.LSTM(5, 4)
x = rnd(3, 2, 5)
out, (h, c) = lstm(x)
record("lstm_zero_state", lstm, {"input": x}, {"output": out, "h_n": h, "c_n": c}, ["input", "weight_ih_l0", "bias_hh_l0"])

gru = nn.GRU(5, 4, num_layers=2)
x, h0 = rnd(4, 2, 5), rnd(2, 2, 4)
out, h = gru(x, h0)
record("gru_two_layers", gru, {"input": x, "h0": h0}, {"output": out, "h_n": h}, ["input", "h0", "weight_hh_l0", "bias_hh_l1"])

gru = nn.GRU(3, 4, bias=False)
x = rnd(4, 3)
out, h = gru(x)
record("gru_unbatched_no_bias", gru, {"input": x}, {"output": out, "h_n": h}, ["input", "weight_hh_l0"])

rnn = nn.RNN(3, 4, nonlinearity="relu", batch_first=True, bidirectional=True)
x, h0 = rnd(2, 3, 3), rnd(2, 2, 4)
out, h = rnn(x, h0)
record("rnn_relu_bidirectional", rnn, {"input": x, "h0": h0}, {"output": out, "h_n": h}, ["input", "h0", "weight_ih_l0_reverse"])

cell = nn.LSTMCell(3, 4)
x, h0, c0 = rnd(2, 3), rnd(2, 4), rnd(2, 4)
h, c = cell(x, (h0, c0))
record("lstm_cell", cell, {"input": x, "h0": h0, "c0": c0}, {"h": h, "c": c}, ["input", "h0", "c0", "weight_hh"])

cell = nn.GRUCell(3, 4)
x, h0 = rnd(2, 3), rnd(2, 4)
h = cell(x, h0)
record("gru_cell", cell, {"input": x, "h0": h0}, {"h": h}, ["input", "h0", "bias_hh"])

cell = nn.RNNCell(3, 4)
x = rnd(3)
h = cell(x)
record("rnn_cell_unbatched_zero_state", cell, {"input": x}, {"h": h}, ["input", "weight_ih"])

# Transposed convolutions: output_size chosen per call (PyTorch derives output_padding from it).
up = nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), padding=(1, 0), groups=2, dilation=(1, 2))
x = rnd(2, 4, 3, 4)
out = up(x, output_size=[6, 14])
record("conv_transpose2d_output_size", up, {"input": x}, {"output": out}, ["input", "weight", "bias"])

up = nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1, output_padding=1, bias=False)
x = rnd(3, 5)
out = up(x)
record("conv_transpose1d_unbatched", up, {"input": x}, {"output": out}, ["input", "weight"])

print("// Generated by tests/reference/modules_reference.py with PyTorch", torch.__version__, "; do not edit.")
print("const std::map<std::string, std::vector<double>> kModulesReference = {")
for name, values in entries:
    print('  {"%s", {%s}},' % (name, ", ".join("-kInf" if v == float("-inf") else repr(v) for v in values)))
print("};")
