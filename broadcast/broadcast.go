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
// ordering or delivery. [Memory] is the in-process implementation, with
// optional faults (loss, duplication, reordering, delay, partitions, crashed
// nodes); a network transport implements the same interface.
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
	"context"
	"errors"
	"fmt"
)

// Channel names one of the patent's broadcast channels.
type Channel uint8

// The broadcast channels.
const (
	// B1 links the task distributor and the calculators: tasks and
	// acknowledgements ([0061], [0108], [0109]).
	B1 Channel = 1
	// B2 links the calculators and the combiners: partial results ([0092]).
	B2 Channel = 2
	// B3 links the combiners and the output device: signatures ([0052], [0095]).
	B3 Channel = 3
)

// Valid reports whether c is B1, B2 or B3.
func (c Channel) Valid() bool { return c >= B1 && c <= B3 }

// String returns "B1", "B2" or "B3".
func (c Channel) String() string {
	if c.Valid() {
		return fmt.Sprintf("B%d", uint8(c))
	}
	return fmt.Sprintf("Channel(%d)", uint8(c))
}

// Errors of a Broadcaster.
var (
	// ErrClosed: the broadcaster, subscription or node is closed.
	ErrClosed = errors.New("broadcast: closed")
	// ErrChannel: the channel is not B1, B2 or B3.
	ErrChannel = errors.New("broadcast: unknown channel")
)

// Broadcaster is a set of broadcast channels. It is safe for concurrent use.
//
// Every subscriber of a channel receives every message published on that
// channel after it subscribed, including its own. Delivery is best effort:
// messages may be lost, duplicated, delayed or reordered, and the protocol
// copes with all of these. Implementations must never block a publisher
// indefinitely.
type Broadcaster interface {
	// Publish sends msg to every subscriber of ch. The caller must not
	// modify msg afterwards. A nil error does not mean anyone received it.
	Publish(ctx context.Context, ch Channel, msg []byte) error
	// Subscribe starts receiving the messages of ch.
	Subscribe(ch Channel) (Subscription, error)
}

// Subscription is one subscriber's view of a channel.
type Subscription interface {
	// C delivers the messages. It is closed when the subscription or its
	// broadcaster is closed. Receivers must not modify the messages.
	C() <-chan []byte
	// Close stops the subscription and closes C. It is idempotent.
	Close() error
}
