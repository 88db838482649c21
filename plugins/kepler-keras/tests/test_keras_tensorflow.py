"""The TensorFlow backend, where TensorFlow is installed (``kepler-keras[tensorflow]``): Keras
picks its backend once per process, so this runs in a child process."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                                reason="TensorFlow is not installed")

SCRIPT = textwrap.dedent("""
    import kepler as kp
    from kepler_tabular import make_sensor_data

    df = make_sensor_data(rows=300, seed=0)
    model = kp.train.keras(df, target="failure", epochs=2, save=True)
    assert model.manifest.extra["backend"] == "tensorflow", model.manifest.extra
    loaded = kp.models.load(model.name)
    assert (loaded.predict(df.head(5)) == model.predict(df.head(5))).all()
    print("ok")
""")


def test_train_save_and_load_on_tensorflow(kepler_home):
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
