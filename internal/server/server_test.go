package server

import "testing"

func TestFlowWindow(t *testing.T) {
	for _, c := range []struct {
		maxBody int64
		want    int32
	}{
		{0, 64 << 10}, {1 << 10, 64 << 10}, {4 << 20, 4 << 20}, {1 << 40, 1 << 30},
	} {
		if got := flowWindow(c.maxBody); got != c.want {
			t.Errorf("flowWindow(%d) = %d, want %d", c.maxBody, got, c.want)
		}
	}
}
