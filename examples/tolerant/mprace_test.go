//go:build race

package main

// raceBuild makes the multi-process test build the program with -race when
// the tests run with it: the children are checked for data races too, and
// the build reuses the packages already compiled for the test.
const raceBuild = true
