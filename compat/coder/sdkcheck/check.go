// The check runner: each check is named, runs once, and becomes one JSON line; API errors are
// compared with Coder's exact status and message; every JSON body the SDK decoded is kept for the
// strict field check.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/coder/coder/v2/codersdk"
)

type result struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

type runner struct {
	ctx                 context.Context
	cfg                 config
	owner, member, anon *codersdk.Client
	rec                 *recorder
	fields              *fieldLog
	out                 *json.Encoder
	wait                time.Duration
}

// check runs fn as the check `name` and prints its line; a panic in the SDK fails the check only.
func (r *runner) check(name string, fn func() error) bool {
	return r.checkNoted(name, func() (string, error) { return "", fn() })
}

// checkNoted is check for a check that has something to say when it passes.
func (r *runner) checkNoted(name string, fn func() (string, error)) bool {
	var note string
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		note, err = fn()
	}()
	res := result{Name: name, OK: err == nil, Detail: note}
	if err != nil {
		res.Detail = err.Error()
	}
	_ = r.out.Encode(res)
	return err == nil
}

// checkCall is the check of one SDK call that should succeed: its answer is recorded for the
// field check, then judged by verify.
func checkCall[T any](r *runner, name string, call func() (T, error), verify func(T) error) bool {
	return r.check(name, func() error {
		v, err := call()
		if err != nil {
			return err
		}
		r.observe(v)
		return verify(v)
	})
}

// observe records the JSON body of the last response against the type the SDK decoded it into.
func (r *runner) observe(decoded any) {
	r.fields.observe(r.rec.lastBody(), decoded)
}

// wantError holds err to Coder's answer: the status, the message, and the detail when one is given.
func wantError(err error, status int, message string, detail ...string) error {
	if err == nil {
		return fmt.Errorf("succeeded; Coder answers %d %q", status, message)
	}
	var apiErr *codersdk.Error
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("not an API error (%v); Coder answers %d %q", err, status, message)
	}
	got := fmt.Sprintf("%d %q (detail %q)", apiErr.StatusCode(), apiErr.Message, apiErr.Detail)
	if apiErr.StatusCode() != status || apiErr.Message != message {
		return fmt.Errorf("got %s; Coder answers %d %q", got, status, message)
	}
	if len(detail) > 0 && apiErr.Detail != detail[0] {
		return fmt.Errorf("got %s; Coder's detail is %q", got, detail[0])
	}
	return nil
}

// wantValidation additionally requires a validation whose field is `field` and whose detail contains `part`.
func wantValidation(err error, status int, message, field, part string) error {
	if e := wantError(err, status, message); e != nil {
		return e
	}
	var apiErr *codersdk.Error
	errors.As(err, &apiErr)
	for _, v := range apiErr.Validations {
		if v.Field == field && strings.Contains(v.Detail, part) {
			return nil
		}
	}
	return fmt.Errorf("validations %+v lack {field %q, detail containing %q}", apiErr.Validations, field, part)
}

// want fails with the formatted message unless ok.
func want(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}

const notFound = "Resource not found or you do not have access to this resource"

// waitTask polls the task (as the owner) until cond holds or the wait runs out.
func (r *runner) waitTask(id uuid.UUID, what string, cond func(codersdk.Task) bool) (codersdk.Task, error) {
	deadline := time.Now().Add(r.wait)
	var last codersdk.Task
	var lastErr error
	for time.Now().Before(deadline) {
		last, lastErr = r.owner.TaskByID(r.ctx, id)
		if lastErr == nil && cond(last) {
			return last, nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	if lastErr != nil {
		return last, fmt.Errorf("task never %s within %s: %w", what, r.wait, lastErr)
	}
	return last, fmt.Errorf("task never %s within %s (status %s, state %s)", what, r.wait, last.Status, stateOf(last))
}

func stateOf(t codersdk.Task) string {
	if t.CurrentState == nil {
		return "null"
	}
	return string(t.CurrentState.State)
}

// recorder is the SDK clients' transport: it keeps the body of the last JSON answer so that the
// field check sees exactly what was on the wire.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	last []byte
}

func (t *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err != nil || res.StatusCode == http.StatusSwitchingProtocols || !strings.Contains(res.Header.Get("Content-Type"), "json") {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	t.mu.Lock()
	t.last = body
	t.mu.Unlock()
	return res, nil
}

func (t *recorder) lastBody() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}
