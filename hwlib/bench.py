"""`python -m hwlib.bench [--quick] [--data PATH] [--out FILE.json]`: side-by-side speed ratios, one process.

Every comparison times both sides in the same run (warm-up, several repeats, median; the GPU
synchronised before clocks are read), so the ratios hold on the machine that printed them:

* flexconv_batched_vs_loop: forward+backward of the original report's loop FlexConv over
  OriginalFlexConv2d (same weights), B=32 (quick) / 128, 3 channels, 128 px, 16 outputs
  (on a GPU the loop's many small kernel launches are what batching removes);
* flexconv_vs_conv2d: PooledFlexConv2d over a Conv2d(3, 16, 3) on the same input;
* hybrid_vs_conv2d: HybridFlexConv2d (notebook 01's `flex` layer, R, G, B identities) over the
  same Conv2d, same input;
* joint_vs_separate: one joint training step of notebook 01's `flex` network (all seven channel
  combinations of a batch, one loss, one optimizer step: `BatchLoader(combo="all")`) over the
  seven separate steps, one per combination, that see the same images (32 px, batch 64);
* train_mfu: achieved training FLOP/s (3 x forward MACs x 2 per image) over the matrix-multiply
  peak measured in this run: float32 on the CPU, bf16 on a GPU (training runs in bf16 autocast
  there), Dense4 and ResNet34 at 128 px;
* data_stall: the loader's figure: fraction of training wall time spent waiting for the next
  batch (gather, flips, float conversion), with the loader `fit` uses on that device (on CUDA:
  gathering from the split held in device memory; its kernels' time counts as waiting). The
  training step timed is `hwlib.train.train_step`, the one `fit` runs (compiled on CUDA, as `fit`
  does by default).

The README's speed table is written from the JSON by `python -m hwlib.publish`.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from torch import nn

from .data.cache import load_split
from .data.lists import open_dataset
from .data.loader import COMBOS, BatchLoader, Views, select_channels
from .data.prepare import per_class_subset, resolve_data
from .dense_models import dense4, resnet34_baseline
from .device import device_name, pick_device, synchronize
from .flexconv import OriginalFlexConv2d, flex_conv2d, original_loop_forward
from .models import flex_cnn
from .params import measure
from .publish import write_json
from .timing import MachineLoad, median_seconds
from .train import TrainConfig, compile_default, start_training, to_device, train_step


def _fwd_bwd(fn, x: torch.Tensor):
    def step():
        x.grad = None
        fn(x).sum().backward()

    return step


def flexconv_batched_vs_loop(device: torch.device, *, batch: int, repeats: int) -> dict:
    torch.manual_seed(0)
    layer = OriginalFlexConv2d(16, 3, in_size=(128, 128)).to(device)  # = flex_conv2d(mode="original", ...)
    x = torch.rand(batch, 3, 128, 128, device=device, requires_grad=True)
    loop = median_seconds(_fwd_bwd(lambda t: original_loop_forward(layer, t), x), repeats=repeats, device=device)
    batched = median_seconds(_fwd_bwd(layer, x), repeats=repeats, device=device)
    return {
        "speedup": loop / batched,
        "loop_s": loop,
        "batched_s": batched,
        "batch": batch,
        "channels": 3,
        "size": 128,
        "out_channels": 16,
        "pass": "forward+backward",
    }


def _vs_conv2d(layer, device: torch.device, *, batch: int, repeats: int, name: str) -> dict:
    """Forward+backward time of `layer` (a callable on a (B, 3, 128, 128) batch) over a Conv2d(3, 16, 3)
    on the same input."""
    conv = nn.Conv2d(3, 16, 3, padding="same").to(device)
    x = torch.rand(batch, 3, 128, 128, device=device, requires_grad=True)
    t_layer = median_seconds(_fwd_bwd(layer, x), repeats=repeats, device=device)
    t_conv = median_seconds(_fwd_bwd(conv, x), repeats=repeats, device=device)
    return {
        "ratio": t_layer / t_conv,
        f"{name}_s": t_layer,
        "conv2d_s": t_conv,
        "batch": batch,
        "size": 128,
        "channels": 3,
        "out_channels": 16,
        "pass": "forward+backward",
    }


def flexconv_vs_conv2d(device: torch.device, *, batch: int, repeats: int) -> dict:
    torch.manual_seed(0)
    flex = flex_conv2d(mode="pooled", out_channels=16, kernel_size=3).to(device)
    return _vs_conv2d(flex, device, batch=batch, repeats=repeats, name="flexconv")


def hybrid_vs_conv2d(device: torch.device, *, batch: int, repeats: int) -> dict:
    torch.manual_seed(0)
    flex = flex_conv2d(mode="hybrid", out_channels=16, kernel_size=3, known_channels=3).to(device)
    return _vs_conv2d(lambda t: flex(t, [0, 1, 2]), device, batch=batch, repeats=repeats, name="hybrid")


def joint_vs_separate(device: torch.device, *, batch: int, repeats: int, size: int = 32) -> dict:
    """Wall time of one joint step (seven views of a batch, one optimizer step) over seven separate
    steps (one per combination) on the same images, with notebook 01's flex network and recipe."""
    torch.manual_seed(0)
    x = torch.rand(batch, 3, size, size, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    views = [(select_channels(x, c, zero_fill=False), torch.tensor(ids, device=device))
             for c, ids in ((c, [i for i, ch in enumerate("RGB") if ch in c]) for c in COMBOS)]  # fmt: skip
    state = start_training(
        flex_cnn(num_classes=10, image_size=size, mode="hybrid", known_channels=3),
        config=TrainConfig(epochs=1),
        steps_per_epoch=1000,
        device=device,
        compile_model=False,
    )
    state.model.train()
    y7 = y.repeat(len(COMBOS))  # the labels of a joint batch
    joint = median_seconds(lambda: train_step(state, Views(views), y7), repeats=repeats, device=device)

    def separate() -> None:
        for v in views:
            train_step(state, v, y)

    sep = median_seconds(separate, repeats=repeats, device=device)
    return {"ratio": joint / sep, "joint_s": joint, "separate_s": sep, "batch": batch, "size": size, "views": 7}


def matmul_peak(device: torch.device, *, n: int, repeats: int) -> dict:
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    a = torch.rand(n, n, device=device, dtype=dtype)
    b = torch.rand(n, n, device=device, dtype=dtype)
    t = median_seconds(lambda: a @ b, repeats=repeats, device=device)
    return {"flops_per_s": 2 * n**3 / t, "n": n, "dtype": str(dtype).replace("torch.", "")}


def train_throughput(
    model: nn.Module,
    split,
    *,
    device: torch.device,
    batch: int,
    steps: int,
    compile_model: bool | None = False,
) -> dict:
    """Training images/s of `fit`'s own step (Adam, the original recipe) and the fraction of wall
    time spent waiting for data, over `steps` batches after one warm-up step (which compiles, when
    `compile_model`). The loader makes its batches on `device`: on CUDA from the split copied to
    device memory once (when it fits), as in `fit`."""
    loader = BatchLoader(split, batch_size=batch, shuffle=True, flip=True, drop_last=len(split) >= batch, device=device)
    state = start_training(
        model,
        config=TrainConfig(epochs=1),
        steps_per_epoch=max(len(loader), steps + 1),
        device=device,
        compile_model=compile_model,
    )
    state.model.train()
    it = iter(loader)
    wait = total = 0.0
    seen = 0
    for step in range(steps + 1):  # step 0 warms up
        t0 = time.perf_counter()
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        x, y = to_device(x, y, device)
        synchronize(device)  # on CUDA the batch is made by kernels: their time counts as waiting for data
        t1 = time.perf_counter()
        train_step(state, x, y)
        synchronize(device)
        t2 = time.perf_counter()
        if step:
            wait += t1 - t0
            total += t2 - t0
            seen += len(y)
    return {
        "images_per_s": seen / total,
        "data_stall": wait / total,
        "batch": batch,
        "steps": steps,
        "loader": "device-resident" if loader.uses_resident() else ("streaming" if device.type == "cuda" else "cpu"),
        "compiled": state.compiled is not None,
    }


def run(*, quick: bool, data: str | None) -> dict:
    device = pick_device()
    reps = 3 if quick else 7
    out: dict = {"device": device_name(device), "quick": quick, "torch": torch.__version__}
    print(f"hwlib.bench on {out['device']} ({'quick' if quick else 'full'})", flush=True)
    out["flexconv_batched_vs_loop"] = flexconv_batched_vs_loop(device, batch=32 if quick else 128, repeats=reps)
    print(f"  flexconv batched vs loop: {out['flexconv_batched_vs_loop']['speedup']:.2f}x", flush=True)
    out["flexconv_vs_conv2d"] = flexconv_vs_conv2d(device, batch=32 if quick else 128, repeats=reps)
    print(f"  pooled flexconv / conv2d: {out['flexconv_vs_conv2d']['ratio']:.2f}x", flush=True)
    out["hybrid_vs_conv2d"] = hybrid_vs_conv2d(device, batch=32 if quick else 128, repeats=reps)
    print(f"  hybrid flexconv / conv2d: {out['hybrid_vs_conv2d']['ratio']:.2f}x", flush=True)
    out["joint_vs_separate"] = joint_vs_separate(device, batch=64, repeats=reps)
    print(f"  joint step / 7 separate steps: {out['joint_vs_separate']['ratio']:.2f}x", flush=True)
    spec = open_dataset(resolve_data(data))
    peak = matmul_peak(device, n=2048 if quick and device.type == "cpu" else 8192, repeats=reps)
    out["matmul_peak"] = peak
    split = load_split(spec, "train", 128, samples=per_class_subset(spec.splits["train"], 50))
    out["train_mfu"], out["data_stall"], out["train"] = {}, {}, {}
    for name, build in (
        ("dense4", lambda: dense4(num_classes=spec.num_classes)),
        ("resnet34", lambda: resnet34_baseline(num_classes=spec.num_classes)),
    ):
        macs = measure(build(), (3, 128, 128)).macs
        steps = (3 if quick else 10) if device.type == "cpu" else 30
        tp = train_throughput(
            build(),
            split,
            device=device,
            batch=16 if device.type == "cpu" else 256,
            steps=steps,
            compile_model=compile_default(device),
        )
        achieved = 3 * 2 * macs * tp["images_per_s"]
        out["train_mfu"][name] = achieved / peak["flops_per_s"]
        out["data_stall"][name] = tp["data_stall"]
        out["train"][name] = {**tp, "forward_macs_per_image": macs, "achieved_flops_per_s": achieved}
        print(
            f"  {name}: {tp['images_per_s']:.1f} img/s at 128 px, MFU {out['train_mfu'][name]:.2f} "
            f"({peak['dtype']} peak), data stall {tp['data_stall']:.1%} ({tp['loader']} loader)",
            flush=True,
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m hwlib.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="smaller sizes; <= 10 min on 2 CPU cores")
    ap.add_argument("--data", default="", help="photos for the training benchmarks (default: the embedded dataset)")
    ap.add_argument("--out", default=None, help="write the results JSON here")
    args = ap.parse_args(argv)
    with MachineLoad() as load:
        res = run(quick=args.quick, data=args.data or None)
    res["others_busy"] = load.others_busy  # share of the CPU other processes used meanwhile (None: unknown)
    if args.out:
        write_json(args.out, res)  # the one results writer (adds schema_version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
