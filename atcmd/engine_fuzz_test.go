package atcmd

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// FuzzEngine sends arbitrary modem output as the answer to AT+CSQ (followed
// by a filler line, which a +CMT in the input may take as its PDU, and OK)
// and checks that no indication leaks into the result and that the next
// command still gets exactly its own answer. The markers' prefixes are taken
// out of the input: a modem volunteering marker answers is outside the
// resync contract.
func FuzzEngine(f *testing.F) {
	for _, s := range []string{
		"\r\n+CSQ: 17,99\r\n",
		"AT+CSQ\r\r\n^RSSI:15\r\n+CSQ: 1,2\r\n",
		"\r\n+CMT: ,24\r\n0791\r\n",
		"\r\n> ",
		"\r\nRDY\r\n+CFUN: 1\r\n",
		"\r\n+CME ERROR: SIM busy\r\n",
		"\n\r+CSQ: 5,99ERROR\n\r",
		"\r\n+CUSD: 0,\"x\",15\r\n\r\nOK\r\n\r\n+CREG: 1\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, noise string) {
		// Kept within one Read, so that the noise cannot trail the final
		// result into the next command, which no real modem does.
		if len(noise) > 1024 {
			t.Skip()
		}
		// The fuzzer does not notice a hang; a panic it records as a crasher.
		watchdog := time.AfterFunc(10*time.Second, func() {
			stacks := make([]byte, 1<<20)
			panic(fmt.Sprintf("engine hung on %q\n%s", noise, stacks[:runtime.Stack(stacks, true)]))
		})
		defer watchdog.Stop()
		for _, p := range []string{"CSCS", "CMEE", "CMGF"} {
			noise = strings.ReplaceAll(noise, p, "")
		}
		m := newFakeModem(t)
		e := New(m.port, Options{ResyncTimeout: time.Second})
		defer e.Close()
		answered := make(chan struct{})
		go func() {
			defer close(answered)
			var buf string
			for p := range m.written {
				buf += strings.ReplaceAll(string(p), "\x1b", "")
				for {
					cmd, rest, ok := strings.Cut(buf, "\r")
					if !ok {
						break
					}
					buf = rest
					var reply string
					switch {
					case cmd == "AT+CSQ":
						reply = noise + "\r\nFILLER\r\n\r\nOK\r\n"
					case strings.HasPrefix(cmd, "AT+C") && strings.HasSuffix(cmd, "?"):
						reply = "\r\n" + cmd[2:len(cmd)-1] + ": 0\r\n\r\nOK\r\n"
					case cmd == "AT+CGMI":
						reply = "\r\nMAKER\r\n\r\nOK\r\n"
					}
					if _, err := m.toEngine.Write([]byte(reply)); err != nil {
						return
					}
				}
			}
		}()
		ctx, stop := context.WithTimeout(context.Background(), 2*time.Second)
		defer stop()
		lines, _ := e.Exec(ctx, "AT+CSQ")
		for _, l := range lines {
			if name := lineName(l); isURCName(name, nil) && !strings.EqualFold(name, "+CSQ") {
				t.Fatalf("indication %q in the result %q", l, lines)
			}
		}
		ctx2, stop2 := context.WithTimeout(context.Background(), 2*time.Second)
		defer stop2()
		got, err := e.Exec(ctx2, "AT+CGMI")
		if err != nil || !reflect.DeepEqual(got, []string{"MAKER"}) {
			t.Fatalf("next command after %q: %q, %v", noise, got, err)
		}
		e.Close()
		m.unplug()
		<-answered
	})
}
