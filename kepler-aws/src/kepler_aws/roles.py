"""The least-privilege policies of the roles ``kepler aws provision`` makes.

- task execution role: pull images of ``aws.repository`` only, write the ``aws.log_group``
  streams only, read exactly the secrets the containers get (ECS ``secrets``);
- task role: no permissions (the model server calls no AWS API; add your own policy to it if
  your model does);
- CodeBuild's role (``kepler-codebuild``): read the build sources under ``kepler/`` of the
  staging bucket, push to ``aws.repository``, write its own build logs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .provision import Provisioner

CODEBUILD_ROLE = "kepler-codebuild"
_PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
_PUSH = [*_PULL, "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
         "ecr:PutImage"]


def role_policies(provisioner: Provisioner) -> list[tuple[str, str, str | None]]:
    """(role name, service that assumes it, inline policy document or None)."""
    from .provision import policy

    aws, settings = provisioner.aws, provisioner.settings
    account, region = aws.account(), aws.region
    repository = f"arn:aws:ecr:{region}:{account}:repository/{settings.repository}"
    log_group = f"arn:aws:logs:{region}:{account}:log-group:{settings.log_group}"
    build_logs = f"arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/" \
        f"{settings.codebuild_project}"
    bucket = aws.bucket()
    execution = policy((["ecr:GetAuthorizationToken"], ["*"]), (_PULL, [repository]),
                       (["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group}:*"]),
                       (["secretsmanager:GetSecretValue"], provisioner.secret_arns))
    codebuild = policy((["ecr:GetAuthorizationToken"], ["*"]), (_PUSH, [repository]),
                       (["s3:GetObject", "s3:GetObjectVersion"],
                        [f"arn:aws:s3:::{bucket}/kepler/*"]),
                       (["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                        [build_logs, f"{build_logs}:*"]))
    return [(settings.execution_role, "ecs-tasks.amazonaws.com", execution),
            (settings.task_role, "ecs-tasks.amazonaws.com", None),
            (CODEBUILD_ROLE, "codebuild.amazonaws.com", codebuild)]
