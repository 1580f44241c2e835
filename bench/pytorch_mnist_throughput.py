#!/usr/bin/env python3
"""tapegrad/bench/pytorch_mnist_throughput.py: the PyTorch side of bench/compare_pytorch.sh.

The same models, optimizers, batch sizes, data handling and measurements as
bench/mnist_throughput.cc, in Debian's python3-torch, printing the same lines:
  train_images_per_s X / infer_images_per_s X / latency_batch1_us X / peak_rss_mb X
Usage: pytorch_mnist_throughput.py --arch=cnn_small --steps=200 --threads=2 --data_dir=data/mnist
[--channels_last=recipe|on|off] (the recipe's memory format by default, as bench/mnist_throughput).
With --to_accuracy=0.99 [--max_epochs=10]: whole epochs until the test accuracy reaches the goal,
printing "seconds_to_accuracy X" (training time only), as bench/mnist_throughput does.
Set OMP_NUM_THREADS and OPENBLAS_NUM_THREADS to the same count (compare_pytorch.sh does).
"""
import argparse
import resource
import statistics
import struct
import time

import numpy as np
import torch
from torch import nn

MEAN, STD = 0.1307, 0.3081


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir, train):
    prefix = "train" if train else "t10k"
    images = read_idx(f"{data_dir}/{prefix}-images-idx3-ubyte")
    labels = read_idx(f"{data_dir}/{prefix}-labels-idx1-ubyte")
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return x, torch.from_numpy(labels.astype(np.int64))


def build(arch):
    """The model, optimizer, lr and batch size of the architecture's recipe (examples/mnist_models.cc)."""
    if arch == "cnn_small":
        return nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(32 * 7 * 7, 10)), "adam", 1e-3, 50
    if arch == "cnn_wide":
        return nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(64 * 7 * 7, 1024), nn.ReLU(), nn.Linear(1024, 10)), "adam", 1e-3, 50
    if arch == "cnn_fc3":
        return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(64 * 7 * 7, 1024), nn.ReLU(), nn.Linear(1024, 512), nn.ReLU(),
                             nn.Linear(512, 10)), "sgd", 1e-3, 64
    raise SystemExit(f"unknown --arch {arch}")


# The recipes' memory format (examples/mnist_models.cc): channels last for these CNNs, as there.
CHANNELS_LAST = {"cnn_small": True, "cnn_wide": True, "cnn_fc3": True}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="cnn_small")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data_dir", default="data/mnist")
    ap.add_argument("--to_accuracy", type=float)
    ap.add_argument("--max_epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0, help="initialization and shuffling")
    ap.add_argument("--channels_last", choices=["recipe", "on", "off"], default="recipe",
                    help="images and model in channels-last memory format (default: the recipe's)")
    ap.add_argument("--flush_denormal", action="store_true",
                    help="torch.set_flush_denormal(True), tapegrad's default (off in PyTorch by default)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.flush_denormal and not torch.set_flush_denormal(True):
        raise SystemExit("this CPU cannot flush denormals")
    torch.manual_seed(args.seed)
    train_x, train_y = load(args.data_dir, True)
    test_x, test_y = load(args.data_dir, False)
    model, opt_name, lr, batch = build(args.arch)
    channels_last = CHANNELS_LAST[args.arch] if args.channels_last == "recipe" else args.channels_last == "on"
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)

    def prepare(images):  # normalized, in the recipe's memory format
        return ((images - MEAN) / STD).contiguous(memory_format=fmt)

    opt = torch.optim.Adam(model.parameters(), lr) if opt_name == "adam" else \
        torch.optim.SGD(model.parameters(), lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)
    if args.to_accuracy is not None:
        train_seconds, accuracy, epoch = 0.0, 0.0, 0
        while epoch < args.max_epochs and accuracy < args.to_accuracy:
            t = time.perf_counter()
            model.train()
            order = torch.randperm(train_x.shape[0], generator=gen)
            for b in range(0, train_x.shape[0], batch):
                idx = order[b:b + batch]
                opt.zero_grad(set_to_none=True)
                loss_fn(model(prepare(train_x[idx])), train_y[idx]).backward()
                opt.step()
            train_seconds += time.perf_counter() - t
            epoch += 1
            model.eval()
            with torch.no_grad():
                correct = sum(int((model(prepare(test_x[b:b + 1000])).argmax(1) == test_y[b:b + 1000]).sum())
                              for b in range(0, test_x.shape[0], 1000))
            accuracy = correct / test_x.shape[0]
            print(f"epoch {epoch} test_accuracy {accuracy:.4f} train_seconds {train_seconds:.1f}")
        if accuracy < args.to_accuracy:
            print(f"seconds_to_accuracy nan ({accuracy:.4f} after {epoch} epochs)")
        else:
            print(f"seconds_to_accuracy {train_seconds:.1f} (epochs {epoch}, test_accuracy {accuracy:.4f})")
        return
    warmup, done, start = 20, 0, 0.0
    while done < warmup + args.steps:
        order = torch.randperm(train_x.shape[0], generator=gen)
        for b in range(0, train_x.shape[0], batch):
            if done >= warmup + args.steps:
                break
            if done == warmup:
                start = time.perf_counter()
            idx = order[b:b + batch]
            x, y = prepare(train_x[idx]), train_y[idx]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            opt.step()
            done += 1
    train_rate = args.steps * batch / (time.perf_counter() - start)

    model.eval()
    with torch.no_grad():
        model(prepare(test_x[:1000]))  # warm-up
        start = time.perf_counter()
        for b in range(0, test_x.shape[0], 1000):
            model(prepare(test_x[b:b + 1000]))
        infer_rate = test_x.shape[0] / (time.perf_counter() - start)
        latencies = []
        for i in range(220):
            x = prepare(test_x[i:i + 1])
            t = time.perf_counter()
            model(x)
            if i >= 20:
                latencies.append((time.perf_counter() - t) * 1e6)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"train_images_per_s {train_rate:.1f}\ninfer_images_per_s {infer_rate:.1f}\n"
          f"latency_batch1_us {statistics.median(latencies):.1f}\npeak_rss_mb {rss_mb:.1f}")


if __name__ == "__main__":
    main()
