package jianguan

import (
	"github.com/jianguan/jianguan/sdk/go/jianguanv1"
)

// SchemaVersion is the event schema this client writes (Envelope.schema_version).
const SchemaVersion = 1

// Chain seals the events of one (service, stream): sequence numbers from 1 without gaps, each
// linked to the previous event's hash (docs/chain.md). Not safe for concurrent use; a Reporter
// keeps one per service.
type Chain struct {
	ServiceID string
	StreamID  string
	// The head: the last sequence sealed and its hash (0 and empty for a new chain).
	Sequence uint64
	LastHash []byte
}

// Seal fills in the envelope's chain fields, moves the head on, and returns the event. Set
// everything else (its id, time and body) before: the hash covers it.
func (c *Chain) Seal(ev *jianguanv1.Event) *jianguanv1.Event {
	if ev.Envelope == nil {
		ev.Envelope = &jianguanv1.Envelope{}
	}
	env := ev.Envelope
	env.ServiceId = c.ServiceID
	env.StreamId = c.StreamID
	c.Sequence++
	env.Sequence = c.Sequence
	env.PrevHash = c.LastHash
	env.SchemaVersion = SchemaVersion
	c.LastHash = EventHash(ev)
	return ev
}
