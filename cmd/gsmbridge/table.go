package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// column is one column of a human table. Cells longer than max runes are
// cut with an ellipsis; max 0 keeps them whole.
type column struct {
	title string
	max   int
}

// table collects rows and prints them aligned. Cells are cleaned when added:
// texts come from strangers' phones and must not be able to move the cursor
// or fake extra rows on the operator's terminal.
type table struct {
	cols []column
	rows [][]string
}

func newTable(cols ...column) *table { return &table{cols: cols} }

// add appends a row; missing cells print as "-".
func (t *table) add(cells ...string) {
	row := make([]string, len(t.cols))
	for i, c := range t.cols {
		s := ""
		if i < len(cells) {
			s = cells[i]
		}
		row[i] = cleanCell(s, c.max)
	}
	t.rows = append(t.rows, row)
}

// write prints the header and the rows, aligned to the widest cell.
func (t *table) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	t.writeRow(tw, t.titles(), "\t")
	for _, r := range t.rows {
		t.writeRow(tw, r, "\t")
	}
	return tw.Flush()
}

// writeFixed prints the rows padded to each column's max, so that rows
// printed later (inbox --follow) line up with the ones printed before.
func (t *table) writeFixed(w io.Writer, header bool) error {
	var b strings.Builder
	if header {
		t.writeRow(&b, t.pad(t.titles()), " ")
	}
	for _, r := range t.rows {
		t.writeRow(&b, t.pad(r), " ")
	}
	t.rows = t.rows[:0]
	_, err := io.WriteString(w, b.String())
	return err
}

func (t *table) titles() []string {
	h := make([]string, len(t.cols))
	for i, c := range t.cols {
		h[i] = c.title
	}
	return h
}

func (t *table) pad(row []string) []string {
	out := make([]string, len(row))
	for i, s := range row {
		out[i] = s
		if n := utf8.RuneCountInString(s); i < len(row)-1 && n < t.cols[i].max {
			out[i] += strings.Repeat(" ", t.cols[i].max-n)
		}
	}
	return out
}

func (t *table) writeRow(w io.Writer, cells []string, sep string) {
	fmt.Fprintln(w, strings.Join(cells, sep))
}

// cleanCell makes s safe and short enough for one table cell: line breaks
// and tabs become spaces, other control and bidi-override characters
// become U+FFFD, and more than max runes (when max > 0) end in "…".
func cleanCell(s string, max int) string {
	if s == "" {
		return "-"
	}
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if max > 0 && len(out) == max {
			out[max-1] = '…'
			break
		}
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == '\v' || r == '\f':
			r = ' '
		case unicode.IsControl(r) || isBidiControl(r):
			r = utf8.RuneError
		}
		out = append(out, r)
	}
	return string(out)
}

// cleanText makes a text of many lines from outside (a network's USSD
// answer) safe to print: line breaks stay, as "\n"; tabs stay; every other
// control and bidi-override character becomes U+FFFD, so that the text cannot
// move the cursor or recolour the operator's terminal.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case unicode.IsControl(r) || isBidiControl(r):
			return utf8.RuneError
		}
		return r
	}, s)
}

// isBidiControl reports the embedding, override and isolate characters that
// reorder what follows them on screen.
func isBidiControl(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}

// timeCell shows a time in the local zone to the second; the zero time
// (never happened) prints as "-".
func timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
