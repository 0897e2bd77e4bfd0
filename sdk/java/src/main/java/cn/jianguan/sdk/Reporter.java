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
import com.google.protobuf.Timestamp;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * Seals events into their chains and delivers them in order, in batches, retrying every
 * transport fault and every item the gateway asks to have again (rate limited, event log
 * unavailable) with exponential backoff and full jitter, until each event has its {@link
 * Outcome}. Safe for concurrent use; keep one per process and stream.
 *
 * <p>Before its first batch a reporter asks the platform where its chains stand
 * (GetChainHeads) and seals from there: a process that lost its state continues its chains.
 * Events wait in memory until answered; {@link #close(Duration)} waits for them.
 */
public final class Reporter implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Reporter.class.getName());
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z0-9._:/-]{1,64}");

  private final Builder cfg;
  private final ManagedChannel channel;
  private final boolean ownsChannel;
  private final IngestServiceGrpc.IngestServiceBlockingStub stub;
  private final GetSessionResponse session;
  private final Thread sender;

  private final Object lock = new Object();
  private final ArrayDeque<Entry> queue = new ArrayDeque<>();
  private final Map<String, Chain> chains = new HashMap<>();
  private boolean resumed;
  private boolean closing;
  private boolean shutdown;
  private ReporterStoppedException stopped;
  private int delivered;
  private int rejected;

  private static final class Entry {
    final String serviceId;
    Event event;
    boolean sealed;
    final CompletableFuture<Outcome> outcome = new CompletableFuture<>();

    Entry(String serviceId, Event event) {
      this.serviceId = serviceId;
      this.event = event;
    }
  }

  /** Where and how to report; {@link #open()} connects. */
  public static final class Builder {
    private final String target;
    private String token = "";
    private String streamId = "";
    private ChannelCredentials credentials = InsecureChannelCredentials.create();
    private ManagedChannel channel;
    private int batchSize = 500;
    private Duration linger = Duration.ofMillis(5);
    private int maxPending = 100_000;
    private Duration baseDelay = Duration.ofMillis(200);
    private Duration maxDelay = Duration.ofSeconds(10);
    private Duration callTimeout = Duration.ofSeconds(30);

    private Builder(String target) {
      this.target = target;
    }

    /** The provider's bearer token (`jianguan providers add` prints it). */
    public Builder token(String token) { this.token = token; return this; }

    /**
     * This process's chain in each service: every process reporting for a service at the same
     * time as another (a replica) names a stream of its own, stable across restarts.
     */
    public Builder streamId(String streamId) { this.streamId = streamId; return this; }

    /** TLS (e.g. TlsChannelCredentials.create()); plaintext by default, for loopback. */
    public Builder credentials(ChannelCredentials credentials) { this.credentials = credentials; return this; }

    /** A channel of the caller's, which the reporter uses and does not close. */
    public Builder channel(ManagedChannel channel) { this.channel = channel; return this; }

    public Builder batchSize(int n) { this.batchSize = n; return this; }
    public Builder linger(Duration d) { this.linger = d; return this; }
    public Builder maxPending(int n) { this.maxPending = n; return this; }
    public Builder backoff(Duration base, Duration max) { this.baseDelay = base; this.maxDelay = max; return this; }
    public Builder callTimeout(Duration d) { this.callTimeout = d; return this; }

    /**
     * Connects and checks the credential: a refused token throws {@link
     * ReporterStoppedException} ({@code isAuthentication()}) at once. An unreachable gateway
     * does not: events wait until it answers.
     */
    public Reporter open() {
      if (!streamId.isEmpty() && !IDENTIFIER.matcher(streamId).matches()) {
        throw new IllegalArgumentException(
            "streamId " + streamId + ": use at most 64 of A-Z a-z 0-9 . _ : / -");
      }
      return new Reporter(this);
    }
  }

  public static Builder builder(String target) {
    return new Builder(target);
  }

  private Reporter(Builder cfg) {
    this.cfg = cfg;
    this.ownsChannel = cfg.channel == null;
    this.channel = ownsChannel ? Grpc.newChannelBuilder(cfg.target, cfg.credentials).build() : cfg.channel;
    Metadata headers = new Metadata();
    if (!cfg.token.isEmpty()) {
      headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + cfg.token);
    }
    this.stub = IngestServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    GetSessionResponse said = null;
    try {
      said = call().getSession(GetSessionRequest.getDefaultInstance());
    } catch (RuntimeException e) {
      ReporterStoppedException stop = ReporterStoppedException.refusal(e, cfg.target);
      if (stop != null) {
        if (ownsChannel) {
          channel.shutdownNow();
        }
        throw stop;
      }
      LOG.log(Level.WARNING, "gateway " + cfg.target + " not reachable yet; events wait until it is", e);
    }
    this.session = said;
    this.sender = new Thread(this::send, "jianguan-reporter");
    this.sender.setDaemon(true);
    this.sender.start();
  }

  private IngestServiceGrpc.IngestServiceBlockingStub call() {
    return stub.withDeadlineAfter(cfg.callTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** What the gateway said of the credential when the reporter opened (null if unreachable). */
  public GetSessionResponse session() {
    return session;
  }

  /**
   * Queues the event for its service's chain, in the order of calls; it is sealed before its
   * first delivery. An empty event id gets a random UUID, an unset occurred_at the current time.
   * Blocks while maxPending events wait.
   */
  public CompletableFuture<Outcome> report(String serviceId, Event event) {
    if (!IDENTIFIER.matcher(serviceId).matches()) {
      throw new IllegalArgumentException("service id " + serviceId + ": use at most 64 of A-Z a-z 0-9 . _ : / -");
    }
    Event.Builder b = event.toBuilder();
    if (b.getEnvelope().getEventId().isEmpty()) {
      b.getEnvelopeBuilder().setEventId(UUID.randomUUID().toString());
    }
    if (!b.getEnvelope().hasOccurredAt()) {
      Instant now = Instant.now();
      b.getEnvelopeBuilder().setOccurredAt(
          Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()));
    }
    Entry entry = new Entry(serviceId, b.build());
    synchronized (lock) {
      while (true) {
        if (stopped != null) {
          throw stopped;
        }
        if (closing) {
          throw new IllegalStateException("the reporter is closed");
        }
        if (queue.size() < cfg.maxPending) {
          break;
        }
        waitOn(Long.MAX_VALUE);
      }
      queue.add(entry);
      lock.notifyAll();
    }
    return entry.outcome;
  }

  /** Waits until every event reported so far is answered. */
  public void flush(Duration timeout) throws TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      while (!queue.isEmpty()) {
        if (stopped != null) {
          throw stopped;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new TimeoutException(queue.size() + " event(s) not answered yet");
        }
        waitOn(TimeUnit.NANOSECONDS.toMillis(left) + 1);
      }
      if (stopped != null) {
        throw stopped;
      }
    }
  }

  /** {@link #close(Duration)} with 30 seconds. */
  @Override
  public void close() {
    close(Duration.ofSeconds(30));
  }

  /**
   * Delivers what waits (at most for {@code timeout}), then stops; events still unanswered
   * complete exceptionally, and the IllegalStateException thrown says how many.
   */
  public void close(Duration timeout) {
    synchronized (lock) {
      closing = true;
      lock.notifyAll();
    }
    TimeoutException late = null;
    try {
      flush(timeout);
    } catch (TimeoutException e) {
      late = e;
    } catch (ReporterStoppedException e) {
      // already said to every waiting event
    }
    synchronized (lock) {
      shutdown = true;
      lock.notifyAll();
    }
    sender.interrupt();
    try {
      sender.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (ownsChannel) {
      channel.shutdownNow();
    }
    synchronized (lock) {
      int left = queue.size();
      for (Entry e : queue) {
        e.outcome.completeExceptionally(new IllegalStateException("closed before the event was delivered"));
      }
      queue.clear();
      if (left > 0) {
        throw new IllegalStateException("closed with " + left + " event(s) undelivered", late);
      }
    }
  }

  /** Events answered so far: stored (ACCEPTED or DUPLICATE), or refused for good. */
  public int delivered() { synchronized (lock) { return delivered; } }
  public int rejected() { synchronized (lock) { return rejected; } }

  /** Where this reporter's chain of serviceId stands (sequence 0 before its first event). */
  public Chain chainHead(String serviceId) {
    synchronized (lock) {
      Chain c = chain(serviceId);
      return new Chain(serviceId, cfg.streamId, c.sequence(), c.lastHash());
    }
  }

  private void waitOn(long millis) {
    try {
      lock.wait(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  // -- the sender ---------------------------------------------------------------------------

  private void send() {
    int attempt = 0;
    while (true) {
      List<Entry> batch = next();
      if (batch == null) {
        return;
      }
      RuntimeException failure = null;
      BatchAck ack = null;
      try {
        if (!resumed) {
          resume();
        }
        List<Event> events = seal(batch);
        ack = call().publishBatch(EventBatch.newBuilder()
            .setBatchId(events.get(0).getEnvelope().getEventId()).addAllEvents(events).build());
      } catch (RuntimeException e) {
        failure = e;
      }
      if (failure != null) {
        ReporterStoppedException stop = ReporterStoppedException.refusal(failure, cfg.target);
        if (stop != null) {
          stop(stop);
          return;
        }
        LOG.log(Level.WARNING, "delivery failed; retrying: " + failure);
      } else if (settle(batch, ack) == batch.size()) {
        attempt = 0;
        continue;
      }
      attempt++;
      if (!sleep(backoff(attempt))) {
        return;
      }
    }
  }

  /** The front of the queue (up to batchSize) once there is one, or null when shut down. */
  private List<Entry> next() {
    synchronized (lock) {
      boolean lingered = false;
      while (true) {
        if (shutdown) {
          return null;
        }
        int n = queue.size();
        if (n > 0 && (n >= cfg.batchSize || lingered || closing)) {
          List<Entry> batch = new ArrayList<>(Math.min(n, cfg.batchSize));
          for (Entry e : queue) {
            if (batch.size() == cfg.batchSize) {
              break;
            }
            batch.add(e);
          }
          return batch;
        }
        try {
          if (n > 0) {
            lock.wait(Math.max(1, cfg.linger.toMillis()));
            lingered = true;
          } else {
            lock.wait();
          }
        } catch (InterruptedException e) {
          return null;
        }
      }
    }
  }

  private void resume() {
    GetChainHeadsResponse heads =
        call().getChainHeads(GetChainHeadsRequest.newBuilder().setStreamId(cfg.streamId).build());
    synchronized (lock) {
      for (ChainHead h : heads.getHeadsList()) {
        if (h.getSequence() > chain(h.getServiceId()).sequence()) {
          chains.put(h.getServiceId(), new Chain(h.getServiceId(), cfg.streamId, h.getSequence(), h.getHash()));
        }
      }
      resumed = true;
    }
  }

  private Chain chain(String serviceId) {
    return chains.computeIfAbsent(serviceId, s -> new Chain(s, cfg.streamId));
  }

  /** Seals the batch's events not sealed yet (once: a resent event keeps its hash). */
  private List<Event> seal(List<Entry> batch) {
    synchronized (lock) {
      List<Event> events = new ArrayList<>(batch.size());
      for (Entry e : batch) {
        if (!e.sealed) {
          e.event = chain(e.serviceId).seal(e.event);
          e.sealed = true;
        }
        events.add(e.event);
      }
      return events;
    }
  }

  /** Answers every item before the first one to send again; returns how many it answered. */
  private int settle(List<Entry> batch, BatchAck ack) {
    Map<Integer, ItemResult> results = new HashMap<>();
    int stop = batch.size();
    for (ItemResult item : ack.getResultsList()) {
      results.put(item.getIndex(), item);
      boolean again = item.getStatus() == ItemStatus.ITEM_STATUS_RATE_LIMITED
          || item.getStatus() == ItemStatus.ITEM_STATUS_UNAVAILABLE;
      if (again && item.getIndex() < stop) {
        stop = item.getIndex();
      }
    }
    synchronized (lock) {
      for (int i = 0; i < stop; i++) {
        Entry e = batch.get(i);
        var env = e.event.getEnvelope();
        ItemResult item = results.get(i);
        String status = "ACCEPTED";
        String field = "";
        String reason = "";
        if (item != null) {
          status = item.getStatus().name().replaceFirst("^ITEM_STATUS_", "");
          field = item.getFieldPath();
          reason = item.getReason();
        } else if (i >= ack.getReceived()) {
          status = "INVALID";
          reason = "not received: the gateway read " + ack.getReceived() + " items of the batch";
        }
        Outcome out = new Outcome(env.getEventId(), env.getServiceId(), env.getStreamId(),
            env.getSequence(), status, field, reason);
        if (out.ok()) {
          delivered++;
        } else {
          rejected++;
          LOG.warning("event not accepted: " + out);
        }
        queue.poll();
        e.outcome.complete(out);
      }
      lock.notifyAll();
    }
    return stop;
  }

  private void stop(ReporterStoppedException error) {
    LOG.log(Level.SEVERE, "reporting stopped", error);
    synchronized (lock) {
      stopped = error;
      for (Entry e : queue) {
        e.outcome.completeExceptionally(error);
      }
      queue.clear();
      lock.notifyAll();
    }
  }

  private Duration backoff(int attempt) {
    long ceiling = cfg.baseDelay.toNanos() << Math.min(attempt - 1, 30);
    if (ceiling <= 0 || ceiling > cfg.maxDelay.toNanos()) {
      ceiling = cfg.maxDelay.toNanos();
    }
    return Duration.ofNanos(ThreadLocalRandom.current().nextLong(ceiling + 1));
  }

  private boolean sleep(Duration d) {
    synchronized (lock) {
      long deadline = System.nanoTime() + d.toNanos();
      while (!shutdown) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return true;
        }
        try {
          lock.wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
        } catch (InterruptedException e) {
          return false;
        }
      }
      return false;
    }
  }
}
