// Package transport is the contract between tolerant's signing protocol
// and whatever carries its messages: the [Broadcaster] interface of the
// patent's three broadcast channels B1, B2 and B3 ([0061]), its
// [Subscription], and the errors a transport returns. It imports only the
// standard library, so that a transport is written against this package
// alone; package broadcast runs the protocol over any implementation, and
// broadcast/memory (in-process, with faults) and broadcast/natsbus (NATS)
// are two.
//
// # Implementing a transport
//
// A transport is a pub/sub bus with three channels, which may be one
// physical medium or three ([0062]). It needs only:
//
//   - Publish(ctx, ch, msg) hands msg to every current subscriber of ch,
//     including the publisher's own subscriptions, and never blocks
//     indefinitely: a subscriber too slow to keep up loses messages
//     rather than holding the publisher back. ctx bounds how long Publish
//     may wait (to connect, to flush a buffer); when ctx has ended it
//     returns ctx's error.
//   - Subscribe(ch) returns a [Subscription] whose C delivers the messages
//     published on ch from then on. Subscription.Close closes C and is
//     idempotent.
//   - A channel other than B1, B2 or B3 ([Channel.Valid]) is refused with
//     an error wrapping [ErrChannel]; a closed transport or subscription
//     with one wrapping [ErrClosed].
//   - Every method is safe for concurrent use.
//
// What it does NOT need to do: deliver every message, deliver it once, or
// deliver in order. Messages may be lost, duplicated, delayed or
// reordered, and a nil error from Publish promises nothing about
// receivers: the protocol copes with all of it, the task distributor
// retransmitting a task until a verified signature comes back ([0109]),
// a calculator answering a retransmission with the partials it already
// computed ([0110]) and a combiner with its result. Nor does it need to
// protect integrity or authenticate senders for the protocol's sake:
// every message is an opaque byte string, one packet signed with its
// sender's node key, which package broadcast checks against the roster
// of the key material, dropping what is forged. A transport must
// not interpret, rewrite or merge messages; it may keep outsiders off
// (TLS, credentials), which is its own business.
//
// Messages are shared, not copied: a publisher must not modify msg after
// Publish, and a receiver must not modify what C delivers.
//
// Package broadcast/transport/transporttest checks an implementation
// against this contract, in its own tests.
//
// # Closing
//
// Closing is not part of [Broadcaster], because an endpoint of a shared
// bus may have nothing of its own to close. A transport holding resources
// implements io.Closer: Close closes every subscription's C, makes later
// Publish and Subscribe calls fail with [ErrClosed], and is idempotent;
// broadcast.StartLocal closes such a transport when its node stops. A
// transport may also offer Shutdown(ctx) error (Close that first drains
// what is queued, until ctx ends) and Healthy() error (nil while it can
// deliver, for health checks): package broadcast/node drains a node's
// transport with the first when the node stops, and reports the second
// in the node's health.
package transport

import (
	"context"
	"errors"
	"fmt"
)

// Channel names one of the patent's broadcast channels.
type Channel uint8

// The broadcast channels ([0061]).
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

// Errors of a Broadcaster. A transport wraps them (fmt.Errorf with %w) to
// add detail; callers test them with errors.Is.
var (
	// ErrClosed: the broadcaster or subscription is closed.
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
