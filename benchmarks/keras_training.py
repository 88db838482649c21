"""What ``kp.train.keras`` costs on top of a hand-written Keras ``fit`` of the same network.

Kepler's default MLP (64-64, ReLU, softmax), Adam at lr 1e-3, batch 64, on the synthetic pump
data's ``failure`` column (80/20 random split), against plain Keras doing the same: the same
layers, the same seed, the same matrix (Kepler's preprocessing of the same training rows),
``model.fit(..., shuffle=True, verbose=0)``. The difference in time is Kepler's overhead: data
checks, the split, preprocessing, metrics against the baseline on the held-out rows, schema and
lineage; ``model.save()`` (.keras read back with safe_mode=True, skops, hashes, manifest) is
timed apart.

Goal (issue 16): under 5% end to end. Keras on the torch backend (``KERAS_BACKEND``, default
torch here), one thread, runs interleaved. ``--print-only`` prints without writing
BENCHMARKS.md.
"""

from __future__ import annotations

import functools
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

ROWS = int(os.environ.get("KEPLER_BENCH_KERAS_ROWS", "20000"))
EPOCHS = int(os.environ.get("KEPLER_BENCH_KERAS_EPOCHS", "10"))
BATCH = 64
LR = 1e-3
RUNS = 3


def hand_written(matrix, labels, epochs: int) -> float:
    """What a Keras user writes: a Sequential MLP, compile, fit."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((matrix.shape[1],)),
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=LR),
                  loss="sparse_categorical_crossentropy")
    history = model.fit(matrix, labels, epochs=epochs, batch_size=BATCH, shuffle=True,
                        verbose=0)
    return float(history.history["loss"][-1])


def _seconds(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def measure() -> str:
    import kepler as kp
    import keras
    import numpy as np
    from kepler_tabular import build_preprocessor, holdout, make_sensor_data, prepare

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    load = os.getloadavg()[0]
    df = make_sensor_data(rows=ROWS)
    prepared = prepare(df, target="failure", features=None, task="auto",
                       tasks=("classification",), algorithm="mlp", split="random")
    train, _ = holdout(prepared, test_size=0.2, split="random", random_state=0)

    def preprocess():
        step = build_preprocessor(prepared.schema, scale=True)
        return np.asarray(step.fit_transform(prepared.X.iloc[train]), dtype=np.float32)

    matrix = preprocess()
    labels = np.searchsorted(np.unique(prepared.y), prepared.y.iloc[train].to_numpy())
    kwargs = {"target": "failure", "epochs": EPOCHS, "batch_size": BATCH, "lr": LR,
              "split": "random"}
    kp.train.keras(df.head(2000), **{**kwargs, "epochs": 1})  # warm up both paths once
    hand_written(matrix[:1000], labels[:1000], 1)
    hand, kepler, inside, saving, preps, losses = [], [], [], [], [], []
    for _ in range(RUNS):  # interleaved, so machine noise hits both alike
        seconds, hand_loss = _seconds(lambda: hand_written(matrix, labels, EPOCHS))
        hand.append(seconds)
        preps.append(_seconds(preprocess)[0])
        seconds, model = _seconds(lambda: kp.train.keras(df, **kwargs))
        kepler.append(seconds)
        inside.append(model.manifest.training.seconds)
        saving.append(_seconds(functools.partial(model.save, force=True))[0])  # really saves
        losses.append((hand_loss, model.history["loss"][-1]))
    fit, total, fitted, save, prep = (statistics.median(v) for v in (hand, kepler, inside,
                                                                       saving, preps))
    own = statistics.median(k - f for k, f in zip(kepler, inside, strict=True))
    hand_loss, kepler_loss = losses[-1]
    return (
        f"{ROWS:,} rows × {df.shape[1]} columns (`make_sensor_data`), target `failure`, 80/20 "
        f"random split; MLP 64-64, Adam lr {LR:g}, batch {BATCH}, {EPOCHS} epochs on "
        f"{len(train):,} × {matrix.shape[1]} inputs; Keras {keras.__version__} on "
        f"{keras.backend.backend()}, CPU, one thread; median of {RUNS} interleaved runs; load "
        f"average {load:.1f} when it started.\n\n"
        "| step | seconds | × hand-written fit |\n|---|---|---|\n"
        f"| plain Keras: `model.fit` on the ready matrix | {fit:.2f} | 1.00 |\n"
        f"| plain Keras plus the same preprocessing by hand | {fit + prep:.2f} | "
        f"{(fit + prep) / fit:.2f} |\n"
        f"| `kp.train.keras(df, target=\"failure\", epochs={EPOCHS})` | {total:.2f} | "
        f"{total / fit:.2f} |\n"
        f"| ↳ preprocessing + fit inside it | {fitted:.2f} | {fitted / fit:.2f} |\n"
        f"| ↳ Kepler's own work (checks, split, metrics and baseline, schema, lineage) | "
        f"{own:.2f} | {own / fit:.2f} |\n"
        f"| `model.save()` (.keras + safe_mode check, skops, sha256, manifest) | {save:.2f} | "
        f"{save / fit:.2f} |\n\n"
        f"Kepler's overhead: **{(total / fit - 1) * 100:+.1f}%** end to end against the "
        f"hand-written fit (goal: under 5%), **{(total / (fit + prep) - 1) * 100:+.1f}%** "
        f"against the fit with its preprocessing done by hand too; saving adds {save:.2f} s. "
        f"Final training loss: hand-written {hand_loss:.6f}, Kepler {kepler_loss:.6f}.\n")


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["KEPLER_CONFIG_DIR"] = home  # the saved models go to a throw-away registry
        os.chdir(home)
        body = measure()
    if "--print-only" not in sys.argv:
        from _report import write_section

        write_section("keras-training", "Keras training",
                      "nox -s bench  (benchmarks/keras_training.py)",
                      "### Overhead of `kp.train.keras` against a hand-written `fit`\n\n" + body)
    print(body)


if __name__ == "__main__":
    main()
