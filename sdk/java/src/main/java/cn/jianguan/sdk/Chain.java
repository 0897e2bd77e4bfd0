package cn.jianguan.sdk;

import cn.jianguan.v1.Event;
import com.google.protobuf.ByteString;

/**
 * Seals the events of one (service, stream): sequence numbers from 1 without gaps, each linked to
 * the previous event's hash. Not thread-safe; a {@link Reporter} keeps one per service.
 */
public final class Chain {
  private final String serviceId;
  private final String streamId;
  private long sequence;
  private ByteString lastHash;

  public Chain(String serviceId, String streamId) {
    this(serviceId, streamId, 0, ByteString.EMPTY);
  }

  /** A chain that continues from a head: the last sequence sealed and its hash. */
  public Chain(String serviceId, String streamId, long sequence, ByteString lastHash) {
    this.serviceId = serviceId;
    this.streamId = streamId;
    this.sequence = sequence;
    this.lastHash = lastHash;
  }

  /** Fills in the envelope's chain fields and moves the head on. The hash covers everything else. */
  public Event seal(Event event) {
    Event.Builder b = event.toBuilder();
    b.getEnvelopeBuilder()
        .setServiceId(serviceId)
        .setStreamId(streamId)
        .setSequence(++sequence)
        .setPrevHash(lastHash)
        .setSchemaVersion(Chains.SCHEMA_VERSION);
    Event sealed = b.build();
    lastHash = ByteString.copyFrom(Chains.eventHash(sealed));
    return sealed;
  }

  public String serviceId() { return serviceId; }
  public String streamId() { return streamId; }
  public long sequence() { return sequence; }
  public ByteString lastHash() { return lastHash; }
}
