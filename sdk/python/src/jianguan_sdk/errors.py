"""What stops reporting: only refusals no retry can change. Transport faults never do."""

from __future__ import annotations

import grpc

# The credential is refused: no retry can succeed until the token or certificate changes.
AUTHENTICATION = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})
# What ends a reporter's stream for good: the credential or the call itself is refused. Anything
# else (a gateway killed mid-stream surfaces as INTERNAL "Internal error from Core", CANCELLED,
# UNKNOWN or UNAVAILABLE; a proxy may answer others) is a transport fault: retried while events
# wait.
TERMINAL_CALLS = AUTHENTICATION | {
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.INVALID_ARGUMENT,
}


class ReporterStopped(RuntimeError):
    """The reporter stopped on an error that retrying cannot fix. Its events stay spooled: the
    next reporter on the same spool sends them. ``code`` and ``details``: the gateway's status
    name and reason (empty when the stop was not the gateway's)."""

    def __init__(self, message: str, code: str = "", details: str = "") -> None:
        super().__init__(message)
        self.code, self.details = code, details

    def again(self) -> ReporterStopped:
        """The same refusal as a new exception (raised once per caller that meets it)."""
        copy = type(self)(str(self), self.code, self.details)
        copy.__cause__ = self.__cause__
        return copy


class AuthenticationFailed(ReporterStopped):
    """The gateway refused the credential (a wrong, revoked or missing token; an unregistered
    client certificate)."""


def refusal(code: grpc.StatusCode, details: str, target: str) -> ReporterStopped:
    """The exception that says, in words a person can act on, why reporting to ``target`` stops."""
    said = f"{code.name}: {details}" if details else code.name
    if code in AUTHENTICATION:
        return AuthenticationFailed(
            f"the gateway at {target} refused the credential ({said}); check the token "
            "`jianguan providers add` printed (token=...) or the client certificate (tls=...)",
            code.name,
            details,
        )
    if code == grpc.StatusCode.UNIMPLEMENTED:
        message = f"{target} does not serve jianguan's ingest service ({said})"
    else:
        message = f"the gateway at {target} refused the call ({said})"
    return ReporterStopped(message, code.name, details)
