package daemon

import "context"

// notifyReady tells systemd (Type=notify) the daemon is up: the store is open
// and the API listens.
func (d *Daemon) notifyReady() {}

// runWatchdog pets the systemd watchdog only while the scheduler, the store
// writer and the HTTP server all make progress, never tied to one modem.
func (d *Daemon) runWatchdog(ctx context.Context) {}
