package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gsmbridge/gsmbridge/api"
	"github.com/gsmbridge/gsmbridge/client"
	"github.com/gsmbridge/gsmbridge/ussd"
)

// ussdTurn is one answer of the network.
type ussdTurn struct {
	text string
	open bool   // the network waits for a reply
	json []byte // the API's answer, printed instead of text under --json
}

// ussdConversation is a USSD session through the daemon or on a modem.
type ussdConversation interface {
	send(ctx context.Context, s string) (ussdTurn, error)
	end(ctx context.Context) error
}

func runUSSD(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return ussdCommand(ctx, args, os.Stdin, stdout, stderr)
}

// ussdCommand is runUSSD with its input given, for tests.
func ussdCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("ussd", stdout, help{
		synopsis: "(--modem ID|NAME | --port DEVICE) CODE",
		about: "Sends a USSD code and prints the network's answer. When the network shows a menu, type the\n" +
			"item's number; an empty line, end of input or Ctrl-C ends the session (AT+CUSD=2).\n" +
			"--modem goes through the running daemon, which allows only the operators' balance and\n" +
			"own-number codes and ussd.allow; --port talks straight to a modem no other program holds.",
		examples: []string{
			"gsmbridge ussd --modem sim0 '*111#'       # serve --modemsim: the simulator's menu; type 1",
			"gsmbridge ussd --modem 867612031000007 '*100#'",
			"gsmbridge ussd --port /dev/ttyUSB2 '*100#' --json",
		},
	})
	cf := addClientFlags(fs)
	modem := fs.String("modem", "", "modem id or name (as `gsmbridge modems` shows them): go through the daemon")
	port := fs.String("port", "", "AT port of a modem (/dev/ttyUSB2): talk to it directly, with no daemon")
	dialect := fs.String("dialect", "", "direct mode: how to write the code: text, ucs2 or gsm7hex (default: from the modem)")
	reply := fs.Duration("reply-timeout", 60*time.Second, "direct mode: how long to wait for the network")
	procRoot := fs.String("proc", "/proc", "where to look for processes holding the port")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"want exactly one USSD code, such as '*100#'"}
	}
	code := pos[0]
	if err := ussd.ValidCode(code); err != nil {
		return usageError{err.Error()}
	}
	if (*modem == "") == (*port == "") {
		return usageError{"give either --modem (through the daemon) or --port (straight to a modem)"}
	}
	lines := readLines(stdin)
	defer lines.stop()
	if *port != "" {
		m, err := openDirect(ctx, *port, *procRoot, *dialect, *reply, stderr)
		if err != nil {
			return err
		}
		defer m.Close()
		return converse(ctx, directConversation{m: m, json: cf.json}, code, lines, stdout, stderr)
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	defer c.Close()
	id, err := resolveModem(ctx, c, *modem)
	if err != nil {
		return err
	}
	// A USSD answer takes up to a minute; the shared --timeout default is
	// for quick reads.
	c.atLeast(2 * time.Minute)
	return converse(ctx, &daemonConversation{c: c, modem: id, json: cf.json}, code, lines, stdout, stderr)
}

// converse sends code and walks the menus the network shows, reading each
// answer from lines.
func converse(ctx context.Context, conv ussdConversation, code string, lines *lineReader, stdout, stderr io.Writer) error {
	turn, err := withProgress(stderr, func() (ussdTurn, error) { return conv.send(ctx, code) })
	for {
		if err != nil {
			if ctx.Err() != nil {
				endQuietly(ctx, conv)
			}
			return err
		}
		if turn.json != nil {
			stdout.Write(turn.json)
		} else {
			fmt.Fprintln(stdout, cleanText(turn.text))
		}
		if !turn.open {
			return nil
		}
		var answer string
		for {
			fmt.Fprint(stderr, "reply (empty line ends the session): ")
			select {
			case <-ctx.Done():
				endQuietly(ctx, conv)
				return ctx.Err()
			case line, ok := <-lines.c:
				answer = strings.TrimSpace(line)
				if !ok || answer == "" {
					return conv.end(ctx)
				}
			}
			if err := ussd.ValidCode(answer); err != nil {
				fmt.Fprintf(stderr, "%v; type digits, * or #\n", err)
				continue
			}
			break
		}
		turn, err = withProgress(stderr, func() (ussdTurn, error) { return conv.send(ctx, answer) })
	}
}

// endQuietly ends the session after ctx ended (Ctrl-C), on a short context
// of its own.
func endQuietly(ctx context.Context, conv ussdConversation) {
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	conv.end(ectx)
}

// withProgress shows on stderr that the network is being waited for: USSD
// answers take seconds, and a silent terminal looks hung. Only a terminal
// gets the running count, which rewrites its line; anything else gets one
// plain line.
func withProgress(stderr io.Writer, fn func() (ussdTurn, error)) (ussdTurn, error) {
	const waiting = "waiting for the network's answer..."
	if !isTerminal(stderr) {
		fmt.Fprintln(stderr, waiting)
		return fn()
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		fmt.Fprint(stderr, waiting)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(stderr, "\r\033[K") // back to the line's start, and clear it
				return
			case now := <-t.C:
				fmt.Fprintf(stderr, "\r%s %ds", waiting, int(now.Sub(start).Seconds()))
			}
		}
	}()
	turn, err := fn()
	close(done)
	wg.Wait()
	return turn, err
}

// lineReader hands stdin's lines over a channel so that a prompt can also
// end on Ctrl-C. Its goroutine ends at end of input; a terminal's stdin
// stays blocked until the process exits, which is when the CLI is done.
type lineReader struct {
	c    chan string
	quit chan struct{}
	once sync.Once
}

func readLines(r io.Reader) *lineReader {
	l := &lineReader{c: make(chan string), quit: make(chan struct{})}
	go func() {
		defer close(l.c)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case l.c <- sc.Text():
			case <-l.quit:
				return
			}
		}
	}()
	return l
}

func (l *lineReader) stop() { l.once.Do(func() { close(l.quit) }) }

// daemonConversation runs a session through the daemon's API.
type daemonConversation struct {
	c       *apiClient
	modem   string
	session string
	json    bool
}

func (d *daemonConversation) send(ctx context.Context, s string) (ussdTurn, error) {
	path, body := "/v1/modems/"+url.PathEscape(d.modem)+"/ussd", any(api.USSDRequest{Code: s})
	if d.session != "" {
		path, body = "/v1/ussd/"+url.PathEscape(d.session)+"/reply", api.USSDReply{Text: s}
	}
	var a api.USSDAnswer
	data, err := d.c.doJSON(ctx, client.Request{Method: http.MethodPost, Path: path, Body: body}, &a)
	if err != nil {
		return ussdTurn{}, err
	}
	d.session = a.SessionID
	turn := ussdTurn{text: a.Text, open: a.Open}
	if d.json {
		turn.json = data
	}
	return turn, nil
}

func (d *daemonConversation) end(ctx context.Context) error {
	if d.session == "" {
		return nil
	}
	_, err := d.c.do(ctx, client.Request{Method: http.MethodDelete, Path: "/v1/ussd/" + url.PathEscape(d.session)})
	return err
}
