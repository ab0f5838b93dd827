package tui

// listNav is the selection and scroll of a list whose items are named by
// consecutive ids [first, end) and may take several lines each: the chat,
// the sent log and the routing matrix. It follows the newest item until
// the selection moves off it.
type listNav struct {
	cursor, top uint64
	follow      bool
}

func newListNav() listNav { return listNav{follow: true} }

func clampID(id, first, end uint64) uint64 {
	switch {
	case end <= first:
		return first
	case id < first:
		return first
	case id >= end:
		return end - 1
	}
	return id
}

// selected is the id under the cursor, and false when the list is empty.
func (l *listNav) selected(first, end uint64) (uint64, bool) {
	if end <= first {
		return 0, false
	}
	if l.follow {
		return end - 1, true
	}
	return clampID(l.cursor, first, end), true
}

// move moves the selection by n items; reaching the newest follows again.
func (l *listNav) move(n int, first, end uint64) {
	cur, ok := l.selected(first, end)
	if !ok {
		return
	}
	i := int64(cur) + int64(n)
	switch {
	case i < int64(first):
		i = int64(first)
	case i >= int64(end):
		i = int64(end) - 1
	}
	l.cursor = uint64(i)
	l.follow = l.cursor == end-1
}

// fix keeps the selected item on screen in rows lines, given each item's
// height, and while following shows as many of the newest as fit.
func (l *listNav) fix(first, end uint64, rows int, height func(id uint64) int) {
	cur, ok := l.selected(first, end)
	if !ok || rows <= 0 {
		l.top, l.cursor = end, end
		return
	}
	l.cursor = cur
	// minTop is the oldest item from which the selection still fits.
	minTop, used := cur, 0
	for id := cur; ; id-- {
		used += max(height(id), 1)
		if used > rows && id != cur {
			break
		}
		minTop = id
		if used >= rows || id == first {
			break
		}
	}
	top := clampID(l.top, first, end)
	if l.follow || top < minTop {
		top = minTop
	}
	if top > cur {
		top = cur
	}
	l.top = top
}

// render draws the list from top in at most rows lines, item by item; the
// last item shown may be cut.
func (l *listNav) render(end uint64, rows int, item func(id uint64) []string) []string {
	var out []string
	for id := l.top; id < end && len(out) < rows; id++ {
		out = append(out, item(id)...)
	}
	if len(out) > rows {
		out = out[:rows]
	}
	return out
}
