package seal

import (
	"errors"
	"fmt"

	"github.com/tolerantca/tolerant/share"
)

// ErrPlanMismatch is returned when a cluster's public plan (plan.json)
// disagrees with the plan kept in the sealed dealer's state. plan.json is
// world-readable and carries no integrity check: it is an output for
// operators and nodes, never an input to what the dealer deals.
var ErrPlanMismatch = errors.New("seal: the public plan disagrees with the sealed dealer's state")

// checkDealerPlan checks that the dealer's plan, when its state keeps one,
// is the cluster's public plan.
func (c *Cluster) checkDealerPlan(dl *share.Dealer) error {
	if p := dl.Plan(); p != nil && !p.Equal(c.Plan) {
		return fmt.Errorf("%w: %s was changed after dealing, or belongs to another cluster", ErrPlanMismatch, PlanFile)
	}
	return nil
}

// checkDealingPlan checks that the dealing's plan is the one the dealer
// recorded, so that the plan.json written agrees with the dealer's state.
func checkDealingPlan(dl *share.Dealer, d *share.Dealing) error {
	if !dl.Plan().Equal(d.Plan) {
		return fmt.Errorf("%w: the dealing's plan is not the dealer's last plan", ErrPlanMismatch)
	}
	return nil
}
