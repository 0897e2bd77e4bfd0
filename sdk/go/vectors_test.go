package jianguan

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/jianguan/jianguan/sdk/go/jianguanv1"
)

// The shared test vectors (sdk/vectors, made by the reference implementation): this client must
// reproduce every byte and hash of them.

type chainVectors struct {
	Encodings []struct {
		Name         string          `json:"name"`
		Event        json.RawMessage `json:"event"`
		CanonicalHex string          `json:"canonical_hex"`
		HashHex      string          `json:"hash_hex"`
	} `json:"encodings"`
	Chains []struct {
		ServiceID string `json:"service_id"`
		StreamID  string `json:"stream_id"`
		Events    []struct {
			Unsealed    json.RawMessage `json:"unsealed"`
			Sequence    uint64          `json:"sequence"`
			PrevHashHex string          `json:"prev_hash_hex"`
			HashHex     string          `json:"hash_hex"`
		} `json:"events"`
		Head struct {
			Sequence uint64 `json:"sequence"`
			HashHex  string `json:"hash_hex"`
		} `json:"head"`
	} `json:"chains"`
}

func load(t *testing.T, name string, into any) {
	t.Helper()
	data, err := os.ReadFile("../vectors/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatal(err)
	}
}

func parse(t *testing.T, data []byte) *jianguanv1.Event {
	t.Helper()
	ev := &jianguanv1.Event{}
	if err := protojson.Unmarshal(data, ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestEveryEncodingVector(t *testing.T) {
	var v chainVectors
	load(t, "chain-v1.json", &v)
	if len(v.Encodings) < 10 {
		t.Fatalf("only %d encodings", len(v.Encodings))
	}
	for _, c := range v.Encodings {
		ev := parse(t, c.Event)
		got := CanonicalBytes(ev)
		if want, _ := hex.DecodeString(c.CanonicalHex); !bytes.Equal(got, want) {
			t.Errorf("%s: canonical bytes\n got %x\nwant %x", c.Name, got, want)
		}
		if got := hex.EncodeToString(EventHash(ev)); got != c.HashHex {
			t.Errorf("%s: hash %s, want %s", c.Name, got, c.HashHex)
		}
		// the canonical bytes are the event, less the provider id
		back := &jianguanv1.Event{}
		if err := proto.Unmarshal(got, back); err != nil {
			t.Fatal(err)
		}
		ev.Envelope.ProviderId = ""
		if !proto.Equal(back, ev) {
			t.Errorf("%s: the canonical bytes read back as another event", c.Name)
		}
	}
}

func TestEveryChainVector(t *testing.T) {
	var v chainVectors
	load(t, "chain-v1.json", &v)
	if len(v.Chains) != 2 {
		t.Fatalf("%d chains", len(v.Chains))
	}
	for _, c := range v.Chains {
		chain := &Chain{ServiceID: c.ServiceID, StreamID: c.StreamID}
		for _, want := range c.Events {
			ev := chain.Seal(parse(t, want.Unsealed))
			if ev.Envelope.Sequence != want.Sequence {
				t.Errorf("sequence %d, want %d", ev.Envelope.Sequence, want.Sequence)
			}
			if got := hex.EncodeToString(ev.Envelope.PrevHash); got != want.PrevHashHex {
				t.Errorf("#%d prev_hash %s, want %s", want.Sequence, got, want.PrevHashHex)
			}
			if got := hex.EncodeToString(EventHash(ev)); got != want.HashHex {
				t.Errorf("#%d hash %s, want %s", want.Sequence, got, want.HashHex)
			}
			if ev.Envelope.StreamId != c.StreamID || ev.Envelope.SchemaVersion != SchemaVersion {
				t.Errorf("#%d: stream %q, schema %d", want.Sequence, ev.Envelope.StreamId, ev.Envelope.SchemaVersion)
			}
		}
		if chain.Sequence != c.Head.Sequence || hex.EncodeToString(chain.LastHash) != c.Head.HashHex {
			t.Errorf("head %d %x, want %d %s", chain.Sequence, chain.LastHash, c.Head.Sequence, c.Head.HashHex)
		}
	}
}

func TestEveryPseudonymVector(t *testing.T) {
	var v struct {
		Cases []struct {
			KeyHex string `json:"key_hex"`
			Prefix string `json:"prefix"`
			UserID string `json:"user_id"`
			Ref    string `json:"ref"`
		} `json:"cases"`
	}
	load(t, "pseudonym-v1.json", &v)
	if len(v.Cases) < 5 {
		t.Fatalf("only %d cases", len(v.Cases))
	}
	for _, c := range v.Cases {
		key, _ := hex.DecodeString(c.KeyHex)
		p, err := NewPseudonymizer(key, c.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Ref(c.UserID); got != c.Ref {
			t.Errorf("%q: %s, want %s", c.UserID, got, c.Ref)
		}
	}
	if _, err := NewPseudonymizer(make([]byte, 31), ""); err == nil {
		t.Error("a 31-byte key was taken")
	}
}

func TestNewEventIDIsARandomUUID(t *testing.T) {
	a, b := NewEventID(), NewEventID()
	if a == b || len(a) != 36 || a[14] != '4' {
		t.Errorf("%s %s", a, b)
	}
}
