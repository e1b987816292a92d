//go:build !race

package store_test

// listScale divides the random list tests' data and query counts (see
// list_race_test.go).
const listScale = 1
