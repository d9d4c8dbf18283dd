// Package buildinfo tells which phonegate is running: its module version
// and VCS revision, as the Go toolchain stamped them into the binary.
package buildinfo
