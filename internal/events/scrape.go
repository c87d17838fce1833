package events

import (
	"context"
	"net/url"
	"strconv"

	"github.com/gsmbridge/gsmbridge/internal/config"
	"github.com/gsmbridge/gsmbridge/internal/scrape"
	"github.com/gsmbridge/gsmbridge/internal/store"
)

var webhookDefs = []scrape.Def{
	{Name: "webhook_backlog_events", Help: "Events the endpoint selects that are not delivered yet.", Labels: []string{"endpoint"}},
	{Name: "webhook_dead_letters", Help: "Events the endpoint gave up on.", Labels: []string{"endpoint"}},
	{Name: "webhook_head_attempts", Help: "Delivery attempts so far of the event the endpoint is stuck on.", Labels: []string{"endpoint"}},
}

// ScrapeWebhooks reads each configured endpoint's backlog, dead letters and
// attempts on its head event at scrape time, every endpoint always
// emitted.
func (e *Events) ScrapeWebhooks() scrape.Part {
	return scrape.Part{Name: "webhooks", Defs: webhookDefs, Collect: e.collectWebhooks}
}

func (e *Events) collectWebhooks(ctx context.Context, em scrape.Emitter) error {
	labels := endpointLabels(e.webhooks)
	for i, wh := range e.webhooks {
		ep := labels[i]
		cur, err := e.deliveries.GetWebhookCursor(ctx, wh.URL)
		if err != nil {
			return err
		}
		backlog, err := e.eventLog.CountEvents(ctx, cur.Cursor, store.EventTypes(wh.Events))
		if err != nil {
			return err
		}
		dead, err := e.deliveries.CountDeadLetters(ctx, wh.URL)
		if err != nil {
			return err
		}
		em.Gauge("webhook_backlog_events", float64(backlog), ep)
		em.Gauge("webhook_dead_letters", float64(dead), ep)
		em.Gauge("webhook_head_attempts", float64(cur.Attempts), ep)
	}
	return nil
}

// endpointLabel shows where a webhook goes without what may authenticate it:
// user info and query strings are dropped.
func endpointLabel(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "invalid"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// endpointLabels labels each configured webhook by endpointLabel, and by
// its index in the configuration too ("https://hooks.example.com/gsm #1")
// where that label alone would be another webhook's as well: two series
// with one label set make the registry drop the second from every scrape.
func endpointLabels(hooks []config.Webhook) []string {
	out := make([]string, len(hooks))
	n := map[string]int{}
	for i, wh := range hooks {
		out[i] = endpointLabel(wh.URL)
		n[out[i]]++
	}
	for i := range out {
		if n[out[i]] > 1 {
			out[i] += " #" + strconv.Itoa(i)
		}
	}
	return out
}
