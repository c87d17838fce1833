package fleet

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

type savedCursor struct{ saves []int64 }

func (c *savedCursor) Load(context.Context) (int64, error) { return 0, nil }
func (c *savedCursor) Save(_ context.Context, id int64) error {
	c.saves = append(c.saves, id)
	return nil
}

// A cursor is saved on the first step, not again within the interval,
// when due once the follower caught up, and at Close only if it moved.
func TestCursorSaverSavesAtMostEveryIntervalAndAtClose(t *testing.T) {
	ctx := context.Background()
	c := &savedCursor{}
	s := NewCursorSaver(c, 5, time.Hour, slog.New(slog.DiscardHandler), "test")
	if due, stop := s.Due(); due != nil {
		stop()
		t.Fatal("due with nothing unsaved")
	}
	s.Moved(ctx, 7)
	s.Moved(ctx, 9)
	s.Moved(ctx, 12)
	if len(c.saves) != 1 || c.saves[0] != 7 {
		t.Fatalf("saves %v, want [7]: the first step, then none within the hour", c.saves)
	}
	due, stop := s.Due()
	if due == nil {
		t.Fatal("not due with 12 unsaved")
	}
	stop()
	s.Save(ctx)
	s.Close(ctx)
	if want := []int64{7, 12}; len(c.saves) != 2 || c.saves[1] != 12 {
		t.Fatalf("saves %v, want %v: Close saves nothing already saved", c.saves, want)
	}
	s.Moved(ctx, 15)
	s.Close(ctx)
	if c.saves[len(c.saves)-1] != 15 {
		t.Fatalf("saves %v: Close left 15 unsaved", c.saves)
	}
}
