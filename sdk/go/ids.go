package jianguan

import (
	"crypto/rand"
	"fmt"
)

// NewEventID is a random UUID (version 4), the default event id. Give an event your own stable
// id instead (your database key) when the same fact may be reported twice, so that the platform
// stores it once.
func NewEventID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("jianguan: no randomness: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
