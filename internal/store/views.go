package store

import "github.com/gsmbridge/gsmbridge/api"

// The store's rows carry no JSON: what the API and the event payloads show
// of them is the api type, converted here, so the wire format has one home.

// MessageView is what the API shows of m; the hold, if any, is the
// scheduler's to add.
func MessageView(m *Message) api.Message {
	v := api.Message{
		ID: m.ID, Reference: m.Reference, To: m.To, Text: m.Text, TextBlanked: m.TextBlanked,
		Encoding: m.Encoding, Parts: m.Parts, PinnedModem: m.PinModem, PinnedOperator: m.PinOperator,
		Report: m.Report, State: m.State, Version: m.Seq, ICCID: m.ICCID, Modem: m.ModemID,
		Attempts: m.Attempts, NextAttemptAt: m.NextAttempt, CreatedAt: m.CreatedAt, ExpiresAt: m.ExpiresAt,
		UpdatedAt: m.UpdatedAt, SentAt: m.SentAt, FinalAt: m.FinalAt, ReportOverdue: m.ReportOverdue,
	}
	if m.Error != nil {
		v.LastError = &api.ErrorInfo{Code: m.Error.Code, Message: m.Error.Message}
	}
	if m.PartList != nil {
		v.PartList = make([]api.Part, len(m.PartList))
		for i, p := range m.PartList {
			v.PartList[i] = api.Part{Seq: p.Seq, State: p.State, MR: p.MR, SentAt: p.SentAt, ReportAt: p.ReportAt, ReportStatus: p.ReportStatus}
		}
	}
	return v
}

// ConfirmationView is what the API shows of c; the hold of its SMS, if
// any, is the scheduler's to add.
func ConfirmationView(c *Confirmation) api.Confirmation {
	return api.Confirmation{
		ID: c.ID, Phone: c.Phone, Txn: c.Txn, Amount: c.Amount, Currency: c.Currency,
		CustomerOperator: c.CustomerOperator, Text: c.Text, State: c.State,
		Version: c.Version, Reason: c.Reason, MessageID: c.MessageID, ICCID: c.ICCID, ReplyInboxID: c.ReplyID,
		Parts: c.Parts, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt, SentAt: c.SentAt, FinalAt: c.FinalAt,
		UpdatedAt: c.UpdatedAt,
	}
}

// SIMView is what the API shows of s.
func SIMView(s *SIM) api.SIM {
	return api.SIM{
		ICCID: s.ICCID, IDSource: s.IDSource, IMSI: s.IMSI, MSISDN: s.MSISDN, PLMN: s.PLMN, SMSC: s.SMSC,
		Modem: s.ModemID, State: s.State, StateReason: s.StateReason, StateSince: s.StateSince,
		FailStreak: s.FailStreak, Version: s.Seq, ReceiveStalled: s.ReceiveStalled, LastSentAt: s.LastSentAt,
		LastReceivedAt: s.LastReceivedAt, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen,
	}
}

// InboxView is what the API shows of a received SMS.
func InboxView(m *InboxMessage) api.InboxMessage {
	return api.InboxMessage{
		ID: m.ID, ICCID: m.ICCID, Modem: m.ModemID, From: m.Sender, Text: m.Text, Blanked: m.Blanked,
		Encoding: m.Encoding, Plain: m.Plain, Complete: m.Complete, Parts: m.Parts, SCTS: m.SCTS,
		ReceivedAt: m.ReceivedAt,
	}
}

// BalanceView is what the API shows of a balance reading; nil stays nil.
func BalanceView(b *Balance) *api.Balance {
	if b == nil {
		return nil
	}
	return &api.Balance{
		ICCID: b.ICCID, Modem: b.ModemID, Amount: b.Amount, Currency: b.Currency, Parsed: b.Parsed,
		Text: b.Text, Raw: b.Raw, Source: b.Source, CheckedAt: b.CheckedAt,
	}
}

// BalanceStateView is what the API shows of a SIM's balance checks.
func BalanceStateView(s BalanceState) api.BalanceState {
	return api.BalanceState{
		Low: s.Low, LowSince: s.LowSince, NextCheck: s.NextCheck, Checks: s.Checks,
		ParseFailures: s.ParseFailures, CheckFailures: s.CheckFailures, LastError: s.LastError,
		LastErrorAt: s.LastErrorAt,
	}
}

// USSDSessionView is what the API shows of a USSD session.
func USSDSessionView(u *USSDSession) api.USSDSession {
	return api.USSDSession{
		ID: u.ID, Modem: u.ModemID, ICCID: u.ICCID, Purpose: u.Purpose, State: u.State,
		StartedAt: u.StartedAt, ExpiresAt: u.ExpiresAt, ClosedAt: u.ClosedAt, CloseReason: u.CloseReason,
	}
}

// EventView is what the API and webhooks show of an event.
func EventView(e *Event) api.Event {
	return api.Event{
		ID: e.ID, Type: e.Type, Object: api.EventObject{Kind: e.Object.Kind, ID: e.Object.ID, Seq: e.Object.Seq},
		CreatedAt: e.CreatedAt, Actor: e.Actor, Data: e.Data,
	}
}

// DeadLetterView is what the API shows of a dead letter; which webhook it
// belongs to is the caller's to add.
func DeadLetterView(l *DeadLetter) api.DeadLetter {
	return api.DeadLetter{
		ID: l.ID, EventID: l.EventID, EventType: l.EventType, Attempts: l.Attempts,
		FirstTry: l.FirstTry, LastError: l.LastError, CreatedAt: l.CreatedAt,
	}
}

// UsageView is what the API shows of the database's size.
func UsageView(u Usage) api.Storage {
	return api.Storage{DatabaseBytes: u.DatabaseBytes, WALBytes: u.WALBytes, ReclaimableBytes: u.ReclaimableBytes, FreeBytes: u.FreeBytes}
}
