package broadcast

// fifo is a queue in arrival order, for the expiry of a node's tasks and
// groups: entries are pushed at the back and popped from the front; the
// spent front is dropped once it is most of the backing array.
type fifo[T any] struct {
	entries []T
	head    int
}

// push appends v at the back.
func (q *fifo[T]) push(v T) { q.entries = append(q.entries, v) }

// front returns the oldest entry; ok is false when q is empty.
func (q *fifo[T]) front() (v T, ok bool) {
	if q.head == len(q.entries) {
		return v, false
	}
	return q.entries[q.head], true
}

// pop drops the oldest entry, clearing its slot so that it is not kept
// alive; q must not be empty.
func (q *fifo[T]) pop() {
	var zero T
	q.entries[q.head] = zero
	q.head++
}

// compact drops the spent front once it is more than 1024 entries and
// more than half of the backing array.
func (q *fifo[T]) compact() {
	if q.head > 1024 && q.head > len(q.entries)/2 {
		q.entries = append([]T(nil), q.entries[q.head:]...)
		q.head = 0
	}
}
