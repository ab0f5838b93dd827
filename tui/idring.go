package tui

// idRing is a bounded list that names each item by an id, counted from 0
// in the order pushed and never reused: the deliveries of the routing
// matrix, the chat's messages and the sent log. Once full it overwrites
// the oldest item, so an id stays valid until its item is evicted and
// byID then says so.
type idRing[T any] struct {
	buf   []T
	start int    // index in buf of the oldest item
	next  uint64 // id of the next item pushed
	cap   int
}

func newIDRing[T any](capacity int) idRing[T] { return idRing[T]{cap: capacity} }

// push adds v and returns its id.
func (r *idRing[T]) push(v T) uint64 {
	id := r.next
	r.next++
	if len(r.buf) < r.cap {
		r.buf = append(r.buf, v)
		return id
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % r.cap
	return id
}

// len is the number of items held.
func (r *idRing[T]) len() int { return len(r.buf) }

// first is the id of the oldest item held; end is one past the newest.
func (r *idRing[T]) first() uint64 { return r.next - uint64(len(r.buf)) }
func (r *idRing[T]) end() uint64   { return r.next }

// byID returns the item with id, or nil once it has been evicted or
// before it is pushed.
func (r *idRing[T]) byID(id uint64) *T {
	if id < r.first() || id >= r.next {
		return nil
	}
	return &r.buf[(r.start+int(id-r.first()))%len(r.buf)]
}

// newest returns the k-th newest item (0 is the newest), or nil.
func (r *idRing[T]) newest(k int) *T {
	if k < 0 || k >= len(r.buf) {
		return nil
	}
	return r.byID(r.next - 1 - uint64(k))
}

// clear drops every item but keeps counting ids, so an id never names two
// items.
func (r *idRing[T]) clear() {
	r.buf = r.buf[:0]
	r.start = 0
}
