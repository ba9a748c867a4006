package testkit

// Avro schemas the registry tests register: the reference UserEvent v1, v2
// (adds an optional country), an incompatible v3 (adds region without a
// default), and v1 written with other whitespace and key order.
const (
	UserEventV1 = `{"type":"record","name":"UserEvent","namespace":"com.example.events","fields":[
		{"name":"user_id","type":"string"},
		{"name":"event_type","type":"string"},
		{"name":"amount","type":"double"},
		{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}}]}`
	UserEventV2 = `{"type":"record","name":"UserEvent","namespace":"com.example.events","fields":[
		{"name":"user_id","type":"string"},
		{"name":"event_type","type":"string"},
		{"name":"amount","type":"double"},
		{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
		{"name":"country","type":["null","string"],"default":null}]}`
	UserEventV3Bad = `{"type":"record","name":"UserEvent","namespace":"com.example.events","fields":[
		{"name":"user_id","type":"string"},
		{"name":"event_type","type":"string"},
		{"name":"amount","type":"double"},
		{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
		{"name":"country","type":["null","string"],"default":null},
		{"name":"region","type":"string"}]}`
	// UserEventV1Reordered is UserEventV1 with other whitespace and key order.
	UserEventV1Reordered = `{ "namespace" : "com.example.events", "fields" : [
		{"type":"string","name":"user_id"}, {"type":"string","name":"event_type"},
		{"type":"double","name":"amount"},
		{"type":{"logicalType":"timestamp-millis","type":"long"},"name":"ts"} ],
		"name" : "UserEvent", "type" : "record" }`
)
