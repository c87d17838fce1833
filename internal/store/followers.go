package store

import (
	"context"
)

// Followers read the event log in order and keep, durably, how far they
// got: webhooks do, and so do the fleet's publisher and claim finisher. A
// follower's cursor shares the webhooks' table under "follower:<name>", so
// that it never moves backwards either.

// FollowerEndpoint is the name a follower's cursor has among the webhooks'
// cursors, which is how retention is told to keep what it has not read.
func FollowerEndpoint(name string) string { return "follower:" + name }

// FollowerCursor returns the id of the last event the named follower
// handled, 0 for a follower never seen.
func (dl Deliveries) FollowerCursor(ctx context.Context, name string) (int64, error) {
	c, err := dl.GetWebhookCursor(ctx, FollowerEndpoint(name))
	return c.Cursor, err
}

// SaveFollowerCursor records that the named follower handled every event
// up to id.
func (dl Deliveries) SaveFollowerCursor(ctx context.Context, name string, id int64) error {
	return dl.SaveWebhookCursor(ctx, WebhookCursor{Endpoint: FollowerEndpoint(name), Cursor: id})
}
