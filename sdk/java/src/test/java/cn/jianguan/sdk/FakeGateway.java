package cn.jianguan.sdk;

import cn.jianguan.v1.BatchAck;
import cn.jianguan.v1.ChainHead;
import cn.jianguan.v1.Event;
import cn.jianguan.v1.EventBatch;
import cn.jianguan.v1.GetChainHeadsRequest;
import cn.jianguan.v1.GetChainHeadsResponse;
import cn.jianguan.v1.GetSessionRequest;
import cn.jianguan.v1.GetSessionResponse;
import cn.jianguan.v1.IngestServiceGrpc;
import cn.jianguan.v1.ItemResult;
import cn.jianguan.v1.ItemStatus;
import com.google.protobuf.ByteString;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A scripted in-process gateway: checks the bearer token, keeps each chain's head and each
 * event id once, answers as the real one does (DUPLICATE, CHAIN_GAP, CHAIN_FORK); faults fail
 * calls on purpose.
 */
final class FakeGateway extends IngestServiceGrpc.IngestServiceImplBase {
  record Fault(Status.Code code, boolean afterStore, int unavailableFrom) {
    static Fault fail(Status.Code code) { return new Fault(code, false, 0); }
    static Fault lostAnswer(Status.Code code) { return new Fault(code, true, 0); }
    static Fault unavailableFrom(int index) { return new Fault(Status.Code.OK, false, index); }
  }

  static final Context.Key<String> AUTH = Context.key("authorization");
  static final Metadata.Key<String> HEADER = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  volatile String token;
  final List<Event> stored = new ArrayList<>();
  final Set<String> ids = new HashSet<>();
  final Map<String, ChainHead> heads = new HashMap<>();
  final List<Fault> faults = new ArrayList<>();
  int calls;
  int revokeAfterCall;

  FakeGateway(String token) {
    this.token = token;
  }

  ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String got = headers.get(HEADER);
        return Contexts.interceptCall(Context.current().withValue(AUTH, got == null ? "" : got), call, headers, next);
      }
    };
  }

  private boolean refused(StreamObserver<?> out) {
    if (!("Bearer " + token).equals(AUTH.get())) {
      out.onError(Status.UNAUTHENTICATED.withDescription("unknown token").asRuntimeException());
      return true;
    }
    return false;
  }

  @Override
  public void getSession(GetSessionRequest req, StreamObserver<GetSessionResponse> out) {
    if (refused(out)) return;
    out.onNext(GetSessionResponse.newBuilder().setProviderId("acme").addSchemaVersions(1).build());
    out.onCompleted();
  }

  @Override
  public synchronized void getChainHeads(GetChainHeadsRequest req, StreamObserver<GetChainHeadsResponse> out) {
    if (refused(out)) return;
    GetChainHeadsResponse.Builder b = GetChainHeadsResponse.newBuilder();
    heads.values().stream().filter(h -> h.getStreamId().equals(req.getStreamId())).forEach(b::addHeads);
    out.onNext(b.build());
    out.onCompleted();
  }

  @Override
  public synchronized void publishBatch(EventBatch batch, StreamObserver<BatchAck> out) {
    if (refused(out)) return;
    Fault f = calls < faults.size() ? faults.get(calls) : new Fault(Status.Code.OK, false, 0);
    calls++;
    if (f.code() != Status.Code.OK && !f.afterStore()) {
      out.onError(Status.fromCode(f.code()).withDescription("scripted fault").asRuntimeException());
      return;
    }
    BatchAck.Builder ack = BatchAck.newBuilder().setBatchId(batch.getBatchId()).setReceived(batch.getEventsCount());
    for (int i = 0; i < batch.getEventsCount(); i++) {
      Event ev = batch.getEvents(i);
      var env = ev.getEnvelope();
      String key = env.getServiceId() + "@" + env.getStreamId();
      ChainHead head = heads.getOrDefault(key, ChainHead.newBuilder()
          .setServiceId(env.getServiceId()).setStreamId(env.getStreamId()).build());
      ItemResult.Builder item = ItemResult.newBuilder().setIndex(i).setEventId(env.getEventId());
      ByteString hash = ByteString.copyFrom(Chains.eventHash(ev));
      if (f.unavailableFrom() > 0 && i + 1 >= f.unavailableFrom()) {
        item.setStatus(ItemStatus.ITEM_STATUS_UNAVAILABLE);
      } else if (env.getSequence() <= head.getSequence() && ids.contains(env.getEventId())) {
        item.setStatus(ItemStatus.ITEM_STATUS_DUPLICATE);
      } else if (env.getSequence() > head.getSequence() + 1) {
        item.setStatus(ItemStatus.ITEM_STATUS_CHAIN_GAP);
      } else if (env.getSequence() <= head.getSequence() || !env.getPrevHash().equals(head.getHash())) {
        item.setStatus(ItemStatus.ITEM_STATUS_CHAIN_FORK);
      } else if (env.getEventId().startsWith("bad-")) {
        item.setStatus(ItemStatus.ITEM_STATUS_INVALID).setFieldPath("events[" + i + "].envelope.event_id");
        heads.put(key, head.toBuilder().setSequence(env.getSequence()).setHash(hash).build());
      } else {
        stored.add(ev);
        ids.add(env.getEventId());
        heads.put(key, head.toBuilder().setSequence(env.getSequence()).setHash(hash).setEventId(env.getEventId()).build());
        ack.setAccepted(ack.getAccepted() + 1);
        continue;
      }
      ack.addResults(item);
    }
    if (revokeAfterCall > 0 && calls == revokeAfterCall) {
      token = "revoked";
    }
    if (f.afterStore()) {
      out.onError(Status.fromCode(f.code()).withDescription("scripted fault after storing").asRuntimeException());
      return;
    }
    out.onNext(ack.build());
    out.onCompleted();
  }

  synchronized List<String> storedIds() {
    return stored.stream().map(e -> e.getEnvelope().getEventId()).toList();
  }
}
