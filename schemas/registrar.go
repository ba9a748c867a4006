package schemas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

// Entry is one schema file and the registry subject it belongs under.
type Entry struct {
	File    string // shown in output and errors
	Subject string
	Schema  string // the Avro schema text
}

// Push registers every entry's schema under its subject, in order, and prints one line per
// entry: subject, version, id, file. Registering a schema the subject already has is a
// no-op in the registry (same id and version). Push stops at the first failure; the error
// names the file and subject and carries the registry's message (an incompatible schema is
// rejected with 409 and the reason).
func Push(ctx context.Context, registryURL string, entries []Entry, out io.Writer) error {
	c := newRegistryClient(registryURL)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tVERSION\tID\tFILE")
	defer tw.Flush()
	for _, e := range entries {
		var reg struct {
			ID int `json:"id"`
		}
		if err := c.do(ctx, http.MethodPost, "/subjects/"+url.PathEscape(e.Subject)+"/versions", schemaBody(e.Schema), &reg); err != nil {
			return fmt.Errorf("%s: registering under %s: %w", e.File, e.Subject, err)
		}
		var found struct {
			Version int `json:"version"`
			ID      int `json:"id"`
		}
		if err := c.do(ctx, http.MethodPost, "/subjects/"+url.PathEscape(e.Subject), schemaBody(e.Schema), &found); err != nil {
			return fmt.Errorf("%s: looking up version under %s: %w", e.File, e.Subject, err)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", e.Subject, found.Version, reg.ID, e.File)
	}
	return nil
}

// Check asks the registry whether each entry's schema is compatible with the latest version
// of its subject under the subject's compatibility level (POST
// /compatibility/subjects/{s}/versions/latest?verbose=true). It registers nothing. It prints
// per subject "compatible", "compatible (new subject)" or "INCOMPATIBLE" followed by the
// registry's messages, which name the offending fields. ok is false when any entry is
// incompatible; err reports a registry that could not answer.
func Check(ctx context.Context, registryURL string, entries []Entry, out io.Writer) (ok bool, err error) {
	c := newRegistryClient(registryURL)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	ok = true
	for _, e := range entries {
		var versions []int
		err := c.do(ctx, http.MethodGet, "/subjects/"+url.PathEscape(e.Subject)+"/versions", nil, &versions)
		var re *registryError
		if errors.As(err, &re) && re.Code == 40401 {
			fmt.Fprintf(tw, "%s\tcompatible (new subject)\t%s\n", e.Subject, e.File)
			continue
		}
		if err != nil {
			return false, fmt.Errorf("%s: listing versions of %s: %w", e.File, e.Subject, err)
		}
		var res struct {
			IsCompatible bool     `json:"is_compatible"`
			Messages     []string `json:"messages"`
		}
		path := "/compatibility/subjects/" + url.PathEscape(e.Subject) + "/versions/latest?verbose=true"
		if err := c.do(ctx, http.MethodPost, path, schemaBody(e.Schema), &res); err != nil {
			return false, fmt.Errorf("%s: checking against %s: %w", e.File, e.Subject, err)
		}
		if res.IsCompatible {
			fmt.Fprintf(tw, "%s\tcompatible\t%s\n", e.Subject, e.File)
			continue
		}
		ok = false
		fmt.Fprintf(tw, "%s\tINCOMPATIBLE\t%s\n", e.Subject, e.File)
		for _, m := range res.Messages {
			fmt.Fprintf(tw, "    %s\n", m)
		}
	}
	return ok, nil
}

func schemaBody(text string) any {
	return map[string]string{"schema": text}
}

// registryError is a registry's {"error_code","message"} answer.
type registryError struct {
	Status  int    `json:"-"`
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (e *registryError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("registry answered %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("registry answered %d (%d): %s", e.Status, e.Code, e.Message)
}

type registryClient struct {
	base string
	http *http.Client
}

func newRegistryClient(base string) *registryClient {
	return &registryClient{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 30 * time.Second}}
}

const contentType = "application/vnd.schemaregistry.v1+json"

// do sends body as JSON and decodes a 2xx answer into out; any other answer is a
// *registryError.
func (c *registryClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", contentType+", application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("reading answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		re := &registryError{Status: resp.StatusCode}
		if json.Unmarshal(data, re) != nil || re.Message == "" {
			re.Message = strings.TrimSpace(string(data))
		}
		return re
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding answer of %s %s: %w", method, path, err)
	}
	return nil
}
