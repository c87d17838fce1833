package config

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "500ms", want: 500 * time.Millisecond},
		{in: "1.5s", want: 1500 * time.Millisecond},
		{in: "10m", want: 10 * time.Minute},
		{in: "72h", want: 72 * time.Hour},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "250us", want: 250 * time.Microsecond},
		{in: "30d", want: 720 * time.Hour},
		{in: "1.5d", want: 36 * time.Hour},
		{in: "0.1d", want: 2*time.Hour + 24*time.Minute}, // exact, no float rounding
		{in: "1d12h", want: 36 * time.Hour},
		{in: "2d500ms", want: 48*time.Hour + 500*time.Millisecond},
		{in: "-1d", want: -24 * time.Hour},
		{in: " 5s ", want: 5 * time.Second},
		{in: "0", want: 0},
		{in: "0.0", want: 0},
		{in: "10", wantErr: `"10" has no unit; add one: "10s", "10m", "10h" or "10d"`},
		{in: "1.5", wantErr: `"1.5" has no unit; add one: "1.5s", "1.5m", "1.5h" or "1.5d"`},
		{in: "", wantErr: `empty; give a duration such as "90s", "10m", "72h" or "30d"`},
		{in: "fast", wantErr: `must be a duration such as "500ms", "90s", "10m", "72h" or "1.5d", got "fast"`},
		{in: "5 d", wantErr: `must be a duration such as "500ms", "90s", "10m", "72h" or "1.5d", got "5 d"`},
		{in: "d", wantErr: `must be a duration such as "500ms", "90s", "10m", "72h" or "1.5d", got "d"`},
		{in: "1..5d", wantErr: `must be a duration such as "500ms", "90s", "10m", "72h" or "1.5d", got "1..5d"`},
		{in: "1dx", wantErr: `must be a duration such as "500ms", "90s", "10m", "72h" or "1.5d", got "1dx"`},
		{in: "200000d", wantErr: `"200000d" is too long; the longest duration is about 106751d`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseDuration(%q) = %v, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * 24 * time.Hour:     "30d",
		100 * time.Hour:         "100h",
		90 * time.Minute:        "1h30m",
		5 * time.Minute:         "5m",
		1500 * time.Millisecond: "1.5s",
		0:                       "0s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
