// Package share is the key-splitting layer of tolerant: the offline dealer
// (the patent's "offline secret key distributor", [0041] steps B-E) and the
// first-layer secret share calculator ([0042] step G, [0092]).
//
// Paragraph numbers such as [0092] refer to the patent application
// "Tolerant digital certificate distribute system and distribute method"
// (a continuation of PCT/CN02/00684, priority CN 01136018.6), whose method
// tolerant implements.
//
// # Dealing
//
// A [Dealer] takes an existing RSA private key (N, e, d) and draws k×l random
// first sub-secret-keys d_ji ([0067]): calculator j holds d_j1 … d_jl. For an
// equation combination representation a = ((j1,i1), …, (jt,it)) on t distinct
// calculators it computes the second sub-secret-key over the integers
// ([0069], [00101]):
//
//	c_a = d − (d_{j1 i1} + … + d_{jt it})
//
// Which representations each combiner stores is decided by package grouping;
// [Dealer.Deal] turns a grouping.Plan into key material for every node.
//
// # What combiners hold
//
// A combiner keeps every representation it was ever dealt with the same
// shares (one epoch), including those a later plan drops, and those
// equations stay true. So the dealer records, per combiner, its whole
// history, and [Dealer.Deal] and [Dealer.Combiner] refuse (wrapping
// grouping.ErrInsecure, naming the combiner and the coalition) anything that
// would let a combiner, with its whole history, and t-1 calculators, retired
// ones included, recover d ([0073], decided exactly by grouping.Check); with
// [Options.Pairs] the same for any two combiners. The history, the last
// plan and these guarantees are kept in the dealer's state
// ([Dealer.MarshalState]), so that adding ([0054] point 2) or retiring
// ([0054] point 3) a calculator later starts from them, never from a public
// copy of the plan.
//
// # Membership and epochs
//
// [Dealer.AddCombiner] puts a new combiner in service under a number never
// dealt before, and [Dealer.RemoveCombiner] takes one out of service: its
// number is never reused, its history stays, and it leaves the roster.
// Both are checked like [Dealer.Deal], and a removal that leaves a
// calculator set with fewer combiners than [Options.Redundancy] is
// refused unless [ChangeOptions.InsecureBelowRedundancy] says otherwise.
// [Dealer.Refresh] starts the next epoch of the same key from the dealer's
// state alone: all-new shares and second sub-keys, new node keys, the
// same public key, plan and dealer key. Its doc comment argues why a
// combiner and t-1 calculators that keep their material of several epochs
// learn no more than from each epoch alone.
//
// # Share length
//
// The patent draws d_ji of |N|/2 bits ([0063], [0067]). Then c_a is positive
// and carries the top half of d in the clear; that half is public anyway when
// e is small (d ≈ (1 + kN)/e), so [HalfLength] is refused for e > 2^32.
// The default, [FullLength], draws d_ji of |N|+128 bits: every c_a is then
// statistically independent of d (and negative), at about twice the
// exponentiation cost. Combiners handle negative c_a with M^-1 mod N.
//
// # Calculating
//
// A [Calculator] never exponentiates a value it did not build or check
// itself: it takes a [Request] (hash, digest, optional content, scheme),
// recomputes the content's hash, builds the EMSA-PKCS1-v1_5 encoding or checks
// the distributor's EMSA-PSS encoding against the digest, asks its approval
// hook ([0092], [0110]) and only then computes M^{d_ji} for each of its shares
// in constant time. The modulus always comes from its own key material.
//
// # Secrets
//
// Key material types print and log as a short description, never as their
// numbers. Errors never carry a share.
package share
