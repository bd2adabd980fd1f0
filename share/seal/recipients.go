package seal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"filippo.io/age"

	"github.com/tolerantca/tolerant/share"
)

// Recipients are the age recipients every node's bundle is sealed to, by
// node number (1-based).
type Recipients struct {
	Distributors map[int]age.Recipient
	Calculators  map[int]age.Recipient
	Combiners    map[int]age.Recipient
}

// maxRecipientsFileSize bounds what ParseRecipients reads.
const maxRecipientsFileSize = 1 << 20

// maxNodeNumber bounds node numbers in a recipients file.
const maxNodeNumber = 4096

// ParseRecipients reads a recipients file: one node per line,
//
//	calculator 1 age1...
//	combiner 2 age1...
//	distributor 1 age1...
//
// with blank lines and '#' comments (whole lines, or after the recipient).
// Only X25519 recipients (age1...) are accepted. A node listed twice is
// refused, and so is a recipient listed for two calculators or combiners:
// one host holding two nodes' shares weakens the threshold. Errors name the
// line but never quote a value, in case a secret key was pasted by mistake.
func ParseRecipients(r io.Reader) (*Recipients, error) {
	rc := &Recipients{
		Distributors: map[int]age.Recipient{},
		Calculators:  map[int]age.Recipient{},
		Combiners:    map[int]age.Recipient{},
	}
	lr := &io.LimitedReader{R: r, N: maxRecipientsFileSize + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 4096), maxRecipientsFileSize)
	holder := map[string]string{} // recipient → node holding shares
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		for _, f := range fields {
			if strings.HasPrefix(strings.ToUpper(f), "AGE-SECRET-KEY-") {
				return nil, fmt.Errorf("seal: recipients line %d holds a secret key (AGE-SECRET-KEY-...): "+
					"it must stay on its node; send only the age1... recipient that keygen prints", n)
			}
		}
		if len(fields) != 3 {
			return nil, fmt.Errorf("seal: recipients line %d: want \"ROLE NUMBER age1...\"", n)
		}
		var m map[int]age.Recipient
		var role share.Role
		switch fields[0] {
		case "calculator":
			m, role = rc.Calculators, share.RoleCalculator
		case "combiner":
			m, role = rc.Combiners, share.RoleCombiner
		case "distributor":
			m, role = rc.Distributors, share.RoleDistributor
		default:
			return nil, fmt.Errorf("seal: recipients line %d: unknown role (want calculator, combiner or distributor)", n)
		}
		num, err := strconv.Atoi(fields[1])
		if err != nil || num < 1 || num > maxNodeNumber {
			return nil, fmt.Errorf("seal: recipients line %d: node number must be 1..%d", n, maxNodeNumber)
		}
		if _, dup := m[num]; dup {
			return nil, fmt.Errorf("seal: recipients line %d: %v %d listed twice", n, role, num)
		}
		if strings.HasPrefix(fields[2], "age1pq1") {
			return nil, fmt.Errorf("seal: recipients line %d: post-quantum recipients are not supported yet; run tolerant keygen", n)
		}
		rec, err := age.ParseX25519Recipient(fields[2])
		if err != nil {
			return nil, fmt.Errorf("seal: recipients line %d: not an age X25519 recipient (age1...)", n)
		}
		if role != share.RoleDistributor {
			node := fmt.Sprintf("%v %d", role, num)
			if other, ok := holder[rec.String()]; ok {
				return nil, fmt.Errorf("seal: recipients line %d: %s has the same recipient as %s: every calculator and combiner needs its own identity", n, node, other)
			}
			holder[rec.String()] = node
		}
		m[num] = rec
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("seal: reading recipients: %w", err)
	}
	if lr.N == 0 {
		return nil, errors.New("seal: recipients file too large")
	}
	if len(rc.Calculators)+len(rc.Combiners)+len(rc.Distributors) == 0 {
		return nil, errors.New("seal: no recipient in the recipients file")
	}
	return rc, nil
}

// ErrRecipients is returned when the recipients do not match the nodes of a
// dealing.
var ErrRecipients = errors.New("seal: recipients do not match the dealing")

// Check verifies that rc holds a recipient for exactly distributors
// 1..distributors, calculators 1..calculators and combiners 1..combiners,
// and names every missing or extra node.
func (rc *Recipients) Check(distributors, calculators, combiners int) error {
	return rc.CheckNumbers(distributors, calculators, upTo(combiners))
}

// CheckNumbers is [Recipients.Check] for the combiners numbered combiners
// (those in service, [InService]).
func (rc *Recipients) CheckNumbers(distributors, calculators int, combiners []int) error {
	if rc == nil {
		return fmt.Errorf("%w: no recipients", ErrRecipients)
	}
	var problems []string
	check := func(role share.Role, m map[int]age.Recipient, want []int) {
		var missing []int
		for _, n := range want {
			if r, ok := m[n]; !ok || r == nil {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("no recipient for %v %s", role, numbers(missing)))
		}
		var extra []int
		for _, n := range slices.Sorted(maps.Keys(m)) {
			if !slices.Contains(want, n) {
				extra = append(extra, n)
			}
		}
		if len(extra) > 0 {
			problems = append(problems, fmt.Sprintf("recipient for %v %s, but the dealing has %d", role, numbers(extra), len(want)))
		}
	}
	check(share.RoleDistributor, rc.Distributors, upTo(distributors))
	check(share.RoleCalculator, rc.Calculators, upTo(calculators))
	check(share.RoleCombiner, rc.Combiners, combiners)
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrRecipients, strings.Join(problems, "; "))
	}
	return nil
}

func numbers(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// Recipient returns the recipient of node n, or nil.
func (rc *Recipients) Recipient(n share.Node) age.Recipient {
	if rc == nil {
		return nil
	}
	switch n.Role {
	case share.RoleDistributor:
		return rc.Distributors[n.Number]
	case share.RoleCalculator:
		return rc.Calculators[n.Number]
	case share.RoleCombiner:
		return rc.Combiners[n.Number]
	}
	return nil
}
