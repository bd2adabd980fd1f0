// Package systemd holds the systemd units of a tolerant deployment:
// tolerant-node@.service runs one calculator or combiner per instance
// (tolerant-node@calculator-3), tolerant-broker.service the NATS broker.
// Both run as a dynamic user without capabilities, with a read-only file
// system except their state and log directories, no new privileges, no
// writable executable memory, a system call allow list and only Internet
// and Unix sockets; key material and passwords reach them only as systemd
// credentials. node.env.example and broker.env.example show the
// environment files. The tests check the units with systemd-analyze verify
// and systemd-analyze security.
package systemd
