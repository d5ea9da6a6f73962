package unixsock

import "bytes"

// arenaCopy copies parts into one fresh arena of their total size and
// returns the copies: messages must outlive the read buffers they arrived
// in (they live as long as their events). bytes.Join allocates the arena
// without clearing it first, as make would: about a kilobyte per event
// cleared for nothing, on the reader's time.
func arenaCopy(parts [][]byte) [][]byte {
	arena := bytes.Join(parts, nil)
	msgs := make([][]byte, len(parts))
	start := 0
	for i, p := range parts {
		end := start + len(p)
		msgs[i] = arena[start:end:end]
		start = end
	}
	return msgs
}
