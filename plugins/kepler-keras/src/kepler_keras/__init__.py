"""kepler-keras: Keras 3 networks trained the Kepler way (``kp.train.keras``).

Saved only in the ``.keras`` format and loaded with ``safe_mode=True``; the backend is
``KERAS_BACKEND``, else the ``keras.backend`` setting, else the first installed of torch,
TensorFlow and JAX.
"""

__version__ = "0.1.0"
