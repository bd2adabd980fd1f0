package broadcast

// Helpers of the in-package tests, for the external ones (liar_test.go),
// which use internal/faults: that package imports this one.
var (
	TestDealing = dealing
	TestRequest = request
	TestWant    = want
	TestTimeout = timeout
)
