package fleet

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// LoggedEvent is one row of this host's event log.
type LoggedEvent struct {
	ID   int64
	Type string // "message.sent"; its dots become subject tokens
	Body []byte // the event as the API and webhooks show it
}

// EventLog is this host's event log as the publisher reads it.
type EventLog interface {
	EventsAfter(ctx context.Context, after int64, limit int) ([]LoggedEvent, error)
	// Changed returns the committed end and a channel closed when it grows;
	// take it before reading, so no growth is missed.
	Changed() (last int64, grew <-chan struct{})
}

// Cursor keeps, durably, the last event the cluster stored.
type Cursor interface {
	Load(ctx context.Context) (int64, error)
	Save(ctx context.Context, id int64) error
}

// eventIDHeader carries the host's event id, so that a consumer can tell
// events apart without parsing them.
const eventIDHeader = "Gsmbridge-Event-Id"

const eventBatch = 256

// saveEvery is how often the publisher saves its cursor while events
// flow: a save is a commit of its own on the host's SQLite file, and under
// load one per batch was most of the host's commits.
const saveEvery = time.Second

// Publisher copies this host's event log into the fleet's event stream,
// each event once: its message id is host and event id, and the cursor
// moves only past events the stream acknowledged, at most every saveEvery
// and once the publisher caught up or stops. A crash publishes the events
// acknowledged since the last save again at the next start (at most
// saveEvery's worth), and the stream drops the copies if that start comes
// within its duplicate window (EventDuplicates). Starting from the
// stream's last event instead would be exact after a crash, but would skip
// an event whose publish failed while later ones in its batch landed.
type Publisher struct {
	c      *Conn
	events EventLog
	cursor Cursor
	// retry is the wait after a failure; the events wait in SQLite.
	retry     time.Duration
	saveEvery time.Duration
	lag       atomic.Int64
	done      atomic.Int64
}

// EventPublisher returns the publisher of this host's log.
func (c *Conn) EventPublisher(events EventLog, cursor Cursor) *Publisher {
	p := &Publisher{c: c, events: events, cursor: cursor, retry: time.Second, saveEvery: saveEvery}
	c.publisher.Store(p)
	return p
}

// Lag is how many events the cluster has not stored yet.
func (p *Publisher) Lag() int64 { return p.lag.Load() }

// Run publishes until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	var after int64
	var saver *CursorSaver
	defer func() {
		if saver != nil {
			// What the stream stored is not published again at the next
			// start.
			saver.Close(ctx)
		}
	}()
	for ctx.Err() == nil {
		if saver == nil {
			var err error
			if after, err = p.cursor.Load(ctx); err != nil {
				p.c.log.Warn("fleet: loading the event cursor", "err", err)
				p.pause(ctx)
				continue
			}
			saver = NewCursorSaver(p.cursor, after, p.saveEvery, p.c.log, "event")
		}
		last, grew := p.events.Changed()
		p.lag.Store(max(0, last-after))
		if after >= last {
			// Caught up: save saveEvery after the last save, unless more
			// events come first.
			due, stop := saver.Due()
			select {
			case <-ctx.Done():
			case <-grew:
			case <-due:
				saver.Save(ctx)
			}
			stop()
			continue
		}
		next, err := p.publish(ctx, after)
		if next > after {
			after = next
			p.done.Store(next)
			saver.Moved(ctx, after)
		}
		if err != nil && ctx.Err() == nil {
			p.c.log.Warn("fleet: publishing events; they wait in the local log", "err", err)
			p.c.gone.note(err)
			p.pause(ctx)
		}
	}
}

func (p *Publisher) pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(p.retry):
	}
}

func (p *Publisher) subject(typ string) string {
	return p.c.cfg.Names.Subject + ".events." + p.c.host + "." + typ
}

// publish sends one batch after the given id and returns the id up to
// which the stream stored every event.
func (p *Publisher) publish(ctx context.Context, after int64) (int64, error) {
	batch, err := p.events.EventsAfter(ctx, after, eventBatch)
	if err != nil || len(batch) == 0 {
		return after, err
	}
	futures := make([]jetstream.PubAckFuture, 0, len(batch))
	for _, e := range batch {
		m := nats.NewMsg(p.subject(e.Type))
		m.Data = e.Body
		m.Header.Set(eventIDHeader, strconv.FormatInt(e.ID, 10))
		f, err := p.c.js.PublishMsgAsync(m, jetstream.WithMsgID(p.c.host+":"+strconv.FormatInt(e.ID, 10)))
		if err != nil {
			break
		}
		futures = append(futures, f)
	}
	stored := after
	for i, f := range futures {
		select {
		case <-f.Ok():
			stored = batch[i].ID
		case err := <-f.Err():
			return stored, unavailable("publishing event "+strconv.FormatInt(batch[i].ID, 10), err)
		case <-ctx.Done():
			return stored, ctx.Err()
		}
	}
	if len(futures) < len(batch) {
		return stored, unavailable("publishing events", errors.New("the async publish window is full"))
	}
	p.c.touch()
	return stored, nil
}
