package main

import (
	"context"
	"errors"
	"io"
)

// runDemoNATS runs the demo with every node as its own process against a
// NATS server (issue 5). Not written yet.
func runDemoNATS(ctx context.Context, cfg *demoConfig, log io.Writer) (*demoSummary, error) {
	return nil, errors.New("demo: -nats is not available yet")
}
