package jianguan

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/jianguan/jianguan/sdk/go/jianguanv1"
)

// fakeGateway is a scripted in-process gateway for the reporter's tests: it checks the bearer
// token, keeps each chain's head and each event id once, and answers as the real one does
// (DUPLICATE for a resend, CHAIN_GAP, CHAIN_FORK); faults make it fail calls on purpose.
type fakeGateway struct {
	jianguanv1.UnimplementedIngestServiceServer
	mu      sync.Mutex
	token   string
	stored  []*jianguanv1.Event
	ids     map[string]bool
	heads   map[[2]string]*jianguanv1.ChainHead
	calls   int
	faults  []fault // one per PublishBatch call, in order; then none
	onBatch func(n int)
}

type fault struct {
	code        codes.Code // the call fails with it
	afterStore  bool       // ... after storing the batch (the answer is lost)
	unavailable int        // or: the item at this index (1-based) and later are UNAVAILABLE
}

func newFakeGateway(token string) *fakeGateway {
	return &fakeGateway{token: token, ids: map[string]bool{}, heads: map[[2]string]*jianguanv1.ChainHead{}}
}

func (g *fakeGateway) authorize(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	g.mu.Lock()
	defer g.mu.Unlock()
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer "+g.token {
		return status.Error(codes.Unauthenticated, "unknown token")
	}
	return nil
}

func (g *fakeGateway) GetSession(ctx context.Context, _ *jianguanv1.GetSessionRequest) (*jianguanv1.GetSessionResponse, error) {
	if err := g.authorize(ctx); err != nil {
		return nil, err
	}
	return &jianguanv1.GetSessionResponse{ProviderId: "acme", SchemaVersions: []uint32{1}}, nil
}

func (g *fakeGateway) GetChainHeads(ctx context.Context, req *jianguanv1.GetChainHeadsRequest) (*jianguanv1.GetChainHeadsResponse, error) {
	if err := g.authorize(ctx); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	out := &jianguanv1.GetChainHeadsResponse{}
	for key, h := range g.heads {
		if key[1] == req.StreamId {
			out.Heads = append(out.Heads, h)
		}
	}
	return out, nil
}

func (g *fakeGateway) PublishBatch(ctx context.Context, batch *jianguanv1.EventBatch) (*jianguanv1.BatchAck, error) {
	if err := g.authorize(ctx); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var f fault
	if g.calls < len(g.faults) {
		f = g.faults[g.calls]
	}
	g.calls++
	if f.code != codes.OK && !f.afterStore {
		return nil, status.Error(f.code, "scripted fault")
	}
	ack := &jianguanv1.BatchAck{BatchId: batch.BatchId, Received: uint32(len(batch.Events))}
	for i, ev := range batch.Events {
		env := ev.Envelope
		key := [2]string{env.ServiceId, env.StreamId}
		head := g.heads[key]
		if head == nil {
			head = &jianguanv1.ChainHead{ServiceId: env.ServiceId, StreamId: env.StreamId}
		}
		item := &jianguanv1.ItemResult{Index: uint32(i), EventId: env.EventId}
		switch {
		case f.unavailable > 0 && i+1 >= f.unavailable:
			item.Status = jianguanv1.ItemStatus_ITEM_STATUS_UNAVAILABLE
		case env.Sequence <= head.Sequence && g.ids[env.EventId]:
			item.Status = jianguanv1.ItemStatus_ITEM_STATUS_DUPLICATE
		case env.Sequence > head.Sequence+1:
			item.Status = jianguanv1.ItemStatus_ITEM_STATUS_CHAIN_GAP
		case env.Sequence <= head.Sequence || !bytes.Equal(env.PrevHash, head.Hash):
			item.Status = jianguanv1.ItemStatus_ITEM_STATUS_CHAIN_FORK
		case strings.HasPrefix(env.EventId, "bad-"):
			item.Status, item.FieldPath = jianguanv1.ItemStatus_ITEM_STATUS_INVALID, "events[0].envelope.event_id"
			head.Sequence, head.Hash = env.Sequence, EventHash(ev) // sealed all the same
			g.heads[key] = head
		default:
			g.stored = append(g.stored, ev)
			g.ids[env.EventId] = true
			head.Sequence, head.Hash, head.EventId = env.Sequence, EventHash(ev), env.EventId
			g.heads[key] = head
			ack.Accepted++
			continue
		}
		ack.Results = append(ack.Results, item)
	}
	if g.onBatch != nil {
		g.onBatch(g.calls)
	}
	if f.afterStore {
		return nil, status.Error(f.code, "scripted fault after storing")
	}
	return ack, nil
}

// serve starts g on an in-memory listener; the returned options make a Reporter dial it.
func (g *fakeGateway) serve(t *testing.T) []grpc.DialOption {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	jianguanv1.RegisterIngestServiceServer(srv, g)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	dial := func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }
	return []grpc.DialOption{grpc.WithContextDialer(dial)}
}

func (g *fakeGateway) storedIDs() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	ids := make([]string, len(g.stored))
	for i, ev := range g.stored {
		ids[i] = ev.Envelope.EventId
	}
	return ids
}
