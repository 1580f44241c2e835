#!/usr/bin/env python3
"""tapegrad/bench/export_onnx_workloads.py: the workloads of bench/pytorch_workload_throughput.py
(resnet8 on 1x28x28 images, char_gpt at context 128, lstm_lm at length 64), exported from Debian's
PyTorch to ONNX (opset 17, eval mode, dynamic batch) for bench/compare_onnx_runtime.sh, which runs
each file in tapegrad (io::load_onnx) and in ONNX Runtime:
    /usr/bin/python3 bench/export_onnx_workloads.py OUT_DIR
Weights are PyTorch's seeded initialization: speed does not depend on them.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_workload_throughput import CharGpt, LstmLm, resnet8  # noqa: E402

VOCAB = 96


def export(model, example, path):
    model.eval()
    torch.onnx.export(model, (example,), path, input_names=["input"], output_names=["output"], opset_version=17,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    print(f"wrote {path}")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    export(resnet8(), torch.randn(2, 1, 28, 28), os.path.join(out, "resnet_fmnist.onnx"))
    export(CharGpt(VOCAB), torch.randint(0, VOCAB, (2, 128)), os.path.join(out, "char_gpt.onnx"))
    export(LstmLm(VOCAB), torch.randint(0, VOCAB, (2, 64)), os.path.join(out, "lstm_lm.onnx"))


if __name__ == "__main__":
    main()
