// Package work is the vocabulary a modem owner and the send work it runs
// share: the lane a ready modem opens, the jobs that arrive on it and what
// each job tells the owner. It lives apart from both so that neither the
// owners nor sending import the other.
package work

import (
	"context"
	"log/slog"

	"github.com/gsmbridge/gsmbridge/gsm"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

// Lane is a modem ready to send through its SIM.
type Lane struct {
	Modem string
	SIM   store.SIM
	Log   *slog.Logger // the owner's
}

// Job is one piece of send work, run on the owner's goroutine with its
// modem.
type Job interface {
	Run(ctx context.Context, m *gsm.Modem) Result
}

// Result is what a job tells the owner, which keeps the modem's counters
// and decides about the modem.
type Result struct {
	Parts   int   // parts that went out
	Failure error // the part the modem refused or lost; nil when none
	// SIMState is the SIM's new state when the job changed it: "suspect"
	// (its lane is held until a cool-down check or a resume) or "active"
	// again after a cool-down check; "" when unchanged.
	SIMState string
	Err      error // the modem may have stopped answering: probe it
}
