"""Custom Keras objects for the tests: one registered (saves and loads), one not."""

from __future__ import annotations

import keras

#: The numeric sensors the tests train on (4 inputs after preprocessing).
FEATURES = ["temperature", "pressure", "vibration", "rpm"]


@keras.saving.register_keras_serializable(package="kepler_tests")
class Scale(keras.layers.Layer):
    """Multiplies by a constant: a registered, serializable custom layer."""

    def __init__(self, factor: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Unregistered(keras.layers.Layer):
    def call(self, inputs):
        return inputs * 2.0


def small_net(input_shape, outputs=1):
    """A builder: the network from the input shape (and the output width Kepler needs)."""
    return keras.Sequential([keras.Input(input_shape), Scale(0.5),
                             keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(outputs,
                                                activation="softmax" if outputs > 1 else None)])
