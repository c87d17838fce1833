package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// crashClient talks to daemons that may die mid-request: a request that
// finds no daemon answers 0 rather than failing the test.
type crashClient struct{ http *http.Client }

func newCrashClient() *crashClient {
	return &crashClient{http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}}
}

func (c *crashClient) close() { c.http.CloseIdleConnections() }

// do sends body as JSON and decodes the answer into out; it returns the
// status code, or 0 when no answer came.
func (c *crashClient) do(method, url string, body, out any) int {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0
	}
	if out != nil {
		json.Unmarshal(b, out)
	}
	return resp.StatusCode
}
