"""kepler-azure: deploy Kepler models to Azure Container Apps and Azure Container Instances.

``kepler deploy MODEL --target azure`` (Container Apps: autoscaling, revisions, canary,
rollback), ``--target azure-aci`` (Container Instances: one container group, batch jobs),
``kp.deploy.to_azure(model)``, ``kepler azure provision``. The plugin module
(:mod:`kepler_azure.plugin`) declares records only: nothing imports an Azure SDK until a
deployment is made.
"""

__version__ = "0.1.0"
