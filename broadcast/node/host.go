package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/tolerantca/tolerant/broadcast"
)

// Host runs several nodes in one process, e.g. the calculators of several
// keys ([0124]-[0126]) or of two epochs of one key during a rolling share
// refresh. Each node keeps its own transport and bounds: one stopping,
// refusing or overloaded never affects another.
type Host struct {
	log     *slog.Logger
	mu      sync.Mutex
	nodes   []*Node
	running atomic.Bool
	started atomic.Bool
}

// NewHost returns a Host of nodes; more may be added with [Host.Add]
// until Run is called. log receives the host's own logs (nil discards).
func NewHost(log *slog.Logger, nodes ...*Node) (*Host, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := &Host{log: log}
	for _, n := range nodes {
		if err := h.Add(n); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Add adds a node. Two nodes of the same role, number, key id and epoch
// are refused ([ErrDuplicate]); the same key id in two epochs is allowed.
func (h *Host) Add(n *Node) error {
	if n == nil {
		return errors.New("node: nil node")
	}
	if h.started.Load() {
		return errors.New("node: Add after Run")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.nodes {
		if m.role == n.role && m.number == n.number && m.meta.KeyID == n.meta.KeyID && m.meta.Epoch == n.meta.Epoch {
			return fmt.Errorf("%w: %v %d of key %s epoch %d", ErrDuplicate, n.role, n.number, n.meta.KeyID, n.meta.Epoch)
		}
	}
	h.nodes = append(h.nodes, n)
	return nil
}

// Nodes returns the host's nodes, in the order they were added.
func (h *Host) Nodes() []*Node {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*Node(nil), h.nodes...)
}

// Distributor returns the distributor of the key keyID among the host's
// nodes, of its newest epoch when there are several (the epoch to sign
// with during a rolling refresh), or nil: a program that signs with
// several keys picks the key by id ([0124]).
func (h *Host) Distributor(keyID string) *broadcast.Distributor {
	var best *Node
	for _, n := range h.Nodes() {
		if n.dist != nil && n.meta.KeyID == keyID && (best == nil || n.meta.Epoch > best.meta.Epoch) {
			best = n
		}
	}
	if best == nil {
		return nil
	}
	return best.dist
}

// Run runs every node until ctx ends, then drains them all (see
// [Node.Run]) and returns. A node that stops by itself is logged and
// leaves the others running; Run then returns its error once ctx ends,
// or once every node stopped.
func (h *Host) Run(ctx context.Context) error {
	if h.started.Swap(true) {
		return errors.New("node: Run called twice")
	}
	nodes := h.Nodes()
	if len(nodes) == 0 {
		return errors.New("node: a host without nodes")
	}
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = n.Run(ctx) })
	}
	all := make(chan struct{})
	go func() { wg.Wait(); close(all) }()
	h.running.Store(true)
	h.log.Info("node ready", "nodes", len(nodes))
	select {
	case <-ctx.Done():
	case <-all:
	}
	h.running.Store(false)
	<-all
	return errors.Join(errs...)
}

// NodeStatus is the health of one node in the body of /healthz.
type NodeStatus struct {
	Node    string `json:"node"` // e.g. "calculator-3"
	Key     string `json:"key"`
	Epoch   uint32 `json:"epoch"`
	Running bool   `json:"running"`
	// Connected is false while the transport is down.
	Connected bool   `json:"connected"`
	Error     string `json:"error,omitempty"`
	Stats     any    `json:"stats,omitempty"`
}

// Status is the body of /healthz.
type Status struct {
	Running   bool         `json:"running"`   // the host runs and no node stopped
	Connected bool         `json:"connected"` // every node's transport is connected
	Nodes     []NodeStatus `json:"nodes"`
}

// Status returns the health of the host and of each node.
func (h *Host) Status() Status {
	s := Status{Running: h.running.Load(), Connected: true, Nodes: []NodeStatus{}}
	for _, n := range h.Nodes() {
		ns := NodeStatus{Node: fmt.Sprintf("%v-%d", n.role, n.number), Key: n.meta.KeyID, Epoch: n.meta.Epoch,
			Running: n.Running(), Stats: n.Stats()}
		terr := transportErr(n.b)
		ns.Connected = terr == nil
		if terr != nil {
			ns.Error = terr.Error()
		}
		s.Running = s.Running && ns.Running
		s.Connected = s.Connected && ns.Connected
		s.Nodes = append(s.Nodes, ns)
	}
	if len(s.Nodes) == 0 {
		s.Running, s.Connected = false, false
	}
	return s
}

// Handler returns a new mux serving GET /healthz: 200 while the host runs
// every node and every transport is connected, 503 otherwise (before
// Run, while connecting, once draining), with the JSON body [Status].
// Callers may register more handlers on it, e.g. mux.Handle("/metrics", m).
func (h *Host) Handler() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", h.serveHealth)
	return mux
}

func (h *Host) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s := h.Status()
	code := http.StatusOK
	if !s.Running || !s.Connected {
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(s)
}
