package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrKeyReused: an Idempotency-Key came back with another request.
var ErrKeyReused = errors.New("Idempotency-Key was used with a different request")

type intakeRecord struct {
	Fingerprint string `json:"fingerprint"`
	Work        Work   `json:"work"`
}

// Submit makes work durable in the cluster and returns only once a quorum
// of nodes stored it: the API answers 202 after Submit and 503 when it
// fails (ErrUnavailable). With an Idempotency-Key the first request under
// the key wins on every host: a retry gets the first one's work back with
// existed=true, and is published again, which heals a host that died
// between recording the key and publishing (the stream drops the copy by
// its message id).
func (c *Conn) Submit(ctx context.Context, w Work, key, fingerprint string) (_ Work, _ bool, err error) {
	defer func() { c.gone.note(err) }()
	ctx, cancel := context.WithTimeout(ctx, c.cfg.PublishTimeout)
	defer cancel()
	existed := false
	if key != "" {
		kv, err := c.buckets.get(ctx, c.js, c.cfg.Names.IntakeBucket)
		if err != nil {
			return w, false, unavailable("opening the intake bucket", err)
		}
		sum := sha256.Sum256([]byte(w.Kind + "\x00" + key))
		k := "k." + hex.EncodeToString(sum[:])
		rec, _ := json.Marshal(intakeRecord{Fingerprint: fingerprint, Work: w})
		if _, err := kv.Create(ctx, k, rec); err != nil {
			if !errors.Is(err, jetstream.ErrKeyExists) {
				return w, false, unavailable("recording the Idempotency-Key", err)
			}
			e, err := kv.Get(ctx, k)
			if err != nil {
				return w, false, unavailable("reading the Idempotency-Key", err)
			}
			var first intakeRecord
			if err := json.Unmarshal(e.Value(), &first); err != nil {
				return w, false, fmt.Errorf("fleet: intake record of a key: %w", err)
			}
			if first.Fingerprint != fingerprint {
				return w, false, ErrKeyReused
			}
			w, existed = first.Work, true
		}
	}
	if !existed {
		// Any host can then say "queued" of work no host has taken yet.
		kv, err := c.buckets.get(ctx, c.js, c.cfg.Names.IntakeBucket)
		if err != nil {
			return w, false, unavailable("opening the intake bucket", err)
		}
		b, _ := json.Marshal(w)
		if _, err := kv.Put(ctx, acceptedKey(w.ID), b); err != nil {
			return w, false, unavailable("recording "+w.ID, err)
		}
	}
	body, _ := json.Marshal(w)
	start := time.Now()
	if err := publishWork(ctx, c.js, c.workSubject(w), w.ID, body); err != nil {
		return w, false, err
	}
	c.m.publish.Observe(time.Since(start).Seconds())
	c.touch()
	return w, existed, nil
}

// ErrUnconfirmed: the cluster did not acknowledge work in time, yet may
// have stored it, so it may still be taken and sent. The API answers 503
// with the work's id: a client that sends it again without its
// Idempotency-Key (under a new id) may have it sent twice.
var ErrUnconfirmed = errors.New("the cluster did not confirm the work in time; it may still be sent")

// publishTry bounds one attempt at publishing work. An attempt left
// unanswered (a stream leader moving, an acknowledgement lost) may have
// been stored; the next one sends the same message id, which the stream
// stores once and acknowledges as a duplicate when it has it already.
const publishTry = time.Second

// publishWork publishes work until the cluster acknowledges it or ctx
// ends. A refusal ends it at once; so does one after an unanswered
// attempt, which then leaves the outcome unknown (ErrUnconfirmed).
func publishWork(ctx context.Context, js jetstream.JetStream, subject, id string, body []byte) error {
	unanswered := false
	for {
		try, cancel := context.WithTimeout(ctx, publishTry)
		_, err := js.Publish(try, subject, body, jetstream.WithMsgID(id))
		cancel()
		switch {
		case err == nil:
			return nil
		case errors.Is(err, context.DeadlineExceeded):
			unanswered = true
			if ctx.Err() == nil {
				continue
			}
		}
		if unanswered {
			return fmt.Errorf("%w: %w: publishing %s: %w", ErrUnavailable, ErrUnconfirmed, id, err)
		}
		return unavailable("publishing "+id, err)
	}
}

// acceptedKey holds work as accepted, for lookups until a host takes it.
func acceptedKey(id string) string { return "i." + keyToken(id) }

// ErrNotAccepted: the fleet knows no work of this id (or it was accepted
// longer ago than IdempotencyWindow).
var ErrNotAccepted = errors.New("the fleet accepted no work of this id")

// Accepted returns work the fleet accepted under id, whether or not a host
// took it since.
func (c *Conn) Accepted(ctx context.Context, id string) (Work, error) {
	kv, err := c.buckets.get(ctx, c.js, c.cfg.Names.IntakeBucket)
	if err != nil {
		return Work{}, unavailable("opening the intake bucket", err)
	}
	e, err := kv.Get(ctx, acceptedKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Work{}, fmt.Errorf("%s: %w", id, ErrNotAccepted)
	}
	if err != nil {
		return Work{}, unavailable("looking up "+id, err)
	}
	var w Work
	if err := json.Unmarshal(e.Value(), &w); err != nil {
		return Work{}, fmt.Errorf("fleet: accepted work %s: %w", id, err)
	}
	return w, nil
}
