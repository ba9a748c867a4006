package dlq

// Progress reports how far Replay has come. Done counts offsets of the
// dead-letter topic that are handled for good (replayed, skipped by the
// filter, refused, or transaction markers) and committed; Total is how many
// there were to handle when Replay started (end offsets minus committed
// offsets).
type Progress struct {
	Done, Total int64
	Replayed    int
	Skipped     int
	Refused     int
}
