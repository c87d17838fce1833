package store

// confirmationOnMessage runs inside the transaction that changed a message's
// state, so a confirmation's state follows its SMS atomically.
func confirmationOnMessage(t *Tx, m *Message) error { return nil }

// confirmationOnReceived runs inside the transaction that stored a received
// SMS, so a reply resolves its confirmation atomically.
func confirmationOnReceived(t *Tx, m *InboxMessage) error { return nil }
