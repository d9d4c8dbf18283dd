package filter

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/phonegate/phonegate/policy"
)

// DefaultMaxBodyBytes bounds a body after it is inflated, when
// Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// errBodyTooLarge: the body, as sent or once inflated, is over the limit.
var errBodyTooLarge = errors.New("body over the size limit")

// decodeBody returns the request body as the upstream will read it: inflated
// when its content-encoding is gzip or deflate, and never more than max bytes
// (a small compressed body may inflate to gigabytes). Any other encoding is
// an error: phonegate cannot see the numbers inside.
func decodeBody(req *policy.Request, max int) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxBodyBytes
	}
	if len(req.Body) > max {
		return nil, errBodyTooLarge
	}
	var r io.Reader
	switch enc := strings.ToLower(strings.TrimSpace(req.Headers["content-encoding"])); enc {
	case "", "identity":
		return req.Body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(req.Body))
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		defer zr.Close()
		r = zr
	case "deflate":
		// RFC 9110's deflate is zlib-wrapped; some clients send it raw.
		if zr, err := zlib.NewReader(bytes.NewReader(req.Body)); err == nil {
			r = zr
		} else {
			r = flate.NewReader(bytes.NewReader(req.Body))
		}
	default:
		// The header's value is the client's: it is not quoted.
		return nil, errors.New("the content-encoding is not gzip, deflate or identity")
	}
	out, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("inflating the body: %w", err)
	}
	if len(out) > max {
		return nil, errBodyTooLarge
	}
	return out, nil
}
