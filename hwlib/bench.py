"""`python -m hwlib.bench [--quick] [--data PATH] [--out FILE.json]`: side-by-side speed ratios, one process.

Every comparison times both sides in the same run (warm-up, several repeats, median; the GPU
synchronised before clocks are read), so the ratios hold on the machine that printed them:

* flexconv_batched_vs_loop: forward+backward of the original report's loop FlexConv over
  FlexConv2d(mode="original") (same weights), B=32 (quick) / 128, 3 channels, 128 px, 16 outputs;
* flexconv_vs_conv2d: pooled FlexConv2d over a Conv2d(3, 16, 3) on the same input;
* loader_cached_vs_decode: images/s of the cached loader (flips, crops, channel subsets) over the
  original report's decode-and-resize-every-epoch loader, real photos at 128 px;
* train_mfu: achieved training FLOP/s (3 x forward MACs x 2 per image) over the float32 (bf16 on
  GPU) matrix-multiply peak measured in this run, Dense4 and ResNet34 at 128 px;
* data_stall: fraction of training wall time spent waiting for the next batch; the training step
  timed is `hwlib.train.train_step`, the one `fit` runs.

The README's speed table is written from the JSON by `python -m hwlib.publish`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from torch import nn

from .data.cache import load_split
from .data.lists import DatasetSpec, open_dataset
from .data.loader import BatchLoader
from .data.prepare import per_class_subset, resolve_data
from .device import device_name, pick_device, synchronize
from .flexconv import FlexConv2d, original_loop_forward
from .models import dense4, resnet34_baseline
from .params import measure
from .timing import median_seconds
from .train import TrainConfig, start_training, to_device, train_step


def _fwd_bwd(fn, x: torch.Tensor):
    def step():
        x.grad = None
        fn(x).sum().backward()

    return step


def flexconv_batched_vs_loop(device: torch.device, *, batch: int, repeats: int) -> dict:
    torch.manual_seed(0)
    layer = FlexConv2d(16, 3, mode="original", in_size=(128, 128)).to(device)
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


def flexconv_vs_conv2d(device: torch.device, *, batch: int, repeats: int) -> dict:
    torch.manual_seed(0)
    flex = FlexConv2d(16, 3, mode="pooled").to(device)
    conv = nn.Conv2d(3, 16, 3, padding="same").to(device)
    x = torch.rand(batch, 3, 128, 128, device=device, requires_grad=True)
    t_flex = median_seconds(_fwd_bwd(flex, x), repeats=repeats, device=device)
    t_conv = median_seconds(_fwd_bwd(conv, x), repeats=repeats, device=device)
    return {
        "ratio": t_flex / t_conv,
        "flexconv_s": t_flex,
        "conv2d_s": t_conv,
        "batch": batch,
        "size": 128,
        "channels": 3,
        "out_channels": 16,
        "pass": "forward+backward",
    }


def loader_cached_vs_decode(spec: DatasetSpec, *, images: int, batch: int) -> dict:
    """The original report's loader decodes and resizes every image every epoch (torchvision read_image +
    Resize, one process); ours slices the cached uint8 tensor."""
    from torchvision.io import decode_image
    from torchvision.transforms import v2

    samples = per_class_subset(spec.splits["train"], max(1, images // spec.num_classes))[:images]
    resize = v2.Resize((128, 128), antialias=True)

    def original_epoch():
        for i in range(0, len(samples), batch):
            imgs = []
            for s in samples[i : i + batch]:
                img = resize(
                    decode_image(torch.frombuffer(bytearray(spec.source.read_bytes(s.path)), dtype=torch.uint8))
                )
                imgs.append((img.repeat(3, 1, 1) if img.shape[0] == 1 else img[:3]).float() / 255)
            torch.stack(imgs)

    split = load_split(spec, "train", 128, samples=samples)  # built once (not timed), as in training
    cached = BatchLoader(split, batch_size=batch, shuffle=True, flip=True, crop_pad=16, combo="random")

    def cached_epoch():
        for _ in cached:
            pass

    t_decode = median_seconds(original_epoch, warmup=0, repeats=1)
    t_cached = median_seconds(cached_epoch, warmup=1, repeats=3)
    return {
        "speedup": t_decode / t_cached,
        "decode_images_per_s": len(samples) / t_decode,
        "cached_images_per_s": len(samples) / t_cached,
        "images": len(samples),
        "size": 128,
        "dataset": spec.name,
        "cached_loader": "flip + 16-px crop + random channel subset",
    }


def matmul_peak(device: torch.device, *, n: int, repeats: int) -> dict:
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    a = torch.rand(n, n, device=device, dtype=dtype)
    b = torch.rand(n, n, device=device, dtype=dtype)
    t = median_seconds(lambda: a @ b, repeats=repeats, device=device)
    return {"flops_per_s": 2 * n**3 / t, "n": n, "dtype": str(dtype).replace("torch.", "")}


def train_throughput(model: nn.Module, split, *, device: torch.device, batch: int, steps: int) -> dict:
    """Training images/s of `fit`'s own step (Adam, the original recipe) and the fraction of wall
    time spent waiting for data, over `steps` batches after one warm-up step."""
    loader = BatchLoader(split, batch_size=batch, shuffle=True, flip=True)
    state = start_training(
        model, config=TrainConfig(epochs=1), steps_per_epoch=max(len(loader), steps + 1), device=device
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
        t1 = time.perf_counter()
        train_step(state, x, y)
        synchronize(device)
        t2 = time.perf_counter()
        if step:
            wait += t1 - t0
            total += t2 - t0
            seen += len(y)
    return {"images_per_s": seen / total, "data_stall": wait / total, "batch": batch, "steps": steps}


def run(*, quick: bool, data: str | None) -> dict:
    device = pick_device()
    reps = 3 if quick else 7
    out: dict = {"device": device_name(device), "quick": quick, "torch": torch.__version__}
    print(f"hwlib.bench on {out['device']} ({'quick' if quick else 'full'})", flush=True)
    out["flexconv_batched_vs_loop"] = flexconv_batched_vs_loop(device, batch=32 if quick else 128, repeats=reps)
    print(f"  flexconv batched vs loop: {out['flexconv_batched_vs_loop']['speedup']:.2f}x", flush=True)
    out["flexconv_vs_conv2d"] = flexconv_vs_conv2d(device, batch=32 if quick else 128, repeats=reps)
    print(f"  pooled flexconv / conv2d: {out['flexconv_vs_conv2d']['ratio']:.2f}x", flush=True)
    spec = open_dataset(resolve_data(data))
    out["loader_cached_vs_decode"] = loader_cached_vs_decode(spec, images=500 if quick else 4000, batch=64)
    print(f"  cached loader vs decode: {out['loader_cached_vs_decode']['speedup']:.1f}x", flush=True)
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
        tp = train_throughput(build(), split, device=device, batch=16 if device.type == "cpu" else 256, steps=steps)
        achieved = 3 * 2 * macs * tp["images_per_s"]
        out["train_mfu"][name] = achieved / peak["flops_per_s"]
        out["data_stall"][name] = tp["data_stall"]
        out["train"][name] = {**tp, "forward_macs_per_image": macs, "achieved_flops_per_s": achieved}
        print(
            f"  {name}: {tp['images_per_s']:.1f} img/s at 128 px, MFU {out['train_mfu'][name]:.2f}, "
            f"data stall {tp['data_stall']:.1%}",
            flush=True,
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m hwlib.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="smaller sizes; <= 10 min on 2 CPU cores")
    ap.add_argument("--data", default="", help="real photos for the loader benchmark (default: the embedded dataset)")
    ap.add_argument("--out", default=None, help="write the results JSON here")
    args = ap.parse_args(argv)
    res = run(quick=args.quick, data=args.data or None)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(res, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
