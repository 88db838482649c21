"""``kp.train.keras``: what each keyword means (the SDK reaches the same engine through the
``keras`` trainer record; this function is the same thing, importable and documented)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def keras(data: Any, target: str | None = None, *, model: Any = None, epochs: int = 20,
          batch_size: int = 64, lr: float = 1e-3, optimizer: Any = "adam", loss: Any = None,
          early_stopping: bool | int | None = None, validation_fraction: float = 0.1,
          features: Sequence[str] | None = None, task: str = "auto", test_size: float = 0.2,
          split: str = "auto", cv: int | None = None, random_state: int | None = 0,
          name: str | None = None, time_column: str | None = None, groups: str | None = None,
          progress: bool = False, save: bool = False, **params: Any) -> Any:
    """Train a Keras 3 network on a table the Kepler way; returns a :class:`kepler.api.Model`.

    The network (``model``):

    - None (default): an MLP, dense layers then softmax over the classes or one linear unit;
      ``hidden_layers=[64, 64]``, ``dropout``, ``activation``;
    - your ``keras.Model`` (trained from a clone, so fresh weights each time): it reads
      ``(batch, n_inputs)`` after Kepler's preprocessing and outputs one probability per class
      (softmax; a single sigmoid unit for two classes) or one value;
    - a function ``build(input_shape)`` (or ``build(input_shape, outputs=N)``) returning one;
    - the path of a ``.keras`` file (its architecture, trained afresh).

    Saved only as ``.keras`` and loaded with ``safe_mode=True``: ``.h5`` files, SavedModel
    folders and pickles are refused, and so is a network that would not load safely (a
    ``Lambda`` layer, a custom layer not registered with
    ``@keras.saving.register_keras_serializable``).

    Training: ``epochs``, ``batch_size``, ``lr``; ``optimizer`` a Keras name ("adam", "adamw",
    "sgd", "rmsprop") or object; ``loss`` None (sparse categorical / binary cross-entropy, or
    MSE) or a Keras loss; ``early_stopping`` True (patience 5) or a patience in epochs, on a
    ``validation_fraction`` of the training rows (the newest for time-ordered data), keeping
    the best weights. ``progress`` prints one line per epoch. The backend is ``KERAS_BACKEND``,
    else ``keras.backend`` in kepler.yml, else the first installed of torch, TensorFlow, JAX.

    Keywords shared by every ``kp.train.*``: ``target``, ``features``, ``task``, ``test_size``,
    ``split`` ("auto", "random", "time", "group" with ``groups``), ``time_column``, ``cv``,
    ``random_state`` (the split, the initial weights, the batch order), ``name``, ``save``.
    Metrics are on held-out rows next to the naive baseline; ``model.plot_history()`` draws
    the loss per epoch.

    Example::

        model = kp.train.keras(df, target="failure", epochs=30, early_stopping=5)
        model = kp.train.keras(df, target="efficiency", model=lambda shape: keras.Sequential(
            [keras.Input(shape), keras.layers.Dense(32, activation="relu"),
             keras.layers.Dense(1)]))
    """
    from kepler.api import finish_training

    from .training import fit

    trained = fit(data, target=target, model=model, epochs=epochs, batch_size=batch_size, lr=lr,
                  optimizer=optimizer, loss=loss, early_stopping=early_stopping,
                  validation_fraction=validation_fraction, features=features, task=task,
                  test_size=test_size, split=split, cv=cv, random_state=random_state, name=name,
                  time_column=time_column, groups=groups, progress=progress, **params)
    return finish_training("keras", trained, save=save)
