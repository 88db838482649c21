"""kepler-pyfunc: a model of any Python library, from its code.

A ``.py`` file (or a package folder) defines a class with ``load(self, artifacts)`` and
``predict(self, frame)`` (optionally ``predict_proba``); :func:`kepler_pyfunc.sdk.from_code`
(``kp.models.from_code``, ``kepler models add-code``) copies that code and the artifact files into a
normal Kepler artifact and registers it. Loading imports the stored code; nothing is unpickled.
"""

__version__ = "0.1.0"
