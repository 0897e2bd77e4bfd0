package jianguan

import (
	"crypto/sha256"
	"math"
	"sort"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/jianguan/jianguan/sdk/go/jianguanv1"
)

// CanonicalBytes is the event's canonical encoding (docs/chain.md): the protobuf binary
// encoding with every message's fields in field-number order, default values left out, repeated
// numbers packed, and envelope.provider_id empty (the provider cannot know how the platform fills
// it in). Written here field by field, because protobuf defines no canonical encoding: what
// proto.Marshal writes may change between versions (and its legacy order puts a oneof's fields
// after the others).
func CanonicalBytes(ev *jianguanv1.Event) []byte {
	if ev.GetEnvelope().GetProviderId() != "" {
		ev = proto.Clone(ev).(*jianguanv1.Event)
		ev.Envelope.ProviderId = ""
	}
	return appendMessage(nil, ev.ProtoReflect())
}

// EventHash is SHA-256 of the event's canonical encoding: the next event's prev_hash.
func EventHash(ev *jianguanv1.Event) []byte {
	sum := sha256.Sum256(CanonicalBytes(ev))
	return sum[:]
}

func appendMessage(b []byte, m protoreflect.Message) []byte {
	fields := m.Descriptor().Fields()
	ordered := make([]protoreflect.FieldDescriptor, fields.Len())
	for i := range ordered {
		ordered[i] = fields.Get(i)
	}
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].Number() < ordered[j].Number() })
	for _, fd := range ordered {
		if !m.Has(fd) { // proto3: a default scalar or an empty list is not set; a set message is
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsMap():
			panic("jianguan: the contract has no map fields")
		case fd.IsList() && isPackable(fd):
			list := v.List()
			var packed []byte
			for i := 0; i < list.Len(); i++ {
				packed = appendScalar(packed, fd, list.Get(i))
			}
			b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
			b = protowire.AppendBytes(b, packed)
		case fd.IsList():
			list := v.List()
			for i := 0; i < list.Len(); i++ {
				b = appendField(b, fd, list.Get(i))
			}
		default:
			b = appendField(b, fd, v)
		}
	}
	// Fields this client does not know (docs/chain.md: keep a client at the platform's schema).
	return append(b, m.GetUnknown()...)
}

func isPackable(fd protoreflect.FieldDescriptor) bool {
	switch fd.Kind() {
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind, protoreflect.GroupKind:
		return false
	}
	return true
}

func appendField(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch fd.Kind() {
	case protoreflect.MessageKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
		return protowire.AppendBytes(b, appendMessage(nil, v.Message()))
	case protoreflect.StringKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
		return protowire.AppendString(b, v.String())
	case protoreflect.BytesKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
		return protowire.AppendBytes(b, v.Bytes())
	}
	b = protowire.AppendTag(b, fd.Number(), wireType(fd.Kind()))
	return appendScalar(b, fd, v)
}

func wireType(k protoreflect.Kind) protowire.Type {
	switch k {
	case protoreflect.FloatKind, protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		return protowire.Fixed32Type
	case protoreflect.DoubleKind, protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return protowire.Fixed64Type
	}
	return protowire.VarintType
}

func appendScalar(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protowire.AppendVarint(b, protowire.EncodeBool(v.Bool()))
	case protoreflect.EnumKind:
		return protowire.AppendVarint(b, uint64(v.Enum())) // negative as ten bytes
	case protoreflect.Int32Kind, protoreflect.Int64Kind:
		return protowire.AppendVarint(b, uint64(v.Int()))
	case protoreflect.Sint32Kind:
		return protowire.AppendVarint(b, protowire.EncodeZigZag(v.Int()))
	case protoreflect.Sint64Kind:
		return protowire.AppendVarint(b, protowire.EncodeZigZag(v.Int()))
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind:
		return protowire.AppendVarint(b, v.Uint())
	case protoreflect.FloatKind:
		return protowire.AppendFixed32(b, math.Float32bits(float32(v.Float())))
	case protoreflect.DoubleKind:
		return protowire.AppendFixed64(b, math.Float64bits(v.Float()))
	case protoreflect.Fixed32Kind:
		return protowire.AppendFixed32(b, uint32(v.Uint()))
	case protoreflect.Sfixed32Kind:
		return protowire.AppendFixed32(b, uint32(v.Int()))
	case protoreflect.Fixed64Kind:
		return protowire.AppendFixed64(b, v.Uint())
	case protoreflect.Sfixed64Kind:
		return protowire.AppendFixed64(b, uint64(v.Int()))
	}
	panic("jianguan: no scalar encoding for " + fd.Kind().String())
}
