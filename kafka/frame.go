package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// errFrame is a request that cannot be framed or decoded: the connection
// ends (the client cannot be answered in a way it would parse).
var errFrame = errors.New("malformed request")

// header is a request header (v1, or v2 for flexible versions).
type header struct {
	key      int16
	version  int16
	corrID   int32
	clientID string
}

// readFrame reads one size-prefixed request, at most max bytes.
func readFrame(r io.Reader, buf []byte, max int) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(size[:])))
	if n < 8 || n > max {
		return nil, fmt.Errorf("%w: frame of %d bytes (8 to %d)", errFrame, n, max)
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// parseRequest decodes a frame into its header and request. A request of
// an API or version the server does not answer comes back with err nil and
// req nil but for ApiVersions, which every client may send in any version
// and is answered in v0 then.
func parseRequest(frame []byte) (h header, req kmsg.Request, err error) {
	if len(frame) < 10 {
		return h, nil, fmt.Errorf("%w: %d bytes of header", errFrame, len(frame))
	}
	h.key = int16(binary.BigEndian.Uint16(frame))
	h.version = int16(binary.BigEndian.Uint16(frame[2:]))
	h.corrID = int32(binary.BigEndian.Uint32(frame[4:]))
	idLen := int(int16(binary.BigEndian.Uint16(frame[8:])))
	rest := frame[10:]
	if idLen > 0 {
		if idLen > len(rest) {
			return h, nil, fmt.Errorf("%w: client id of %d bytes past the frame", errFrame, idLen)
		}
		h.clientID, rest = string(rest[:idLen]), rest[idLen:]
	}
	vr, ok := supported[h.key]
	if !ok || h.version < vr.min || h.version > vr.max {
		if h.key == apiVersionsKey {
			return h, nil, nil
		}
		return h, nil, fmt.Errorf("%w: api %d version %d is not served", errFrame, h.key, h.version)
	}
	req = kmsg.RequestForKey(h.key)
	req.SetVersion(h.version)
	if req.IsFlexible() {
		// Header v2: tagged fields after the client id.
		if rest, err = skipTags(rest); err != nil {
			return h, nil, err
		}
	}
	if err := req.ReadFrom(rest); err != nil {
		return h, nil, fmt.Errorf("%w: %s v%d: %w", errFrame, kmsg.NameForKey(h.key), h.version, err)
	}
	return h, req, nil
}

// skipTags skips a tagged-field section.
func skipTags(b []byte) ([]byte, error) {
	n, l := binary.Uvarint(b)
	if l <= 0 {
		return nil, fmt.Errorf("%w: tagged fields", errFrame)
	}
	b = b[l:]
	for range n {
		_, l := binary.Uvarint(b) // tag
		if l <= 0 {
			return nil, fmt.Errorf("%w: tag", errFrame)
		}
		b = b[l:]
		size, l := binary.Uvarint(b)
		if l <= 0 || size > uint64(len(b)-l) {
			return nil, fmt.Errorf("%w: tag size", errFrame)
		}
		b = b[l+int(size):]
	}
	return b, nil
}

// appendResponse frames resp for the request of header h: size,
// correlation id, header tags for flexible versions (but ApiVersions,
// whose response header is always v0), body.
func appendResponse(dst []byte, h header, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.corrID))
	if resp.IsFlexible() && resp.Key() != apiVersionsKey {
		dst = append(dst, 0)
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}
