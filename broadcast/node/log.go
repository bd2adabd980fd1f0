package node

import (
	"context"
	"log/slog"

	"github.com/tolerantca/tolerant/broadcast"
)

// LogObserver returns a broadcast.Observer that logs every event on log:
// what happened to which task (key id, epoch, distributor and task
// numbers) and the event's public details (share, representation,
// calculators, combiner, policy rule, approver, error, durations), never
// a request's content nor a signature. Refusals, declines, failures,
// inconsistent partials, partials sent and signatures are logged at Info,
// the other steps at Debug. nil log: nil Observer.
func LogObserver(log *slog.Logger) broadcast.Observer {
	if log == nil {
		return nil
	}
	return logObserver{log}
}

type logObserver struct{ log *slog.Logger }

// infoEvents are logged at Info; the others at Debug.
var infoEvents = map[broadcast.EventKind]bool{
	broadcast.EventRefused: true, broadcast.EventDeclined: true, broadcast.EventPartialSent: true,
	broadcast.EventInconsistent: true, broadcast.EventSigned: true, broadcast.EventReleased: true,
	broadcast.EventFailed: true,
}

// Observe implements broadcast.Observer.
func (o logObserver) Observe(e *broadcast.Event) {
	level := slog.LevelDebug
	if infoEvents[e.Kind] {
		level = slog.LevelInfo
	}
	ctx := context.Background()
	if !o.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{slog.Uint64("distributor", uint64(e.Distributor)), slog.Uint64("task", e.Task)}
	if e.Share != 0 {
		attrs = append(attrs, slog.Int("share", e.Share))
	}
	if len(e.Rep) > 0 {
		attrs = append(attrs, slog.String("rep", e.Rep.String()))
	}
	if len(e.Calculators) > 0 {
		attrs = append(attrs, slog.Any("calculators", e.Calculators))
	}
	if e.Combiner != 0 {
		attrs = append(attrs, slog.Int("combiner", e.Combiner))
	}
	if e.Rule != "" {
		attrs = append(attrs, slog.String("rule", e.Rule))
	}
	if e.Approver != "" {
		attrs = append(attrs, slog.String("approver", e.Approver))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("err", e.Err.Error()))
	}
	if e.Duration > 0 {
		attrs = append(attrs, slog.Duration("duration", e.Duration))
	}
	if e.Wait > 0 {
		attrs = append(attrs, slog.Duration("wait", e.Wait))
	}
	o.log.LogAttrs(ctx, level, "task "+e.Kind.String(), attrs...)
}
