//go:build !race

package logservice

// raceDetector tells tests they run under -race.
const raceDetector = false
