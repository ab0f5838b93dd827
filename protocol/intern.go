package protocol

import "sync/atomic"

// Targets repeat: a chat app sends thousands of `newMessage` invocations
// and a handful of other names. Interning them saves an allocation per
// message on the receive path and keeps one copy of each name in a monitor's
// history. The table is small, fixed and lock-free, so it is safe for
// concurrent decoders and bounded whatever names a peer sends; a name that
// loses its slot is simply allocated again.

const (
	internSlots  = 256
	internMaxLen = 64
)

var internTable [internSlots]atomic.Pointer[string]

// internString returns b as a string, shared with earlier calls for the
// same bytes when the table still holds them.
func internString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > internMaxLen {
		return string(b)
	}
	// A cheap hash of the length and three bytes: a collision only costs
	// an allocation, never a wrong answer, as the slot is compared whole.
	h := uint32(len(b))*0x9E3779B1 ^ uint32(b[0])<<16 ^ uint32(b[len(b)/2])<<8 ^ uint32(b[len(b)-1])
	h ^= h >> 15
	h *= 0x2C1B3C6D
	h ^= h >> 12
	slot := &internTable[h%internSlots]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}
