package audit

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/tolerantca/tolerant/internal/mapkeys"
)

// FileReport is what [VerifyFiles] found in one file.
type FileReport struct {
	Path  string
	Chain *Chain // nil when the file could not be read
	Err   error  // a *[ChainError], or the read error; nil when the chain is intact
}

// Report is the result of [VerifyFiles].
type Report struct {
	Files []FileReport
	// Heads lists the anchors checked, and Problems every head that no file
	// holds.
	Heads []Head
	// Releases counts the signatures released in the distributors' logs
	// that were cross-checked.
	Releases int
	// Problems lists, in order, every head missing and every finding of
	// the cross-check.
	Problems []string
}

// OK reports whether every chain is intact, every head found and the
// cross-check clean.
func (r *Report) OK() bool {
	for _, f := range r.Files {
		if f.Err != nil {
			return false
		}
	}
	return len(r.Problems) == 0
}

// WriteTo prints the report, one line per file and per problem.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var (
		n   int64
		err error
	)
	p := func(format string, a ...any) {
		m, werr := fmt.Fprintf(w, format+"\n", a...)
		n += int64(m)
		if err == nil {
			err = werr
		}
	}
	for _, f := range r.Files {
		switch {
		case f.Err != nil:
			p("BROKEN  %s: %v", f.Path, f.Err)
		default:
			h := f.Chain.Header
			p("ok      %s: %s %d, %d lines, %d events, head %s", f.Path, h.Role, h.Number, f.Chain.Head.Seq, len(f.Chain.Entries), f.Chain.Head)
		}
	}
	for _, h := range r.Heads {
		p("head    %s checked", h)
	}
	p("cross-check: %d releases", r.Releases)
	for _, s := range r.Problems {
		p("PROBLEM %s", s)
	}
	if r.OK() {
		p("audit logs OK")
	} else {
		p("audit logs NOT OK")
	}
	return n, err
}

// VerifyFiles reads and checks every log in paths, checks that every head
// in heads is a line of one of them (a log cut short after its head was
// reported fails this), and cross-checks the intact logs with [CrossCheck].
// Pass the logs of every node of a cluster: a release is checked against
// the calculators' and combiners' logs given.
func VerifyFiles(paths []string, heads []Head) *Report {
	r := &Report{Heads: heads}
	var chains []*Chain
	for _, path := range paths {
		fr := FileReport{Path: path}
		f, err := os.Open(path)
		if err == nil {
			fr.Chain, fr.Err = ReadChain(f)
			f.Close()
		} else {
			fr.Err = err
		}
		if fr.Err == nil {
			chains = append(chains, fr.Chain)
		}
		r.Files = append(r.Files, fr)
	}
	for _, h := range heads {
		if !hasHead(chains, h) {
			r.Problems = append(r.Problems, fmt.Sprintf("head %s is in no intact log given (a log cut short or rewritten)", h))
		}
	}
	r.Releases, r.Problems = CrossCheck(chains, r.Problems)
	return r
}

func hasHead(chains []*Chain, h Head) bool {
	for _, c := range chains {
		if got, ok := c.HashAt(h.Seq); ok && got == h.Hash {
			return true
		}
	}
	return false
}

// taskKey names one task across the logs.
type taskKey struct {
	keyID       string
	epoch       uint32
	distributor uint32
	task        uint64
}

func (k taskKey) String() string {
	return fmt.Sprintf("key %s epoch %d distributor %d task %d", k.keyID, k.epoch, k.distributor, k.task)
}

func keyOf(e *Event) taskKey { return taskKey{e.KeyID, e.Epoch, e.Distributor, e.Task} }

// index is what the cross-check needs of the logs: by task, which
// calculators sent partials, which combiners signed (with which signature),
// what each distributor submitted.
type index struct {
	partials  map[taskKey]map[int]bool
	signed    map[taskKey]map[int]string // combiner → signature SHA-256
	submitted map[taskKey]bool
	dists     map[int][]*Chain
}

func newIndex(chains []*Chain) *index {
	x := &index{
		partials: map[taskKey]map[int]bool{}, signed: map[taskKey]map[int]string{},
		submitted: map[taskKey]bool{}, dists: map[int][]*Chain{},
	}
	for _, c := range chains {
		n := c.Header.Number
		if c.Header.Role == RoleDistributor {
			x.dists[n] = append(x.dists[n], c)
		}
		for i := range c.Entries {
			e := &c.Entries[i].Event
			k := keyOf(e)
			switch {
			case c.Header.Role == RoleCalculator && e.Kind == KindPartialSent:
				add(x.partials, k, n, true)
			case c.Header.Role == RoleCombiner && e.Kind == KindSigned:
				add(x.signed, k, n, e.SignatureSHA256)
			case c.Header.Role == RoleDistributor && e.Kind == KindSubmitted:
				x.submitted[k] = true
			}
		}
	}
	return x
}

func add[V any](m map[taskKey]map[int]V, k taskKey, n int, v V) {
	if m[k] == nil {
		m[k] = map[int]V{}
	}
	m[k][n] = v
}

// CrossCheck checks intact logs against each other and returns the number
// of releases checked and problems with its findings appended. For every
// signature a distributor's log released: the distributor's own log
// submitted the task and verified that signature, at least t distinct
// calculators' logs (t from the distributor's header) sent partials for the
// task, every calculator the release names among them, and the combiner it
// names signed the same signature. For every signature a combiner's log
// produced for a distributor whose log is given: that log submitted the
// task. A task is named by key id, epoch, distributor and task number.
func CrossCheck(chains []*Chain, problems []string) (int, []string) {
	x := newIndex(chains)
	releases := 0
	for _, n := range mapkeys.Sorted(x.dists) {
		for _, c := range x.dists[n] {
			verified := map[taskKey]string{}
			released := map[taskKey]bool{}
			for i := range c.Entries {
				en := &c.Entries[i]
				e := &en.Event
				if e.Distributor != uint32(c.Header.Number) {
					problems = append(problems, fmt.Sprintf("distributor %d line %d: an entry of distributor %d", c.Header.Number, en.Seq, e.Distributor))
					continue
				}
				switch e.Kind {
				case KindVerified:
					if e.Result == ResultOK {
						verified[keyOf(e)] = e.SignatureSHA256
					}
				case KindReleased:
					releases++
					k := keyOf(e)
					if released[k] {
						problems = append(problems, fmt.Sprintf("%s: released twice (line %d)", k, en.Seq))
					}
					released[k] = true
					problems = x.checkRelease(c, en, verified[k], problems)
				}
			}
		}
	}
	return releases, x.checkSigned(problems)
}

// checkRelease checks one release entry en of distributor log c.
func (x *index) checkRelease(c *Chain, en *Entry, verified string, problems []string) []string {
	e := &en.Event
	k := keyOf(e)
	bad := func(format string, a ...any) {
		problems = append(problems, fmt.Sprintf("%s (distributor line %d): ", k, en.Seq)+fmt.Sprintf(format, a...))
	}
	if e.SignatureSHA256 == "" {
		bad("the release names no signature")
	} else if verified != e.SignatureSHA256 {
		bad("released a signature the distributor's log did not verify")
	}
	if !x.submitted[k] {
		bad("the distributor's log never submitted the task")
	}
	t := c.Threshold(e.KeyID)
	calcs := mapkeys.Sorted(x.partials[k])
	switch {
	case t == 0:
		bad("the distributor's header names no threshold for the key")
	case len(calcs) < t:
		bad("partials from calculators %v in the logs given, t=%d needed", calcs, t)
	}
	for _, j := range e.Calculators {
		if !x.partials[k][j] {
			bad("calculator %d's log shows no partial", j)
		}
	}
	signers := x.signed[k]
	switch sig, ok := signers[e.Combiner]; {
	case len(signers) == 0:
		bad("no combiner's log signed it")
	case e.Combiner == 0:
		bad("the release names no combiner")
	case !ok:
		bad("combiner %d's log did not sign it (signed by %v)", e.Combiner, mapkeys.Sorted(signers))
	case sig != e.SignatureSHA256:
		bad("combiner %d's log signed another signature", e.Combiner)
	}
	return problems
}

// checkSigned reports combiners' signatures for tasks the distributor's
// log, when given, never submitted.
func (x *index) checkSigned(problems []string) []string {
	var missing []string
	for k, by := range x.signed {
		if len(x.dists[int(k.distributor)]) == 0 || x.submitted[k] {
			continue
		}
		missing = append(missing, fmt.Sprintf("%s: combiners %v signed a task distributor %d's log never submitted (a distributor log cut short or edited)", k, mapkeys.Sorted(by), k.distributor))
	}
	sort.Strings(missing)
	return append(problems, missing...)
}
