//go:build race

package store_test

// listScale divides the random list tests' data and query counts: under the
// race detector the pure-Go SQLite runs many times slower, and these tests
// have no concurrency for it to check (.ci/run runs the suites with -race).
const listScale = 5
