// Package schemafmt parses the schema formats of the Confluent Schema Registry
// other than Avro: Protobuf (.proto text compiled at run time by
// bufbuild/protocompile, no protoc needed) and JSON Schema (compiled by
// santhosh-tekuri/jsonschema). Both the registry (which validates, identifies
// and compares schemas) and the codecs (which encode and decode payloads) use
// it, so that a schema the registry accepts is one the codecs can use.
//
// A schema's references are given as a map from the name the schema uses for
// each (a Protobuf import path, a JSON Schema $ref URL) to the referenced
// schema's text; it holds the references of references too, flattened.
// Nothing is ever read from the file system or the network.
package schemafmt
