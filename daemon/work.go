package daemon

import (
	"context"
	"sync"

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
	failStreak int // the SIM's consecutive send failures, as the store last said
	stop       chan struct{}
	exited     chan struct{}
}

// Open adds the lane to the scheduler; a SIM that was suspect stays held
// until its cool-down check or a resume.
func (w *sendWork) Open(ctx context.Context, l Lane) (<-chan Job, error) {
	d := w.d
	msgs := d.sched.AddLane(l.Modem, l.SIM.ICCID, l.SIM.PLMN, d.operators.SendLimits(l.SIM.ICCID, l.SIM.IMSI), d.recentSends(ctx, l.SIM.ICCID))
	if l.SIM.State == store.SIMSuspect {
		d.sched.Pause(l.Modem, "suspect")
	}
	sl := &sendLane{Lane: l, w: w, failStreak: l.SIM.FailStreak, stop: make(chan struct{}), exited: make(chan struct{})}
	jobs := make(chan Job)
	go sl.forward(msgs, jobs)
	w.mu.Lock()
	w.lanes[l.Modem] = sl
	w.mu.Unlock()
	return jobs, nil
}

// forward hands the scheduler's messages to the owner as jobs. A message
// taken from the lane but not by the owner when the lane closes goes back
// to the queue, as one left in the lane does.
func (l *sendLane) forward(msgs <-chan *store.Message, jobs chan<- Job) {
	defer close(l.exited)
	for {
		select {
		case m := <-msgs:
			select {
			case jobs <- &sendJob{lane: l, m: m}:
			case <-l.stop:
				l.w.d.sched.Enqueue(m)
				return
			}
		case <-l.stop:
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
		r.Suspect = j.lane.outcome(ctx, j.m.To, failure != nil)
	}
	return r
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
		// A SIM that ran out of money fails every send too: look now.
		d.checkBalanceSoon(l.SIM.ICCID)
	}
	return suspect
}
