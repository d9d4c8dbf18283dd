// Package redistest runs a real redis-server for tests: on a free loopback
// port, persistence off, in a temporary directory, stopped when the test
// ends. Tests can stop, pause (SIGSTOP), resume and restart it to show how
// phonegate behaves when Redis fails.
//
// When redis-server is not installed, [Start] skips the test, unless the
// CI environment variable is set: CI installs it (.ci/run), so there a
// missing binary fails the test.
package redistest
