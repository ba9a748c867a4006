package pipeline

import (
	"github.com/sluicehq/sluice/outbox"
	"github.com/sluicehq/sluice/processors/config"
)

// outbox reads the optional `outbox:` section (package outbox owns its keys).
func (l *loader) outbox(n *config.Node) *outbox.Config {
	if n == nil {
		return nil
	}
	return outbox.Parse(n, l.dir, l.schemas)
}
