package jianguan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/jianguan/jianguan/sdk/go/jianguanv1"
)

func open(t *testing.T, g *fakeGateway, token string, tweak func(*Config)) (*Reporter, error) {
	t.Helper()
	cfg := Config{
		Target: "passthrough:///fake", Token: token, DialOptions: g.serve(t),
		BatchSize: 10, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	return Open(context.Background(), cfg)
}

func moderation(id string) *jianguanv1.Event {
	return &jianguanv1.Event{
		Envelope: &jianguanv1.Envelope{EventId: id},
		Body: &jianguanv1.Event_Moderation{Moderation: &jianguanv1.Moderation{
			Stage:  jianguanv1.ModerationStage_MODERATION_STAGE_OUTPUT,
			Action: jianguanv1.ModerationAction_MODERATION_ACTION_BLOCKED,
		}},
	}
}

// report sends n events and returns their outcomes, failing the test on any error.
func report(t *testing.T, r *Reporter, prefix string, n int) []Outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pending := make([]*Pending, n)
	for i := range pending {
		p, err := r.Report(ctx, "svc", moderation(fmt.Sprintf("%s%03d", prefix, i)))
		if err != nil {
			t.Fatal(err)
		}
		pending[i] = p
	}
	outs := make([]Outcome, n)
	for i, p := range pending {
		out, err := p.Wait(ctx)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		outs[i] = out
	}
	return outs
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

func TestDeliversInOrderAndContinuesThePlatformsChain(t *testing.T) {
	g := newFakeGateway("t")
	// the platform already holds 5 events of this chain: a reporter without state continues it
	first, _ := open(t, g, "t", nil)
	report(t, first, "old", 5)
	first.Close(context.Background())

	r, err := open(t, g, "t", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Session().GetProviderId() != "acme" {
		t.Errorf("session %v", r.Session())
	}
	outs := report(t, r, "e", 100)
	for i, out := range outs {
		if out.Status != "ACCEPTED" || out.Sequence != uint64(6+i) || !out.OK() {
			t.Fatalf("event %d: %v", i, out)
		}
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := g.storedIDs(), append(ids("old", 5), ids("e", 100)...); !slices.Equal(got, want) {
		t.Errorf("stored %v", got)
	}
	if seq, hash := r.ChainHead("svc"); seq != 105 || len(hash) != 32 {
		t.Errorf("head %d %x", seq, hash)
	}
	if r.Delivered() != 100 || r.Rejected() != 0 {
		t.Errorf("delivered %d rejected %d", r.Delivered(), r.Rejected())
	}
}

func TestEveryTransportFaultIsRetriedAndEachEventStoredOnce(t *testing.T) {
	transport := []codes.Code{
		codes.Unavailable, codes.Internal, codes.Unknown, codes.Canceled, codes.DeadlineExceeded,
		codes.ResourceExhausted, codes.Aborted, codes.DataLoss, codes.FailedPrecondition,
		codes.OutOfRange, codes.AlreadyExists, codes.NotFound,
	}
	for _, code := range transport {
		for _, afterStore := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/afterStore=%v", code, afterStore), func(t *testing.T) {
				g := newFakeGateway("t")
				g.faults = []fault{{}, {code: code, afterStore: afterStore}, {code: code}}
				r, err := open(t, g, "t", nil)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close(context.Background())
				outs := report(t, r, "e", 40)
				duplicates := 0
				for i, out := range outs {
					if !out.OK() || out.Sequence != uint64(i+1) {
						t.Fatalf("event %d: %v", i, out)
					}
					if out.Status == "DUPLICATE" {
						duplicates++
					}
				}
				if afterStore != (duplicates > 0) {
					t.Errorf("%d duplicates", duplicates)
				}
				if got := g.storedIDs(); !slices.Equal(got, ids("e", 40)) {
					t.Errorf("stored %v", got)
				}
			})
		}
	}
}

func TestItemsTheGatewayAsksForAgainAreSentAgainInOrder(t *testing.T) {
	g := newFakeGateway("t")
	g.faults = []fault{{unavailable: 4}, {unavailable: 1}}
	r, _ := open(t, g, "t", nil)
	defer r.Close(context.Background())
	outs := report(t, r, "e", 25)
	for i, out := range outs {
		if !out.OK() || out.Sequence != uint64(i+1) {
			t.Fatalf("event %d: %v", i, out)
		}
	}
	if got := g.storedIDs(); !slices.Equal(got, ids("e", 25)) {
		t.Errorf("stored %v", got)
	}
}

func TestAnEventRefusedForItsContentIsAnsweredAndTheChainGoesOn(t *testing.T) {
	g := newFakeGateway("t")
	r, _ := open(t, g, "t", nil)
	defer r.Close(context.Background())
	ctx := context.Background()
	bad, _ := r.Report(ctx, "svc", moderation("bad-1"))
	outs := report(t, r, "e", 3)
	out, err := bad.Wait(ctx)
	if err != nil || out.Status != "INVALID" || out.FieldPath == "" || out.OK() {
		t.Errorf("%v %v", out, err)
	}
	if outs[2].Sequence != 4 || !outs[2].OK() {
		t.Errorf("%v", outs[2])
	}
	if r.Rejected() != 1 || r.Delivered() != 3 {
		t.Errorf("delivered %d rejected %d", r.Delivered(), r.Rejected())
	}
}

func TestAWrongTokenFailsOpenAtOnce(t *testing.T) {
	g := newFakeGateway("right")
	_, err := open(t, g, "wrong", nil)
	var stop *StoppedError
	if !errors.As(err, &stop) || !stop.IsAuthentication() || stop.Code != codes.Unauthenticated {
		t.Fatalf("%v", err)
	}
}

func TestATokenRevokedWhileReportingFailsEveryWaitingEvent(t *testing.T) {
	g := newFakeGateway("t")
	g.onBatch = func(calls int) {
		if calls == 3 {
			g.token = "revoked" // called with g.mu held
		}
	}
	r, _ := open(t, g, "t", nil)
	ctx := context.Background()
	var pending []*Pending
	for i := 0; i < 100; i++ {
		p, err := r.Report(ctx, "svc", moderation(fmt.Sprintf("e%03d", i)))
		if err != nil {
			break
		}
		pending = append(pending, p)
	}
	var stop *StoppedError
	delivered, refused := 0, 0
	for _, p := range pending {
		out, err := p.Wait(ctx)
		switch {
		case err == nil && out.OK():
			delivered++
		case errors.As(err, &stop) && stop.IsAuthentication():
			refused++
		default:
			t.Fatalf("%v %v", out, err)
		}
	}
	// the first three calls were answered: what they carried is delivered, in order, and every
	// event after them is refused with the credential
	if !slices.Equal(g.storedIDs(), ids("e", delivered)) || delivered == 0 || refused == 0 ||
		delivered+refused != len(pending) {
		t.Errorf("delivered %d, refused %d of %d", delivered, refused, len(pending))
	}
	if _, err := r.Report(ctx, "svc", moderation("late")); !errors.As(err, &stop) {
		t.Errorf("report after the stop: %v", err)
	}
	if err := r.Flush(ctx); !errors.As(err, &stop) {
		t.Errorf("flush after the stop: %v", err)
	}
	r.Close(ctx)
}

func TestCloseSaysWhatWasNotDelivered(t *testing.T) {
	g := newFakeGateway("t")
	faults := make([]fault, 1000)
	for i := range faults {
		faults[i] = fault{code: codes.Unavailable}
	}
	g.faults = faults
	r, _ := open(t, g, "t", nil)
	p, _ := r.Report(context.Background(), "svc", moderation("e1"))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := r.Close(ctx); err == nil {
		t.Fatal("closed without delivering, and said nothing")
	}
	if _, err := p.Wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("%v", err)
	}
}

func TestReportRefusesABadServiceOrStream(t *testing.T) {
	g := newFakeGateway("t")
	if _, err := open(t, g, "t", func(c *Config) { c.StreamID = "pod 7" }); err == nil {
		t.Error("a stream id with a space was taken")
	}
	r, _ := open(t, g, "t", nil)
	defer r.Close(context.Background())
	if _, err := r.Report(context.Background(), "", moderation("e")); err == nil {
		t.Error("an empty service id was taken")
	}
}
