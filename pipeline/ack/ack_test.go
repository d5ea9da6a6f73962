package ack

import "testing"

func TestTicketAcknowledgesOnLastRelease(t *testing.T) {
	acked := 0
	tk := New(func() { acked++ })
	var a, b Set
	a.Add(tk)
	a.Add(tk) // consecutive adds hold once
	b.Add(tk)
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("sets hold %d and %d tickets, want 1 each", len(a), len(b))
	}
	tk.Release() // the creator's hold
	ReleaseAll(a)
	if acked != 0 {
		t.Fatal("acknowledged while a set still holds the ticket")
	}
	ReleaseAll(b)
	if acked != 1 {
		t.Fatalf("acknowledged %d times, want 1", acked)
	}
}

func TestTicketReleasedTooOftenPanics(t *testing.T) {
	tk := New(nil)
	tk.Release()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic on an extra release")
		}
	}()
	tk.Release()
}
