// Package order writes a business row and its outbox row in one PostgreSQL
// transaction: the outbox half of the README's "Outbox" section, which
// prints this file. sluice's outbox relay publishes the row to Kafka.
package order

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Placed is the payload of an order_placed event.
type Placed struct {
	OrderID string  `json:"order_id"`
	UserID  string  `json:"user_id"`
	Amount  float64 `json:"amount"`
}

// Place inserts the order and its order_placed event atomically: both rows
// commit, or neither does, so Kafka sees exactly the orders that exist.
func Place(ctx context.Context, db *pgxpool.Pool, o Placed) error {
	payload, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("encoding the event: %w", err)
	}
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO orders (id, user_id, amount) VALUES ($1, $2, $3)`,
			o.OrderID, o.UserID, o.Amount); err != nil {
			return fmt.Errorf("inserting the order: %w", err)
		}
		// The aggregate id is the Kafka key: one order's events stay in order.
		if _, err := tx.Exec(ctx, `INSERT INTO outbox_event (aggregate_id, event_type, payload) VALUES ($1, $2, $3)`,
			o.OrderID, "order_placed", payload); err != nil {
			return fmt.Errorf("inserting the outbox row: %w", err)
		}
		return nil
	})
}
