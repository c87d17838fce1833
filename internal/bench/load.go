package bench

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/client"
)

// Text is message i's text: unique, so every PDU the simulator sees
// can be traced to the POST that asked for it, and exactly parts SMS long.
func Text(i, parts int) string {
	prefix := fmt.Sprintf("bench%07d ", i)
	if parts == 1 {
		return prefix + "payment confirmed"
	}
	// GSM 7-bit: 153 characters per concatenated part.
	return prefix + strings.Repeat("x", 153*(parts-1)+20-len(prefix))
}

// index reads i back from the text of a first part.
func index(text string) (int, bool) {
	if len(text) < 12 || !strings.HasPrefix(text, "bench") {
		return 0, false
	}
	i, err := strconv.Atoi(text[5:12])
	return i, err == nil
}

// traffic posts the messages and remembers when each POST began.
type traffic struct {
	sc       Scenario
	next     atomic.Int64
	refused  atomic.Int64
	mu       sync.Mutex
	started  map[int]time.Time // accepted messages: when their POST began
	first    time.Time
	lastDone time.Time
}

func newTraffic(sc Scenario) *traffic {
	return &traffic{sc: sc, started: map[int]time.Time{}}
}

func (l *traffic) acceptedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.started)
}

func (l *traffic) acceptSpan() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastDone.Sub(l.first)
}

// post runs the clients until the count or the duration is reached.
// Message i goes to host i modulo the hosts.
func (l *traffic) post(ctx context.Context, bases []string) error {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: l.sc.Concurrency}}
	defer hc.CloseIdleConnections()
	var cs []*client.Client
	for _, base := range bases {
		c, err := client.New(base, client.WithHTTPClient(hc), client.WithTimeout(30*time.Second))
		if err != nil {
			return err
		}
		defer c.Close()
		cs = append(cs, c)
	}
	begin := time.Now()
	var wg sync.WaitGroup
	for range l.sc.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(l.next.Add(1) - 1)
				if l.sc.Messages > 0 && i >= l.sc.Messages {
					return
				}
				if l.sc.Duration > 0 && time.Since(begin) >= l.sc.Duration {
					return
				}
				if l.sc.Rate > 0 {
					due := begin.Add(time.Duration(float64(i) / l.sc.Rate * float64(time.Second)))
					select {
					case <-time.After(time.Until(due)):
					case <-ctx.Done():
						return
					}
				}
				l.postOne(ctx, cs[i%len(cs)], i)
			}
		}()
	}
	wg.Wait()
	return nil
}

func (l *traffic) postOne(ctx context.Context, c *client.Client, i int) {
	start := time.Now()
	m, err := c.Messages.Send(ctx, api.NewMessage{To: "+79990000000", Text: Text(i, l.sc.Parts)}, "")
	done := time.Now()
	if err != nil || m.State != api.MessageQueued {
		l.refused.Add(1)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.started[i] = start
	if l.first.IsZero() || start.Before(l.first) {
		l.first = start
	}
	if done.After(l.lastDone) {
		l.lastDone = done
	}
}
