package cn.jianguan.sdk;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Pseudonymous user references (Art. 11): raw user ids never leave the provider. A reference is
 * the HMAC-SHA256 of the id under a key only the provider holds; the same key gives the same
 * references in every jianguan SDK (sdk/vectors/pseudonym-v1.json).
 */
public final class Pseudonymizer {
  private final SecretKeySpec key;
  private final String prefix;

  /** One key per provider, at least 32 random bytes, secret and stable; prefix "u_" by default. */
  public Pseudonymizer(byte[] key) {
    this(key, "u_");
  }

  public Pseudonymizer(byte[] key, String prefix) {
    if (key.length < 32) {
      throw new IllegalArgumentException("use a key of at least 32 random bytes");
    }
    this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
    this.prefix = prefix;
  }

  /** The stable pseudonymous reference of userId (128 bits of the HMAC, hex). */
  public String ref(String userId) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      byte[] digest = mac.doFinal(userId.getBytes(StandardCharsets.UTF_8));
      return prefix + HexFormat.of().formatHex(digest).substring(0, 32);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no HmacSHA256 in this JVM", e);
    }
  }
}
