package client

import (
	"bytes"
	"sync/atomic"
	"time"
)

// ringReader is a transport that can read a payload into memory the
// reader provides (the WebSocket transport). readInto puts the next
// payload in the free capacity of dst and reports true, or returns one
// that did not fit in memory of its own, which nothing writes again, and
// false. received returns when the payload it returned last arrived, as
// time since epoch on the Conn's clock.
type ringReader interface {
	readInto(dst []byte) (p []byte, inDst bool, err error)
	received(epoch time.Time) time.Duration
}

// Sizes of the reader's blocks. The first is as small as the read buffer
// it replaces, so that a quiet connection holds little; each new one is
// twice the last up to ringMaxBlock, so that a busy one soon reads a
// hundred messages or more into each. A payload that finds less than
// ringMinFree left in the block in use starts the next; one that does not
// fit what is left is read apart (see ringReader).
const (
	ringFirstBlock = 4 << 10
	ringMaxBlock   = 32 << 10
	ringMinFree    = 1 << 10
	// ringKeep bounds the filled blocks kept for reuse.
	ringKeep = 4
)

// readRing is where the reader puts payloads until the dispatcher has
// copied their records out. The copy that lets an Event keep its record
// (ownCopy) then happens on the dispatcher, and so does the allocation
// behind it, with the garbage-collection work it brings; the reader, the
// path every byte takes, reads into blocks it reuses.
//
// Blocks are numbered in the order the reader fills them. A filled block
// is retired; the reader reuses the oldest retired block once the
// dispatcher has handled a record of a later one (done), and allocates a
// new one otherwise, so it never waits. A quiet connection cycles through
// two or three small blocks.
type readRing struct {
	cur     []byte
	seq     uint64         // the number of cur; 0 before the first block
	next    int            // the size of the next block allocated
	retired []retiredBlock // oldest first
	// done is the number of the block of the last record the dispatcher
	// handled: every earlier block is free. The dispatcher writes it once
	// per batch; it lives among the dispatcher's fields (session), away
	// from those the reader writes for every message.
	done *atomic.Uint64
}

type retiredBlock struct {
	seq uint64
	b   []byte
}

// dst returns the block to read the next payload into: the one in use,
// or the next when it has less than ringMinFree left.
func (r *readRing) dst() []byte {
	if r.seq > 0 {
		if cap(r.cur)-len(r.cur) >= ringMinFree {
			return r.cur
		}
		r.retired = append(r.retired, retiredBlock{r.seq, r.cur})
	}
	r.seq++
	if len(r.retired) > 0 && r.retired[0].seq < r.done.Load() {
		r.cur = r.retired[0].b[:0]
		r.dropOldest()
		return r.cur
	}
	if len(r.retired) > ringKeep {
		r.dropOldest() // the dispatcher is far behind: the collector takes it
	}
	r.next = min(max(2*r.next, ringFirstBlock), ringMaxBlock)
	r.cur = make([]byte, 0, r.next)
	return r.cur
}

func (r *readRing) dropOldest() {
	n := copy(r.retired, r.retired[1:])
	r.retired[n] = retiredBlock{}
	r.retired = r.retired[:n]
}

// commit records that n bytes were read into the block in use and
// returns its number.
func (r *readRing) commit(n int) uint64 {
	r.cur = r.cur[:len(r.cur)+n]
	return r.seq
}

// slabSize is the chunk records are copied into. One allocation serves
// dozens of typical records; a consumer that keeps one event keeps at
// most this much alive.
const slabSize = 8 << 10

// ownCopy copies rec into memory that nothing will write again, taken
// from *slab, so an Event can carry it without the consumer copying.
// Small records share a slab; each copy is capped so that appending to it
// cannot touch a neighbour.
func ownCopy(slab *[]byte, rec []byte) []byte {
	n := len(rec)
	if n > slabSize/4 {
		return bytes.Clone(rec)
	}
	if cap(*slab)-len(*slab) < n {
		*slab = make([]byte, 0, slabSize)
	}
	start := len(*slab)
	*slab = append(*slab, rec...)
	return (*slab)[start : start+n : start+n]
}
