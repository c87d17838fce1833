package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestRunSim(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := runSim(ctx, []string{"--modems", "4"}, w, io.Discard)
		w.CloseWithError(err)
		done <- err
	}()
	lines := bufio.NewScanner(out)
	var paths []string
	wantOperators := []string{"MTS RUS\t25001", "MegaFon\t25002", "Beeline\t25099", "Tele2\t25020"}
	for i := 0; i < 4 && lines.Scan(); i++ {
		fields := strings.Split(lines.Text(), "\t")
		if len(fields) != 5 || !strings.Contains(lines.Text(), wantOperators[i]) || !strings.HasPrefix(fields[3], "+7") {
			t.Fatalf("line %d: %q", i+1, lines.Text())
		}
		paths = append(paths, fields[0])
	}
	if len(paths) != 4 {
		t.Fatalf("got %d modem lines: %v", len(paths), lines.Err())
	}
	f, err := os.OpenFile(paths[3], os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("AT\r")); err != nil {
		t.Fatal(err)
	}
	if err := f.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 64)
	for !strings.Contains(string(got), "\r\nOK\r\n") {
		nr, err := f.Read(buf)
		if err != nil {
			t.Fatalf("reading the answer to AT: %v (have %q)", err, got)
		}
		got = append(got, buf[:nr]...)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("runSim: %v", err)
	}
	if _, err := os.Lstat(paths[0]); !os.IsNotExist(err) {
		t.Errorf("%s survives the end of the simulation", paths[0])
	}
}

func TestRunSimConfig(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr string
		wantLines           int
	}{
		{"two modems", "- dialect: huawei\n  plmn: \"25001\"\n  noise_period: 5s\n- dialect: quectel\n  msisdn: \"+79031234567\"\n  plmn: \"25099\"\n", "", 2},
		{"unknown field", "- dialect: huawei\n  colour: red\n", "field colour not found", 0},
		{"unknown dialect", "- dialect: nokia\n", "unknown dialect", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t)
			file := filepath.Join(t.TempDir(), "sim.yaml")
			if err := os.WriteFile(file, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			out, w := io.Pipe()
			done := make(chan error, 1)
			go func() {
				err := runSim(ctx, []string{"--config", file}, w, io.Discard)
				w.CloseWithError(err)
				done <- err
			}()
			lines := bufio.NewScanner(out)
			for i := 0; i < tt.wantLines; i++ {
				if !lines.Scan() {
					t.Fatalf("line %d missing: %v", i+1, lines.Err())
				}
			}
			cancel()
			err := <-done
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("got error %v, want %q", err, tt.wantErr)
			}
		})
	}
}
