package broadcast

import "github.com/tolerantca/tolerant/broadcast/memory"

// Memory is memory.Bus: the in-process transport with faults on demand,
// on which [StartLocal] runs a cluster.
type Memory = memory.Bus

// MemoryOptions is memory.Options: a [Memory]'s queue size, faults and
// seed. The zero value is usable.
type MemoryOptions = memory.Options

// MemoryStats is memory.Stats: what a [Memory] did.
type MemoryStats = memory.Stats

// Faults is memory.Faults: what a [Memory] does wrong on purpose ([0035]).
// The zero value is a perfect transport.
type Faults = memory.Faults

// NewMemory is memory.New: it returns an in-memory broadcaster. opts may
// be nil.
func NewMemory(opts *MemoryOptions) *Memory { return memory.New(opts) }
