package jianguan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/jianguan/jianguan/sdk/go/jianguanv1"
)

// Config says where and how a Reporter reports. Zero values take the defaults.
type Config struct {
	// Target is the gateway's address (host:port).
	Target string
	// Token is the provider's bearer token (`jianguan providers add` prints it).
	Token string
	// TLS secures the connection; nil sends in plaintext (a gateway on loopback, or behind a
	// proxy that terminates TLS).
	TLS credentials.TransportCredentials
	// StreamID names this process's chain in each service: every process that reports for a
	// service at the same time as another (a replica) names a stream of its own, stable across
	// its restarts (a pod name). Empty for the service's one chain.
	StreamID string
	// BatchSize: events per call (default 500). Linger: how long a short batch waits for more
	// (default 5 ms).
	BatchSize int
	Linger    time.Duration
	// MaxPending: events waiting for an answer before Report blocks (default 100,000).
	MaxPending int
	// Backoff between retries: full jitter, from BaseDelay doubling up to MaxDelay (default
	// 200 ms and 10 s). CallTimeout bounds one call (default 30 s).
	BaseDelay, MaxDelay, CallTimeout time.Duration
	// Logger (default slog.Default()).
	Logger      *slog.Logger
	DialOptions []grpc.DialOption
}

var identifier = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,64}$`)

func (c *Config) defaults() error {
	if c.Target == "" {
		return errors.New("jianguan: Config.Target (the gateway's host:port) is required")
	}
	if c.StreamID != "" && !identifier.MatchString(c.StreamID) {
		return fmt.Errorf("jianguan: StreamID %q: use at most 64 of A-Z a-z 0-9 . _ : / -", c.StreamID)
	}
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 100_000
	}
	set(&c.Linger, 5*time.Millisecond)
	set(&c.BaseDelay, 200*time.Millisecond)
	set(&c.MaxDelay, 10*time.Second)
	set(&c.CallTimeout, 30*time.Second)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Reporter seals events into their chains and delivers them in order, in batches, retrying every
// transport fault and every item the gateway asks to be sent again (rate limited, event log
// unavailable) with backoff, until each event has its Outcome. Safe for concurrent use.
type Reporter struct {
	cfg     Config
	conn    *grpc.ClientConn
	stub    jianguanv1.IngestServiceClient
	session *jianguanv1.GetSessionResponse

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced whenever the queue or state changes
	queue     []*entry      // in the order reported; the front is being delivered
	chains    map[string]*Chain
	resumed   bool
	closing   bool
	stopped   *StoppedError
	delivered int
	rejected  int

	cancel context.CancelFunc
	done   chan struct{}
}

type entry struct {
	serviceID string
	ev        *jianguanv1.Event
	sealed    bool
	done      chan struct{}
	out       Outcome
	err       error
}

// Pending is one reported event, answered once the gateway has.
type Pending struct{ e *entry }

// Done is closed once the event has its outcome (or the reporter stopped or closed).
func (p *Pending) Done() <-chan struct{} { return p.e.done }

// Wait returns the event's outcome; the error is non-nil only when the reporter stopped
// (*StoppedError) or closed (ErrClosed) first, or ctx ended.
func (p *Pending) Wait(ctx context.Context) (Outcome, error) {
	select {
	case <-p.e.done:
		return p.e.out, p.e.err
	case <-ctx.Done():
		return Outcome{}, ctx.Err()
	}
}

type bearer string

func (t bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

// Open connects to the gateway and checks the credential: a refused token returns a
// *StoppedError at once (IsAuthentication). An unreachable gateway does not fail Open: events
// wait and are delivered once it answers.
func Open(ctx context.Context, cfg Config) (*Reporter, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	creds := cfg.TLS
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(creds)}, cfg.DialOptions...)
	if cfg.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(cfg.Token)))
	}
	conn, err := grpc.NewClient(cfg.Target, opts...)
	if err != nil {
		return nil, fmt.Errorf("jianguan: %s: %w", cfg.Target, err)
	}
	r := &Reporter{
		cfg: cfg, conn: conn, stub: jianguanv1.NewIngestServiceClient(conn),
		changed: make(chan struct{}), chains: map[string]*Chain{}, done: make(chan struct{}),
	}
	call, cancel := context.WithTimeout(ctx, cfg.CallTimeout)
	r.session, err = r.stub.GetSession(call, &jianguanv1.GetSessionRequest{})
	cancel()
	if err != nil {
		if stop := refusal(err, cfg.Target); stop != nil {
			conn.Close()
			return nil, stop
		}
		cfg.Logger.Warn("jianguan: gateway not reachable yet; events wait until it is",
			"target", cfg.Target, "error", err)
	}
	run, stop := context.WithCancel(context.Background())
	r.cancel = stop
	go r.send(run)
	return r, nil
}

// Session is what the gateway said of the credential on Open (nil when it was not reachable).
func (r *Reporter) Session() *jianguanv1.GetSessionResponse { return r.session }

// Report seals ev into its service's chain (in the order of Report calls) and queues it. The
// reporter owns ev from here on. An empty event id gets a random one (NewEventID), an unset
// occurred_at the current time. Blocks while MaxPending events wait.
func (r *Reporter) Report(ctx context.Context, serviceID string, ev *jianguanv1.Event) (*Pending, error) {
	if !identifier.MatchString(serviceID) {
		return nil, fmt.Errorf("jianguan: service id %q: use at most 64 of A-Z a-z 0-9 . _ : / -", serviceID)
	}
	if ev.Envelope == nil {
		ev.Envelope = &jianguanv1.Envelope{}
	}
	if ev.Envelope.EventId == "" {
		ev.Envelope.EventId = NewEventID()
	}
	if ev.Envelope.OccurredAt == nil {
		ev.Envelope.OccurredAt = timestamppb.Now()
	}
	e := &entry{serviceID: serviceID, ev: ev, done: make(chan struct{})}
	r.mu.Lock()
	for {
		if r.stopped != nil {
			r.mu.Unlock()
			return nil, r.stopped
		}
		if r.closing {
			r.mu.Unlock()
			return nil, ErrClosed
		}
		if len(r.queue) < r.cfg.MaxPending {
			break
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		r.mu.Lock()
	}
	r.queue = append(r.queue, e)
	r.signal()
	r.mu.Unlock()
	return &Pending{e}, nil
}

// Flush waits until every event reported so far is answered.
func (r *Reporter) Flush(ctx context.Context) error {
	for {
		r.mu.Lock()
		stopped, waiting, changed := r.stopped, len(r.queue), r.changed
		r.mu.Unlock()
		if stopped != nil {
			return stopped
		}
		if waiting == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close delivers what waits (until ctx ends), then stops; events still unanswered fail with
// ErrClosed, and the error says how many.
func (r *Reporter) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closing = true
	r.signal()
	r.mu.Unlock()
	err := r.Flush(ctx)
	r.cancel()
	<-r.done
	r.conn.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	if left := len(r.queue); left > 0 {
		for _, e := range r.queue {
			r.answer(e, Outcome{}, ErrClosed)
		}
		r.queue = nil
		return fmt.Errorf("jianguan: closed with %d event(s) undelivered: %w", left, err)
	}
	var stop *StoppedError
	if errors.As(err, &stop) {
		return err
	}
	return nil
}

// Delivered and Rejected count the events answered so far: stored (ACCEPTED or DUPLICATE), or
// refused for good.
func (r *Reporter) Delivered() int { r.mu.Lock(); defer r.mu.Unlock(); return r.delivered }
func (r *Reporter) Rejected() int  { r.mu.Lock(); defer r.mu.Unlock(); return r.rejected }

// ChainHead is where this reporter's chain of serviceID stands (0 and nil before its first event).
func (r *Reporter) ChainHead(serviceID string) (uint64, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.chains[serviceID]; c != nil {
		return c.Sequence, append([]byte(nil), c.LastHash...)
	}
	return 0, nil
}

// signal wakes whoever waits on a change; call with r.mu held.
func (r *Reporter) signal() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *Reporter) answer(e *entry, out Outcome, err error) {
	e.out, e.err = out, err
	close(e.done)
}

// -- the sender ---------------------------------------------------------------------------

func (r *Reporter) send(ctx context.Context) {
	defer close(r.done)
	attempt := 0
	for {
		batch := r.next(ctx)
		if batch == nil {
			return
		}
		var err error
		if !r.resumed {
			err = r.resume(ctx)
		}
		var ack *jianguanv1.BatchAck
		if err == nil {
			events := r.seal(batch)
			call, cancel := context.WithTimeout(ctx, r.cfg.CallTimeout)
			ack, err = r.stub.PublishBatch(call, &jianguanv1.EventBatch{
				BatchId: events[0].Envelope.EventId, Events: events,
			})
			cancel()
		}
		if err != nil {
			if stop := refusal(err, r.cfg.Target); stop != nil {
				r.stop(stop)
				return
			}
			if ctx.Err() != nil {
				return
			}
			r.cfg.Logger.Warn("jianguan: delivery failed; retrying", "error", err)
		} else if r.settle(batch, ack) == len(batch) {
			attempt = 0
			continue
		}
		attempt++
		select {
		case <-time.After(r.backoff(attempt)):
		case <-ctx.Done():
			return
		}
	}
}

// next waits for events and returns the front of the queue (up to BatchSize), or nil once the
// reporter is done.
func (r *Reporter) next(ctx context.Context) []*entry {
	lingered := false
	for {
		r.mu.Lock()
		n, changed, closing := len(r.queue), r.changed, r.closing
		if n > 0 && (n >= r.cfg.BatchSize || lingered || closing) {
			batch := append([]*entry(nil), r.queue[:min(n, r.cfg.BatchSize)]...)
			r.mu.Unlock()
			return batch
		}
		r.mu.Unlock()
		if n > 0 {
			lingered = true
			select {
			case <-time.After(r.cfg.Linger):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		}
	}
}

// resume continues each chain where the platform holds it, so that a process that lost its
// state does not fork its chains.
func (r *Reporter) resume(ctx context.Context) error {
	call, cancel := context.WithTimeout(ctx, r.cfg.CallTimeout)
	defer cancel()
	heads, err := r.stub.GetChainHeads(call, &jianguanv1.GetChainHeadsRequest{StreamId: r.cfg.StreamID})
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range heads.Heads {
		c := r.chain(h.ServiceId)
		if h.Sequence > c.Sequence {
			c.Sequence, c.LastHash = h.Sequence, h.Hash
		}
	}
	r.resumed = true
	return nil
}

func (r *Reporter) chain(serviceID string) *Chain {
	c := r.chains[serviceID]
	if c == nil {
		c = &Chain{ServiceID: serviceID, StreamID: r.cfg.StreamID}
		r.chains[serviceID] = c
	}
	return c
}

// seal seals the batch's events not sealed yet (once: a resent event keeps its hash).
func (r *Reporter) seal(batch []*entry) []*jianguanv1.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	events := make([]*jianguanv1.Event, len(batch))
	for i, e := range batch {
		if !e.sealed {
			r.chain(e.serviceID).Seal(e.ev)
			e.sealed = true
		}
		events[i] = e.ev
	}
	return events
}

// settle answers every item before the first one to send again; returns how many it answered.
func (r *Reporter) settle(batch []*entry, ack *jianguanv1.BatchAck) int {
	results := map[uint32]*jianguanv1.ItemResult{}
	stop := len(batch)
	for _, item := range ack.Results {
		results[item.Index] = item
		retry := item.Status == jianguanv1.ItemStatus_ITEM_STATUS_RATE_LIMITED ||
			item.Status == jianguanv1.ItemStatus_ITEM_STATUS_UNAVAILABLE
		if retry && int(item.Index) < stop {
			stop = int(item.Index)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 0; i < stop; i++ {
		env := batch[i].ev.Envelope
		out := Outcome{
			EventID: env.EventId, ServiceID: env.ServiceId, StreamID: env.StreamId,
			Sequence: env.Sequence, Status: "ACCEPTED",
		}
		if item := results[uint32(i)]; item != nil {
			out.Status, out.FieldPath, out.Reason = statusName(item.Status), item.FieldPath, item.Reason
		} else if uint32(i) >= ack.Received {
			out.Status = "INVALID"
			out.Reason = fmt.Sprintf("not received: the gateway read %d items of the batch", ack.Received)
		}
		if out.OK() {
			r.delivered++
		} else {
			r.rejected++
			r.cfg.Logger.Warn("jianguan: event not accepted", "outcome", out.String())
		}
		r.answer(batch[i], out, nil)
	}
	r.queue = r.queue[stop:]
	r.signal()
	return stop
}

// stop fails every waiting event with the refusal that stopped reporting.
func (r *Reporter) stop(err *StoppedError) {
	r.cfg.Logger.Error("jianguan: reporting stopped", "error", err)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = err
	for _, e := range r.queue {
		r.answer(e, Outcome{}, err)
	}
	r.queue = nil
	r.signal()
}

func (r *Reporter) backoff(attempt int) time.Duration {
	ceiling := r.cfg.BaseDelay << min(attempt-1, 30)
	if ceiling <= 0 || ceiling > r.cfg.MaxDelay {
		ceiling = r.cfg.MaxDelay
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}
