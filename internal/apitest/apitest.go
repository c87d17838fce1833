// Package apitest holds the daemon's HTTP answers to its OpenAPI document.
// Tests wrap the daemon's handler with it (daemon.Options.Wrap), so every
// answer any test receives is checked: its status must be documented for
// the operation, its content type must be one the document names, and its
// body must match the schema. Only tests import it; kin-openapi stays out
// of the binary.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Checker checks answers against one document. It is safe for concurrent
// use once built.
type Checker struct {
	router routers.Router
	errors *openapi3.Schema // the body of every error answer
}

// NewChecker loads doc. Objects whose properties the document lists are
// closed for the check: a field the code sends but the document does not
// describe is drift, just as a missing one is.
func NewChecker(doc []byte) (*Checker, error) {
	spec, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	// Answers come from whatever address a test listens on.
	spec.Servers = nil
	router, err := legacy.NewRouter(spec)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	errSchema := spec.Components.Schemas["Error"]
	if errSchema == nil {
		return nil, errors.New("openapi: no components/schemas/Error")
	}
	closeObjects(spec)
	return &Checker{router: router, errors: errSchema.Value}, nil
}

// Check checks one answer to req. A path or method the document does not
// have must be answered with the usual error body: 404 or 405, or the
// browser guards' 403 or 415, which come before any route.
func (c *Checker) Check(req *http.Request, status int, header http.Header, body []byte) error {
	what := fmt.Sprintf("%s %s answered %d", req.Method, req.URL.Path, status)
	if req.Method == http.MethodHead {
		// ServeMux answers HEAD with the GET handler, body dropped.
		req = req.Clone(context.Background())
		req.Method = http.MethodGet
		if _, _, err := c.router.FindRoute(req); err == nil {
			return nil
		}
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		switch status {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusForbidden, http.StatusUnsupportedMediaType:
		default:
			return fmt.Errorf("%s, but the document has no such operation", what)
		}
		if status == http.StatusMethodNotAllowed && header.Get("Allow") == "" {
			return fmt.Errorf("%s without an Allow header", what)
		}
		return c.checkError(what, header, body)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus:   true,
		MultiError:              true,
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.EnableFormatValidation()},
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 status,
		Header:                 header,
		Options:                opts,
	}
	in.SetBodyBytes(body)
	ct := header.Get("Content-Type")
	resp := route.Operation.Responses.Status(status)
	if !isJSON(ct) {
		// Pages and metrics are text the schema cannot say much of; their
		// status and content type are still checked.
		opts.ExcludeResponseBody = true
		if resp != nil && len(resp.Value.Content) > 0 && resp.Value.Content.Get(ct) == nil {
			return fmt.Errorf("%s with content type %q, which the document does not list", what, ct)
		}
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	// kin-openapi lets a body through where the document describes none.
	if resp != nil && len(resp.Value.Content) == 0 && len(body) > 0 {
		return fmt.Errorf("%s with a %s body the document does not describe", what, ct)
	}
	return nil
}

func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.TrimSpace(mt) == "application/json"
}

func (c *Checker) checkError(what string, header http.Header, body []byte) error {
	if ct := header.Get("Content-Type"); !isJSON(ct) {
		return fmt.Errorf("%s with content type %q, not the JSON error", what, ct)
	}
	v, err := decodeJSON(body)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := c.errors.VisitJSON(v); err != nil {
		return fmt.Errorf("%s: not the error body: %w", what, err)
	}
	return nil
}

func decodeJSON(body []byte) (any, error) {
	var v any
	err := json.Unmarshal(body, &v)
	return v, err
}

// Wrap returns a handler that checks every answer h gives and hands each
// drift to report.
func (c *Checker) Wrap(h http.Handler, report func(error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if r.Context().Err() != nil {
			// The client left (a long poll given up): whatever the
			// handler wrote, nobody received it.
			return
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		// The request as the client sent it: the handler may have read
		// and replaced its body, which the check does not need.
		probe := r.Clone(context.Background())
		probe.Body = io.NopCloser(bytes.NewReader(nil))
		if err := c.Check(probe, rec.status, w.Header(), rec.body.Bytes()); err != nil {
			report(err)
		}
	})
}

// Middleware is daemon.Options.Wrap for a test: every answer that drifts
// from the document fails t, naming the request.
func (c *Checker) Middleware(t testing.TB) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return c.Wrap(h, func(err error) { t.Errorf("API answer drifts from the OpenAPI document: %v", err) })
	}
}

// recorder passes an answer through and keeps a copy of it.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection (deadlines,
// flushing) through the recorder.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
