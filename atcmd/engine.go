// Package atcmd talks AT to one modem over any io.ReadWriter: it serialises
// commands, separates their answers from unsolicited indications, and keeps
// the line in step after timeouts. README.md is the package's spec.
package atcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Options configure an Engine. The zero value is usable.
type Options struct {
	Logger         *slog.Logger  // nil = discard
	CommandTimeout time.Duration // used when ctx has no deadline (default 5s)
	WriteTimeout   time.Duration // a Write blocked longer marks the engine hung (default 3s)
	// ResyncTimeout bounds the resynchronisation that runs before the next
	// command after a timeout (default 2s, never longer than that command's
	// own deadline).
	ResyncTimeout time.Duration
	// MissingFinalGrace is how long a read query ("AT+CPIN?") that already
	// got its own answer line waits for a final result that some firmware
	// never sends (old Wavecom) before it succeeds anyway. Default 1s;
	// negative disables the tolerance.
	MissingFinalGrace time.Duration
	// URCNames are extra unsolicited line names of a dialect, e.g. "+XLEMA".
	URCNames []string
	// FinalResults are extra error final results, e.g. "ABORTED".
	FinalResults []string
	// Observe, when set, is told of every command Exec or SendData ran:
	// its name from CommandName, its result from Outcome and how long the
	// caller waited for it. It runs on the caller's goroutine after the
	// answer, so a slow observer delays that caller only, never the line.
	// Invalid commands, never written, are not observed.
	Observe func(cmd, result string, took time.Duration)
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = 5 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 3 * time.Second
	}
	if o.ResyncTimeout <= 0 {
		o.ResyncTimeout = 2 * time.Second
	}
	if o.MissingFinalGrace == 0 {
		o.MissingFinalGrace = time.Second
	}
	return o
}

// Engine runs AT commands on one modem. All methods are safe for concurrent
// use; commands run one at a time in the order they are accepted.
type Engine struct {
	rw   io.ReadWriter
	opts Options
	log  *slog.Logger

	reqs      chan *request
	quit      chan struct{} // closed by Close
	closeOnce sync.Once
	done      chan struct{} // closed when the owner goroutine stops
	err       error         // why; written before done is closed
	ownerDone chan struct{}

	in       inbox
	writes   chan []byte
	writeRes chan error

	subMu       sync.Mutex
	subs        map[*subscriber]struct{}
	closed      bool // Close was called; guarded by subMu
	subscribed  bool // Subscribe was called once; guarded by subMu
	backlog     []Indication
	dispatchers sync.WaitGroup
}

// New starts the engine over rw: one owner goroutine serialising commands,
// one reader goroutine (blocking Read, no read timeout) feeding it lines and
// one writer goroutine whose Writes the owner watches. The engine never
// closes rw: the modem's supervisor owns the port. The reader goroutine ends
// when rw's Read returns an error, i.e. when the owner of the port closes it;
// a writer stuck in a hung Write likewise returns when the port is closed.
func New(rw io.ReadWriter, opts Options) *Engine {
	opts = opts.withDefaults()
	e := &Engine{
		rw:        rw,
		opts:      opts,
		log:       opts.Logger,
		reqs:      make(chan *request),
		quit:      make(chan struct{}),
		done:      make(chan struct{}),
		ownerDone: make(chan struct{}),
		in:        inbox{wake: make(chan struct{}, 1)},
		writes:    make(chan []byte),
		writeRes:  make(chan error, 1),
		subs:      make(map[*subscriber]struct{}),
	}
	go e.readLoop()
	go e.writeLoop()
	go (&owner{Engine: e}).run()
	return e
}

// Exec runs one command line ("AT+CSQ", "ATE0", `AT+CUSD=1,"*100#",15`) and
// returns its information lines: no echo, no final result, no unsolicited
// lines. When the modem answers with an error final result, the lines that
// came before it are returned together with the typed error.
func (e *Engine) Exec(ctx context.Context, cmd string) ([]string, error) {
	return e.do(ctx, cmd, "", false)
}

// SendData runs a two-step command such as AT+CMGS=<n>: it writes cmd, waits
// for the "> " prompt, writes data followed by Ctrl-Z and returns the
// information lines (e.g. "+CMGS: 12"). Once data was handed to the port, a
// missing final result is ErrOutcomeUnknown wrapping the cause; before that,
// failures are ordinary errors.
func (e *Engine) SendData(ctx context.Context, cmd, data string) ([]string, error) {
	if strings.ContainsAny(data, "\x1a\x1b") {
		return nil, fmt.Errorf("atcmd: data holds Ctrl-Z or ESC: %w", ErrInvalidCommand)
	}
	return e.do(ctx, cmd, data, true)
}

// Done is closed when the engine stops: Close, port lost, or a hung write.
func (e *Engine) Done() <-chan struct{} { return e.done }

// Err says why the engine stopped (ErrClosed, ErrPortLost wrapping the read
// error, ErrHung); nil while it runs.
func (e *Engine) Err() error {
	select {
	case <-e.done:
		return e.err
	default:
		return nil
	}
}

// Close stops the owner goroutine and the subscription dispatchers and waits
// for them; a running or queued command fails with ErrClosed and undelivered
// indications are dropped. The reader goroutine keeps blocking in Read until
// the port's owner closes the port. Close always returns nil.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() { close(e.quit) })
	<-e.ownerDone
	e.subMu.Lock()
	e.closed = true
	e.subMu.Unlock()
	e.dispatchers.Wait()
	return nil
}

type request struct {
	ctx     context.Context
	cmd     string
	data    string
	twoStep bool
	res     chan result
}

type result struct {
	lines []string
	err   error
}

func (e *Engine) do(ctx context.Context, cmd, data string, twoStep bool) (lines []string, err error) {
	cmd = strings.TrimSuffix(cmd, "\r")
	if len(cmd) < 2 || !strings.EqualFold(cmd[:2], "AT") || strings.ContainsAny(cmd, "\r\n\x1a\x1b") {
		return nil, fmt.Errorf("atcmd: a command is one line starting with AT: %w", ErrInvalidCommand)
	}
	if observe := e.opts.Observe; observe != nil {
		start := time.Now()
		defer func() { observe(CommandName(cmd), Outcome(err), time.Since(start)) }()
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.opts.CommandTimeout)
		defer cancel()
	}
	r := &request{ctx: ctx, cmd: cmd, data: data, twoStep: twoStep, res: make(chan result, 1)}
	select {
	case e.reqs <- r:
	case <-ctx.Done():
		return nil, fmt.Errorf("atcmd %s: waiting for the line: %w", commandLabel(cmd), ctxError(ctx))
	case <-e.done:
		return nil, fmt.Errorf("atcmd %s: %w", commandLabel(cmd), e.err)
	}
	res := <-r.res
	return res.lines, res.err
}

// ctxError maps an expired deadline to ErrTimeout and keeps cancellation as is.
func ctxError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
	return ctx.Err()
}
