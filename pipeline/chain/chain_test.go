package chain

import (
	"slices"
	"testing"
)

type item struct {
	n    int
	a, b Links[item]
}

func order(l *List[item], next func(*item) *item) []int {
	var out []int
	for x := l.Front(); x != nil; x = next(x) {
		out = append(out, x.n)
	}
	return out
}

func TestTwoListsThroughOneElement(t *testing.T) {
	byA := New(func(x *item) *Links[item] { return &x.a })
	byB := New(func(x *item) *Links[item] { return &x.b })
	items := make([]*item, 4)
	for i := range items {
		items[i] = &item{n: i}
		byA.PushBack(items[i])
		byB.PushBack(items[i])
	}
	byA.MoveToBack(items[1])
	byA.Remove(items[2])
	byB.Remove(items[0])
	byB.MoveToBack(items[3]) // already last
	nextA := func(x *item) *item { return x.a.next }
	nextB := func(x *item) *item { return x.b.next }
	if got := order(&byA, nextA); !slices.Equal(got, []int{0, 3, 1}) {
		t.Errorf("list a: %v", got)
	}
	if got := order(&byB, nextB); !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("list b: %v", got)
	}
	byA.Remove(items[0])
	byA.Remove(items[1])
	byA.Remove(items[3])
	if byA.Front() != nil || byA.Back() != nil {
		t.Error("emptied list not empty")
	}
}
