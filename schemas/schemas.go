// Package schemas embeds the Avro schemas of the reference pipelines. It
// holds the *.avsc files and their embedding only, and imports nothing but
// the standard library: registering them is the CLI's business.
package schemas

import "embed"

// files holds every *.avsc file of this folder.
//
//go:embed *.avsc
var files embed.FS

// UserEventFile is the reader schema (v2) of user-topic values.
const UserEventFile = "user_event.avsc"

// UserStatsFile is the schema of user-stats values and of the user-stats table.
const UserStatsFile = "user_stats.avsc"

// ReadFile returns the text of one embedded schema file, such as UserEventFile.
func ReadFile(name string) ([]byte, error) { return files.ReadFile(name) }
