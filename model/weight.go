package model

import (
	"fmt"
	"math"
)

// The metadata keys a reporter publishes for the writer, beside the
// user's own metadata. They are ordinary metadata keys: the original
// writer ignores them, and a node without them has its weight unset and is
// ready.
const (
	// MetaWeight is the node's HAProxy weight, an integer MinWeight..MaxWeight.
	MetaWeight = "weight"
	// MetaState is StateReady or StateDrain.
	MetaState = "state"
)

// The node states of MetaState.
const (
	StateReady = "ready" // takes new requests
	StateDrain = "drain" // takes no new requests; those in flight finish
)

// The range of a node's weight. HAProxy's own range is 0..256; a weight
// of 0 is what drain is for.
const (
	MinWeight = 1
	MaxWeight = 256
)

// Weight is the node's weight from its metadata: 0 when unset. A value
// that is not an integer MinWeight..MaxWeight is an error, and counts as
// unset.
func (n Node) Weight() (int, error) {
	v, ok := n.Metadata[MetaWeight]
	if !ok || v == nil {
		return 0, nil
	}
	return weightValue(v)
}

// weightValue checks a metadata weight: an integer (or a float with no
// fraction, as some encoders write) MinWeight..MaxWeight.
func weightValue(v any) (int, error) {
	var w int64
	switch x := v.(type) {
	case int64:
		w = x
	case int:
		w = int64(x)
	case float64:
		if x != math.Trunc(x) || x < MinWeight || x > MaxWeight {
			return 0, fmt.Errorf("weight %v is not an integer %d..%d", x, MinWeight, MaxWeight)
		}
		w = int64(x)
	default:
		return 0, fmt.Errorf("weight %s is not an integer %d..%d", quote(fmt.Sprint(v)), MinWeight, MaxWeight)
	}
	if w < MinWeight || w > MaxWeight {
		return 0, fmt.Errorf("weight %d is out of range %d..%d", w, MinWeight, MaxWeight)
	}
	return int(w), nil
}

// Draining reports whether the node's metadata says state: drain. A state
// other than ready or drain is an error, and counts as ready.
func (n Node) Draining() (bool, error) {
	v, ok := n.Metadata[MetaState]
	if !ok || v == nil {
		return false, nil
	}
	switch v {
	case StateReady:
		return false, nil
	case StateDrain:
		return true, nil
	}
	return false, fmt.Errorf("state %s is neither %q nor %q", quote(fmt.Sprint(v)), StateReady, StateDrain)
}
