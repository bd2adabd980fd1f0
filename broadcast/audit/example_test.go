package audit_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/audit"
	"github.com/tolerantca/tolerant/grouping"
)

// A calculator logs a task it saw, accepted and answered; the log is then
// checked.
func Example() {
	dir, _ := os.MkdirTemp("", "audit")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "calculator-3.jsonl")

	w, err := audit.OpenWriter(path, audit.Header{
		Role: audit.RoleCalculator, Number: 3,
		Keys: []audit.KeyInfo{{KeyID: "root-2026", Epoch: 1, T: 3}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	tbs := []byte("the TBSCertificate of the task")
	task := audit.Event{KeyID: "root-2026", Epoch: 1, Distributor: 1, Task: 42, ContentSHA256: audit.ContentSHA256(tbs)}
	task.Cert, _ = audit.CertFields(tbs) // nil: not a certificate
	for _, kind := range []audit.Kind{audit.KindTaskSeen, audit.KindAccepted, audit.KindPartialSent} {
		e := task
		e.Kind = kind
		if kind == audit.KindPartialSent {
			e.Rep = audit.RepOf(grouping.Rep{{J: 3, I: 1}})
		}
		if err := w.Append(e); err != nil {
			fmt.Println(err)
		}
	}
	head := w.Head() // report it, e.g. on the health endpoint
	w.Close()

	r := audit.VerifyFiles([]string{path}, []audit.Head{head})
	fmt.Println("ok:", r.OK(), "lines:", r.Files[0].Chain.Head.Seq)
	// Output: ok: true lines: 4
}

// A node's Observer writes its audit log: give it as the Observer of the
// node's options (broadcast.CalculatorOptions and the like).
func ExampleNewObserver() {
	dir, _ := os.MkdirTemp("", "audit")
	defer os.RemoveAll(dir)
	w, err := audit.OpenWriter(filepath.Join(dir, "calculator-3.jsonl"), audit.Header{
		Role: audit.RoleCalculator, Number: 3,
		Keys: []audit.KeyInfo{{KeyID: "root-2026", Epoch: 1, T: 3}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	obs := audit.NewObserver(w)
	opts := &broadcast.CalculatorOptions{Observer: obs}

	// What the node does with every event of every task:
	opts.Observer.Observe(&broadcast.Event{Kind: broadcast.EventTaskSeen, KeyID: "root-2026", Epoch: 1, Distributor: 1, Task: 42})
	fmt.Println("append failures:", obs.Failures(), obs.Err(), "head line:", w.Head().Seq)
	// Output: append failures: 0 <nil> head line: 2
}
