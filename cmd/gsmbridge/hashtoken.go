package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/gsmbridge/gsmbridge/internal/config"
)

// minTokenLength is below what a random token has; shorter ones are
// probably made up by a person, and guessable.
const minTokenLength = 20

func runHashToken(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 && len(args) == 0 {
		fmt.Fprint(stderr, "token: ") // someone types it: say what is awaited
	}
	return hashToken(args, os.Stdin, stdout, stderr)
}

// hashToken prints the form a token is stored in under auth.tokens. The
// token is read from stdin when not given, so that it stays out of the
// shell's history.
func hashToken(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("hash-token", stdout, help{
		synopsis: "[--json] [TOKEN]",
		about: "Prints sha256:<hex> of TOKEN: the hash of an auth.tokens entry, beside its name\n" +
			"and scopes (docs/security.md). Without TOKEN it reads one line from stdin, which\n" +
			"keeps the token out of the shell history.",
		examples: []string{
			"openssl rand -hex 32 | tee token.txt | gsmbridge hash-token",
			"gsmbridge hash-token --json < token.txt",
		},
	})
	asJSON := fs.Bool("json", false, `print {"hash": "sha256:..."} instead of the bare hash`)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	var token string
	switch len(pos) {
	case 0:
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read the token from stdin: %w", err)
		}
		token = strings.TrimRight(line, "\r\n")
	case 1:
		token = pos[0]
	default:
		return usageError{"give one token, or none to read it from stdin"}
	}
	if strings.TrimSpace(token) != token {
		return usageError{"the token starts or ends with white space; clients would have to send it too"}
	}
	if token == "" {
		return usageError{"the token is empty"}
	}
	if utf8.RuneCountInString(token) < minTokenLength {
		fmt.Fprintf(stderr, "warning: a token of %d characters can be guessed; prefer a random one: openssl rand -hex 32\n", utf8.RuneCountInString(token))
	}
	if *asJSON {
		return writeJSONLine(stdout, map[string]string{"hash": config.HashToken(token)})
	}
	_, err = fmt.Fprintln(stdout, config.HashToken(token))
	return err
}
