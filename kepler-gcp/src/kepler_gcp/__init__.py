"""kepler-gcp: deploy Kepler models to Google Cloud Run.

``kepler deploy MODEL --target cloud-run``, ``kp.deploy.to_cloud_run(model)``, ``kepler gcp
provision``. The plugin module (:mod:`kepler_gcp.plugin`) declares records only: nothing here
imports a Google library until a deployment is made.
"""

__version__ = "0.1.0"
