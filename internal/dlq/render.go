package dlq

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// EntryJSON is the JSON form of an Entry, one line per dead letter. Topic,
// partition, offset and timestamp are the source message's (as in filters);
// dlq says where the dead letter itself is.
type EntryJSON struct {
	DLQ         Position          `json:"dlq"`
	Pipeline    string            `json:"pipeline"`
	Stage       string            `json:"stage"`
	Kind        string            `json:"kind"`
	Message     string            `json:"message"`
	Topic       string            `json:"topic"`
	Partition   int32             `json:"partition"`
	Offset      int64             `json:"offset"`
	Timestamp   int64             `json:"timestamp"`
	Attempts    int               `json:"attempts"`
	SchemaID    int               `json:"schema_id,omitempty"`
	ReplayCount int               `json:"replay_count,omitempty"`
	Key         *string           `json:"key"`
	KeyBase64   string            `json:"key_base64,omitempty"`
	Headers     map[string]string `json:"headers"`
	Value       json.RawMessage   `json:"value,omitempty"`
	ValueBase64 string            `json:"value_base64,omitempty"`
	ValueError  string            `json:"value_error,omitempty"`
}

// Position is where a record is.
type Position struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Timestamp int64  `json:"timestamp"` // Unix ms
}

// JSON returns the JSON form of e.
func (e *Entry) JSON() EntryJSON {
	r := e.Record
	out := EntryJSON{
		DLQ:      Position{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli()},
		Pipeline: e.Pipeline, Stage: e.Stage, Kind: e.Kind, Message: e.Message,
		Topic: e.SourceTopic, Partition: e.SourcePartition, Offset: e.SourceOffset, Timestamp: e.SourceTimestamp,
		Attempts: e.Attempts, SchemaID: e.SchemaID, ReplayCount: e.ReplayCount,
		Headers: e.Headers, Value: e.Value.JSON, ValueBase64: e.Value.Base64, ValueError: e.Value.Error,
	}
	out.Key, out.KeyBase64 = renderKey(r.Key)
	return out
}

// renderKey returns a UTF-8 key as a string, any other as base64.
func renderKey(k []byte) (*string, string) {
	switch {
	case k == nil:
		return nil, ""
	case utf8.Valid(k):
		s := string(k)
		return &s, ""
	default:
		return nil, base64.StdEncoding.EncodeToString(k)
	}
}

// JSONWriter writes entries as JSON lines.
type JSONWriter struct{ enc *json.Encoder }

// NewJSONWriter returns a JSONWriter on w.
func NewJSONWriter(w io.Writer) *JSONWriter {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &JSONWriter{enc: enc}
}

// Write writes one entry.
func (j *JSONWriter) Write(e *Entry) error {
	if err := j.enc.Encode(e.JSON()); err != nil {
		return fmt.Errorf("writing dead letter: %w", err)
	}
	return nil
}

// Widths of the free-text table columns.
const (
	tableMessageWidth = 48
	tableValueWidth   = 64
)

// TableWriter writes entries as a table aligned with spaces, for people.
// Rows are aligned per block of tableBlock rows; Flush writes the rest.
type TableWriter struct {
	w    io.Writer
	tw   *tabwriter.Writer
	rows int
}

const tableBlock = 500

var tableHeader = []string{"DLQ", "PIPELINE", "STAGE", "KIND", "SOURCE", "SOURCE TIME",
	"ATTEMPTS", "SCHEMA", "REPLAYS", "KEY", "MESSAGE", "VALUE"}

// NewTableWriter returns a TableWriter on w.
func NewTableWriter(w io.Writer) *TableWriter { return &TableWriter{w: w} }

// Write adds one entry's row.
func (t *TableWriter) Write(e *Entry) error {
	if t.tw == nil {
		t.tw = tabwriter.NewWriter(t.w, 0, 0, 2, ' ', 0)
		if err := t.row(tableHeader); err != nil {
			return err
		}
	}
	r := e.Record
	key, keyB64 := renderKey(r.Key)
	k := "-"
	switch {
	case key != nil:
		k = *key
	case keyB64 != "":
		k = "base64:" + keyB64
	}
	var v string
	switch {
	case e.Value.JSON != nil:
		v = string(e.Value.JSON)
	case e.Value.Base64 != "":
		v = "base64:" + e.Value.Base64
	}
	ts := "-"
	if e.SourceTimestamp > 0 {
		ts = time.UnixMilli(e.SourceTimestamp).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	row := []string{
		fmt.Sprintf("%d@%d", r.Partition, r.Offset),
		orDash(e.Pipeline), orDash(e.Stage), orDash(e.Kind),
		fmt.Sprintf("%s[%d]@%d", orDash(e.SourceTopic), e.SourcePartition, e.SourceOffset), ts,
		strconv.Itoa(e.Attempts), intOrDash(e.SchemaID), strconv.Itoa(e.ReplayCount),
		cell(k, 24), cell(e.Message, tableMessageWidth), cell(v, tableValueWidth),
	}
	if err := t.row(row); err != nil {
		return err
	}
	if t.rows++; t.rows%tableBlock == 0 {
		return t.Flush()
	}
	return nil
}

// Flush writes the rows not yet written.
func (t *TableWriter) Flush() error {
	if t.tw == nil {
		return nil
	}
	if err := t.tw.Flush(); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	return nil
}

func (t *TableWriter) row(cells []string) error {
	if _, err := io.WriteString(t.tw, strings.Join(cells, "\t")+"\n"); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	return nil
}

// cell makes s fit one table cell: no tabs or line breaks, at most width
// runes (an ellipsis marks a cut).
func cell(s string, width int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
	if s == "" {
		return "-"
	}
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	return string([]rune(s)[:width-1]) + "…"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func intOrDash(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}
