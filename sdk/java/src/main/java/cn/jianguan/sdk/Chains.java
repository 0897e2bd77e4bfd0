package cn.jianguan.sdk;

import cn.jianguan.v1.Event;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The hash chain's bytes and hash (docs/chain.md). Java's generated code writes every message's
 * fields in field-number order, default values left out and repeated numbers packed: the
 * canonical encoding, as the shared vectors (sdk/vectors/chain-v1.json) check.
 */
public final class Chains {
  /** The event schema this client writes (Envelope.schema_version). */
  public static final int SCHEMA_VERSION = 1;

  private Chains() {}

  /** The event's canonical encoding, with envelope.provider_id empty. */
  public static byte[] canonicalBytes(Event event) {
    if (!event.getEnvelope().getProviderId().isEmpty()) {
      event = event.toBuilder().setEnvelope(event.getEnvelope().toBuilder().clearProviderId()).build();
    }
    return event.toByteArray();
  }

  /** SHA-256 of the canonical encoding: the next event's prev_hash. */
  public static byte[] eventHash(Event event) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(canonicalBytes(event));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-256 in this JVM", e);
    }
  }
}
