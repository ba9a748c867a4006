package dlq

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/render"
)

// JSON returns the JSON line of e. Topic, partition, offset and timestamp
// are the source message's (as in filters); DLQ says where the dead letter
// itself is.
func (e *Entry) JSON() render.Record {
	out := render.NewRecord(e.Record, e.Value)
	at := render.At(e.Record)
	out.DLQ = &at
	out.Pipeline, out.Stage, out.Kind, out.Message = e.Pipeline, e.Stage, e.Kind, e.Message
	out.Topic, out.Partition, out.Offset, out.Timestamp = e.SourceTopic, e.SourcePartition, e.SourceOffset, e.SourceTimestamp
	out.Attempts, out.SchemaID, out.ReplayCount = e.Attempts, e.SchemaID, e.ReplayCount
	out.ValueError, out.Error = e.Value.Error, "" // inspect has always called it value_error
	return out
}

// JSONWriter writes entries as JSON lines.
type JSONWriter struct{ enc *json.Encoder }

// NewJSONWriter returns a JSONWriter on w.
func NewJSONWriter(w io.Writer) *JSONWriter {
	return &JSONWriter{enc: render.NewEncoder(w)}
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
	key, keyB64 := render.Key(r.Key)
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
