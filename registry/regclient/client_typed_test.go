package regclient_test

import (
	"context"
	"testing"

	"github.com/sluicehq/sluice/registry/regclient"
)

func TestTypedCalls(t *testing.T) {
	c := newClient(t, regclient.Config{URL: serve(t)})
	ctx := context.Background()
	const jsonV1 = `{"type":"object","properties":{"a":{"type":"string"}}}`
	const proto = "syntax = \"proto3\";\nmessage A { string a = 1; }\n"

	jid, err := c.RegisterAs(ctx, "j-value", regclient.TypeJSON, jsonV1)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := c.RegisterAs(ctx, "p-value", regclient.TypeProtobuf, proto)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int]string{jid: regclient.TypeJSON, pid: regclient.TypeProtobuf} {
		s, err := c.SchemaByID(ctx, id)
		if err != nil || s.Type != want {
			t.Fatalf("schema %d: %+v, %v; want type %s", id, s, err, want)
		}
	}
	if id, v, err := c.LookupAs(ctx, "p-value", regclient.TypeProtobuf, proto); err != nil || id != pid || v != 1 {
		t.Fatalf("LookupAs = %d, %d, %v; want %d, 1", id, v, err, pid)
	}
	if ok, msgs, err := c.CheckCompatibilityAs(ctx, "j-value", regclient.Latest, regclient.TypeJSON, jsonV1); err != nil || !ok {
		t.Fatalf("CheckCompatibilityAs = %v, %v, %v", ok, msgs, err)
	}
	// An invalid schema is the registry's 422, not a transport failure.
	_, err = c.RegisterAs(ctx, "p-value", regclient.TypeProtobuf, "message {")
	wantAnswer(t, err, 422, 42201, false)
	if _, err := c.RegisterAs(ctx, "x", "XML", "<a/>"); err == nil {
		t.Fatal("RegisterAs accepted schema type XML")
	}
}
