// Package natsbus carries the broadcast channels of package broadcast over
// NATS (github.com/nats-io/nats.go), so that the task distributor, the
// calculators and the combiners run on separate hosts ([0039], [0061]).
//
// The transport itself ([Bus], [Dial], [StartServer]) is written against
// package broadcast/transport alone, as any transport can be; only
// [StartCluster] (cluster.go), which runs the protocol nodes of package
// broadcast over it, imports that package.
//
// # Channels
//
// NATS is pub/sub: every subscriber of a subject receives every message
// published on it, which is exactly a broadcast channel. Each of B1, B2 and
// B3 ([0061]) of a cluster is one subject,
//
//	tolerant.<cluster>.b1   tasks and acknowledgements
//	tolerant.<cluster>.b2   partial results
//	tolerant.<cluster>.b3   signatures
//
// all on one NATS server (or NATS cluster), which the patent allows: the
// three channels "can be connected physically as one channel" ([0062]).
// Several signing clusters share a NATS server under different cluster
// names ([Subject]).
//
// # Guarantees
//
// NATS core delivery is at most once, which is what the protocol assumes of
// a [transport.Broadcaster]: the distributor retransmits a task until a
// verified signature arrives, a calculator answers a retransmission by
// re-sending its partials, and a combiner by re-sending its result. So a
// [Bus] guarantees only what the protocol cannot do itself:
//
//   - subscriptions survive reconnects (nats.go re-subscribes after a
//     reconnect, by default forever);
//   - Publish never blocks for long and never panics: while disconnected,
//     messages are buffered up to Options.ReconnectBufSize and sent on
//     reconnect; when that buffer is full Publish fails at once with
//     [ErrBufferFull], and the retransmission of the task recovers;
//   - a slow subscriber never blocks the NATS client: each subscription has
//     a bounded queue, and what does not fit is dropped and counted.
//
// Packets are authenticated by package broadcast (node keys), so the
// NATS server is not trusted for integrity; TLS and per-node NATS
// credentials ([User], [NodePermissions]) keep outsiders off the bus.
//
// # Servers and clusters
//
// [StartServer] runs an embedded NATS server (no JetStream), for tests and
// for a self-contained setup. [StartCluster] runs every node of a dealing,
// each on its own NATS connection as if on its own host, with the protocol
// code of package broadcast unchanged.
package natsbus
