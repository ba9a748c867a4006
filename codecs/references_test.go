package codecs_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/schemafmt"
)

// registerRaw registers a schema with references over plain HTTP, as a
// Confluent client does, and returns its id.
func registerRaw(t *testing.T, url, subject string, body map[string]any) int {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url+"/subjects/"+subject+"/versions", "application/vnd.schemaregistry.v1+json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ID      int    `json:"id"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("registering %s: %d %s %v", subject, resp.StatusCode, out.Message, err)
	}
	return out.ID
}

// Writer schemas with references (a Protobuf import, a JSON Schema $ref to
// another registered document) decode: the codecs fetch the references, and
// theirs, by subject and version.
func TestWriterSchemaReferences(t *testing.T) {
	tr := newTestRegistry(t)
	const money = "syntax = \"proto3\";\npackage shop;\nmessage Money { string currency = 1; int64 cents = 2; }\n"
	const order = "syntax = \"proto3\";\npackage shop;\nimport \"shop/money.proto\";\nmessage Order { string id = 1; shop.Money price = 2; }\n"
	registerRaw(t, tr.URL, "shop-money", map[string]any{"schemaType": "PROTOBUF", "schema": money})
	id := registerRaw(t, tr.URL, "orders-value", map[string]any{"schemaType": "PROTOBUF", "schema": order,
		"references": []map[string]any{{"name": "shop/money.proto", "subject": "shop-money", "version": 1}}})

	fd, err := schemafmt.CompileProtobuf(order, map[string]string{"shop/money.proto": money})
	if err != nil {
		t.Fatal(err)
	}
	md := fd.Messages().ByName("Order")
	m := dynamicpb.NewMessage(md)
	m.Set(md.Fields().ByName("id"), protoreflect.ValueOfString("o1"))
	price := m.Mutable(md.Fields().ByName("price")).Message()
	price.Set(price.Descriptor().Fields().ByName("cents"), protoreflect.ValueOfInt64(1250))
	payload, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	frame := append([]byte{0, 0, 0, 0, byte(id), 0}, payload...)
	v, err := mustProtobuf(t, tr.client(), nil).Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "o1", "price": map[string]any{"currency": "", "cents": int64(1250)}}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("decoded %#v, want %#v", v, want)
	}

	const address = `{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`
	const person = `{"type":"object","properties":{"name":{"type":"string"},"home":{"$ref":"address.json"}}}`
	registerRaw(t, tr.URL, "address", map[string]any{"schemaType": "JSON", "schema": address})
	pid := registerRaw(t, tr.URL, "people-value", map[string]any{"schemaType": "JSON", "schema": person,
		"references": []map[string]any{{"name": "address.json", "subject": "address", "version": 1}}})
	c, err := codecs.NewJSONSchema(tr.client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	head := []byte{0, 0, 0, 0, byte(pid)}
	if _, err := c.Decode(append(head, `{"name":"a","home":{"city":"Lyon"}}`...)); err != nil {
		t.Fatalf("valid person: %v", err)
	}
	_, err = c.Decode(append(head, `{"name":"a","home":{"city":7}}`...))
	var sv *codecs.SchemaViolation
	if !errors.Is(err, codecs.ErrPoison) || !errors.As(err, &sv) || sv.Pointer != "/home/city" {
		t.Fatalf("a person violating the referenced schema: %v, want a violation at /home/city", err)
	}
}
