#!/usr/bin/env python3
"""tapegrad/tests/reference/functions_reference.py: indexing, rearranging and reductions from
Debian's PyTorch (python3-torch), float64: each named expression's shape and values on its input
(x = arange(24).reshape(2, 3, 4) unless the case gives one: zeros, ties, NaN), and for the
differentiable ones the gradient of sum(out * w), w = 1, 2, 3... over out's elements (so a wrong
placement shows). Read by tests/functions_reference_test.cc, which holds the same expressions in
C++ under the same names. Regenerate with:
    /usr/bin/python3 tests/reference/functions_reference.py > tests/reference/functions_reference.inc
Entries: NAME/shape, NAME/values, NAME/grad, and NAME/input, NAME/input_shape for a given input.
"""
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def attention(q, k, v, mask=None, causal=False, scale=None):
    """scaled_dot_product_attention from primitives (torch 1.13 has no fused one)."""
    s = q @ k.transpose(-2, -1) * (scale if scale is not None else q.shape[-1] ** -0.5)
    if causal:
        s = s.masked_fill(~torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril(), float("-inf"))
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else s + mask
    return torch.softmax(s, -1) @ v


T6 = torch.tensor([1, -100, 3, 0, 2, 3])
T24 = torch.tensor([[0, 2, 1, 1], [2, 0, 0, 1]])
W4 = torch.linspace(0.5, 2, 4)
W3 = torch.tensor([0.2, 1.0, 2.5])
PROBS = torch.softmax(torch.arange(24.0).reshape(6, 4).flip(1) / 5, 1)
PROBS_K = torch.softmax(torch.arange(24.0).reshape(2, 3, 4) / 7, 1)
BIN = torch.tensor([0.0, 1.0, 0.25, 1.0]).repeat(2, 3, 1)
SIGNS = torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, 1.0])
KL_T = torch.tensor([0.5, 0.0, 0.25, 0.25]).repeat(6, 1)

KEEP = torch.tensor([[True, False, True], [False, True, True], [True, True, False]])
mask = torch.tensor([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
CASES = {
    "index_int_slice_none": lambda x: x[0, 1:-1, None],
    "index_ellipsis_last": lambda x: x[..., -1],
    "index_step_slice": lambda x: x[:, ::2, 1:4:2],
    "index_negative_int": lambda x: x[-1, -2],
    "index_tensor": lambda x: x[:, torch.tensor([2, 0, -1, 2])],
    "index_tensor_2d": lambda x: x[1, :, torch.tensor([[0, 3], [1, 1]])],
    "index_bool_mask": lambda x: x[:, mask],
    "index_true": lambda x: x[True, 0],
    "select_negative": lambda x: x.select(1, -1),
    "narrow_negative": lambda x: x.narrow(2, -2, 2),
    "chunk_uneven": lambda x: torch.cat([c.reshape(-1) * (i + 1) for i, c in enumerate(torch.chunk(x, 3, 2))]),
    "split_sizes": lambda x: torch.cat([c.reshape(-1) * (i + 1) for i, c in enumerate(torch.split(x, [1, 2], 1))]),
    "unbind_1": lambda x: torch.cat([c.reshape(-1) * (i + 1) for i, c in enumerate(torch.unbind(x, 1))]),
    "flip_0_2": lambda x: torch.flip(x, [0, 2]),
    "roll_dims": lambda x: torch.roll(x, [1, -3], [1, 2]),
    "roll_flat": lambda x: torch.roll(x, 5),
    "repeat": lambda x: x[0].repeat(2, 1, 3),
    "repeat_interleave_dim": lambda x: torch.repeat_interleave(x, 2, 1),
    "repeat_interleave_flat": lambda x: torch.repeat_interleave(x[0, 0], 3),
    "repeat_interleave_tensor": lambda x: torch.repeat_interleave(x, torch.tensor([2, 0, 1]), 1),
    "tril": lambda x: torch.tril(x),
    "triu_1": lambda x: torch.triu(x, 1),
    "tril_minus1": lambda x: torch.tril(x, -1),
    "masked_fill": lambda x: x.masked_fill(mask, -1.5),
    "masked_select": lambda x: torch.masked_select(x, mask),
    "pad_constant": lambda x: F.pad(x, [1, 2, 0, 1], "constant", 0.5),
    "pad_crop": lambda x: F.pad(x, [-1, 2, 1, -1]),
    "pad_reflect": lambda x: F.pad(x, [2, 3, 1, 2], "reflect"),
    "pad_replicate": lambda x: F.pad(x, [2, 1, 2, 0], "replicate"),
    "attention_causal": lambda x: attention(x / 10, x.flip(1) / 10, x, causal=True),
    "attention_bool_mask_scale": lambda x: attention(x / 10, x.flip(2) / 10, x * x / 20, KEEP, scale=0.3),
    "attention_additive_mask": lambda x: attention(x / 10, x / 9, x, torch.linspace(-1, 1, 9).reshape(3, 3)),
    "einsum_bmm": lambda x: torch.einsum("bij,bjk->bik", x, x.transpose(1, 2) / 10),
    "einsum_implicit_outer": lambda x: torch.einsum("bij,k", x, torch.arange(3.0)),
    "einsum_ellipsis_broadcast": lambda x: torch.einsum("...ij,jk->...ik", x, torch.linspace(-1, 1, 8).reshape(4, 2)),
    "einsum_bilinear": lambda x: torch.einsum("bi,oij,bj->bo", x[0], torch.linspace(-1, 1, 32).reshape(2, 4, 4), x[1]),
    "einsum_attention_scores": lambda x: torch.einsum("bqd,bkd->bqk", x, x.flip(1)),
    "einsum_reduce_and_scalar": lambda x: torch.cat([torch.einsum("bij->j", x), torch.einsum("bij->", x).reshape(1)]),
    "einsum_transpose": lambda x: torch.einsum("b i j -> j b i", x),
    "einsum_broadcast_size1": lambda x: torch.einsum("bij,bjk->bik", x[:1], x.transpose(1, 2)),
    "einsum_three_operands_chain": lambda x: torch.einsum("ij,jk,kl->il", x[0], x[1].t() / 10, x[0] / 10),
    "ce_weight_kdim": lambda x: F.cross_entropy(x / 10, T24, weight=W3),
    "ce_weight_smoothing_ignore": lambda x: F.cross_entropy(x.reshape(6, 4) / 7, T6, weight=W4, label_smoothing=0.2),
    "ce_smoothing_ignore_no_weight": lambda x: F.cross_entropy(x.reshape(6, 4) / 7, T6, label_smoothing=0.2),
    "ce_weight_smoothing_none": lambda x: F.cross_entropy(x.reshape(6, 4) / 7, T6, weight=W4, label_smoothing=0.3, reduction="none"),
    "ce_prob_targets_weight_smoothing": lambda x: F.cross_entropy(x.reshape(6, 4) / 9, PROBS, weight=W4, label_smoothing=0.1),
    "ce_prob_targets_kdim_sum": lambda x: F.cross_entropy(x / 8, PROBS_K, reduction="sum"),
    "nll_weight_none": lambda x: F.nll_loss(torch.log_softmax(x.reshape(6, 4) / 5, 1), T6, weight=W4, reduction="none"),
    "nll_weight_mean_kdim": lambda x: F.nll_loss(torch.log_softmax(x / 5, 1), T24, weight=W3),
    "bce_weight": lambda x: F.binary_cross_entropy(torch.sigmoid(x / 10 - 1.2), BIN, weight=W4),
    "bce_logits_weight_pos_weight": lambda x: F.binary_cross_entropy_with_logits(x / 5 - 2, BIN, weight=W4, pos_weight=W4.flip(0) * 2),
    "l1_with_zero": lambda x: F.l1_loss(x / 5, torch.full((2, 3, 4), 1.0)),
    "smooth_l1_at_beta": lambda x: F.smooth_l1_loss(x / 5, torch.zeros(2, 3, 4), beta=1.0, reduction="sum"),
    "smooth_l1_beta_zero": lambda x: F.smooth_l1_loss(x / 5, torch.full((2, 3, 4), 2.0), beta=0.0),
    "huber_at_delta": lambda x: F.huber_loss(x / 5, torch.zeros(2, 3, 4), delta=1.0, reduction="none"),
    "kl_div_batchmean": lambda x: F.kl_div(torch.log_softmax(x.reshape(6, 4) / 5, 1), KL_T, reduction="batchmean"),
    "kl_div_log_target_sum": lambda x: F.kl_div(torch.log_softmax(x.reshape(6, 4) / 5, 1), torch.log(PROBS), reduction="sum", log_target=True),
    "margin_ranking": lambda x: F.margin_ranking_loss(x[0].reshape(-1) / 10, x[1].reshape(-1) / 12, SIGNS, margin=0.3),
    "triplet_swap": lambda x: F.triplet_margin_loss(x[0] / 10, x[1] / 12, x[0].flip(0) / 9, margin=1.0, swap=True),
    "triplet_p1_none": lambda x: F.triplet_margin_loss(x[0] / 10, x[1].flip(1) / 12, x[1] / 9, margin=0.5, p=1, reduction="none"),
    "cosine_embedding": lambda x: F.cosine_embedding_loss(x[0] / 10, x[1].flip(1) / 10, SIGNS[:3], margin=0.2),
    "cosine_similarity_dim2": lambda x: F.cosine_similarity(x, x.flip(2) - 11, dim=2),
    "pairwise_distance_p3_keepdim": lambda x: F.pairwise_distance(x[0] / 10, x[1] / 7, p=3, keepdim=True),
    "group_norm_affine": lambda x: F.group_norm(x.reshape(2, 4, 3) / 5, 2, torch.linspace(0.5, 2, 4), torch.linspace(-1, 1, 4)),
    "group_norm_4d_eps": lambda x: F.group_norm(x.reshape(1, 6, 2, 2), 3, eps=1e-2),
    "instance_norm_affine": lambda x: F.instance_norm(x / 3, weight=torch.tensor([2.0, 0.5, 1.0]), bias=torch.tensor([0.1, 0.0, -0.1])),
    "rms_norm_weight": lambda x: (x / 5) * torch.rsqrt((x / 5).pow(2).mean(-1, keepdim=True) + 1e-6) * torch.linspace(0.5, 2, 4),
    "rms_norm_default_eps_two_dims": lambda x: x * torch.rsqrt(x.pow(2).mean((-2, -1), keepdim=True) + torch.finfo(torch.float64).eps),
    "conv1d_stride_pad_dilation": lambda x: F.conv1d(x / 10, torch.linspace(-1, 1, 12).reshape(2, 3, 2), torch.tensor([0.5, -0.5]), stride=2, padding=1, dilation=2),
    "ctc_loss_padded_mean": lambda x: F.ctc_loss(F.log_softmax(x.reshape(6, 1, 4) / 5, 2), torch.tensor([[1, 3, 3]]),
                                                 [6], [3]),
    "ctc_loss_concatenated_blank_sum": lambda x: F.ctc_loss(F.log_softmax(torch.sin(x).reshape(3, 2, 4), 2),
                                                            torch.tensor([1, 0, 1]), [3, 2], [2, 1], blank=2,
                                                            reduction="sum"),
    "ctc_loss_impossible_zero_infinity_none": lambda x: F.ctc_loss(
        F.log_softmax(torch.cos(x).reshape(3, 2, 4), 2), torch.tensor([[1, 0], [3, 3]]), [3, 2], [1, 2],
        reduction="none", zero_infinity=True),
    "conv1d_groups": lambda x: F.conv1d(x.reshape(1, 6, 4) / 10, torch.linspace(-1, 1, 12).reshape(4, 3, 1), groups=2),
    "conv_transpose2d_stride_pad_output_padding": lambda x: F.conv_transpose2d(
        x.reshape(1, 2, 3, 4) / 10, torch.linspace(-1, 1, 36).reshape(2, 3, 3, 2), torch.tensor([0.5, -0.5, 0.25]),
        stride=(2, 3), padding=(1, 0), output_padding=(1, 2)),
    "conv_transpose2d_groups_dilation": lambda x: F.conv_transpose2d(
        x.reshape(1, 4, 2, 3) / 10, torch.linspace(-1, 1, 24).reshape(4, 1, 2, 3), stride=2, padding=1,
        output_padding=1, groups=2, dilation=(2, 1)),
    "conv_transpose1d_stride_pad_output_padding": lambda x: F.conv_transpose1d(
        x / 10, torch.linspace(-1, 1, 18).reshape(3, 2, 3), torch.tensor([0.5, -0.5]), stride=2, padding=1,
        output_padding=1),
    "conv_transpose1d_groups_dilation": lambda x: F.conv_transpose1d(
        x.reshape(1, 6, 4) / 10, torch.linspace(-1, 1, 24).reshape(6, 2, 2), groups=3, dilation=2),
    "max_pool1d_dilation_ceil": lambda x: F.max_pool1d(torch.sin(x), 2, 2, 1, dilation=2, ceil_mode=True),
    "avg_pool1d_ceil": lambda x: F.avg_pool1d(x, 3, 2, 0, ceil_mode=True),
    "max_pool1d_pad": lambda x: F.max_pool1d(torch.sin(x), 2, 1, 1),
    "avg_pool1d_exclude_pad": lambda x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False),
    "adaptive_avg_pool2d_uneven": lambda x: F.adaptive_avg_pool2d(x.reshape(1, 2, 3, 4), (2, 3)),
    "adaptive_avg_pool2d_global": lambda x: F.adaptive_avg_pool2d(x.reshape(2, 3, 2, 2), 1),
    "adaptive_avg_pool2d_divisible": lambda x: F.adaptive_avg_pool2d(x.reshape(1, 1, 4, 6), (2, 3)),
    "adaptive_avg_pool1d_unbatched": lambda x: F.adaptive_avg_pool1d(x[0], 3),
    "adaptive_max_pool2d_uneven": lambda x: F.adaptive_max_pool2d(torch.sin(x).reshape(1, 2, 3, 4), (2, 3)),
    "max_pool2d_ceil": lambda x: F.max_pool2d(torch.sin(x).reshape(1, 2, 3, 4), 2, ceil_mode=True),
    "max_pool2d_dilation_pad_ceil": lambda x: F.max_pool2d(torch.sin(x).reshape(1, 1, 4, 6), 2, 2, 1, dilation=2,
                                                           ceil_mode=True),
    "max_pool2d_dilation_rect": lambda x: F.max_pool2d(torch.sin(x).reshape(1, 1, 4, 6), (2, 3), 1, (1, 0),
                                                       dilation=(3, 2)),
    "avg_pool2d_ceil": lambda x: F.avg_pool2d(x.reshape(1, 2, 3, 4), 2, ceil_mode=True),
    "avg_pool2d_ceil_pad_include": lambda x: F.avg_pool2d(x.reshape(1, 1, 4, 6), 3, 2, 1, ceil_mode=True),
    "avg_pool2d_ceil_pad_exclude": lambda x: F.avg_pool2d(x.reshape(1, 1, 4, 6), 3, 2, 1, ceil_mode=True,
                                                          count_include_pad=False),
    "avg_pool2d_divisor_override": lambda x: F.avg_pool2d(x.reshape(1, 2, 3, 4), 2, 1, 1, divisor_override=3),
    "adaptive_max_pool2d_divisible": lambda x: F.adaptive_max_pool2d(torch.sin(x).reshape(1, 1, 4, 6), (2, 2)),
    "pixel_shuffle": lambda x: F.pixel_shuffle(x.reshape(1, 8, 3, 1), 2),
    "pixel_unshuffle": lambda x: F.pixel_unshuffle(x.reshape(1, 1, 4, 6), 2),
    "interpolate_nearest_size": lambda x: F.interpolate(x.reshape(1, 2, 3, 4), size=(5, 7), mode="nearest"),
    "interpolate_nearest_scale": lambda x: F.interpolate(x, scale_factor=2.5, mode="nearest"),
    "interpolate_bilinear": lambda x: F.interpolate(x.reshape(1, 2, 3, 4), size=(5, 3), mode="bilinear", align_corners=False),
    "interpolate_bilinear_align_corners": lambda x: F.interpolate(x.reshape(1, 2, 3, 4), size=(4, 7), mode="bilinear", align_corners=True),
    "interpolate_bilinear_scale": lambda x: F.interpolate(x.reshape(1, 2, 3, 4), scale_factor=(1.5, 0.75), mode="bilinear"),
    "interpolate_linear_align": lambda x: F.interpolate(x, size=6, mode="linear", align_corners=True),
    "layer_norm_affine": lambda x: F.layer_norm(x, [4], torch.linspace(0.5, 2, 4), torch.tensor([0.1, -0.2, 0.3, 0.0])),
    "layer_norm_two_dims": lambda x: F.layer_norm(x / 7, [3, 4], eps=1e-3),
    "embedding_padding": lambda x: F.embedding(torch.tensor([[2, 0], [2, 5]]), x.reshape(6, 4), padding_idx=2),
    "embedding_padding_negative": lambda x: F.embedding(torch.tensor([5, 1, 5]), x.reshape(6, 4), padding_idx=-1),
    "embedding_max_norm": lambda x: F.embedding(torch.tensor([4, 0, 4, 1]), x.reshape(6, 4).clone(), max_norm=20.0),
    "embedding_max_norm_1": lambda x: F.embedding(torch.tensor([3, 1]), x.reshape(6, 4).clone(), max_norm=30.0, norm_type=1.0),
}
# Reductions, on inputs of their own (values, shape) where they are not arange's.
WITH_ZEROS = ([2.0, 0.0, 3.0, -1.0, 0.0, 0.0, 4.0, 5.0, -2.0, 1.5, 0.5, 3.0], [3, 4])
TIES_NAN = ([3.0, 1.0, 3.0, float("nan"), -1.0, 1.0, 2.0, 1.0, 0.0, 0.0, -5.0, 0.0], [3, 4])
ZERO_ROW = ([0.0, 0.0, 0.0, 3.0, 4.0, 0.0], [2, 3])
REDUCTIONS = {
    "var_all": (None, lambda x: torch.var(x)),
    "var_dim_biased_keepdim": (None, lambda x: torch.var(x, [0, 2], unbiased=False, keepdim=True)),
    "std_dim": (None, lambda x: torch.std(x, 1)),
    "prod_all_one_zero": (([2.0, 0.0, 3.0, -1.5], [4]), lambda x: torch.prod(x)),
    "prod_dim_zeros": (WITH_ZEROS, lambda x: torch.prod(x, 1)),
    "prod_dim_keepdim": (None, lambda x: torch.prod(x / 10, 2, keepdim=True)),
    "layer_norm_constant_row": (ZERO_ROW, lambda x: F.layer_norm(x, [3])),
    "cumsum_dim1": (None, lambda x: torch.cumsum(x, 1)),
    "cumprod_zeros": (WITH_ZEROS, lambda x: torch.cumprod(x, 1)),
    "norm2_zero_row": (ZERO_ROW, lambda x: torch.norm(x, 2, 1)),
    "norm2_all": (None, lambda x: torch.norm(x)),
    "norm1_dim": (WITH_ZEROS, lambda x: torch.norm(x, 1, 0)),
    "norm3_dim": (WITH_ZEROS, lambda x: torch.norm(x, 3, 1, keepdim=True)),
    "norm_inf_dim": (WITH_ZEROS, lambda x: torch.norm(x, float("inf"), 1)),
    "sort_ties_nan": (TIES_NAN, lambda x: torch.sort(x, dim=1, stable=True)[0]),
    "sort_descending": (TIES_NAN, lambda x: torch.sort(x, dim=0, descending=True, stable=True)[0]),
    "topk_largest": (WITH_ZEROS, lambda x: torch.topk(x, 2, 1)[0]),
    "topk_smallest_dim0": (WITH_ZEROS, lambda x: torch.topk(x, 2, 0, largest=False)[0]),
}
NOT_DIFFERENTIABLE = {
    "sort_indices": lambda x: torch.sort(torch.tensor(TIES_NAN[0]).reshape(TIES_NAN[1]), dim=1, stable=True)[1],
    "argsort_descending": lambda x: torch.sort(torch.tensor(TIES_NAN[0]).reshape(TIES_NAN[1]), dim=0, descending=True, stable=True)[1],
    "argmin_ties": lambda x: torch.argmin(torch.tensor(TIES_NAN[0][4:]).reshape(2, 4), 1),
    "argmin_all": lambda x: torch.argmin(torch.tensor(WITH_ZEROS[0])),
    "any_all_dim": lambda x: torch.stack([torch.any(x.remainder(7) == 0, 2), torch.all(x > 0, 2)]),
    "any_all": lambda x: torch.stack([torch.any(x > 22), torch.all(x >= 0), torch.any(x < 0)]),
    "nonzero": lambda x: torch.nonzero(x.remainder(5) == 1),
    "one_hot": lambda x: F.one_hot(torch.tensor([[2, 0], [1, 3]]), 5),
    "one_hot_infer": lambda x: F.one_hot(torch.tensor([0, 2, 1])),
    "attention_fully_masked_row": lambda x: attention(x / 10, x / 10, x, torch.tensor([[True] * 3, [False] * 3, [True] * 3])),
    "linspace_odd": lambda x: torch.linspace(-1, 2.5, 11),
    "linspace_even_descending": lambda x: torch.linspace(3, -0.7, 8),
    "linspace_one_and_none": lambda x: torch.cat([torch.linspace(4, 9, 1), torch.linspace(4, 9, 0)]),
    "arange_float_step": lambda x: torch.arange(0, 1, 0.3),
    "arange_negative_step": lambda x: torch.arange(5, -3, -2.5),
    "arange_int_negative_step": lambda x: torch.arange(7, 0, -3),
    "eye_rectangular": lambda x: torch.eye(3, 5),
    "eye_tall": lambda x: torch.eye(4, 2),
}

entries = []


def add(name, t):
    entries.append((name, [float(v) for v in t.detach().reshape(-1).tolist()]))


CASES.update({name: fn for name, (given, fn) in REDUCTIONS.items()})
INPUTS = {name: given for name, (given, fn) in REDUCTIONS.items() if given is not None}
for name, fn in CASES.items():
    if name in INPUTS:
        x = torch.tensor(INPUTS[name][0]).reshape(INPUTS[name][1]).requires_grad_()
    else:
        x = torch.arange(24.0).reshape(2, 3, 4).requires_grad_()
    out = fn(x)
    w = torch.arange(1.0, out.numel() + 1).reshape(out.shape)
    (g,) = torch.autograd.grad((out * w).sum(), x)
    add(f"{name}/shape", torch.tensor(list(out.shape)))
    add(f"{name}/values", out)
    add(f"{name}/grad", g)
    if name in INPUTS:
        add(f"{name}/input", x)
        add(f"{name}/input_shape", torch.tensor(list(x.shape)))
for name, fn in NOT_DIFFERENTIABLE.items():
    out = fn(torch.arange(24.0).reshape(2, 3, 4))
    add(f"{name}/shape", torch.tensor(list(out.shape)))
    add(f"{name}/values", out)

print("// Generated by tests/reference/functions_reference.py with PyTorch", torch.__version__, "; do not edit.")
print("const std::map<std::string, std::vector<double>> kFunctionsReference = {")
for name, values in entries:
    print('  {"%s", {%s}},' % (name, ", ".join("kNaN" if v != v else repr(v).replace("inf", "kInf") for v in values)))
print("};")
