package daemon

import "context"

// ussdRoutes serve USSD sessions and SIM balances.
var ussdRoutes = []route{}

// runBalances runs the scheduled, staggered balance checks until ctx ends.
func (d *Daemon) runBalances(ctx context.Context) {}
