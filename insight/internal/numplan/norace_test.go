//go:build !race

package numplan

const raceDetector = false
