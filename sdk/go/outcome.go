package jianguan

import (
	"fmt"
	"strings"

	"github.com/jianguan/jianguan/sdk/go/jianguanv1"
)

// Outcome is the gateway's answer for one event.
type Outcome struct {
	EventID   string
	ServiceID string
	StreamID  string
	Sequence  uint64
	// ACCEPTED, DUPLICATE, INVALID, PERSONAL_INFORMATION, FORBIDDEN, CHAIN_GAP, CHAIN_FORK.
	Status    string
	FieldPath string
	Reason    string
}

// OK means stored exactly once (now, or before: DUPLICATE).
func (o Outcome) OK() bool { return o.Status == "ACCEPTED" || o.Status == "DUPLICATE" }

func (o Outcome) String() string {
	chain := o.ServiceID
	if o.StreamID != "" {
		chain += "@" + o.StreamID
	}
	why := ""
	if o.FieldPath != "" {
		why = " at " + o.FieldPath
	}
	if o.Reason != "" {
		why += ": " + o.Reason
	}
	return fmt.Sprintf("%s #%d (%s): %s%s", chain, o.Sequence, o.EventID, o.Status, why)
}

func statusName(s jianguanv1.ItemStatus) string {
	return strings.TrimPrefix(s.String(), "ITEM_STATUS_")
}
