"""One error hierarchy for everything Kepler raises on purpose.

Every error carries a message (what went wrong, with the offending value) and a hint (what to do
next). The CLI prints both without a traceback and exits with the error's ``exit_code``; the SDK
lets them propagate so notebooks show the same two lines.

Exit codes (documented in README.md):

====  ==================================================================
0     success
1     any other Kepler error (:class:`KeplerError`)
2     command-line usage error (unknown option, missing argument)
3     configuration error (:class:`ConfigError`)
4     plugin error: failed, conflicting, incompatible or missing plugin
5     secrets error (:class:`SecretError`)
6     a check failed (``kepler config check`` / ``kepler config validate``)
7     a remote service refused or failed (:class:`ServiceError`)
130   interrupted (Ctrl-C)
====  ==================================================================
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_PLUGIN = 4
EXIT_SECRET = 5
EXIT_CHECK_FAILED = 6
EXIT_SERVICE = 7
EXIT_EMPTY = 8
EXIT_INTERRUPTED = 130


class KeplerError(Exception):
    """Base of every error Kepler raises deliberately.

    ``message`` says what happened, ``hint`` what the user can do about it.
    """

    exit_code: int = EXIT_ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nHint: {self.hint}"
        return self.message


class ConfigError(KeplerError):
    """Configuration could not be read, parsed, resolved or validated."""

    exit_code = EXIT_CONFIG


class ProjectError(KeplerError):
    """A project could not be found or created."""

    exit_code = EXIT_CONFIG


class PluginError(KeplerError):
    """Base for plugin problems."""

    exit_code = EXIT_PLUGIN


class PluginLoadError(PluginError):
    """A plugin's module could not be imported or registered."""


class PluginConflictError(PluginError):
    """Two plugins claim the same name."""


class PluginIncompatibleError(PluginError):
    """A plugin declares a plugin-API range that this kepler-core does not provide."""


class PluginNotFoundError(PluginError):
    """No installed plugin has the requested name."""


class CapabilityNotInstalledError(PluginError, AttributeError):
    """An SDK name or capability whose plugin is not installed, disabled or failed.

    It is also an ``AttributeError`` so ``hasattr(kp.train, "pytorch")`` answers ``False``.
    """


class SecretError(KeplerError):
    """The secrets store could not be read or written, or a secret is missing."""

    exit_code = EXIT_SECRET


class CheckFailedError(KeplerError):
    """A check command found problems (already reported in its output)."""

    exit_code = EXIT_CHECK_FAILED


class ServiceError(KeplerError):
    """A remote service (Splunk, a cloud API) refused or failed a request."""

    exit_code = EXIT_SERVICE


class EmptyResultError(KeplerError):
    """A command that exists to produce data produced none (``kepler data … --out FILE`` with
    zero rows): a distinct exit code, so a script does not take an empty file for data."""

    exit_code = EXIT_EMPTY


# --- models -----------------------------------------------------------------------------------


class TrainingError(KeplerError):
    """Training could not start or failed: bad data, unknown target or parameter, wrong task."""


class ModelError(KeplerError):
    """Base for problems with a model, its artifact or the model registry."""


class ModelNotFoundError(ModelError):
    """No model (or version, or alias) with that name is in the registry."""


class ModelInputError(ModelError):
    """Data given to ``predict`` does not match the model's feature schema."""


class ArtifactError(ModelError):
    """A model artifact folder cannot be read: no manifest, or an invalid one."""


class ArtifactIncompleteError(ArtifactError):
    """A payload file the manifest lists is missing."""


class ArtifactTamperedError(ArtifactError):
    """A payload file's sha256 differs from the manifest's, or an unlisted file is present."""


class UnsafeModelError(ArtifactError):
    """A payload needs a type outside the allow-list: loading it could run arbitrary code."""


class ModelFormatNotInstalledError(PluginError):
    """The plugin that reads a model's payload format is not installed (or disabled)."""


# --- deployments ------------------------------------------------------------------------------


class DeploymentError(KeplerError):
    """A deployment could not be created, reached, updated or removed."""


class DeploymentNotFoundError(DeploymentError):
    """No deployment with that name exists (on that target)."""


class DeploymentExistsError(DeploymentError):
    """The target already runs a deployment of that name that this machine has not recorded
    (deployed from elsewhere): :func:`kepler.api.deploy_to` updates it when ``replace``."""
