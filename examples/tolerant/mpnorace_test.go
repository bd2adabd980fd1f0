//go:build !race

package main

// raceBuild: see mprace_test.go.
const raceBuild = false
