package modemsim

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/tpdu"

	gsmsms "github.com/gsmbridge/gsmbridge/sms"
)

// PhoneRule is how a customer's phone answers an SMS it receives.
type PhoneRule struct {
	// Match limits the rule to messages containing this text
	// (case-insensitive); "" matches every message.
	Match string
	// Reply is the text sent back to the SIM the message came from.
	Reply string
	// After is the virtual time the customer takes to answer.
	After time.Duration
	// Never marks a customer who reads but never answers.
	Never bool
}

// Message is an SMS as a phone saw it, reassembled.
type Message struct {
	From, To string
	Text     string
	Parts    int
	Time     time.Time
}

// Phones are the customer phones of a network: numbers without a simulated
// SIM that receive what the modems send and answer by rule. All methods are
// safe for concurrent use.
type Phones struct {
	n      *Network
	mu     sync.Mutex
	phones map[string]*phone // by normalised number
}

type phone struct {
	number string
	rules  []PhoneRule
	inbox  []Message
	outbox []Message
	parts  map[concatKey][]*tpdu.TPDU
}

// Phones returns the network's customer phones.
func (n *Network) Phones() *Phones { return n.phones }

// Add puts a customer phone into the network. Calling it again for the
// same number adds another rule; the first rule that matches answers.
func (ps *Phones) Add(msisdn string, rule PhoneRule) {
	key := normalise(msisdn)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.phones[key]
	if p == nil {
		p = &phone{number: "+" + key, parts: map[concatKey][]*tpdu.TPDU{}}
		ps.phones[key] = p
	}
	p.rules = append(p.rules, rule)
}

// Inbox returns what a phone has received so far, oldest first.
func (ps *Phones) Inbox(msisdn string) []Message {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.phones[normalise(msisdn)]
	if p == nil {
		return nil
	}
	return append([]Message(nil), p.inbox...)
}

// Outbox returns what a phone has sent so far (its replies and whatever
// Send sent from its number), oldest first: the network's record of what
// the customer answered, for tests that check the host's reading of it.
func (ps *Phones) Outbox(msisdn string) []Message {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.phones[normalise(msisdn)]
	if p == nil {
		return nil
	}
	return append([]Message(nil), p.outbox...)
}

// Numbers lists the customer phones, sorted.
func (ps *Phones) Numbers() []string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := make([]string, 0, len(ps.phones))
	for _, p := range ps.phones {
		out = append(out, p.number)
	}
	sort.Strings(out)
	return out
}

// receive files one part of an SMS for a phone; false when no such phone
// exists. A complete message lands in the inbox and may be answered.
func (ps *Phones) receive(from, to string, t *tpdu.TPDU) bool {
	n := ps.n
	ps.mu.Lock()
	p := ps.phones[to]
	if p == nil {
		ps.mu.Unlock()
		return false
	}
	segments := []*tpdu.TPDU{t}
	if total, seq, ref, ok := t.ConcatInfo(); ok && total > 1 {
		key := concatKey{from: from, to: to, ref: ref, total: total}
		parts := p.parts[key]
		for _, q := range parts {
			if _, s, _, _ := q.ConcatInfo(); s == seq {
				ps.mu.Unlock()
				return true // a duplicate part: handsets drop it
			}
		}
		parts = append(parts, t)
		if len(parts) < total {
			p.parts[key] = parts
			ps.mu.Unlock()
			return true
		}
		delete(p.parts, key)
		sort.Slice(parts, func(i, j int) bool {
			_, a, _, _ := parts[i].ConcatInfo()
			_, b, _, _ := parts[j].ConcatInfo()
			return a < b
		})
		segments = parts
	}
	text, err := sms.Decode(segments)
	if err != nil {
		n.log.Warn("sim: phone cannot decode an SMS", "err", err)
	}
	msg := Message{From: "+" + normalise(from), To: p.number, Text: string(text), Parts: len(segments), Time: n.clock.Now()}
	p.inbox = append(p.inbox, msg)
	var reply *PhoneRule
	for i := range p.rules {
		r := p.rules[i]
		if r.Match == "" || strings.Contains(strings.ToLower(msg.Text), strings.ToLower(r.Match)) {
			reply = &r
			break
		}
	}
	ps.mu.Unlock()
	if reply != nil && !reply.Never && reply.Reply != "" {
		n.after(reply.After, func() {
			if err := ps.Send(p.number, from, reply.Reply); err != nil {
				n.log.Warn("sim: phone reply not sent", "err", err)
			}
		})
	}
	return true
}

// Send sends an SMS from any number to a simulated SIM; long texts go as
// concatenated parts, GSM 7-bit when the text allows, else UCS-2.
func (ps *Phones) Send(from, to, text string) error {
	n := ps.n
	if n.modemByNumber(to) == nil {
		return fmt.Errorf("sim: no SIM with number %s", gsmsms.MaskNumber(to))
	}
	n.mu.Lock()
	pdus, err := n.encoder.Encode([]byte(text), sms.From("+"+normalise(from)))
	n.mu.Unlock()
	if err != nil {
		return fmt.Errorf("sim: encoding SMS from %s: %w", gsmsms.MaskNumber(from), err)
	}
	key := normalise(to)
	ps.mu.Lock()
	if p := ps.phones[normalise(from)]; p != nil {
		p.outbox = append(p.outbox, Message{From: p.number, To: "+" + key, Text: text, Parts: len(pdus), Time: n.clock.Now()})
	}
	ps.mu.Unlock()
	n.after(n.opts.DeliveryDelay, func() {
		order := make([]int, len(pdus))
		for i := range order {
			order[i] = i
			if n.opts.ReverseParts {
				order[i] = len(pdus) - 1 - i
			}
		}
		for _, i := range order {
			p := pdus[i]
			p.SCTS = tpdu.Timestamp{Time: n.moscowNow()}
			p.FirstOctet |= tpdu.FoMMS
			b, err := p.MarshalBinary()
			if err != nil {
				n.log.Error("sim: encoding SMS-DELIVER", "err", err)
				return
			}
			n.deliver(delivery{to: key, tpdu: b})
		}
	})
	return nil
}
