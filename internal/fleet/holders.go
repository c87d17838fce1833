package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Who holds work, for reads and for a dead host's release.

// Holder names the host that holds or finished id, "" when no host took it
// yet.
func (cl *Claims) Holder(ctx context.Context, id string) (string, ClaimState, error) {
	have, _, err := cl.Get(ctx, id)
	if err == nil {
		return have.Host, have.State, nil
	}
	if !errors.Is(err, ErrNoClaim) {
		return "", "", err
	}
	host, err := cl.FinishedOn(ctx, id)
	if host == "" || err != nil {
		return "", "", err
	}
	return host, Done, nil
}

// FinishedOn names the host whose finish note id has, "" when it has none:
// for a caller that read the claim already and found none.
func (cl *Claims) FinishedOn(ctx context.Context, id string) (string, error) {
	kv, err := cl.bucket(ctx)
	if err != nil {
		return "", err
	}
	e, err := kv.Get(ctx, whereKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", unavailable("looking up "+id, err)
	}
	return string(e.Value()), nil
}

// Adopt claims for this host, as sending, work it holds that no claim
// names: work it queued before it joined the fleet, or whose claim went
// (the cluster lost its storage, or a host that failed to store a copy
// dropped its claim and handed the copy back). Sending it unclaimed would
// let that copy go out from another host too; the claim stops it there,
// as any claim does. ErrClaimedElsewhere when another host claimed it
// first, ErrFinished when it finished somewhere: then this copy must not
// go.
func (cl *Claims) Adopt(ctx context.Context, w Work) error {
	kv, err := cl.bucket(ctx)
	if err != nil {
		return err
	}
	mine := Claim{Host: cl.c.host, HostID: cl.hostID, State: Sending, At: time.Now(), Work: w}
	b, _ := json.Marshal(mine)
	for {
		rev, err := kv.Create(ctx, claimKey(w.ID), b)
		if err == nil {
			_, err = cl.unlessFinished(ctx, kv, w, mine, rev)
			return err
		}
		if !conflict(err) {
			return unavailable("claiming "+w.ID, err)
		}
		// A claim stands, unless what the create met was a marker that
		// expired while it ran (they live a second): then it goes again.
		have, _, err := cl.Get(ctx, w.ID)
		switch {
		case errors.Is(err, ErrNoClaim):
			continue
		case err != nil:
			return err
		}
		if own, err := ownedHere(ctx, cl, have); err != nil {
			return err
		} else if own {
			return cl.StartSending(ctx, w.ID) // this host's own take came first
		}
		return fmt.Errorf("%s: %w (%s)", w.ID, ErrClaimedElsewhere, have.Host)
	}
}

// Holds says whether this host remembers a claim of its own on id, from
// its take: then id is a piece of work with its own claim (a message, or a
// confirmation), not a confirmation's SMS.
func (cl *Claims) Holds(id string) bool {
	h, ok := cl.recall(id)
	return ok && h.claim.HostID == cl.hostID
}

// AwaitHolder is Holder once a host claimed id or finished it, waiting
// for that until ctx ends (then the host is ""): a long poll of work no
// host took yet answers as soon as one does, woken by the bucket's watch.
func (cl *Claims) AwaitHolder(ctx context.Context, id string) (string, ClaimState, error) {
	kv, err := cl.bucket(ctx)
	if err != nil {
		return "", "", err
	}
	w, err := kv.WatchFiltered(ctx, []string{claimKey(id), whereKey(id)}, jetstream.UpdatesOnly())
	if err != nil {
		return "", "", unavailable("watching the claim on "+id, err)
	}
	defer w.Stop()
	// After the watch started: a claim made before it is read here.
	if host, state, err := cl.Holder(ctx, id); err != nil || host != "" {
		return host, state, err
	}
	select {
	case <-ctx.Done():
		return "", "", nil
	case <-w.Updates():
	}
	return cl.Holder(ctx, id)
}

// OnHost lists the unfinished claims of one host (released ones
// included until another host takes them): for a dead host, its stranded
// work.
func (cl *Claims) OnHost(ctx context.Context, host string) ([]Claim, error) {
	keys, err := cl.c.buckets.keys(ctx, cl.c.js, cl.c.cfg.Names.ClaimsBucket, "c.>")
	if err != nil {
		return nil, unavailable("listing claims", err)
	}
	var out []Claim
	for _, k := range keys {
		have, _, err := cl.get(ctx, k, k)
		if errors.Is(err, ErrNoClaim) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if have.Host == host {
			out = append(out, have)
		}
	}
	return out, nil
}

// Release hands a dead host's taken work back to the fleet: each claim
// still taken moves to released at the revision read, then its work is
// published again, under a fresh message id since copies are harmless: the
// first host to take a released claim owns it and the others drop theirs.
// Released claims not yet taken are published again too, so a release cut
// short is finished by the next one. Work in sending stays: whether a part
// reached a modem is the host's to tell. The caller checks the host is dead.
func (cl *Claims) Release(ctx context.Context, host string) (released []string, err error) {
	claims, err := cl.OnHost(ctx, host)
	if err != nil {
		return nil, err
	}
	return cl.release(ctx, claims)
}

// release hands back the claims a listing of a host found. Each taken one
// is read again and released only as it is now: a host that was paused
// (not dead) may have moved it to sending since the listing and be sending
// its PDU, and a release written over that would let another host send the
// work too.
func (cl *Claims) release(ctx context.Context, listed []Claim) (released []string, err error) {
	for _, have := range listed {
		id := have.Work.ID
		if have.State == Taken {
			cur, rev, err := cl.Get(ctx, id)
			if errors.Is(err, ErrNoClaim) {
				continue // finished since the listing
			}
			if err != nil {
				return released, err
			}
			if cur.State != Taken || cur.HostID != have.HostID {
				continue // it moved since the listing: the host is not as dead as it looked
			}
			have = cur
			have.State, have.At = Released, time.Now()
			if _, err := cl.update(ctx, id, have, rev); err != nil {
				if errors.Is(err, ErrReleased) {
					continue // it moved meanwhile: the host is not as dead as it looked
				}
				return released, err
			}
		}
		if have.State != Released {
			continue
		}
		body, _ := json.Marshal(have.Work)
		msgID := fmt.Sprintf("%s:released:%d", id, time.Now().UnixNano())
		if _, err := cl.c.js.Publish(ctx, cl.c.workSubject(have.Work), body, jetstream.WithMsgID(msgID)); err != nil {
			return released, unavailable("publishing released "+id, err)
		}
		released = append(released, id)
	}
	return released, nil
}

// ownedHere says whether c is this host's claim: made under its identity
// and under its name, or under a name no live host beats with (its name
// before a rename: a renamed host joins only once the old name's beat
// expired). Two live hosts carry one identity only when a data directory
// was copied to another machine while the first was cut off past its
// beat: then each keeps to the claims made under its own name, or a
// redelivery would be taken and sent by both. Mine, which reads nothing,
// is for claims this host already knows it holds.
func ownedHere(ctx context.Context, cl *Claims, c Claim) (bool, error) {
	if c.HostID != cl.hostID {
		return false, nil
	}
	if c.Host == cl.c.host {
		return true, nil
	}
	alive, err := beating(ctx, cl.c, c.Host)
	if err != nil {
		return false, err
	}
	return !alive, nil
}

// beating says whether host's heartbeat lives: one read of the hosts
// bucket at its leader.
func beating(ctx context.Context, c *Conn, host string) (bool, error) {
	kv, err := c.buckets.get(ctx, c.js, c.cfg.Names.HostsBucket)
	if err != nil {
		return false, unavailable("opening the hosts bucket", err)
	}
	switch _, err := kv.Get(ctx, host); {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	case err != nil:
		return false, unavailable("reading the heartbeat of "+host, err)
	}
	return true, nil
}
