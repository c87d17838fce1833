package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	_ "modernc.org/sqlite"
)

// measureHost posts messages at rate to a child that does the least a host
// does per SMS, and prints the child's CPU per message.
func measureHost(ctx context.Context, stdout io.Writer, messages int, rate float64, latency time.Duration) error {
	c, err := startChild("host", "--latency", latency.String())
	if err != nil {
		return err
	}
	addr, err := c.line()
	if err != nil {
		return fmt.Errorf("host: %w", err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	start := time.Now()
	for range messages {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		resp, err := client.Post("http://"+addr+"/v1/messages", "application/json",
			strings.NewReader(`{"to":"+79161234567","text":"Платёж 1234 на 500 руб. Ответьте 0 для отмены"}`))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("host answered %s", resp.Status)
		}
	}
	last, _, err := c.stop()
	if err != nil {
		return err
	}
	var sent int
	var cpu time.Duration
	if _, err := fmt.Sscanf(last, "sent %d cpu %d", &sent, &cpu); err != nil {
		return fmt.Errorf("host said %q: %w", last, err)
	}
	fmt.Fprintf(stdout, "floor host: %d messages at %.1f/s over %s, port answering in %s: %d sent, %s CPU, %s per message\n",
		messages, rate, time.Since(start).Round(time.Millisecond), latency, sent, cpu.Round(time.Millisecond), perMessage(cpu, messages))
	return nil
}

// serveHost is the child: each POST is one durable commit before its
// answer, then one before its write to the port, as on a host (the
// "sent" record of one rides the next one's "sending" commit there).
func serveHost(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	latency := 500 * time.Millisecond
	if len(args) == 2 && args[0] == "--latency" {
		d, err := time.ParseDuration(args[1])
		if err != nil {
			return err
		}
		latency = d
	}
	dir, err := os.MkdirTemp("", "floor-host-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "floor.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		"CREATE TABLE messages (id TEXT PRIMARY KEY, state TEXT, recipient TEXT, body TEXT, updated_at INTEGER)",
		"CREATE TABLE events (id INTEGER PRIMARY KEY, type TEXT, object_id TEXT, payload TEXT)",
	} {
		if _, err := db.Exec(q); err != nil {
			return err
		}
	}
	// The port: what is written comes out at the far end, which answers
	// after latency, as a modem answers AT+CMGS.
	toModem, modemIn, err := os.Pipe()
	if err != nil {
		return err
	}
	fromModem, modemOut, err := os.Pipe()
	if err != nil {
		return err
	}
	go func() {
		buf := make([]byte, 512)
		for {
			if _, err := toModem.Read(buf); err != nil {
				modemOut.Close()
				return
			}
			time.Sleep(latency)
			if _, err := modemOut.Write([]byte("\r\n+CMGS: 17\r\n\r\nOK\r\n")); err != nil {
				return
			}
		}
	}()
	queue := make(chan string, 1<<16)
	var sent atomic.Int64
	sending := make(chan struct{})
	go func() {
		defer close(sending)
		buf := make([]byte, 512)
		for id := range queue {
			begin := func(tx *sql.Tx) error {
				_, err := tx.Exec("UPDATE messages SET state='sending', updated_at=? WHERE id=?", time.Now().UnixMilli(), id)
				return err
			}
			if err := commit(db, begin, id, "message.sending"); err != nil {
				fmt.Fprintln(os.Stderr, "floor host:", err)
				return
			}
			if _, err := modemIn.Write([]byte("0011000B919761214365F70008AA2C041F043B0430044204510436002000310032003300340020043D0430002000350030003000200440044304310020\x1a")); err != nil {
				return
			}
			if _, err := fromModem.Read(buf); err != nil {
				return
			}
			sent.Add(1)
		}
	}()
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/messages", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ To, Text string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.To == "" {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		id := "msg_" + strconv.FormatInt(n.Add(1), 10)
		accept := func(tx *sql.Tx) error {
			_, err := tx.Exec("INSERT INTO messages (id, state, recipient, body, updated_at) VALUES (?, 'queued', ?, ?, ?)",
				id, req.To, req.Text, time.Now().UnixMilli())
			return err
		}
		if err := commit(db, accept, id, "message.queued"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		queue <- id
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "state": "queued"})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)
	before := selfCPU()
	fmt.Fprintln(stdout, ln.Addr())
	waitStdin(stdin)
	// Every POST was answered, so every message is queued: the last one's
	// send ends the measure.
	close(queue)
	<-sending
	fmt.Fprintf(stdout, "sent %d cpu %d\n", sent.Load(), selfCPU()-before)
	return nil
}

// commit is one transaction: a change of the message and its event.
func commit(db *sql.DB, change func(*sql.Tx) error, id, event string) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := change(tx); err != nil {
		return err
	}
	if _, err := tx.Exec("INSERT INTO events (type, object_id, payload) VALUES (?, ?, ?)", event, id,
		`{"id":"`+id+`","state":"`+strings.TrimPrefix(event, "message.")+`","to":"+7916***4567"}`); err != nil {
		return err
	}
	return tx.Commit()
}

// selfCPU is this process's user and system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
