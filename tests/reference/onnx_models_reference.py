#!/usr/bin/env python3
"""tapegrad/tests/reference/onnx_models_reference.py: three small models built and exported to
ONNX by Debian's PyTorch (python3-torch 1.13, torch.onnx, opset 17, a dynamic batch axis), with
PyTorch's own values for io/onnx_import_test.cc to compare against:
  cnn          Conv-BatchNorm-ReLU-MaxPool-Conv(stride 2)-AdaptiveAvgPool-Flatten-Linear
  transformer  Embedding + positional parameter, a TransformerEncoderLayer (batch_first, GELU),
               LayerNorm, Linear: Shape/Gather/Reshape chains, MatMul, Softmax, LayerNormalization
  lstm         Embedding, a 2-layer LSTM (batch_first), Linear on every step
  resnet       a ResNet stem (Conv-BatchNorm-ReLU), a basic block with an identity shortcut and one
               with a strided 1x1 projection (residual Adds), global average pool, Linear
  gpt          Embedding + positional parameter, a pre-LayerNorm TransformerEncoderLayer with a
               causal mask (GELU), LayerNorm, Linear
  gru          Embedding, a 2-layer GRU (batch_first), Linear on every step
  dcgan        a DCGAN generator: ConvTranspose2d-BatchNorm-ReLU x 2, ConvTranspose2d, Tanh
  mlp          Linear layers between assorted activations (ELU, SELU, LeakyReLU, PReLU, Softplus,
               Hardswish, Hardsigmoid, SiLU, Mish, GELU, Sigmoid, Tanh) and a LogSoftmax
For each model, in tests/reference/onnx_models/<name>/ (tensors as ONNX TensorProto files):
  model.onnx               exported in eval mode, parameters kept under their PyTorch names
  input.pb, output.pb      a batch of 3 and the eval-mode output (input.npy: the same input for
                           the CLI test, tests/onnx_cli_test.sh)
  grad/<param>.pb          d loss / d param, loss = sum(output * weights.pb), eval mode
  losses.pb                the loss before each of 3 SGD steps (lr 0.05) in train mode
  trained/<param>.pb       the parameters after those steps
Regenerate with: /usr/bin/python3 tests/reference/onnx_models_reference.py
"""
import os

import numpy
import onnx
import torch
from onnx import numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx_models")


class Cnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.conv2 = torch.nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.bn(self.conv1(x))), 2)
        x = torch.nn.functional.adaptive_avg_pool2d(torch.relu(self.conv2(x)), 1)
        return self.fc(torch.flatten(x, 1))


class Transformer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(20, 16)
        self.pos = torch.nn.Parameter(torch.randn(6, 16) * 0.1)
        self.layer = torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, activation="gelu", batch_first=True)
        self.norm = torch.nn.LayerNorm(16)
        self.head = torch.nn.Linear(16, 20)

    def forward(self, ids):
        x = self.embed(ids) + self.pos[: ids.shape[1]]
        return self.head(self.norm(self.layer(x)))


class Lstm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(20, 8)
        self.lstm = torch.nn.LSTM(8, 12, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(12, 20)

    def forward(self, ids):
        y, _ = self.lstm(self.embed(ids))
        return self.head(y)


class BasicBlock(torch.nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(cout)
        self.conv2 = torch.nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(cout)
        self.shortcut = torch.nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                                torch.nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.bn = torch.nn.BatchNorm2d(4)
        self.block1 = BasicBlock(4, 4, 1)
        self.block2 = BasicBlock(4, 8, 2)
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x):
        x = self.block2(self.block1(torch.relu(self.bn(self.conv(x)))))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))


class Gpt(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(20, 16)
        self.pos = torch.nn.Parameter(torch.randn(6, 16) * 0.1)
        self.layer = torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, activation="gelu", batch_first=True,
                                                      norm_first=True)
        self.norm = torch.nn.LayerNorm(16)
        self.head = torch.nn.Linear(16, 20)

    def forward(self, ids):
        t = ids.shape[1]
        causal = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        x = self.embed(ids) + self.pos[:t]
        return self.head(self.norm(self.layer(x, src_mask=causal)))


class Gru(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(20, 8)
        self.gru = torch.nn.GRU(8, 12, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(12, 20)

    def forward(self, ids):
        y, _ = self.gru(self.embed(ids))
        return self.head(y)


class DcganGenerator(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.ConvTranspose2d(8, 16, 4, 1, 0, bias=False), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
            torch.nn.ConvTranspose2d(16, 8, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
            torch.nn.ConvTranspose2d(8, 1, 4, 2, 1, bias=False), torch.nn.Tanh())

    def forward(self, z):
        return self.net(z)


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        acts = [torch.nn.ELU(), torch.nn.SELU(), torch.nn.LeakyReLU(0.1), torch.nn.PReLU(12), torch.nn.Softplus(),
                torch.nn.Hardswish(), torch.nn.Hardsigmoid(), torch.nn.SiLU(), torch.nn.Mish(), torch.nn.GELU(),
                torch.nn.Sigmoid(), torch.nn.Tanh()]
        layers = [torch.nn.Linear(10, 12)]
        for act in acts:
            layers += [act, torch.nn.Linear(12, 12)]
        layers += [torch.nn.Linear(12, 4), torch.nn.LogSoftmax(dim=1)]
        self.net = torch.nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def save(t, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save_tensor(numpy_helper.from_array(t.detach().numpy()), path)


def write(name, model, x, dynamic):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with torch.no_grad():  # no two parameters equal (the exporter merges equal initializers)
        for p in model.parameters():
            p.add_(torch.randn(p.shape) * 0.05)
    model.eval()
    path = os.path.join(d, "model.onnx")
    torch.onnx.export(model, (x,), path, input_names=["input"], output_names=["output"], opset_version=17,
                      dynamic_axes={"input": dynamic, "output": dynamic}, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE)
    names = {i.name for i in onnx.load(path).graph.initializer}
    params = dict(model.named_parameters())
    missing = [n for n in params if n not in names]
    assert not missing, f"{name}: parameters renamed by the export: {missing}"
    save(x, os.path.join(d, "input.pb"))
    numpy.save(os.path.join(d, "input.npy"), x.numpy())
    y = model(x)
    save(y, os.path.join(d, "output.pb"))
    weights = torch.cos(torch.arange(y.numel(), dtype=torch.float32)).reshape(y.shape)
    save(weights, os.path.join(d, "weights.pb"))
    model.zero_grad()
    (y * weights).sum().backward()
    for n, p in params.items():
        save(p.grad, os.path.join(d, "grad", n + ".pb"))
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = (model(x) * weights).sum()
        losses.append(loss.item())
        loss.backward()
        opt.step()
    save(torch.tensor(losses), os.path.join(d, "losses.pb"))
    for n, p in params.items():
        save(p, os.path.join(d, "trained", n + ".pb"))


def main():
    torch.manual_seed(0)
    cnn = Cnn()
    with torch.no_grad():  # running statistics that are not the defaults
        cnn.bn.running_mean.uniform_(-0.5, 0.5)
        cnn.bn.running_var.uniform_(0.5, 2.0)
    write("cnn", cnn, torch.randn(3, 1, 12, 12), {0: "batch"})
    write("transformer", Transformer(), torch.randint(0, 20, (3, 6)), {0: "batch", 1: "seq"})
    write("lstm", Lstm(), torch.randint(0, 20, (3, 7)), {0: "batch", 1: "seq"})
    resnet = ResNet()
    dcgan = DcganGenerator()
    with torch.no_grad():
        for m in list(resnet.modules()) + list(dcgan.modules()):
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    write("resnet", resnet, torch.randn(3, 1, 10, 10), {0: "batch"})
    write("gpt", Gpt(), torch.randint(0, 20, (3, 6)), {0: "batch", 1: "seq"})
    write("gru", Gru(), torch.randint(0, 20, (3, 7)), {0: "batch", 1: "seq"})
    write("dcgan", dcgan, torch.randn(3, 8, 1, 1), {0: "batch"})
    write("mlp", Mlp(), torch.randn(3, 10), {0: "batch"})


if __name__ == "__main__":
    main()
