package bot

import (
	"strconv"
	"testing"
)

// Number buttons are laid out in rows of at most six, about equally long,
// each row and the list of them made at its size: they wait in the outbox
// with the message (five numbers took five allocations and room for eight).
func TestNumberRows(t *testing.T) {
	for n, want := range map[int][]int{1: {1}, 5: {5}, 6: {6}, 7: {4, 3}, 10: {5, 5}, 13: {5, 5, 3}} {
		rows := NumberRows(n, func(i int) string { return "a" })
		var got []int
		k := 0
		for _, r := range rows {
			got = append(got, len(r))
			if cap(r) != len(r) {
				t.Errorf("n=%d: a row of %d buttons has room for %d", n, len(r), cap(r))
			}
			for _, b := range r {
				k++
				if b.Label != strconv.Itoa(k) {
					t.Errorf("n=%d: button %d labelled %q", n, k, b.Label)
				}
			}
		}
		if len(got) != len(want) || cap(rows) != len(rows) {
			t.Errorf("n=%d: rows %v (room for %d), want %v", n, got, cap(rows), want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("n=%d: rows %v, want %v", n, got, want)
			}
		}
	}
	if a := testing.AllocsPerRun(100, func() { NumberRows(5, func(int) string { return "a" }) }); a > 2 {
		t.Errorf("five number buttons take %.0f allocations, want 2", a)
	}
}
