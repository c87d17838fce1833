package sending

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/internal/work"
	"github.com/gsmbridge/gsmbridge/sms"
)

// Work is what modem owners take from the scheduler: a lane per modem,
// the send job, and the SIM's failure streak that turns it suspect.
type Work struct {
	s *Sending

	mu    sync.Mutex
	lanes map[string]*sendLane // by modem id
}

// Work returns the owners' side of the scheduler.
func (s *Sending) Work() *Work { return &Work{s: s, lanes: map[string]*sendLane{}} }

// sendLane is an open lane. Its jobs run one at a time on the owner's
// goroutine, which is the only one touching failStreak.
type sendLane struct {
	work.Lane
	s          *Sending
	failStreak int         // the SIM's consecutive send failures, as the store last said
	cooldown   *time.Timer // a suspect SIM's next check; stopped while the SIM is not suspect
	stop       chan struct{}
	exited     chan struct{}

	// unrecorded is the part the modem took last whose record is not
	// queued yet: the lane's next BeginPart carries it, or flushSent
	// queues it once the lane has nothing to send or closes.
	mu         sync.Mutex
	unrecorded *store.SentPart
}

// holdSent keeps a sent part's record for the lane's next write.
func (l *sendLane) holdSent(p store.SentPart) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unrecorded != nil {
		// Every send begins by taking the one before, so this is not
		// expected; queued in order all the same.
		l.s.messages.PartSentAlong(*l.unrecorded)
	}
	l.unrecorded = &p
}

// takeSent hands the held record to the write that carries it.
func (l *sendLane) takeSent() *store.SentPart {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.unrecorded
	l.unrecorded = nil
	return p
}

// flushSent queues the held record to ride with the store's next commit,
// without waiting: the lane went idle or closed, and no next part of its
// own will carry it.
func (l *sendLane) flushSent() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unrecorded != nil {
		l.s.messages.PartSentAlong(*l.unrecorded)
		l.unrecorded = nil
	}
}

// Open adds the lane to the scheduler; a SIM that was suspect stays held
// until its cool-down check or a resume.
func (w *Work) Open(ctx context.Context, l work.Lane) (<-chan work.Job, error) {
	s := w.s
	msgs := s.sched.AddLane(l.Modem, l.SIM.ICCID, l.SIM.PLMN, s.limits.SendLimits(l.SIM.ICCID, l.SIM.IMSI), s.recentSends(ctx, l.SIM.ICCID))
	sl := &sendLane{Lane: l, s: s, failStreak: l.SIM.FailStreak, cooldown: time.NewTimer(time.Hour),
		stop: make(chan struct{}), exited: make(chan struct{})}
	sl.cooldown.Stop()
	if l.SIM.State == store.SIMSuspect {
		s.sched.Pause(l.Modem, "suspect")
		sl.cooldown.Reset(max(0, s.cfg.SuspectCooldown-s.now().Sub(l.SIM.StateSince)))
	}
	jobs := make(chan work.Job)
	go sl.forward(msgs, jobs)
	w.mu.Lock()
	w.lanes[l.Modem] = sl
	w.mu.Unlock()
	return jobs, nil
}

func (s *Sending) recentSends(ctx context.Context, iccid string) []time.Time {
	ts, err := s.sims.SentSince(ctx, iccid, s.now().Add(-24*time.Hour))
	if err != nil {
		s.log.Error("load recent sends", "err", err)
	}
	return ts
}

// forward hands the scheduler's messages to the owner as jobs, and a
// suspect SIM's cool-down check when it is due. A message taken from the
// lane but not by the owner when the lane closes goes back to the queue, as
// one left in the lane does.
func (l *sendLane) forward(msgs <-chan *store.Message, jobs chan<- work.Job) {
	defer close(l.exited)
	for {
		var job work.Job
		select {
		case m := <-msgs:
			job = &sendJob{lane: l, m: m}
		case <-l.cooldown.C:
			job = cooldownCheck{l}
		case <-l.stop:
			return
		}
		select {
		case jobs <- job:
		case <-l.stop:
			if j, ok := job.(*sendJob); ok {
				l.s.sched.Enqueue(j.m)
			}
			return
		}
	}
}

// Close ends the lane. A job handed over but not taken goes back to the
// queue; one taken stays with the owner, which finishes it.
func (w *Work) Close(modemID string) {
	w.mu.Lock()
	sl := w.lanes[modemID]
	delete(w.lanes, modemID)
	w.mu.Unlock()
	w.s.sched.RemoveLane(modemID)
	if sl != nil {
		close(sl.stop)
		<-sl.exited
		sl.cooldown.Stop()
		sl.flushSent()
	}
}

// Hold keeps the lane from taking work for why while on.
func (w *Work) Hold(modemID, why string, on bool) {
	if on {
		w.s.sched.Pause(modemID, why)
	} else {
		w.s.sched.Unpause(modemID, why)
	}
}

// sendJob is one queued message on a lane.
type sendJob struct {
	lane *sendLane
	m    *store.Message
	// unknownAt is when a part's send ended with its outcome unknown: it
	// may have gone out, so the SIM's limit windows count it.
	unknownAt time.Time
}

func (j *sendJob) Run(ctx context.Context, modem *gsm.Modem) work.Result {
	sent, failure, err := j.send(ctx, modem)
	r := work.Result{Parts: len(sent), Failure: failure, Err: err}
	if len(sent) > 0 || failure != nil {
		// Before Done: a SIM that turned suspect must be paused before
		// its lane is idle, or the next dispatch hands it the next
		// customer's message to fail too.
		threshold := j.lane.s.cfg.SuspectAfter
		if gsm.Classify(failure).SIMBarred {
			// The network refused the SIM itself: every message would
			// fail alike, so one is proof enough.
			threshold = 1
		}
		if j.lane.outcome(ctx, j.m.To, failure != nil, threshold) {
			r.SIMState = store.SIMSuspect
		}
	}
	spent := sent
	if !j.unknownAt.IsZero() {
		spent = append(slices.Clip(sent), j.unknownAt)
	}
	j.lane.s.sched.Done(j.lane.Modem, spent, j.lane.flushSent)
	return r
}

// cooldownCheck resumes a suspect SIM once its cool-down has passed, if
// the modem is registered; otherwise it waits another cool-down.
type cooldownCheck struct{ lane *sendLane }

func (c cooldownCheck) Run(ctx context.Context, m *gsm.Modem) work.Result {
	l, s := c.lane, c.lane.s
	if reg, err := m.Registration(ctx); err != nil || (reg.Stat != 1 && reg.Stat != 5) {
		l.cooldown.Reset(s.cfg.SuspectCooldown)
		return work.Result{}
	}
	if _, err := s.sims.ResumeSIM(context.WithoutCancel(ctx), l.SIM.ICCID, "cool-down passed and the SIM is registered"); err != nil {
		l.Log.Error("resume SIM", "err", err)
		return work.Result{}
	}
	s.sched.Unpause(l.Modem, "suspect")
	return work.Result{SIMState: store.SIMActive}
}

// outcome feeds the SIM's failure streak and holds a SIM that turned
// suspect.
func (l *sendLane) outcome(ctx context.Context, to string, failed bool, threshold int) (suspect bool) {
	if !failed && l.failStreak == 0 {
		return false // nothing to reset: spare the store a round trip per SMS
	}
	s := l.s
	updated, suspect, err := s.sims.SendOutcome(context.WithoutCancel(ctx), l.SIM.ICCID, to, failed, threshold)
	if err != nil {
		l.Log.Error("record send outcome", "err", err)
	} else {
		l.failStreak = updated.FailStreak
	}
	if suspect {
		l.Log.Warn("SIM turned suspect: it takes no work until a cool-down check or a resume", "iccid", sms.MaskDigits(l.SIM.ICCID))
		s.sched.Pause(l.Modem, "suspect")
		l.cooldown.Reset(s.cfg.SuspectCooldown)
		// A SIM that ran out of money fails every send too: look now.
		s.suspect(l.SIM.ICCID)
	}
	return suspect
}
