"""hwlib.bench on tiny sizes: every measurement runs and gives a sane number."""

import torch

from hwlib import bench
from hwlib.models import dense4


def test_bench_pieces_on_tiny_sizes(make_split):
    cpu = torch.device("cpu")
    assert bench.flexconv_vs_conv2d(cpu, batch=2, repeats=1)["ratio"] > 0
    assert bench.flexconv_batched_vs_loop(cpu, batch=2, repeats=1)["speedup"] > 0
    assert bench.matmul_peak(cpu, n=64, repeats=1)["flops_per_s"] > 0
    data = make_split(8, classes=2, size=32)
    tp = bench.train_throughput(
        dense4(num_classes=2, growth_rate=8, init_channels=8), data, device=cpu, batch=4, steps=2
    )
    assert tp["images_per_s"] > 0 and 0 <= tp["data_stall"] < 1
