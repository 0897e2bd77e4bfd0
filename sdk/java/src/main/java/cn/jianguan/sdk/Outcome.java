package cn.jianguan.sdk;

/**
 * The gateway's answer for one event. {@code status}: ACCEPTED, DUPLICATE, INVALID,
 * PERSONAL_INFORMATION, FORBIDDEN, CHAIN_GAP, CHAIN_FORK.
 */
public record Outcome(
    String eventId,
    String serviceId,
    String streamId,
    long sequence,
    String status,
    String fieldPath,
    String reason) {

  /** Stored exactly once (now, or before: DUPLICATE). */
  public boolean ok() {
    return status.equals("ACCEPTED") || status.equals("DUPLICATE");
  }

  @Override
  public String toString() {
    String chain = streamId.isEmpty() ? serviceId : serviceId + "@" + streamId;
    String why = fieldPath.isEmpty() ? "" : " at " + fieldPath;
    if (!reason.isEmpty()) {
      why += ": " + reason;
    }
    return chain + " #" + sequence + " (" + eventId + "): " + status + why;
  }
}
