package codecs_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
)

func frameOf(id int, payload ...byte) []byte {
	b := []byte{0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(id))
	return append(b, payload...)
}

func TestAvroDecodePoison(t *testing.T) {
	reg := newTestRegistry(t)
	s := codecs.NewSchemas()
	v1 := mustAvro(t, reg.client(), s, mustParse(t, s, userEventV1(t)), codecs.WithSubject("user-topic", codecs.TopicNameStrategy))
	good, err := v1.Encode(v1Event())
	if err != nil {
		t.Fatal(err)
	}
	v1ID, _ := codecs.FrameSchemaID(good)

	// A writer whose amount is a string cannot be read by a reader whose amount is a double.
	other := mustAvro(t, reg.client(), s, mustParse(t, s, `{"type":"record","name":"UserEvent","namespace":"com.example.events",
		"fields":[{"name":"user_id","type":"string"},{"name":"event_type","type":"string"},
		{"name":"amount","type":"string"},{"name":"ts","type":"long"}]}`), codecs.WithSubjectName("other-value"))
	bad, err := other.Encode(map[string]any{"user_id": "u", "event_type": "e", "amount": "12", "ts": int64(1)})
	if err != nil {
		t.Fatal(err)
	}
	badID, _ := codecs.FrameSchemaID(bad)

	reader := mustAvro(t, reg.client(), s, mustParse(t, s, userEventV2(t)))
	cases := []struct {
		name   string
		frame  []byte
		id     int
		idOK   bool
		errHas string
	}{
		{"nil", nil, 0, false, "null value"},
		{"empty", []byte{}, 0, false, "shorter"},
		{"1 byte", []byte{0}, 0, false, "shorter"},
		{"2 bytes", []byte{0, 0}, 0, false, "shorter"},
		{"3 bytes", []byte{0, 0, 0}, 0, false, "shorter"},
		{"4 bytes", []byte{0, 0, 0, 1}, 0, false, "shorter"},
		{"magic 1", append([]byte{1}, good[1:]...), 0, false, "magic byte 1"},
		{"unknown id", frameOf(4242, good[5:]...), 4242, true, "40403"},
		{"header only", good[:5], v1ID, true, "corrupt payload"},
		{"truncated", good[:len(good)-3], v1ID, true, "corrupt payload"},
		{"trailing", append(append([]byte{}, good...), 7), v1ID, true, "trailing"},
		{"garbage", frameOf(v1ID, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f), v1ID, true, "corrupt payload"},
		{"negative length", frameOf(v1ID, 0x01, 'a'), v1ID, true, "corrupt payload"},
		{"unresolvable writer", bad, badID, true, "cannot be read"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := codecs.FrameSchemaID(tc.frame)
			if id != tc.id || ok != tc.idOK {
				t.Errorf("FrameSchemaID = %d, %v; want %d, %v", id, ok, tc.id, tc.idOK)
			}
			v, err := reader.Decode(tc.frame)
			if err == nil {
				t.Fatalf("decoded %#v, want an error", v)
			}
			if !errors.Is(err, codecs.ErrPoison) || errors.Is(err, codecs.ErrUnavailable) || codecs.IsUnavailable(err) {
				t.Fatalf("err %v: want poison only", err)
			}
			var ce *codecs.Error
			if !errors.As(err, &ce) || ce.Op != "decode" || ce.SchemaID != tc.id {
				t.Fatalf("err %#v: want *codecs.Error op decode id %d", err, tc.id)
			}
			if !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("err %q does not mention %q", err, tc.errHas)
			}
		})
	}
}

func TestAvroDecodeTransient(t *testing.T) {
	s := codecs.NewSchemas()
	reader := mustParse(t, s, userEventV2(t))
	frame := frameOf(1, 2, 'u', 2, 'e', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

	jsonErr := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error_code":50001,"message":"store error"}`))
	}))
	defer jsonErr.Close()
	plainErr := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer plainErr.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	for name, client := range map[string]codecs.Registry{
		"500 json":           newClient(t, jsonErr.URL, 0),
		"502 plain":          newClient(t, plainErr.URL, 0),
		"connection refused": newClient(t, closedURL, 0),
		"timeout":            newClient(t, slow.URL, 50*time.Millisecond),
	} {
		t.Run(name, func(t *testing.T) {
			c := mustAvro(t, client, s, reader)
			for range 2 { // a transient failure is not cached: it is retried and fails again
				_, err := c.Decode(frame)
				if !errors.Is(err, codecs.ErrUnavailable) || errors.Is(err, codecs.ErrPoison) || !codecs.IsUnavailable(err) {
					t.Fatalf("err %v: want transient only", err)
				}
			}
		})
	}
}

// TestAvroNotFoundClassification: only the registry's own "schema not found" (40403 in its
// JSON answer) makes an unknown id poison. A 404 that is not the registry's answer (a
// registry URL with a wrong path, a proxy's page) says the URL is wrong, not the message:
// transient, and its text names the registry URL and the answer so the hold log says what
// is wrong.
func TestAvroNotFoundClassification(t *testing.T) {
	s := codecs.NewSchemas()
	reader := mustParse(t, s, userEventV2(t))
	frame := frameOf(9, 0)
	reg := newTestRegistry(t)
	plain404 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "nope", http.StatusNotFound)
	}))
	defer plain404.Close()
	html404 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("<html><body><h1>Not Found</h1>" + strings.Repeat("padding ", 100000) + "</body></html>"))
	}))
	defer html404.Close()

	_, err := mustAvro(t, reg.client(), s, reader).Decode(frame)
	if !errors.Is(err, codecs.ErrPoison) || !codecs.IsNotFound(err) || !strings.Contains(err.Error(), "40403") {
		t.Fatalf("unknown id on the registry: %v; want poison 40403", err)
	}

	for name, tc := range map[string]struct{ url, answer string }{
		"wrong path on the registry": {reg.URL + "/sr", "404 Not Found, error code 404"},
		"plain 404":                  {plain404.URL, "404 Not Found (not a registry error answer): nope"},
		"html 404":                   {html404.URL, "<h1>Not Found</h1>"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := mustAvro(t, newClient(t, tc.url, 0), s, reader).Decode(frame)
			if !errors.Is(err, codecs.ErrUnavailable) || errors.Is(err, codecs.ErrPoison) || codecs.IsNotFound(err) {
				t.Fatalf("err %v: want transient, not not-found", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.url+"/schemas/ids/9") || !strings.Contains(msg, tc.answer) || len(msg) > 1000 {
				t.Fatalf("error text %q: want the registry URL, %q, and a bounded length", msg, tc.answer)
			}
		})
	}
}

// TestAvroDecodeContext: a cancelled context ends a decode that waits for the registry, as a
// transient failure, for the caller that started the fetch and for one that shares it.
func TestAvroDecodeContext(t *testing.T) {
	s := codecs.NewSchemas()
	reader := mustParse(t, s, userEventV2(t))
	frame := frameOf(5, 0)
	asked := make(chan struct{}, 2)
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		asked <- struct{}{}
		<-r.Context().Done()
	}))
	defer hang.Close()
	c := mustAvro(t, newClient(t, hang.URL, time.Minute), s, reader)

	startCtx, cancelStart := context.WithCancel(context.Background())
	defer cancelStart()
	started := make(chan error, 1)
	go func() {
		_, err := c.DecodeContext(startCtx, frame)
		started <- err
	}()
	<-asked // the fetch is in flight

	// A second decode of the same id shares the fetch; its own context ends its wait.
	shareCtx, cancelShare := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShare()
	_, err := c.DecodeContext(shareCtx, frame)
	if !codecs.IsUnavailable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("sharing decode: %v; want transient, deadline exceeded", err)
	}

	cancelStart()
	select {
	case err := <-started:
		if !codecs.IsUnavailable(err) || !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled decode: %v; want transient, canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled decode still waits for the registry")
	}
}

func TestAvroNegativeCacheExpires(t *testing.T) {
	reg := newTestRegistry(t)
	s := codecs.NewSchemas()
	now := time.Unix(1000, 0)
	c := mustAvro(t, reg.client(), s, mustParse(t, s, userEventV2(t)),
		codecs.WithNegativeCacheTTL(time.Second), codecs.WithClock(func() time.Time { return now }))
	frame := frameOf(77, 0)
	for range 3 {
		if _, err := c.Decode(frame); !errors.Is(err, codecs.ErrPoison) {
			t.Fatalf("err %v: want poison", err)
		}
	}
	if got := reg.fetches.Load(); got != 1 {
		t.Fatalf("%d fetches within the TTL, want 1", got)
	}
	now = now.Add(2 * time.Second)
	if _, err := c.Decode(frame); !errors.Is(err, codecs.ErrPoison) {
		t.Fatalf("err %v: want poison", err)
	}
	if got := reg.fetches.Load(); got != 2 {
		t.Fatalf("%d fetches after the TTL, want 2", got)
	}
}

func TestErrorKinds(t *testing.T) {
	p := &codecs.Error{Op: "decode", SchemaID: 3, Err: errors.New("boom")}
	if !errors.Is(p, codecs.ErrPoison) || errors.Is(p, codecs.ErrUnavailable) {
		t.Fatal("poison error misclassified")
	}
	if p.Error() != "decode (poison, schema id 3): boom" {
		t.Fatalf("message %q", p.Error())
	}
	tr := &codecs.Error{Unavailable: true, Op: "encode", Err: errors.New("down")}
	if !codecs.IsUnavailable(tr) || errors.Is(tr, codecs.ErrPoison) {
		t.Fatal("transient error misclassified")
	}
	if errors.Unwrap(tr).Error() != "down" {
		t.Fatal("Unwrap lost the cause")
	}
}
