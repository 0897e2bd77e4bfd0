package cn.jianguan.sdk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import cn.jianguan.v1.Event;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.util.JsonFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The shared test vectors (sdk/vectors): this client reproduces every byte and hash. */
class VectorsTest {
  private static final HexFormat HEX = HexFormat.of();

  static JsonObject load(String name) throws Exception {
    return JsonParser.parseString(Files.readString(Path.of("..", "vectors", name))).getAsJsonObject();
  }

  static Event parse(JsonElement json) throws Exception {
    Event.Builder b = Event.newBuilder();
    JsonFormat.parser().merge(json.toString(), b);
    return b.build();
  }

  @Test
  void everyEncodingVector() throws Exception {
    var encodings = load("chain-v1.json").getAsJsonArray("encodings");
    assertTrue(encodings.size() >= 10);
    for (JsonElement e : encodings) {
      JsonObject c = e.getAsJsonObject();
      String name = c.get("name").getAsString();
      Event event = parse(c.get("event"));
      byte[] canonical = Chains.canonicalBytes(event);
      assertEquals(c.get("canonical_hex").getAsString(), HEX.formatHex(canonical), name);
      assertEquals(c.get("hash_hex").getAsString(), HEX.formatHex(Chains.eventHash(event)), name);
      Event less = event.toBuilder().setEnvelope(event.getEnvelope().toBuilder().clearProviderId()).build();
      assertEquals(less, Event.parseFrom(canonical), name);
    }
  }

  @Test
  void everyChainVector() throws Exception {
    var chains = load("chain-v1.json").getAsJsonArray("chains");
    assertEquals(2, chains.size());
    for (JsonElement ce : chains) {
      JsonObject c = ce.getAsJsonObject();
      Chain chain = new Chain(c.get("service_id").getAsString(), c.get("stream_id").getAsString());
      for (JsonElement we : c.getAsJsonArray("events")) {
        JsonObject want = we.getAsJsonObject();
        Event sealed = chain.seal(parse(want.get("unsealed")));
        assertEquals(want.get("sequence").getAsLong(), sealed.getEnvelope().getSequence());
        assertEquals(want.get("prev_hash_hex").getAsString(), HEX.formatHex(sealed.getEnvelope().getPrevHash().toByteArray()));
        assertEquals(want.get("hash_hex").getAsString(), HEX.formatHex(Chains.eventHash(sealed)));
        assertEquals(c.get("stream_id").getAsString(), sealed.getEnvelope().getStreamId());
      }
      JsonObject head = c.getAsJsonObject("head");
      assertEquals(head.get("sequence").getAsLong(), chain.sequence());
      assertEquals(head.get("hash_hex").getAsString(), HEX.formatHex(chain.lastHash().toByteArray()));
    }
  }

  @Test
  void everyPseudonymVector() throws Exception {
    var cases = load("pseudonym-v1.json").getAsJsonArray("cases");
    assertTrue(cases.size() >= 5);
    for (JsonElement e : cases) {
      JsonObject c = e.getAsJsonObject();
      Pseudonymizer p = new Pseudonymizer(HEX.parseHex(c.get("key_hex").getAsString()), c.get("prefix").getAsString());
      assertEquals(c.get("ref").getAsString(), p.ref(c.get("user_id").getAsString()));
    }
    assertThrows(IllegalArgumentException.class, () -> new Pseudonymizer(new byte[31]));
  }

  @Test
  void providerIdIsNotHashed() throws Exception {
    var encodings = load("chain-v1.json").getAsJsonArray("encodings");
    Event plain = parse(encodings.get(0).getAsJsonObject().get("event"));
    Event named = plain.toBuilder().setEnvelope(plain.getEnvelope().toBuilder().setProviderId("acme")).build();
    assertArrayEquals(Chains.eventHash(plain), Chains.eventHash(named));
  }
}
