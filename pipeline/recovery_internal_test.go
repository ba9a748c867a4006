package pipeline

import (
	"testing"

	"github.com/lovoo/goka"
)

func TestRecoveryProgressShare(t *testing.T) {
	part := func(status goka.PartitionStatus, offset, hwm int64) TableRecovery {
		return tableRecovery("t", 0, &goka.TableStats{Status: status, Recovery: &goka.RecoveryStats{Offset: offset, Hwm: hwm}})
	}
	running := part(goka.PartitionRunning, 99, 100)
	if running.Recovering || running.Offset != 100 || running.Progress != 1 {
		t.Errorf("a recovered partition: %+v, want offset 100, progress 1", running)
	}
	half := part(goka.PartitionRecovering, 50, 100)
	if !half.Recovering || half.Progress != 0.5 {
		t.Errorf("a partition half recovered: %+v", half)
	}
	connecting := part(goka.PartitionConnecting, 0, 0)
	if !connecting.Recovering || connecting.Progress != 0 {
		t.Errorf("a partition that has not asked for its high-water mark yet: %+v", connecting)
	}
	empty := part(goka.PartitionRunning, 0, 0)
	for _, c := range []struct {
		name string
		rs   []TableRecovery
		want float64
	}{
		{"no tables", nil, 1},
		{"offsets over high-water marks", []TableRecovery{running, half}, 150.0 / 200},
		{"a high-water mark unknown yet", []TableRecovery{running, half, connecting}, 1.5 / 3},
		{"only unknown", []TableRecovery{connecting}, 0},
		{"recovered, one changelog empty", []TableRecovery{running, empty}, 1},
	} {
		if got := recoveryProgress(c.rs); got != c.want {
			t.Errorf("%s: progress %v, want %v", c.name, got, c.want)
		}
	}
}
