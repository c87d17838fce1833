package fleet

import (
	"context"
	"log/slog"
	"time"
)

// CursorSaver keeps a follower's cursor durable without a commit per step:
// while the follower moves it saves at most every interval, once the
// follower caught up (Due), and at Close. A crash repeats at most an
// interval's worth of the follower's work, so what it does must be safe
// to do twice (the publisher's copies carry message ids the stream drops;
// a claim finished again is found gone).
type CursorSaver struct {
	cursor  Cursor
	every   time.Duration
	log     *slog.Logger
	what    string
	at      int64 // where the follower is
	saved   int64 // what the cursor holds
	savedAt time.Time
}

// NewCursorSaver returns a saver of cursor, which starts at at (as loaded).
// what names the cursor in warnings.
func NewCursorSaver(cursor Cursor, at int64, every time.Duration, log *slog.Logger, what string) *CursorSaver {
	return &CursorSaver{cursor: cursor, every: every, log: log, what: what, at: at, saved: at}
}

// Moved records that the follower got to at, and saves if the last save
// is an interval old.
func (s *CursorSaver) Moved(ctx context.Context, at int64) {
	s.at = at
	if time.Since(s.savedAt) >= s.every {
		s.save(ctx)
	}
}

// Due returns a channel that fires when the unsaved position should be
// saved (with Save), nil when there is none, and the function that stops
// its timer.
func (s *CursorSaver) Due() (<-chan time.Time, func()) {
	if s.at <= s.saved {
		return nil, func() {}
	}
	t := time.NewTimer(max(0, s.every-time.Since(s.savedAt)))
	return t.C, func() { t.Stop() }
}

// Save saves the position now.
func (s *CursorSaver) Save(ctx context.Context) { s.save(ctx) }

// Close saves what is unsaved as the follower stops, even with ctx ended;
// the store may refuse once it is closing.
func (s *CursorSaver) Close(ctx context.Context) {
	if s.at > s.saved {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		s.save(ctx)
	}
}

func (s *CursorSaver) save(ctx context.Context) {
	if err := s.cursor.Save(ctx, s.at); err != nil {
		s.log.Warn("fleet: saving the "+s.what+" cursor", "err", err)
		return
	}
	s.saved, s.savedAt = s.at, time.Now()
}
