// Package metrics exports the per-task events of the nodes of package
// broadcast (calculators [0092], combiners [0093], task distributors
// [0047]) as Prometheus metrics, for a node's /metrics endpoint. It reads
// only [broadcast.Event]s, never a packet, and no metric holds a secret.
//
// # Usage
//
// One registry per process, one [Metrics] per role, passed as the nodes'
// Observer, and [Handler] on the health address:
//
//	reg := metrics.NewRegistry()
//	m, err := metrics.New(reg, share.RoleCalculator, &metrics.Options{
//		HeldBytes:   func() int64 { return node.Stats().Bytes },
//		NATSHealthy: bus.Healthy,
//	})
//	if err != nil { ... }
//	node, err := broadcast.NewCalculatorNode(bus, key, &broadcast.CalculatorOptions{Observer: m})
//	mux.Handle("/metrics", metrics.Handler(reg))
//
// Use [broadcast.Observers] to give a node both its metrics and its audit
// log. `promtool check metrics` accepts the output.
//
// # Metrics
//
// Every metric has the constant label role (distributor, calculator or
// combiner) and, except the gauges, the label key_id: the key's id
// ([0124]), or "" ([OtherKey]) for a key id beyond [MaxKeyIDs] or outside
// Options.KeyIDs. Times are in seconds.
//
//   - tolerant_events_total{key_id, event, reason}: counter of every event,
//     by kind (event: task_seen, accepted, refused, approved, declined,
//     partial_sent, dropped, matched, inconsistent, signed, submitted,
//     verified, released, failed; see [broadcast.EventKind]) and reason
//     ("none" when the event has no error).
//   - tolerant_refusals_total{key_id, reason}: tasks the node refused
//     (event refused) or its approval hook declined (event declined).
//   - tolerant_partials_sent_total{key_id}: partial results a calculator
//     published ([0109]).
//   - tolerant_partials_dropped_total{key_id}: partial results a
//     calculator did not compute because the task was already signed
//     ([0115]-[0116]).
//   - tolerant_signatures_total{key_id}: signatures a combiner produced
//     ([0111]) or a distributor released after verifying them ([0116]).
//   - tolerant_inconsistent_calculators_total{key_id}: calculators a
//     combiner proved inconsistent, summed over tasks.
//   - tolerant_approval_wait_seconds{key_id, event}: histogram of the
//     approval hook's time ([0092], [0110]); event is approved or declined.
//   - tolerant_exponentiation_seconds{key_id}: histogram of a calculator's
//     exponentiation time per partial result.
//   - tolerant_combination_seconds{key_id}: histogram of a combiner's
//     combination time per signature, its own exponentiation included.
//   - tolerant_held_bytes, tolerant_held_tasks: gauges of the task bytes
//     and tasks the node holds now (Options.HeldBytes, Options.HeldTasks).
//   - tolerant_nats_connected: gauge, 1 while the NATS connection is up
//     (Options.NATSHealthy).
//   - tolerant_nats_reconnects_total: counter of NATS reconnections
//     (Options.NATSReconnects).
//
// The histograms observe only events that carry a time. [NewRegistry]
// adds the Go runtime's and the process's metrics (go_*, process_*).
//
// # Reasons
//
// The reason label takes only these values ([Reason]), whatever a peer
// sends: none, policy, busy, over_bound, task_time, approval_timeout,
// wrong_epoch, conflict, unauthenticated, closed, wrong_key,
// unsupported_hash, unsupported, digest_length, content_mismatch,
// pss_encoding, too_large, declined, verification, deadline, canceled,
// and, for a distributor's failed tasks, not_enough_calculators,
// no_combiner and refused; anything else is other.
package metrics
