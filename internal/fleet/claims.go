package fleet

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ClaimState is how far the owning host got with a piece of work.
type ClaimState string

const (
	// Taken: stored by its host, no part begun. Only taken work can be
	// released from a dead host.
	Taken ClaimState = "taken"
	// Sending: a part may have reached a modem; the host alone can tell.
	Sending ClaimState = "sending"
	// Released: handed back from a dead host and published again; the
	// host cancels its copy when it returns.
	Released ClaimState = "released"
	// Done: the work reached a final state on its host.
	Done ClaimState = "done"
)

var (
	// ErrClaimedElsewhere: another host owns this work.
	ErrClaimedElsewhere = errors.New("another host owns this work")
	// ErrFinished: the work's sending ended on some host; a late copy of
	// it must be dropped.
	ErrFinished = errors.New("the work already finished on a host")
	// ErrNoClaim: no host claimed this work (yet, or any more).
	ErrNoClaim = errors.New("no host claimed this work")
	// ErrReleased: this host's claim was released while it was away; its
	// copy must not be sent.
	ErrReleased = errors.New("the work was released to the fleet while this host was away")
)

// Claim is the fleet's record of which host owns a piece of work. Each
// change is a KV write at the revision read before it, so two hosts never
// both win (docs/fleet-plan.md §3).
type Claim struct {
	Host   string     `json:"host"`
	HostID string     `json:"host_id"`
	State  ClaimState `json:"state"`
	At     time.Time  `json:"at"`
	// Work rides along so that release needs nothing from a dead host.
	Work Work `json:"work"`
}

// Keys: "c.<id>" holds the claim on unfinished work, so listing the
// claims of a dead host reads only work in flight; "w.<id>" remembers which
// host finished a piece of work, for lookups from other hosts. How an
// ended claim leaves "c.>": markers.go.
func claimKey(id string) string { return "c." + keyToken(id) }
func whereKey(id string) string { return "w." + keyToken(id) }

// keyToken spells an id as one token of a KV key. Message ids are plain
// already and stay as they are; a confirmation's id is the payment core's
// and may hold ':' or dots, which a key refuses or reads as levels. The
// spelled form starts with '=', which no plain id holds, so two ids never
// share a key.
func keyToken(id string) string {
	if plainToken.MatchString(id) {
		return id
	}
	return "=" + hex.EncodeToString([]byte(id))
}

// Claims decide which host owns each piece of work.
type Claims struct {
	c      *Conn
	hostID string

	mu sync.Mutex
	// held remembers the claims this host wrote and their revisions, from
	// take to finish: the next change is a write at that revision, with no
	// read before it. A write since (only a release) fails it, and the
	// change falls back to reading the claim. A restart forgets them.
	held map[string]heldClaim
}

type heldClaim struct {
	claim Claim
	rev   uint64
}

// Claims returns the claims made as this host.
func (c *Conn) Claims(hostID string) *Claims {
	return &Claims{c: c, hostID: hostID, held: map[string]heldClaim{}}
}

func (cl *Claims) remember(id string, c Claim, rev uint64) {
	cl.mu.Lock()
	cl.held[id] = heldClaim{c, rev}
	cl.mu.Unlock()
}

func (cl *Claims) recall(id string) (heldClaim, bool) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	h, ok := cl.held[id]
	return h, ok
}

func (cl *Claims) forget(id string) {
	cl.mu.Lock()
	delete(cl.held, id)
	cl.mu.Unlock()
}

// conflict says a write at a revision found another revision. A
// replicated bucket answers with another code than a single node, one
// that jetstream.ErrKeyExists does not match.
func conflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists)
}

func (cl *Claims) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	kv, err := cl.c.buckets.get(ctx, cl.c.js, cl.c.cfg.Names.ClaimsBucket)
	if err != nil {
		return nil, unavailable("opening the claims bucket", err)
	}
	return kv, nil
}

// TakeAll claims a batch of work at once, each piece as Take does; the
// claims are written concurrently, so a batch costs about one round trip.
func (cl *Claims) TakeAll(ctx context.Context, ws []Work) (revs []uint64, errs []error) {
	revs, errs = make([]uint64, len(ws)), make([]error, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			revs[i], errs[i] = cl.Take(ctx, w)
		}()
	}
	wg.Wait()
	return revs, errs
}

// Take claims w for this host and returns the claim's revision. Work this
// host already claimed (it restarted between claiming and acking) is its
// own again; work another host claimed gives ErrClaimedElsewhere.
func (cl *Claims) Take(ctx context.Context, w Work) (uint64, error) {
	kv, err := cl.bucket(ctx)
	if err != nil {
		return 0, err
	}
	mine := Claim{Host: cl.c.host, HostID: cl.hostID, State: Taken, At: time.Now(), Work: w}
	b, _ := json.Marshal(mine)
	for {
		rev, err := kv.Create(ctx, claimKey(w.ID), b)
		if err == nil {
			return cl.unlessFinished(ctx, kv, w, mine, rev)
		}
		if !conflict(err) {
			return 0, unavailable("claiming "+w.ID, err)
		}
		have, rev, err := cl.Get(ctx, w.ID)
		if errors.Is(err, ErrNoClaim) {
			continue
		}
		if err != nil {
			return 0, err
		}
		own, err := ownedHere(ctx, cl, have)
		if err != nil {
			return 0, err
		}
		switch {
		case have.State == Released:
			// Handed back from a dead host: whoever updates it first owns
			// it, unless it finished somewhere (a stray claim released).
			if rev, err := kv.Update(ctx, claimKey(w.ID), b, rev); err == nil {
				return cl.unlessFinished(ctx, kv, w, mine, rev)
			} else if !conflict(err) {
				return 0, unavailable("claiming "+w.ID, err)
			}
		case !own:
			return 0, fmt.Errorf("%s: %w (%s)", w.ID, ErrClaimedElsewhere, have.Host)
		default:
			cl.remember(w.ID, have, rev)
			return rev, nil
		}
	}
}

// unlessFinished keeps the claim this host just wrote at rev, unless the
// work finished on some host: Finish writes w.<id> before it ends the
// claim, so a copy that arrives after the claim went finds the note here,
// read after the write. Then the claim ends again and ErrFinished says to
// drop the copy.
func (cl *Claims) unlessFinished(ctx context.Context, kv jetstream.KeyValue, w Work, mine Claim, rev uint64) (uint64, error) {
	if _, err := kv.Get(ctx, whereKey(w.ID)); err == nil {
		cl.ended(ctx, kv, claimKey(w.ID), rev)
		return 0, fmt.Errorf("%s: %w", w.ID, ErrFinished)
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, unavailable("claiming "+w.ID, err)
	}
	return cl.took(w.ID, mine, rev), nil
}

// took remembers the claim this host wrote on id at rev, for the changes
// to come, and returns rev.
func (cl *Claims) took(id string, c Claim, rev uint64) uint64 {
	cl.remember(id, c, rev)
	cl.c.touch()
	return rev
}

// Mine says whether c is a claim this host made: by its identity, which
// a rename in the configuration keeps, not by its name.
func (cl *Claims) Mine(c Claim) bool { return c.HostID == cl.hostID }

// Get reads the claim on id and its revision.
func (cl *Claims) Get(ctx context.Context, id string) (Claim, uint64, error) {
	return cl.get(ctx, claimKey(id), id)
}

// get reads the claim under key, the claim on id.
func (cl *Claims) get(ctx context.Context, key, id string) (Claim, uint64, error) {
	kv, err := cl.bucket(ctx)
	if err != nil {
		return Claim{}, 0, err
	}
	e, err := kv.Get(ctx, key)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return Claim{}, 0, fmt.Errorf("%s: %w", id, ErrNoClaim)
		}
		return Claim{}, 0, unavailable("reading the claim on "+id, err)
	}
	var have Claim
	if err := json.Unmarshal(e.Value(), &have); err != nil {
		return Claim{}, 0, fmt.Errorf("fleet: claim on %s: %w", id, err)
	}
	cl.c.touch()
	return have, e.Revision(), nil
}

// StartSending moves this host's claim on id from taken to sending: the
// last step before the first part of it may reach a modem. ErrReleased
// says the work went back to the fleet meanwhile and must not be sent.
func (cl *Claims) StartSending(ctx context.Context, id string) error {
	if h, ok := cl.recall(id); ok && h.claim.HostID == cl.hostID {
		switch h.claim.State {
		case Sending:
			return nil
		case Taken:
			h.claim.State, h.claim.At = Sending, time.Now()
			rev, err := cl.update(ctx, id, h.claim, h.rev)
			if err == nil {
				cl.remember(id, h.claim, rev)
			}
			if !errors.Is(err, ErrReleased) {
				return err
			}
		}
		// Written since this host took it: read what it says now.
	}
	cl.forget(id)
	have, rev, err := cl.Get(ctx, id)
	if err != nil {
		return err
	}
	own, err := ownedHere(ctx, cl, have)
	if err != nil {
		return err
	}
	switch {
	case !own || have.State == Released:
		return fmt.Errorf("%s: %w", id, ErrReleased)
	case have.State == Sending:
		cl.remember(id, have, rev)
		return nil
	}
	have.State, have.At = Sending, time.Now()
	rev, err = cl.update(ctx, id, have, rev)
	if err == nil {
		cl.remember(id, have, rev)
	}
	return err
}

// update writes c at rev and returns the claim's new revision.
func (cl *Claims) update(ctx context.Context, id string, c Claim, rev uint64) (uint64, error) {
	kv, err := cl.bucket(ctx)
	if err != nil {
		return 0, err
	}
	b, _ := json.Marshal(c)
	rev, err = kv.Update(ctx, claimKey(id), b, rev)
	if err != nil {
		if conflict(err) {
			// Someone wrote the claim since it was read: only a release does.
			return 0, fmt.Errorf("%s: %w", id, ErrReleased)
		}
		return 0, unavailable("updating the claim on "+id, err)
	}
	cl.c.touch()
	return rev, nil
}

// Drop gives up a claim this host made but could not store, so that the
// work's next delivery can be taken by any host.
func (cl *Claims) Drop(ctx context.Context, id string, rev uint64) error {
	kv, err := cl.bucket(ctx)
	if err != nil {
		return err
	}
	cl.forget(id)
	if err := cl.ended(ctx, kv, claimKey(id), rev); err != nil {
		return unavailable("dropping the claim on "+id, err)
	}
	return nil
}

// finishing is how many claims FinishAll finishes at once.
const finishing = 32

// FinishAll finishes the claims on ids as Finish does, at most finishing
// of them at a time, and returns each one's error.
func (cl *Claims) FinishAll(ctx context.Context, ids []string) []error {
	errs := make([]error, len(ids))
	sem := make(chan struct{}, finishing)
	var wg sync.WaitGroup
	for i, id := range ids {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = cl.Finish(ctx, id)
		}()
	}
	wg.Wait()
	return errs
}

// Finish records that the work reached a final state on this host: its
// claim goes, and a note of where it finished stays for lookups from other
// hosts until the bucket's age limit.
func (cl *Claims) Finish(ctx context.Context, id string) error {
	kv, err := cl.bucket(ctx)
	if err != nil {
		return err
	}
	if h, ok := cl.recall(id); ok && h.claim.State == Sending {
		// No release moves a claim in sending: it is as this host wrote
		// it, unless the purge at its revision says otherwise; then it is
		// read, as after a restart. A taken one may have been released,
		// and the note must not name this host then: it is read first.
		if _, err := kv.Put(ctx, whereKey(id), []byte(cl.c.host)); err != nil {
			return unavailable("finishing "+id, err)
		}
		if err := cl.ended(ctx, kv, claimKey(id), h.rev); err == nil {
			cl.forget(id)
			return nil
		}
	}
	cl.forget(id)
	have, rev, err := cl.Get(ctx, id)
	if err != nil {
		return err
	}
	if own, err := ownedHere(ctx, cl, have); err != nil {
		return err
	} else if !own {
		return fmt.Errorf("%s: %w", id, ErrClaimedElsewhere)
	}
	if _, err := kv.Put(ctx, whereKey(id), []byte(cl.c.host)); err != nil {
		return unavailable("finishing "+id, err)
	}
	if err := cl.ended(ctx, kv, claimKey(id), rev); err != nil {
		return unavailable("finishing "+id, err)
	}
	return nil
}
