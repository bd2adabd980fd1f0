// Package broadcast runs the signing protocol of tolerant over broadcast
// channels ([0091]-[0116]).
//
// # Channels
//
// The patent connects its machines with three broadcast channels:
//
//   - [B1]: task distributor → calculators, carrying tasks ([0061], [0108]) and
//     the calculators' acknowledgements ([0109]);
//   - [B2]: calculators → combiners, carrying partial results ([0092], [0111]);
//   - [B3]: combiners → output device, carrying signatures ([0052], [0095]).
//
// A [Broadcaster] is a pub/sub bus offering these channels: every subscriber
// of a channel gets every message published on it, with no promise of
// ordering or delivery. It is [transport.Broadcaster]: the interface, the
// channels and the transport's errors belong to package
// broadcast/transport, which imports only the standard library, so that a
// transport author implements it and imports nothing else; the names here
// are aliases of the same types and values. Package broadcast/memory
// ([memory.Bus], here [Memory]) is the in-process transport, with
// optional faults (loss, duplication, reordering, delay, partitions,
// crashed nodes); package broadcast/natsbus carries the channels over NATS.
//
// # Nodes
//
// A [CalculatorNode] answers tasks with partials, a [CombinerNode] turns
// partials into a verified signature, and a [Distributor] (task distributor
// and output device) publishes tasks and returns verified signatures. The
// distributor knows only the public key: it never names calculators or
// combiners ([0036] point 5, [0054] point 1), and it retransmits a task until
// a verified result arrives or its context ends. [StartLocal] runs a whole
// cluster of a [share.Dealing] in one process.
//
// # Packets
//
// Packets are encoded by package internal/wire: one versioned binary
// encoding, decoded strictly and without panics. Every packet names its task
// by distributor number and task number ([0096], [0107]), the key id
// ([0124]) and the key material's epoch; later packets of a task also carry
// the SHA-256 fingerprint of the task packet, so that partials and results
// are bound to exactly one request.
//
// Every node is built from its key material, which holds its Ed25519 node
// key and the roster: every packet is signed with its sender's node key, and
// a node accepts only packets signed by the roster node they claim to come
// from. The transport is not trusted; there is no unauthenticated mode.
//
// # Faults
//
// The protocol tolerates the transport's faults: the distributor retransmits
// a task (quickly until t calculators acknowledged it, [0109], then slowly
// until a verified result arrives); a calculator answers a retransmission by
// re-sending the partials it already computed, never computing a task twice
// ([0110]); a combiner answers it by re-sending its result.
//
// # Hostile nodes
//
// Signing goes on while up to t-1 calculators, or one combiner, behave as
// badly as they can with their real key material ([0035], [0036]):
//
//   - the distributor takes k, t and the epoch from its own key material
//     only; what an acknowledgement says about them is counted
//     (DistributorStats.FalseShape), never believed;
//   - a combiner names a calculator only on evidence that holds against
//     t-1 colluders (package combine), and the distributor names it only
//     when DistributorOptions.BlameQuorum distinct combiners agree;
//     implausible blame lists are dropped (DistributorStats.FalseBlame);
//   - approval hooks run before any worker is taken, each under a per-task
//     deadline, with the task's distributor in their context ([TaskFrom]);
//   - every node bounds the bytes it holds, in total and per distributor
//     number, and refuses new tasks over the bound instead of evicting
//     live ones;
//   - a task carries its time and its distributor process's instance id:
//     calculators accept it only within a window ([0107]), never from before
//     their own start, and keep the tasks of two processes sharing a
//     distributor number apart.
//
// broadcast/HOSTILE.md lists the adversaries the tests run and what they see.
package broadcast

import (
	"github.com/tolerantca/tolerant/broadcast/transport"
)

// Channel is transport.Channel: one of the patent's broadcast channels.
type Channel = transport.Channel

// The broadcast channels, the same constants as package transport's.
const (
	// B1 is transport.B1: the task distributor and the calculators, tasks
	// and acknowledgements ([0061], [0108], [0109]).
	B1 = transport.B1
	// B2 is transport.B2: the calculators and the combiners, partial
	// results ([0092]).
	B2 = transport.B2
	// B3 is transport.B3: the combiners and the output device, signatures
	// ([0052], [0095]).
	B3 = transport.B3
)

// Errors of a Broadcaster and of the nodes: the same values as package
// transport's, so that errors.Is holds across both names.
var (
	// ErrClosed is transport.ErrClosed: the broadcaster, subscription or
	// node is closed.
	ErrClosed = transport.ErrClosed
	// ErrChannel is transport.ErrChannel: the channel is not B1, B2 or B3.
	ErrChannel = transport.ErrChannel
)

// Broadcaster is transport.Broadcaster: a set of broadcast channels, over
// which the nodes of this package run.
type Broadcaster = transport.Broadcaster

// Subscription is transport.Subscription: one subscriber's view of a
// channel.
type Subscription = transport.Subscription
