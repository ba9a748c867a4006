package registry_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/registry"
)

// generousBound is how long a test waits for the server to cut a slow client
// off; the configured timeouts are a small fraction of it.
const generousBound = 10 * time.Second

// errorBody is a Confluent error answer.
type errorBody struct {
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func sendRaw(t *testing.T, url, method, path, body string) (int, errorBody, int) {
	t.Helper()
	req, err := http.NewRequest(method, url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", srContentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e errorBody
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(raw, &e); err != nil || e.Message == "" {
			t.Fatalf("%s %s: error body %.200s is not {error_code,message}", method, path, raw)
		}
	}
	return resp.StatusCode, e, len(raw)
}

func TestMaxSchemaBytes(t *testing.T) {
	srv := httptest.NewServer(registry.NewServer(registry.NewMemoryStore(), registry.WithMaxSchemaBytes(1000)))
	defer srv.Close()
	fits := rec(fld("a", `"string"`), fldd("pad", `"string"`, jsonString(strings.Repeat("x", 800))))
	tooBig := rec(fld("a", `"string"`), fldd("pad", `"string"`, jsonString(strings.Repeat("x", 1200))))
	if status, e, _ := sendRaw(t, srv.URL, "POST", "/subjects/s/versions", schemaBody(fits)); status != 200 {
		t.Fatalf("a %d-byte schema: status %d %+v, want 200", len(fits), status, e)
	}
	for _, path := range []string{"/subjects/s/versions", "/subjects/s", "/compatibility/subjects/s/versions/latest"} {
		status, e, _ := sendRaw(t, srv.URL, "POST", path, schemaBody(tooBig))
		if status != 413 || e.Code != 413 || !strings.Contains(e.Message, "limit of 1000 bytes") {
			t.Errorf("POST %s with a %d-byte schema: status %d %+v; want 413 naming the limit", path, len(tooBig), status, e)
		}
	}
	// A body far beyond any schema of the limit is not even read to its end.
	huge := schemaBody(strings.Repeat(" ", 1<<20) + `"int"`)
	status, e, _ := sendRaw(t, srv.URL, "POST", "/subjects/s/versions", huge)
	if status != 413 || e.Code != 413 || !strings.Contains(e.Message, "at most 1000 bytes") {
		t.Errorf("a %d-byte body: status %d %+v; want 413 naming the schema limit", len(huge), status, e)
	}
}

func TestDefaultMaxSchemaBytes(t *testing.T) {
	url := serve(t, registry.NewMemoryStore())
	big := rec(fld("a", `"string"`), fldd("pad", `"string"`, jsonString(strings.Repeat("x", registry.DefaultMaxSchemaBytes))))
	if status, e, _ := sendRaw(t, url, "POST", "/subjects/s/versions", schemaBody(big)); status != 413 {
		t.Errorf("a %d-byte schema: status %d %+v, want 413", len(big), status, e)
	}
}

// TestErrorsDoNotEchoInput sends large bad input wherever an error message
// quotes it and checks the answer stays small.
func TestErrorsDoNotEchoInput(t *testing.T) {
	url := serve(t, registry.NewMemoryStore())
	long := strings.Repeat("é", 200_000) // multi-byte, so a cut must respect runes
	unknownType := rec(fld("a", jsonString("T"+strings.Repeat("x", 500_000))))
	post(t, "POST", url+"/subjects/s/versions", schemaBody(rec(fld("a", `"int"`))), nil)
	cases := []struct{ method, path, body string }{
		{"POST", "/subjects/s/versions", schemaBody(unknownType)},
		{"POST", "/subjects/s/versions", schemaBody(`{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":` + jsonString(long) + `}]}`)},
		{"POST", "/subjects/s/versions", schemaBody(`{"type":` + strings.Repeat("[", 300_000))},
		{"POST", "/subjects/s", schemaBody(unknownType)},
		{"POST", "/compatibility/subjects/s/versions/latest", schemaBody(unknownType)},
		{"POST", "/subjects/s/versions", schemaBody(`"int"`, `,"schemaType":`+jsonString(long))},
		{"PUT", "/config/s", `{"compatibility":` + jsonString(long) + `}`},
		{"GET", "/subjects/" + strings.Repeat("s", 500_000) + "/versions", ""},
		{"GET", "/subjects/s/versions/" + strings.Repeat("9", 500_000), ""},
		// Incompatible: hamba names the missing field, whose name is huge.
		{"POST", "/subjects/s/versions", schemaBody(rec(fld("a", `"int"`), fld("b"+strings.Repeat("x", 300_000), `"int"`)))},
	}
	for _, c := range cases {
		status, e, size := sendRaw(t, url, c.method, c.path, c.body)
		if status < 400 || size > 4096 || !utf8Valid(e.Message) {
			t.Errorf("%s %.60s… (%d-byte body): status %d, %d-byte answer %.300q; want an error of at most 4 KiB", c.method, c.path, len(c.body), status, size, e.Message)
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// TestTrickledBodyIsCutOff sends headers and then a body one byte at a time:
// the server must answer 408 within the (short) body read timeout, well before
// a generous bound, instead of waiting for the body.
func TestTrickledBodyIsCutOff(t *testing.T) {
	srv := httptest.NewServer(registry.NewServer(registry.NewMemoryStore(), registry.WithBodyReadTimeout(200*time.Millisecond)))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /subjects/s/versions HTTP/1.1\r\nHost: registry\r\n"+
		"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the trickle, until the server hangs up or the test ends
		defer wg.Done()
		for {
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	defer wg.Wait()
	defer close(stop)
	if err := conn.SetReadDeadline(time.Now().Add(generousBound)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a trickled body within %v: %v", generousBound, err)
	}
	defer resp.Body.Close()
	var e errorBody
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != 408 || e.Code != 408 {
		t.Fatalf("status %d, body %+v (%v); want 408 {error_code:408}", resp.StatusCode, e, err)
	}
}

// TestListenAndServeCutsOffSlowHeaders has ListenAndServe serve a Server with a
// short header timeout: a client trickling its request headers is disconnected.
func TestListenAndServeCutsOffSlowHeaders(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	served := make(chan error, 1)
	srv := registry.NewServer(registry.NewMemoryStore(), registry.WithReadHeaderTimeout(200*time.Millisecond))
	go func() { served <- registry.ListenAndServe(ctx, "127.0.0.1:0", srv, func(a net.Addr) { addr <- a }) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	}()
	var a net.Addr
	select {
	case a = <-addr:
	case err := <-served:
		t.Fatalf("ListenAndServe: %v", err)
	}
	conn, err := net.Dial("tcp", a.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /subjects HTTP/1.1\r\nHost: reg"); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(generousBound)); err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(conn) // the server hangs up (no answer to half a request)
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatalf("connection with unfinished headers still open after %v", generousBound)
	}
}
