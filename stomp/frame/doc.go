// Package frame reads and writes STOMP 1.2 frames
// (https://stomp.github.io/stomp-specification-1.2.html#STOMP_Frames).
//
// It never touches a socket and imports only the standard library. The
// Reader enforces size limits before it allocates, skips the bare EOLs that
// are heart-beats, tolerates CRLF line ends and applies the 1.2 header
// escapes (\r \n \c \\) to every command but CONNECT, STOMP and CONNECTED.
// Append writes a frame back; what the Reader accepts re-encodes to bytes
// the Reader parses to an equal frame (FuzzReadFrame checks it).
package frame
