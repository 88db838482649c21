"""kepler-serve: a generated REST API for every Kepler model, local deployment, container build
contexts and batch scoring.

- :func:`kepler_serve.app.create_app`: the FastAPI app for one model (``/predict``, the Open
  Inference Protocol's ``/v2/...``, ``/health``, ``/ready``, ``/metadata``, OpenAPI generated from
  the model's feature schema);
- ``kepler serve MODEL[:VERSION]``: that app under uvicorn, in the foreground;
- the ``local`` deployment target (``kepler deploy MODEL --target local``) and container build
  contexts (``kepler deploy build``);
- batch scoring (``kepler predict``, ``kp.deploy.batch_score``) and ``pipelines:`` in kepler.yml
  (``kepler pipeline run NAME``).
"""

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # build_context is what container deployers (kepler-gcp...) import from here; resolved on
    # first use so importing the package costs nothing
    if name == "build_context":
        from .build import build_context

        return build_context
    raise AttributeError(f"module 'kepler_serve' has no attribute {name!r}")


__all__ = ["__version__", "build_context"]
