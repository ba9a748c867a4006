package pipeline

import (
	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/conf"
	"github.com/sluicehq/sluice/outbox"
)

// outbox reads the optional `outbox:` section (package outbox owns its keys).
func (l *loader) outbox(n *conf.Node) *outbox.Config {
	if n == nil {
		return nil
	}
	return outbox.Parse(n, l.dir, l.schemas)
}

// Strategy is the codecs' form of SubjectStrategy.
func (r Registry) Strategy() codecs.SubjectStrategy { return subjectStrategies[r.SubjectStrategy] }
