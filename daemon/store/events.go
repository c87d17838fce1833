package store

import "context"

// AppendEvent adds an event about an object that is not stored in its own
// table (a modem going down, a SIM swap), with the object as its payload.
func (s *Store) AppendEvent(ctx context.Context, typ, kind, objectID string, seq int, object any) error {
	return s.Write(ctx, func(t *Tx) error { return appendEvent(t, typ, kind, objectID, seq, object) })
}
