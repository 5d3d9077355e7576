"""Tell a local AWS configuration error from a service that did not answer (CLI-3).

An unknown profile, no region, no credentials or a malformed endpoint URL
is found by botocore before any request leaves this machine: the command or
its environment is wrong, which is exit 2 like any bad input. A service that
was asked and did not answer, or refused, stays exit 3 (could not verify).
botocore is imported only when an error is examined, so the pure core that
imports this module stays free of it.
"""

from __future__ import annotations


def config_problem(exc: BaseException) -> str | None:
    """What is wrong with the local AWS configuration, if ``exc`` says so; else None."""
    import botocore.exceptions as bx

    if isinstance(exc, bx.ProfileNotFound):
        profile = exc.kwargs.get("profile")
        return (
            f"the AWS profile {profile!r} is not in the AWS config files "
            "(AWS_PROFILE, AWS_CONFIG_FILE, ~/.aws/config)"
        )
    if isinstance(exc, bx.NoRegionError):
        return "no AWS region: give --region, or set AWS_REGION"
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return (
            f"{exc}: no usable AWS credentials in the environment, "
            "~/.aws/credentials or an instance role"
        )
    if isinstance(
        exc,
        bx.InvalidRegionError
        | bx.ConfigParseError
        | bx.ConfigNotFound
        | bx.InvalidConfigError
        | bx.CredentialRetrievalError,
    ):
        return str(exc)
    if isinstance(exc, ValueError) and str(exc).startswith("Invalid endpoint"):
        return f"{exc} (an endpoint URL is http://HOST:PORT or https://HOST)"
    return None
