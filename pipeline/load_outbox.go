package pipeline

import (
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
