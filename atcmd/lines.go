package atcmd

import "strings"

// maxLineLen bounds one line so that a modem spewing garbage without line
// ends cannot grow memory without limit; longer runs are cut into pieces.
const maxLineLen = 16 << 10

// token is one unit the modem sent: a text line, or the "> " prompt of a
// two-step command, which has no line end.
type token struct {
	line   string
	prompt bool
}

// splitter turns the modem's byte stream into tokens. Any CR or LF ends a
// line, so \r\n, \n\r, lone \r and lone \n all work and the empty lines they
// leave between them are dropped. A '>' at the start of a line is the prompt;
// one space after it is swallowed, also when it arrives in a later Read.
// The zero value is ready to use; it is not safe for concurrent use.
type splitter struct {
	buf         []byte
	afterPrompt bool
}

// feed consumes p and appends the complete tokens it yields to out.
func (s *splitter) feed(p []byte, out []token) []token {
	for _, b := range p {
		if s.afterPrompt {
			s.afterPrompt = false
			if b == ' ' {
				continue
			}
		}
		switch {
		case b == '\r' || b == '\n':
			out = s.flush(out)
		case b == 0:
			// Some modems emit NULs around power transitions; they are never text.
		case b == '>' && len(s.buf) == 0:
			out = append(out, token{prompt: true})
			s.afterPrompt = true
		default:
			s.buf = append(s.buf, b)
			if len(s.buf) >= maxLineLen {
				out = s.flush(out)
			}
		}
	}
	return out
}

func (s *splitter) flush(out []token) []token {
	// Spaces around a line carry no meaning (some firmware pads identity
	// answers), and a line of spaces is as blank as an empty one.
	if line := strings.TrimSpace(string(s.buf)); line != "" {
		out = append(out, token{line: line})
	}
	s.buf = s.buf[:0]
	return out
}
