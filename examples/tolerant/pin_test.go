package main

import "github.com/tolerantca/tolerant/share/seal"

// testTrust loads the clusters the tests deal themselves.
var testTrust = seal.Trust{InsecureTrustOnFirstUse: true}
