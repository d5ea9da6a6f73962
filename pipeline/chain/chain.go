// Package chain is an intrusive doubly linked list: elements carry their
// own links, so linking and unlinking allocate nothing. The reduction
// stages keep their open groups and transactions in the order they must
// close (oldest first, least recently active first) with it.
package chain

// Links are an element's place in one List. An element on several lists
// has one Links per list.
type Links[T any] struct{ prev, next *T }

// List is a list of *T whose links are found by the function given to New.
type List[T any] struct {
	head, tail *T
	links      func(*T) *Links[T]
}

// New returns an empty list of elements whose links links returns.
func New[T any](links func(*T) *Links[T]) List[T] { return List[T]{links: links} }

// Front returns the first element, or nil.
func (l *List[T]) Front() *T { return l.head }

// Back returns the last element, or nil.
func (l *List[T]) Back() *T { return l.tail }

// PushBack appends x, which must not be on the list.
func (l *List[T]) PushBack(x *T) {
	lx := l.links(x)
	lx.prev, lx.next = l.tail, nil
	if l.tail != nil {
		l.links(l.tail).next = x
	} else {
		l.head = x
	}
	l.tail = x
}

// Remove takes x, which must be on the list, off it.
func (l *List[T]) Remove(x *T) {
	lx := l.links(x)
	if lx.prev != nil {
		l.links(lx.prev).next = lx.next
	} else {
		l.head = lx.next
	}
	if lx.next != nil {
		l.links(lx.next).prev = lx.prev
	} else {
		l.tail = lx.prev
	}
	lx.prev, lx.next = nil, nil
}

// MoveToBack moves x, which must be on the list, to its end.
func (l *List[T]) MoveToBack(x *T) {
	if l.tail == x {
		return
	}
	l.Remove(x)
	l.PushBack(x)
}
