"""kepler-edge: Kepler models as ONNX, in offline bundles scored by a tiny runner at the edge.

- ``kp.models.to_onnx(model)`` / ``kepler models export MODEL --format onnx``: ONNX export with
  a parity check against the native model;
- ``kp.deploy.to_edge(model, out=DIR)`` / ``kepler deploy MODEL --target edge -o out=DIR``: a
  bundle a device installs without network (wheels included) and runs with ``runner.py``.
"""

__version__ = "0.1.0"
