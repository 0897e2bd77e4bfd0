package cn.jianguan.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import cn.jianguan.v1.Envelope;
import cn.jianguan.v1.Event;
import cn.jianguan.v1.Moderation;
import cn.jianguan.v1.ModerationAction;
import cn.jianguan.v1.ModerationStage;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class ReporterTest {
  private final List<Server> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();

  @AfterEach
  void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    servers.forEach(Server::shutdownNow);
  }

  private Reporter.Builder against(FakeGateway g, String token) throws Exception {
    String name = InProcessServerBuilder.generateName();
    servers.add(InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(g, g.interceptor())).build().start());
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    channels.add(channel);
    return Reporter.builder("in-process:" + name).channel(channel).token(token).batchSize(10)
        .backoff(Duration.ofMillis(1), Duration.ofMillis(5));
  }

  static Event moderation(String id) {
    return Event.newBuilder().setEnvelope(Envelope.newBuilder().setEventId(id))
        .setModeration(Moderation.newBuilder().setStage(ModerationStage.MODERATION_STAGE_OUTPUT)
            .setAction(ModerationAction.MODERATION_ACTION_BLOCKED)).build();
  }

  static List<String> ids(String prefix, int n) {
    return IntStream.range(0, n).mapToObj(i -> String.format("%s%03d", prefix, i)).toList();
  }

  static List<Outcome> report(Reporter r, String prefix, int n) throws Exception {
    List<CompletableFuture<Outcome>> pending = new ArrayList<>();
    for (String id : ids(prefix, n)) {
      pending.add(r.report("svc", moderation(id)));
    }
    List<Outcome> outs = new ArrayList<>();
    for (var p : pending) {
      outs.add(p.get(30, TimeUnit.SECONDS));
    }
    return outs;
  }

  @Test
  void deliversInOrderAndContinuesThePlatformsChain() throws Exception {
    FakeGateway g = new FakeGateway("t");
    try (Reporter first = against(g, "t").open()) {
      report(first, "old", 5);
    }
    try (Reporter r = against(g, "t").open()) {
      assertEquals("acme", r.session().getProviderId());
      List<Outcome> outs = report(r, "e", 100);
      for (int i = 0; i < outs.size(); i++) {
        assertEquals("ACCEPTED", outs.get(i).status());
        assertEquals(6 + i, outs.get(i).sequence());
      }
      assertEquals(105, r.chainHead("svc").sequence());
      assertEquals(100, r.delivered());
    }
    List<String> want = new ArrayList<>(ids("old", 5));
    want.addAll(ids("e", 100));
    assertEquals(want, g.storedIds());
  }

  @ParameterizedTest
  @EnumSource(value = Status.Code.class, names = {"UNAVAILABLE", "INTERNAL", "UNKNOWN", "CANCELLED",
      "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED", "DATA_LOSS", "FAILED_PRECONDITION",
      "OUT_OF_RANGE", "ALREADY_EXISTS", "NOT_FOUND"})
  void everyTransportFaultIsRetriedAndEachEventStoredOnce(Status.Code code) throws Exception {
    for (boolean afterStore : new boolean[] {false, true}) {
      FakeGateway g = new FakeGateway("t");
      g.faults.add(FakeGateway.Fault.fail(Status.Code.OK));
      g.faults.add(afterStore ? FakeGateway.Fault.lostAnswer(code) : FakeGateway.Fault.fail(code));
      g.faults.add(FakeGateway.Fault.fail(code));
      try (Reporter r = against(g, "t").open()) {
        List<Outcome> outs = report(r, "e", 40);
        long duplicates = outs.stream().filter(o -> o.status().equals("DUPLICATE")).count();
        for (int i = 0; i < outs.size(); i++) {
          assertTrue(outs.get(i).ok(), outs.get(i).toString());
          assertEquals(i + 1, outs.get(i).sequence());
        }
        assertEquals(afterStore, duplicates > 0, code + " afterStore=" + afterStore);
      }
      assertEquals(ids("e", 40), g.storedIds());
    }
  }

  @Test
  void itemsTheGatewayAsksForAgainAreSentAgainInOrder() throws Exception {
    FakeGateway g = new FakeGateway("t");
    g.faults.add(FakeGateway.Fault.unavailableFrom(4));
    g.faults.add(FakeGateway.Fault.unavailableFrom(1));
    try (Reporter r = against(g, "t").open()) {
      List<Outcome> outs = report(r, "e", 25);
      for (int i = 0; i < outs.size(); i++) {
        assertTrue(outs.get(i).ok());
        assertEquals(i + 1, outs.get(i).sequence());
      }
    }
    assertEquals(ids("e", 25), g.storedIds());
  }

  @Test
  void anEventRefusedForItsContentIsAnsweredAndTheChainGoesOn() throws Exception {
    FakeGateway g = new FakeGateway("t");
    try (Reporter r = against(g, "t").open()) {
      var bad = r.report("svc", moderation("bad-1"));
      List<Outcome> outs = report(r, "e", 3);
      Outcome out = bad.get(30, TimeUnit.SECONDS);
      assertEquals("INVALID", out.status());
      assertFalse(out.ok());
      assertFalse(out.fieldPath().isEmpty());
      assertEquals(4, outs.get(2).sequence());
      assertEquals(1, r.rejected());
      assertEquals(3, r.delivered());
    }
  }

  @Test
  void aWrongTokenFailsOpenAtOnce() throws Exception {
    FakeGateway g = new FakeGateway("right");
    var b = against(g, "wrong");
    ReporterStoppedException e = assertThrows(ReporterStoppedException.class, b::open);
    assertTrue(e.isAuthentication());
    assertEquals(Status.Code.UNAUTHENTICATED, e.code());
  }

  @Test
  void aTokenRevokedWhileReportingFailsEveryWaitingEvent() throws Exception {
    FakeGateway g = new FakeGateway("t");
    g.revokeAfterCall = 3;
    Reporter r = against(g, "t").open();
    List<CompletableFuture<Outcome>> pending = new ArrayList<>();
    for (String id : ids("e", 100)) {
      try {
        pending.add(r.report("svc", moderation(id)));
      } catch (ReporterStoppedException stopped) {
        break;
      }
    }
    int delivered = 0;
    int refused = 0;
    for (var p : pending) {
      try {
        assertTrue(p.get(30, TimeUnit.SECONDS).ok());
        delivered++;
      } catch (ExecutionException e) {
        assertTrue(((ReporterStoppedException) e.getCause()).isAuthentication());
        refused++;
      }
    }
    // the first three calls were answered: what they carried is delivered, in order, and
    // every event after them is refused with the credential
    assertEquals(ids("e", delivered), g.storedIds());
    assertTrue(delivered > 0 && refused > 0, delivered + " delivered, " + refused + " refused");
    assertEquals(pending.size(), delivered + refused);
    assertThrows(ReporterStoppedException.class, () -> r.report("svc", moderation("late")));
    assertThrows(ReporterStoppedException.class, () -> r.flush(Duration.ofSeconds(1)));
    r.close();
  }

  @Test
  void closeSaysWhatWasNotDelivered() throws Exception {
    FakeGateway g = new FakeGateway("t");
    for (int i = 0; i < 1000; i++) {
      g.faults.add(FakeGateway.Fault.fail(Status.Code.UNAVAILABLE));
    }
    Reporter r = against(g, "t").open();
    var p = r.report("svc", moderation("e1"));
    assertThrows(IllegalStateException.class, () -> r.close(Duration.ofMillis(100)));
    ExecutionException e = assertThrows(ExecutionException.class, () -> p.get(5, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof IllegalStateException);
  }

  @Test
  void aBadServiceOrStreamIsRefused() throws Exception {
    FakeGateway g = new FakeGateway("t");
    assertThrows(IllegalArgumentException.class, () -> against(g, "t").streamId("pod 7").open());
    try (Reporter r = against(g, "t").open()) {
      assertThrows(IllegalArgumentException.class, () -> r.report("", moderation("e")));
    }
  }
}
