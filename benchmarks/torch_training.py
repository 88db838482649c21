"""What ``kp.train.pytorch`` costs on top of the same training loop written by hand.

Kepler's default MLP (64-64, ReLU), AdamW at lr 1e-3, batch 64, 20 epochs, on the synthetic pump
data's ``failure`` column, against plain PyTorch doing exactly the same: the same network built
from the same seed, the same matrix (Kepler's preprocessing of the same training rows), the same
batch order from the same generator, the same optimizer and loss. The final training losses are
compared to show the two loops compute the same thing. The difference in time is Kepler's
overhead: data checks, the split, preprocessing, metrics against the baseline on the held-out rows,
schema and lineage; ``model.save()`` (safetensors, skops, hashes, manifest) is timed apart.

Goal (kepler-torch issue): under 10% end to end. One thread (``torch.set_num_threads(1)``), as
on a small CI machine, so the two runs do not fight over cores; the runs are interleaved.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

from _report import write_section

ROWS = 50_000
EPOCHS = 20
BATCH = 64
LR = 1e-3
RUNS = 3


def hand_written(matrix, labels, train, epochs: int):
    """The loop a PyTorch user writes: tensors, a shuffled index per epoch, mini-batches."""
    import torch
    from torch import nn

    x_all = torch.from_numpy(matrix)
    y_all = torch.as_tensor(labels, dtype=torch.long)
    index = torch.from_numpy(train)
    x_train, y_train = x_all[index], y_all[index]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(matrix.shape[1], 64), nn.ReLU(), nn.Linear(64, 64),
                              nn.ReLU(), nn.Linear(64, 2))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    criterion = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)
    n = len(x_train)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, BATCH):
            batch = order[start:start + BATCH]
            loss = criterion(model(x_train[batch]), y_train[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
    return total / n


def _seconds(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def measure() -> str:
    import kepler as kp
    import numpy as np
    import torch
    from kepler_tabular import build_preprocessor, holdout, make_sensor_data, prepare

    torch.set_num_threads(1)
    load = os.getloadavg()[0]
    df = make_sensor_data(rows=ROWS)
    prepared = prepare(df, target="failure", features=None, task="auto",
                       tasks=("classification",), algorithm="mlp")
    train, _ = holdout(prepared, test_size=0.2, split="random", random_state=0)

    def preprocess():
        step = build_preprocessor(prepared.schema, scale=True).fit(prepared.X.iloc[train])
        return np.ascontiguousarray(step.transform(prepared.X), dtype=np.float32)

    prep_seconds, matrix = _seconds(preprocess)
    labels = np.searchsorted(np.unique(prepared.y), prepared.y.to_numpy())
    kwargs = {"target": "failure", "epochs": EPOCHS, "batch_size": BATCH, "lr": LR,
              "device": "cpu", "progress": False}
    kp.train.pytorch(df.head(2000), **{**kwargs, "epochs": 1})  # warm up both paths once
    hand_written(matrix[:2000], labels[:2000], train[train < 2000], 1)
    hand, kepler, inside, saving, preps, losses = [], [], [], [], [], []
    for _ in range(RUNS):  # interleaved, so machine noise hits both alike
        seconds, hand_loss = _seconds(lambda: hand_written(matrix, labels, train, EPOCHS))
        hand.append(seconds)
        preps.append(_seconds(preprocess)[0])
        seconds, model = _seconds(lambda: kp.train.pytorch(df, **kwargs))
        kepler.append(seconds)
        inside.append(model.manifest.training.seconds)  # preprocessing + loop, timed by Kepler
        saving.append(_seconds(model.save)[0])
        losses.append((hand_loss, model.history["loss"][-1]))
    loop, total, fitted, save, prep = (statistics.median(v) for v in (hand, kepler, inside,
                                                                        saving, preps))
    own = statistics.median(k - f for k, f in zip(kepler, inside, strict=True))
    hand_loss, kepler_loss = losses[-1]
    steps = -(-len(train) // BATCH) * EPOCHS
    return (
        f"{ROWS:,} rows × {df.shape[1]} columns (`make_sensor_data`), target `failure`, 80/20 "
        f"random split; Kepler's default MLP (64-64), AdamW lr {LR:g}, batch {BATCH}, "
        f"{EPOCHS} epochs ({steps:,} optimizer steps on {len(train):,} × {matrix.shape[1]} "
        f"inputs); CPU, one thread; median of {RUNS} interleaved runs; load average {load:.1f} "
        f"when it started (first preprocessing: {prep_seconds:.2f} s).\n\n"
        "| step | seconds | × hand-written loop |\n|---|---|---|\n"
        f"| plain PyTorch: the loop by hand on the ready matrix | {loop:.2f} | 1.00 |\n"
        f"| plain PyTorch plus the same preprocessing by hand | {loop + prep:.2f} | "
        f"{(loop + prep) / loop:.2f} |\n"
        f"| `kp.train.pytorch(df, target=\"failure\", epochs={EPOCHS})` | {total:.2f} | "
        f"{total / loop:.2f} |\n"
        f"| ↳ preprocessing + training loop inside it | {fitted:.2f} | {fitted / loop:.2f} |\n"
        f"| ↳ Kepler's own work (checks, split, metrics and baseline on "
        f"{ROWS - len(train):,} rows, schema, lineage hash) | {own:.2f} | {own / loop:.2f} |\n"
        f"| `model.save()` (safetensors, skops preprocessing, sha256, manifest) | {save:.2f} | "
        f"{save / loop:.2f} |\n\n"
        f"Kepler's overhead: **{(total / loop - 1) * 100:+.1f}%** end to end against the "
        f"hand-written loop (goal: under 10%), **{(total / (loop + prep) - 1) * 100:+.1f}%** "
        f"against the loop with its preprocessing done by hand too; saving adds {save:.2f} s. "
        f"Final training loss: hand-written {hand_loss:.6f}, Kepler {kepler_loss:.6f} (the same "
        "computation).\n")


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["KEPLER_CONFIG_DIR"] = home  # the saved models go to a throw-away registry
        os.chdir(home)
        body = measure()
    write_section("torch-training", "PyTorch training",
                  "nox -s bench  (benchmarks/torch_training.py)",
                  "### Overhead of `kp.train.pytorch` against a hand-written loop\n\n" + body)
    print(body)


if __name__ == "__main__":
    main()
