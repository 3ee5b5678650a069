"""Child process for the kill-and-resume test: `python train_child.py RUN_DIR MODE OUT`.

MODE "kill" SIGKILLs itself in the middle of epoch 2; "resume" continues from RUN_DIR/last.pt;
"full" trains uninterrupted. The final weights and history are saved to OUT.
"""

import os
import signal
import sys

import torch
from conftest import random_split

from hwlib.data import BatchLoader
from hwlib.models import cnn3
from hwlib.seed import seed_everything
from hwlib.train import TrainConfig, fit


class KillingLoader(BatchLoader):
    def __iter__(self):
        for b, batch in enumerate(super().__iter__()):
            if self.epoch == 1 and b == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            yield batch


def main(run_dir: str, mode: str, out: str) -> None:
    torch.set_num_threads(1)
    data = random_split(40, classes=4)
    seed_everything(0)
    model = cnn3(num_classes=4, image_size=24)
    loader_cls = KillingLoader if mode == "kill" else BatchLoader
    history = fit(
        model,
        loader_cls(data, batch_size=8, shuffle=True, seed=2),
        BatchLoader(data, batch_size=40),
        config=TrainConfig(epochs=3, lr=3e-3),
        run_dir=run_dir,
        resume=mode == "resume",
        restore_best=False,
        log=lambda s: None,
    )
    torch.save({"model": model.state_dict(), "history": history}, out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
