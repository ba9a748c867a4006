// Package schemas embeds the Avro schemas of the reference pipelines.
package schemas

import "embed"

// FS holds every *.avsc file of this folder.
//
//go:embed *.avsc
var FS embed.FS

// UserEvent is the reader schema (v2) of user-topic values.
const UserEventFile = "user_event.avsc"

// UserStats is the schema of user-stats values and of the user-stats table.
const UserStatsFile = "user_stats.avsc"
