"""``kp.train.pytorch``: what each keyword means (the SDK reaches the same engine through the
``pytorch`` trainer record; this function is the same thing, importable and documented)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def pytorch(data: Any, target: str | None = None, *, model: Any = "mlp", epochs: int = 20,
            batch_size: int = 64, lr: float = 1e-3, optimizer: Any = "adamw", loss: Any = None,
            early_stopping: bool | int | None = None, device: Any = "auto",
            window: int | None = None, horizon: int | None = None,
            features: Sequence[str] | None = None, task: str = "auto", test_size: float = 0.2,
            split: str | None = None, cv: int | None = None, random_state: int | None = 0,
            name: str | None = None, time_column: str | None = None, progress: bool = True,
            validation_fraction: float = 0.1, weight_decay: float | None = None,
            save: bool = False, **params: Any) -> Any:
    """Train a PyTorch network on ``data`` the Kepler way; returns a :class:`kepler.model.Model`.

    The network (``model``):

    - ``"mlp"`` (default): a multi-layer perceptron for tables, classification or regression;
      ``hidden_layers=[64, 64]``, ``dropout``, ``activation``, ``batch_norm``;
    - ``"lstm"`` / ``"cnn1d"``: read windows of ``window`` consecutive readings (default 24) in
      time order; a numeric target is forecast ``horizon`` rows after the window's end
      (default 1), its own past being an input; labels are classified at the window's end
      (``horizon=0``) or later. LSTM: ``hidden_size``, ``num_layers``, ``dropout``,
      ``bidirectional``; CNN: ``channels=[32, 32]``, ``kernel_size``, ``dropout``;
    - your own ``torch.nn.Module`` *class* (built with ``in_features``, ``out_features`` and
      ``window`` when its ``__init__`` takes them, plus your extra keywords) or *instance*
      (trained from a copy). It reads ``(batch, in_features)``, or ``(batch, window,
      in_features)`` when you pass ``window``, and returns one logit per class or one value.
      It is saved as TorchScript (scripted, else traced), so loading needs neither pickle nor
      your code.

    Training: ``epochs``, ``batch_size``, ``lr``; ``optimizer`` "adamw" (default), "adam",
    "sgd" (momentum 0.9), "rmsprop" or a ``torch.optim`` class; ``weight_decay``; ``loss`` None
    (cross-entropy for classes, MSE otherwise), "mae", "huber", "smooth_l1", or a loss module or
    function; ``early_stopping`` True (patience 5) or a patience in epochs: a
    ``validation_fraction`` of the training samples (the newest, for time-ordered data) is held
    back and the best epoch's weights kept. ``device`` "auto" (CUDA when present, else CPU),
    "cpu", "cuda", "cuda:N". ``progress`` shows a bar per epoch (terminal and Jupyter).
    Numeric targets are learnt standardized (forecasts as the change from the last value).

    Keywords shared by every ``kp.train.*``: ``target``, ``features``, ``task`` ("auto",
    "classification", "regression", "forecasting"), ``test_size``, ``split`` (default "auto":
    "time" for sequence models, and for the MLP "time" when the data has a time column, else
    "random"), ``time_column``, ``cv``, ``random_state``
    (the split, the initial weights, the batch order: the same seed gives the same model on a
    CPU), ``name``, ``save``.

    The model's metrics are on held-out samples, next to the naive baseline (majority class,
    training mean, or for forecasts the last value); ``model.plot_history()`` draws the loss
    per epoch, which the manifest keeps.

    Example::

        model = kp.train.pytorch(df, target="failure", epochs=30, early_stopping=5)
        model = kp.train.pytorch(df, target="temperature", model="lstm", window=48, horizon=6)
        model.metrics["rmse"], model.baseline["rmse"]; model.plot_history(); model.save()
    """
    from kepler.api import finish_training

    from .training import fit

    trained = fit(data, target=target, model=model, epochs=epochs, batch_size=batch_size, lr=lr,
                  optimizer=optimizer, loss=loss, early_stopping=early_stopping, device=device,
                  window=window, horizon=horizon, features=features, task=task,
                  test_size=test_size, split=split, cv=cv, random_state=random_state, name=name,
                  time_column=time_column, progress=progress,
                  validation_fraction=validation_fraction, weight_decay=weight_decay, **params)
    return finish_training("pytorch", trained, save=save)
