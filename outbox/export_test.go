package outbox

// SetAfterProduce makes r call f with the row ids of each batch the broker
// acknowledged, before the rows are removed.
func SetAfterProduce(r *Relay, f func(ids []string)) { r.afterProduce = f }

// SetAfterClaim makes r call f after it claimed each batch, before it
// produces it.
func SetAfterClaim(r *Relay, f func()) { r.afterClaim = f }
