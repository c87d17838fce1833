package gsm

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/gsmbridge/gsmbridge/atcmd"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// Engine is what gsm needs from the AT engine; *atcmd.Engine has it.
type Engine interface {
	Exec(ctx context.Context, cmd string) ([]string, error)
	SendData(ctx context.Context, cmd, data string) ([]string, error)
	Subscribe() (<-chan atcmd.Indication, func())
}

var _ Engine = (*atcmd.Engine)(nil)

// Options configure a Modem. The zero value is usable.
type Options struct {
	Logger *slog.Logger // nil = discard
	// Vendor picks the family's commands before Identity has been read
	// (Identity sets it from the maker's name).
	Vendor Vendor
	// Timeout bounds a command whose ctx has no deadline (Open only;
	// atcmd's default when 0).
	Timeout time.Duration
	// Observe is told of every command the engine ran (Open only; see
	// atcmd.Options.Observe).
	Observe func(cmd, result string, took time.Duration)
}

// Modem speaks to one modem over its engine. It is not safe for concurrent
// use: its owner's goroutine holds it. A Modem from New starts no goroutine
// and closes nothing: the engine stays its owner's. A Modem from Open owns
// the engine it started (Close stops it); the port stays its opener's.
type Modem struct {
	eng    Engine
	vendor Vendor
	log    *slog.Logger
	own    *atcmd.Engine // the engine Open started; nil from New
}

// Open starts an AT engine over rw and wraps it. A modem left at the "> "
// prompt (its last host died mid-send) would take the first command as
// message text, so ESC goes out first to abort that. rw is not closed by
// the Modem, not even by Close: a driver does not own its bus; closing the
// port is what ends the engine's reader.
func Open(rw io.ReadWriter, o Options) *Modem {
	rw.Write([]byte("\x1b\r"))
	eng := atcmd.New(rw, atcmd.Options{Logger: o.Logger, CommandTimeout: o.Timeout, Observe: o.Observe})
	m := New(eng, o)
	m.own = eng
	return m
}

// Done is closed when the engine Open started stops: Close, the port lost,
// or a hung write. nil (never closed) for a Modem from New.
func (m *Modem) Done() <-chan struct{} {
	if m.own == nil {
		return nil
	}
	return m.own.Done()
}

// Err says why the engine stopped (ErrClosed, ErrPortLost wrapping the
// read error, ErrHung); nil while it runs, and for a Modem from New.
func (m *Modem) Err() error {
	if m.own == nil {
		return nil
	}
	return m.own.Err()
}

// Close stops the engine Open started and waits for its goroutines, except
// the reader, which ends when the port's owner closes the port. A Modem
// from New has nothing to stop.
func (m *Modem) Close() error {
	if m.own == nil {
		return nil
	}
	return m.own.Close()
}

// New wraps an engine.
func New(eng Engine, o Options) *Modem {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Vendor == "" {
		o.Vendor = VendorGeneric
	}
	return &Modem{eng: eng, vendor: o.Vendor, log: o.Logger}
}

// Hello turns echo off and errors numeric (ATE0, AT+CMEE=1), the first
// refusal returned naming its command: all a short session (the CLI's
// direct mode, scan) needs before asking.
func (m *Modem) Hello(ctx context.Context) error { return hello(ctx, m.eng) }

// Quiet turns off the family's periodic status reports (see quietCommands).
func (m *Modem) Quiet(ctx context.Context) { quiet(ctx, m.eng, m.vendor, m.log) }

// Identity reads who the modem and its SIM are (see readIdentity) and
// remembers the vendor for what follows.
func (m *Modem) Identity(ctx context.Context) (Identity, error) {
	id, err := readIdentity(ctx, m.eng)
	if id.Manufacturer != "" {
		m.vendor = id.Vendor
	}
	return id, err
}

// SIM asks whether the SIM is there and open (AT+CPIN?).
func (m *Modem) SIM(ctx context.Context) (SIMStatus, error) { return simStatus(ctx, m.eng) }

// PINAttemptsLeft reads the PIN retry counter; -1 when the modem does not
// say.
func (m *Modem) PINAttemptsLeft(ctx context.Context) int { return pinAttemptsLeft(ctx, m.eng) }

// EnterPIN gives the SIM its PIN once. Whether to is the caller's policy.
func (m *Modem) EnterPIN(ctx context.Context, pin string) error { return enterPIN(ctx, m.eng, pin) }

// Registration reads the network registration (AT+CREG?).
func (m *Modem) Registration(ctx context.Context) (Registration, error) {
	return registration(ctx, m.eng)
}

// Signal reads the signal quality (AT+CSQ).
func (m *Modem) Signal(ctx context.Context) (atcmd.Signal, error) { return signal(ctx, m.eng) }

// USSD sends one USSD string and waits for the network's answer (see
// exchangeUSSD); a Huawei gets its AT^USSDMODE=0 retry.
func (m *Modem) USSD(ctx context.Context, text string, o USSDOptions) (ussd.Reply, error) {
	o.huawei = m.vendor == VendorHuawei
	return exchangeUSSD(ctx, m.eng, text, o)
}

// EndUSSD ends the modem's USSD session (AT+CUSD=2).
func (m *Modem) EndUSSD(ctx context.Context) error { return endUSSD(ctx, m.eng) }

// Charset is the modem's AT+CSCS setting ("GSM", "UCS2", ...), "" when it
// does not say.
func (m *Modem) Charset(ctx context.Context) string { return readCharset(ctx, m.eng) }
