#!/usr/bin/env python3
"""tapegrad/examples/pytorch/transfer_learning.py: examples/transfer_learning.cc's recipe in PyTorch.
PyTorch cannot load an ONNX file, so OnnxBackbone below runs the file's graph itself (the few ops a
CNN classifier exported by torch.onnx has; any other op is refused by name), its initializers as
parameters. As in the C++ example: the graph is cut at the input of its last Gemm/MatMul (or
--features), frozen (or trained at lr / 10 from --unfreeze_after epochs on, or from the start with
--finetune), a new Linear head learns Fashion-MNIST's 10 classes with Adam (lr 3e-3, batch 64) on
images normalized with the same statistics; printed in transfer_learning.cc's format:
  epoch E train_loss X test_accuracy Y seconds Z
Run with Debian's PyTorch:
  /usr/bin/python3 examples/pytorch/transfer_learning.py \
      --backbone=tests/reference/onnx_models/mnist_cnn/model.onnx --epochs=2
"""
import argparse
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F
from torch import nn
from idx import idx

MEAN, STD = 0.2860, 0.3530


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def symmetric_padding(pads):
    """ONNX pads [begin..., end...] as PyTorch's per-dim padding (which is symmetric)."""
    half = len(pads) // 2
    if list(pads[:half]) != list(pads[half:]):
        raise ValueError(f"asymmetric pads {pads} are not supported")
    return tuple(pads[:half])


def run_node(node, args, training):
    """One ONNX node on PyTorch tensors (the ops torch.onnx emits for a CNN classifier); `training`:
    batch norm normalizes by the batch and updates its statistics, as the C++ example's unfrozen
    backbone does."""
    a, op = attributes(node), node.op_type
    if op == "Conv":
        return F.conv2d(args[0], args[1], args[2] if len(args) > 2 else None, tuple(a.get("strides", (1, 1))),
                        symmetric_padding(a.get("pads", (0, 0, 0, 0))), tuple(a.get("dilations", (1, 1))),
                        a.get("group", 1))
    if op == "MaxPool":
        kernel = tuple(a["kernel_shape"])
        return F.max_pool2d(args[0], kernel, tuple(a.get("strides", kernel)),
                            symmetric_padding(a.get("pads", (0, 0, 0, 0))), ceil_mode=bool(a.get("ceil_mode", 0)))
    if op == "AveragePool":
        kernel = tuple(a["kernel_shape"])
        return F.avg_pool2d(args[0], kernel, tuple(a.get("strides", kernel)),
                            symmetric_padding(a.get("pads", (0, 0, 0, 0))), ceil_mode=bool(a.get("ceil_mode", 0)),
                            count_include_pad=bool(a.get("count_include_pad", 0)))
    if op == "GlobalAveragePool":
        return args[0].mean((2, 3), keepdim=True)
    if op == "BatchNormalization":  # ONNX's momentum keeps the old statistics, PyTorch's takes the new
        return F.batch_norm(args[0], args[3], args[4], args[1], args[2], training, 1.0 - a.get("momentum", 0.9),
                            a.get("epsilon", 1e-5))
    if op == "Relu":
        return F.relu(args[0])
    if op == "Flatten":
        return args[0].flatten(a.get("axis", 1))
    if op == "Reshape":
        return args[0].reshape([int(d) for d in args[1].tolist()])
    if op == "Gemm":
        x = args[0].t() if a.get("transA", 0) else args[0]
        w = args[1].t() if a.get("transB", 0) else args[1]
        y = a.get("alpha", 1.0) * (x @ w)
        return y + a.get("beta", 1.0) * args[2] if len(args) > 2 else y
    if op == "MatMul":
        return args[0] @ args[1]
    if op == "Add":
        return args[0] + args[1]
    if op in ("Identity", "Dropout"):
        return args[0]
    raise ValueError(f"node {node.name or '?'}: op {op} is not supported by this twin")


class OnnxBackbone(nn.Module):
    """The nodes of an ONNX graph that `features` depends on, initializers as parameters."""

    def __init__(self, path, features):
        super().__init__()
        graph = onnx.load(path).graph
        producer = {out: node for node in graph.node for out in node.output}
        needed, stack = [], [features]
        seen = set()
        while stack:  # the nodes `features` depends on
            value = stack.pop()
            node = producer.get(value)
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            needed.append(node)
            stack.extend(node.input)
        order = {id(n): i for i, n in enumerate(graph.node)}
        self.nodes = sorted(needed, key=lambda n: order[id(n)])
        self.constants = {}  # integer initializers, Constant nodes and batch norm statistics
        self.names = {}
        self.params = nn.ParameterList()
        statistics = {n.input[i] for n in self.nodes if n.op_type == "BatchNormalization" for i in (3, 4)}
        for init in graph.initializer:
            tensor = torch.from_numpy(np.array(onnx.numpy_helper.to_array(init)))
            if tensor.is_floating_point() and init.name not in statistics:
                self.names[init.name] = len(self.params)
                self.params.append(nn.Parameter(tensor))
            else:
                self.constants[init.name] = tensor
        for node in self.nodes:
            if node.op_type == "Constant":
                self.constants[node.output[0]] = torch.from_numpy(
                    np.array(onnx.numpy_helper.to_array(attributes(node)["value"])))
        self.input = graph.input[0].name
        self.features = features

    def forward(self, x):
        values = {self.input: x}
        for node in self.nodes:
            if node.op_type == "Constant":
                continue
            args = []
            for name in node.input:
                if name == "":
                    args.append(None)
                elif name in self.names:
                    args.append(self.params[self.names[name]])
                elif name in self.constants:
                    args.append(self.constants[name])
                else:
                    args.append(values[name])
            values[node.output[0]] = run_node(node, args, self.training)
        return values[self.features]


def classifier_input(path):
    """The input of the last Gemm or MatMul: the features the original classifier read."""
    features = ""
    for node in onnx.load(path).graph.node:
        if node.op_type in ("Gemm", "MatMul"):
            features = node.input[0]
    return features


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backbone", required=True)
    p.add_argument("--features", default="")
    p.add_argument("--data_dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--finetune", action="store_true")
    p.add_argument("--unfreeze_after", type=int, default=-1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    unfreeze_after = 0 if a.finetune else a.unfreeze_after
    features = a.features or classifier_input(a.backbone)
    backbone = OnnxBackbone(a.backbone, features)
    train_x = (idx(f"{a.data_dir}/train-images-idx3-ubyte").unsqueeze(1) - MEAN) / STD
    train_y = idx(f"{a.data_dir}/train-labels-idx1-ubyte")
    test_x = (idx(f"{a.data_dir}/t10k-images-idx3-ubyte").unsqueeze(1) - MEAN) / STD
    test_y = idx(f"{a.data_dir}/t10k-labels-idx1-ubyte")
    with torch.no_grad():
        size = backbone(train_x[:1]).flatten(1).shape[1]
    head = nn.Linear(size, 10)
    print(f"backbone {a.backbone} cut at '{features}': {size} features")
    opt = torch.optim.Adam(head.parameters(), a.lr)

    def unfreeze(trainable):
        backbone.requires_grad_(trainable)
        backbone.train(trainable)  # frozen: batch norm keeps its statistics
        if trainable:
            opt.add_param_group({"params": backbone.parameters(), "lr": a.lr / 10})

    unfreeze(unfreeze_after == 0)
    for epoch in range(1, a.epochs + 1):
        start = time.time()
        if unfreeze_after > 0 and epoch == unfreeze_after + 1:
            unfreeze(True)
            print(f"epoch {epoch}: backbone unfrozen")
        total = 0.0
        for batch in torch.randperm(len(train_x)).split(a.batch_size):
            opt.zero_grad()
            loss = F.cross_entropy(head(backbone(train_x[batch]).flatten(1)), train_y[batch])
            loss.backward()
            opt.step()
            total += loss.item() * len(batch)
        with torch.no_grad():
            correct = sum((head(backbone(x).flatten(1)).argmax(1) == y).sum().item()
                          for x, y in zip(test_x.split(1000), test_y.split(1000)))
        print(f"epoch {epoch} train_loss {total / len(train_x):.4f} test_accuracy {correct / len(test_x):.4f} "
              f"seconds {time.time() - start:.1f}", flush=True)


if __name__ == "__main__":
    main()
