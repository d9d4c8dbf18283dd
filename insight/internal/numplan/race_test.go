//go:build race

package numplan

// raceDetector: the race detector slows nyaruka's regular expressions about
// tenfold; the agreement test then checks a fifth of its inputs (the
// engine's own agreement test, package insight, checks them all).
const raceDetector = true
