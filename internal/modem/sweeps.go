package modem

import (
	"sync"
	"time"
)

// sweepLog is what an owner tells others of its sweeps of the modem's
// storage: which SIM the last complete one read and when it began, and the
// sweep others asked for. Having been ready is no proof a modem read a
// message: some lose the +CMTI of one that arrives while a command runs, and
// it waits in storage for a sweep. So a payment's deadline rule expires a
// confirmation only after a sweep of its SIM that began past the grace,
// and asks the owner for one. Safe for concurrent use.
type sweepLog struct {
	// asked holds one token while a sweep is asked of the owner: asks
	// made before it serves them coalesce into that one.
	asked chan struct{}

	mu    sync.Mutex
	iccid string    // the SIM the last complete sweep read
	began time.Time // when that sweep began
	want  time.Time // a sweep beginning at or after this is asked for; zero: none
}

func newSweepLog() *sweepLog { return &sweepLog{asked: make(chan struct{}, 1)} }

// sweptSince reports whether a sweep of SIM iccid's storage that began at
// or after t completed.
func (l *sweepLog) sweptSince(iccid string, t time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return iccid != "" && l.iccid == iccid && !l.began.Before(t)
}

// ask asks the owner for a sweep beginning at or after t, unless one did.
func (l *sweepLog) ask(t time.Time) {
	l.mu.Lock()
	if !l.began.Before(t) {
		l.mu.Unlock()
		return
	}
	if l.want.Before(t) {
		l.want = t
	}
	l.mu.Unlock()
	select {
	case l.asked <- struct{}{}:
	default: // asked already; that sweep begins late enough for this ask too
	}
}

// owed reports whether a sweep asked for is still to begin: one that began
// after the ask answers it, whatever made the owner sweep.
func (l *sweepLog) owed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.want.IsZero() && l.began.Before(l.want)
}

// swept records a complete sweep of SIM iccid that began at began.
func (l *sweepLog) swept(iccid string, began time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.iccid, l.began = iccid, began
	if !began.Before(l.want) {
		l.want = time.Time{}
	}
}

// SweptSince reports whether the storage of SIM iccid was swept, to the
// end, by a sweep that began at or after t.
func (p *Pool) SweptSince(iccid string, t time.Time) bool {
	o := p.ownerOfSIM(iccid)
	return o != nil && o.sweeps.sweptSince(iccid, t)
}

// Sweep asks the owner of the modem holding SIM iccid for a sweep of its
// storage that begins at or after t, unless one did already, and returns
// without waiting for it. The owner sweeps between jobs; asks made
// meanwhile are answered by that one sweep. Options.Swept hears of every
// sweep that completes.
func (p *Pool) Sweep(iccid string, t time.Time) {
	if o := p.ownerOfSIM(iccid); o != nil {
		o.sweeps.ask(t)
	}
}

func (p *Pool) ownerOfSIM(iccid string) *owner {
	if iccid == "" {
		return nil
	}
	for _, o := range p.ownersNow() {
		if o.snapshot().ICCID == iccid {
			return o
		}
	}
	return nil
}
