package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/store"
	"github.com/gsmbridge/gsmbridge/sms"
)

// sendWork is Work over the scheduler: a lane per modem, the send job, and
// the SIM's failure streak that turns it suspect.
type sendWork struct {
	d *Daemon

	mu    sync.Mutex
	lanes map[string]*sendLane // by modem id
}

var _ Work = (*sendWork)(nil)

func newSendWork(d *Daemon) *sendWork { return &sendWork{d: d, lanes: map[string]*sendLane{}} }

// sendLane is an open lane. Its jobs run one at a time on the owner's
// goroutine, which is the only one touching failStreak.
type sendLane struct {
	Lane
	w          *sendWork
	failStreak int         // the SIM's consecutive send failures, as the store last said
	cooldown   *time.Timer // a suspect SIM's next check; stopped while the SIM is not suspect
	stop       chan struct{}
	exited     chan struct{}
}

// Open adds the lane to the scheduler; a SIM that was suspect stays held
// until its cool-down check or a resume.
func (w *sendWork) Open(ctx context.Context, l Lane) (<-chan Job, error) {
	d := w.d
	msgs := d.sched.AddLane(l.Modem, l.SIM.ICCID, l.SIM.PLMN, d.operators.SendLimits(l.SIM.ICCID, l.SIM.IMSI), d.recentSends(ctx, l.SIM.ICCID))
	sl := &sendLane{Lane: l, w: w, failStreak: l.SIM.FailStreak, cooldown: time.NewTimer(time.Hour),
		stop: make(chan struct{}), exited: make(chan struct{})}
	sl.cooldown.Stop()
	if l.SIM.State == store.SIMSuspect {
		d.sched.Pause(l.Modem, "suspect")
		sl.cooldown.Reset(max(0, d.cfg.Send.SuspectCooldown-d.now().Sub(l.SIM.StateSince)))
	}
	jobs := make(chan Job)
	go sl.forward(msgs, jobs)
	w.mu.Lock()
	w.lanes[l.Modem] = sl
	w.mu.Unlock()
	return jobs, nil
}

// forward hands the scheduler's messages to the owner as jobs, and a
// suspect SIM's cool-down check when it is due. A message taken from the
// lane but not by the owner when the lane closes goes back to the queue, as
// one left in the lane does.
func (l *sendLane) forward(msgs <-chan *store.Message, jobs chan<- Job) {
	defer close(l.exited)
	for {
		var job Job
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
				l.w.d.sched.Enqueue(j.m)
			}
			return
		}
	}
}

func (w *sendWork) Close(modemID string) {
	w.mu.Lock()
	sl := w.lanes[modemID]
	delete(w.lanes, modemID)
	w.mu.Unlock()
	w.d.sched.RemoveLane(modemID)
	if sl != nil {
		close(sl.stop)
		<-sl.exited
		sl.cooldown.Stop()
	}
}

func (w *sendWork) Hold(modemID, why string, on bool) {
	if on {
		w.d.sched.Pause(modemID, why)
	} else {
		w.d.sched.Unpause(modemID, why)
	}
}

// sendJob is one queued message on a lane.
type sendJob struct {
	lane *sendLane
	m    *store.Message
}

func (j *sendJob) Run(ctx context.Context, modem *gsm.Modem) Result {
	sent, failure, err := j.send(ctx, modem)
	j.lane.w.d.sched.Done(j.lane.Modem, sent)
	r := Result{Parts: len(sent), Failure: failure, Err: err}
	if len(sent) > 0 || failure != nil {
		if j.lane.outcome(ctx, j.m.To, failure != nil) {
			r.SIMState = store.SIMSuspect
		}
	}
	return r
}

// cooldownCheck resumes a suspect SIM once its cool-down has passed, if
// the modem is registered; otherwise it waits another cool-down.
type cooldownCheck struct{ lane *sendLane }

func (c cooldownCheck) Run(ctx context.Context, m *gsm.Modem) Result {
	l, d := c.lane, c.lane.w.d
	if reg, err := m.Registration(ctx); err != nil || (reg.Stat != 1 && reg.Stat != 5) {
		l.cooldown.Reset(d.cfg.Send.SuspectCooldown)
		return Result{}
	}
	if _, err := d.store.Devices.ResumeSIM(context.WithoutCancel(ctx), l.SIM.ICCID, "cool-down passed and the SIM is registered"); err != nil {
		l.Log.Error("resume SIM", "err", err)
		return Result{}
	}
	d.sched.Unpause(l.Modem, "suspect")
	return Result{SIMState: store.SIMActive}
}

// outcome feeds the SIM's failure streak and holds a SIM that turned
// suspect.
func (l *sendLane) outcome(ctx context.Context, to string, failed bool) (suspect bool) {
	if !failed && l.failStreak == 0 {
		return false // nothing to reset: spare the store a round trip per SMS
	}
	d := l.w.d
	updated, suspect, err := d.store.Devices.SendOutcome(context.WithoutCancel(ctx), l.SIM.ICCID, to, failed, d.cfg.Send.SuspectAfter)
	if err != nil {
		l.Log.Error("record send outcome", "err", err)
	} else {
		l.failStreak = updated.FailStreak
	}
	if suspect {
		l.Log.Warn("SIM turned suspect: it takes no work until a cool-down check or a resume", "iccid", sms.MaskDigits(l.SIM.ICCID))
		d.sched.Pause(l.Modem, "suspect")
		l.cooldown.Reset(d.cfg.Send.SuspectCooldown)
		// A SIM that ran out of money fails every send too: look now.
		d.ussd.CheckSoon(l.SIM.ICCID)
	}
	return suspect
}
