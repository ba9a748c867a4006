package pipeline

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/processors/config"
)

// deadLetter reads a pipeline's dead_letter: a topic name, or a mapping
// {topic, breaker}. It returns the node of the topic name (nil when absent),
// where problems about the topic are reported.
func (l *loader) deadLetter(n *config.Node) (topic string, b Breaker, at *config.Node) {
	b = DefaultBreaker()
	if !n.IsMap() {
		return l.topicName(n), b, n
	}
	m := n.Map()
	if at = m.Need("topic"); at != nil {
		topic = l.topicName(at)
	}
	if v := m.Get("breaker"); v != nil {
		b = l.breaker(v, b)
	}
	m.Done()
	return topic, b, at
}

// breaker reads `breaker: off` (or false), `breaker: on` (or true: the
// defaults) or a mapping {ratio, min_messages, window} over def.
func (l *loader) breaker(n *config.Node, def Breaker) Breaker {
	const want = "breaker is off, on, or a mapping {ratio, min_messages, window}"
	if n.IsList() {
		n.Errorf("%s, got a list", want)
		return def
	}
	if !n.IsMap() {
		v := n.Value()
		switch v := v.(type) {
		case bool:
			def.Off = !v
			return def
		case string:
			switch strings.ToLower(v) {
			case "off":
				def.Off = true
				return def
			case "on":
				return def
			}
		}
		if v == nil {
			n.Errorf("%s, got nothing", want)
		} else {
			n.Errorf("%s, got %q", want, fmt.Sprint(v))
		}
		return def
	}
	m := n.Map()
	b := def
	if v := m.Get("ratio"); v != nil {
		b.Ratio = l.ratio(v, def.Ratio)
	}
	if v := m.Get("min_messages"); v != nil {
		if b.MinMessages = l.int(v); b.MinMessages < 1 {
			v.Errorf("min_messages must be at least 1")
		}
	}
	if v := m.Get("window"); v != nil {
		if b.Window = l.duration(v, def.Window); b.Window <= 0 {
			v.Errorf("window must be longer than 0")
		}
	}
	m.Done()
	return b
}

// ratio reads a share between 0 (excluded) and 1; an unreadable one keeps
// def so that it is reported once.
func (l *loader) ratio(n *config.Node, def float64) float64 {
	var r float64
	switch v := n.Value().(type) {
	case float64:
		r = v
	case int64:
		r = float64(v)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			n.Errorf("ratio must be a number between 0 and 1, got %q", v)
			return def
		}
		r = f
	default:
		n.Errorf("ratio must be a number between 0 and 1")
		return def
	}
	if math.IsNaN(r) || r <= 0 || r > 1 {
		n.Errorf("ratio must be more than 0 and at most 1 (a share of the messages), got %v", r)
		return def
	}
	return r
}
