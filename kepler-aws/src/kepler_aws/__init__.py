"""kepler-aws: deploy Kepler models to AWS (ECS on Fargate behind an Application Load Balancer).

``kepler deploy MODEL --target aws``, ``kp.deploy.to_aws(model)``, ``kepler aws provision``. The
plugin module (:mod:`kepler_aws.plugin`) declares records only: nothing here imports boto3 until
a deployment is made.
"""

__version__ = "0.1.0"
