package cn.jianguan.sdk;

import io.grpc.Status;
import java.util.Set;

/**
 * Reporting stopped on a refusal no retry can change; every waiting event fails with it. Every
 * other status is a transport fault, retried while events wait.
 */
public class ReporterStoppedException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  static final Set<Status.Code> TERMINAL =
      Set.of(
          Status.Code.UNAUTHENTICATED,
          Status.Code.PERMISSION_DENIED,
          Status.Code.UNIMPLEMENTED,
          Status.Code.INVALID_ARGUMENT);

  private final Status.Code code;

  ReporterStoppedException(String message, Status.Code code, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public Status.Code code() {
    return code;
  }

  /** The gateway refused the credential: no retry succeeds until the token changes. */
  public boolean isAuthentication() {
    return code == Status.Code.UNAUTHENTICATED || code == Status.Code.PERMISSION_DENIED;
  }

  /** The exception for a call refused for good, or null when it is a transport fault. */
  static ReporterStoppedException refusal(Throwable error, String target) {
    Status status = Status.fromThrowable(error);
    if (!TERMINAL.contains(status.getCode())) {
      return null;
    }
    String said = status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription());
    String message;
    if (status.getCode() == Status.Code.UNAUTHENTICATED || status.getCode() == Status.Code.PERMISSION_DENIED) {
      message = "the gateway at " + target + " refused the credential (" + said
          + "); check the token `jianguan providers add` printed";
    } else if (status.getCode() == Status.Code.UNIMPLEMENTED) {
      message = target + " does not serve jianguan's ingest service (" + said + ")";
    } else {
      message = "the gateway at " + target + " refused the call (" + said + ")";
    }
    return new ReporterStoppedException(message, status.getCode(), error);
  }
}
