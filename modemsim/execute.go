package modemsim

import (
	"fmt"
	"strconv"
	"strings"
)

// A command line from the host: split into commands, each run through the
// handler table with its configured latency and faults, errors answered in
// the CMEE mode the host chose.

// maxCommandLog bounds the command times a modem remembers.
const maxCommandLog = 8192

// execute runs a command line. Lines not starting with AT are ignored, as
// modems do with line noise. Called with m.mu held.
func (m *Modem) execute(line string) *response {
	s := strings.TrimSpace(line)
	if len(s) < 2 || !strings.EqualFold(s[:2], "AT") {
		return nil
	}
	m.record.commands[s]++
	if len(m.record.cmdLog) == maxCommandLog {
		// A fleet served for days must not grow without end; tests look
		// at recent windows only.
		m.record.cmdLog = append(m.record.cmdLog[:0], m.record.cmdLog[maxCommandLog/2:]...)
	}
	m.record.cmdLog = append(m.record.cmdLog, loggedCommand{s, m.n.clock.Now()})
	cmds, err := splitCommands(s[2:])
	if err != nil {
		return &response{final: "ERROR"}
	}
	r := &response{final: "OK"}
	for _, c := range cmds {
		// AT+CMGS's latency is the network's answer to the PDU: it is
		// applied after the data, not to the prompt.
		if !strings.EqualFold(c.name, "+CMGS") {
			r.delay = max(r.delay, m.faults.latencyFor("AT"+c.text))
		}
		if final, ok := m.faults.takeFault("AT" + c.text); ok {
			r.final = final
			return r
		}
		h := handlers[c.name]
		if h == nil {
			r.final = "ERROR"
			return r
		}
		cr := h(m, c)
		r.lines = append(r.lines, cr.lines...)
		r.after = append(r.after, cr.after...)
		r.delay = max(r.delay, cr.delay)
		if cr.prompt {
			r.prompt, r.final = true, ""
			return r
		}
		if cr.final != "OK" {
			r.final = cr.final
			return r
		}
	}
	return r
}

// splitCommands splits what follows "AT" into basic (E0, Z, &F) and
// extended (+CMGF=0, ^CURC=0) commands; extended ones end at ';'.
func splitCommands(body string) ([]command, error) {
	var cmds []command
	for len(body) > 0 {
		ch := body[0]
		switch {
		case ch == ';' || ch == ' ':
			body = body[1:]
		case ch == '+' || ch == '^' || ch == '$':
			end := len(body)
			quoted := false
			for i := 1; i < len(body); i++ {
				if body[i] == '"' {
					quoted = !quoted
				}
				if body[i] == ';' && !quoted {
					end = i
					break
				}
			}
			cmds = append(cmds, parseExtended(body[:end]))
			body = body[end:]
		case isLetter(ch) || ch == '&':
			i := 1
			if ch == '&' {
				if len(body) < 2 || !isLetter(body[1]) {
					return nil, fmt.Errorf("bad basic command %q", body)
				}
				i = 2
			}
			name := strings.ToUpper(body[:i])
			if name == "S" {
				for i < len(body) && (isDigit(body[i]) || body[i] == '=' || body[i] == '?') {
					i++
				}
			} else {
				for i < len(body) && isDigit(body[i]) {
					i++
				}
			}
			c := command{text: strings.ToUpper(body[:i]), name: name}
			if arg := body[len(name):i]; arg != "" {
				c.args = []string{arg}
			}
			cmds = append(cmds, c)
			body = body[i:]
		default:
			return nil, fmt.Errorf("bad command %q", body)
		}
	}
	return cmds, nil
}

func parseExtended(s string) command {
	c := command{text: s}
	i := strings.IndexAny(s, "=?")
	if i < 0 {
		c.name = strings.ToUpper(strings.TrimSpace(s))
		return c
	}
	c.name = strings.ToUpper(strings.TrimSpace(s[:i]))
	rest := s[i:]
	switch {
	case rest == "?":
		c.op = '?'
	case strings.TrimSpace(rest) == "=?":
		c.op = 't'
	case rest[0] == '=':
		c.op = '='
		c.args = splitArgs(rest[1:])
	default:
		c.op = '?'
	}
	return c
}

// splitArgs splits on commas outside quotes, trimming spaces; quotes kept.
func splitArgs(s string) []string {
	var args []string
	quoted := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				args = append(args, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(args, strings.TrimSpace(s[start:]))
}

func isLetter(b byte) bool { return (b|0x20) >= 'a' && (b|0x20) <= 'z' }
func isDigit(b byte) bool  { return b >= '0' && b <= '9' }

// str returns argument i unquoted, "" when absent.
func (c *command) str(i int) string {
	if i >= len(c.args) {
		return ""
	}
	return strings.Trim(c.args[i], `"`)
}

// num returns argument i as a number; ok false when absent or not a number.
func (c *command) num(i int) (int, bool) {
	if i >= len(c.args) || c.args[i] == "" {
		return 0, false
	}
	v, err := strconv.Atoi(c.str(i))
	return v, err == nil
}

// numOr returns argument i, def when it is absent; ok false when malformed.
func (c *command) numOr(i, def int) (int, bool) {
	if i >= len(c.args) || c.args[i] == "" {
		return def, true
	}
	return c.num(i)
}
